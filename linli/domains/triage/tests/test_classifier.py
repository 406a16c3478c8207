import numpy as np
import pytest
import scipy.sparse as sp

from linli.domains.triage.classifier import (
    FORMAT_VERSION,
    ModelFormatError,
    TriageClassifier,
    TriageConfig,
    load_model,
    read_header,
)

from .synthetic import split


@pytest.fixture(scope="module")
def trained():
    train, test = split()
    titles, bodies, labels = zip(*train, strict=True)
    return TriageClassifier().fit(titles, bodies, labels), test


def test_learns_a_separable_set(trained):
    model, test = trained
    titles, bodies, labels = zip(*test, strict=True)
    assert list(model.predict(titles, bodies)) == list(labels)


def test_probabilities_sum_to_one_and_favour_the_right_label(trained):
    model, test = trained
    titles, bodies, labels = zip(*test, strict=True)
    proba = model.predict_proba(titles, bodies)
    assert proba.shape == (len(test), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert (proba >= 0).all()
    assert proba.max(axis=1).min() > 1 / 3


def test_title_only_and_body_only_messages_are_classified(trained):
    model, _ = trained
    assert model.predict(["西华大道垃圾堆放"], [""])[0] == "环境保护"
    assert model.predict([""], ["希望增开公交线路，公交车太挤"])[0] == "交通运输"


def test_top_k_is_sorted_and_complete(trained):
    model, _ = trained
    top = model.top_k("花照壁学校入学", "孩子上小学，学位不足", k=3)
    assert top[0][0] == "教育文体"
    assert [p for _, p in top] == sorted((p for _, p in top), reverse=True)
    assert {label for label, _ in top} == {"环境保护", "交通运输", "教育文体"}


def test_save_and_load_give_identical_predictions(trained, tmp_path):
    model, test = trained
    titles, bodies, _ = zip(*test, strict=True)
    path = tmp_path / "model.bin"
    size = model.save(path)
    assert size == path.stat().st_size > 0
    header = read_header(path)
    assert header["format"] == FORMAT_VERSION == 3
    assert header["classes"] == ["交通运输", "教育文体", "环境保护"]
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(titles, bodies), model.predict_proba(titles, bodies))


def test_a_model_of_the_previous_format_still_predicts(trained, tmp_path):
    """A district's active model saved before the neighbour member (format 2: no ``knn`` settings in
    its stack) keeps working after the upgrade instead of leaving routing to the rules."""
    import copy
    import io
    import json

    import joblib

    from linli.domains.triage.classifier import MAGIC

    model, test = trained
    old = copy.deepcopy(model)
    for name in ("knn", "knn_power", "knn_terms", "knn_coef_", "neighbours_"):
        vars(old._model.svm).pop(name, None)
    header = {**old.header(), "format": 2}
    buffer = io.BytesIO()
    buffer.write(MAGIC + b" " + json.dumps(header, ensure_ascii=False).encode() + b"\n")
    joblib.dump(old, buffer)
    path = tmp_path / "v2.bin"
    path.write_bytes(buffer.getvalue())
    titles, bodies, _ = zip(*test, strict=True)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(titles, bodies), model.predict_proba(titles, bodies))
    assert loaded.top_k(titles[0], bodies[0]) == model.top_k(titles[0], bodies[0])
    path.write_bytes(buffer.getvalue().replace(b'"format": 2', b'"format": 1', 1))
    with pytest.raises(ModelFormatError):
        load_model(path)


def test_a_file_that_is_not_a_model_is_refused(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"not a model\n")
    with pytest.raises(ModelFormatError):
        load_model(path)


def test_training_needs_two_labels():
    with pytest.raises(ValueError, match="two different labels"):
        TriageClassifier().fit(["a", "b"], ["", ""], ["x", "x"])


def test_a_label_with_a_single_example_still_trains():
    _, test = split()
    titles, bodies, labels = zip(*test, strict=True)
    model = TriageClassifier().fit([*titles, "路灯不亮"], [*bodies, "晚上路灯不亮"], [*labels, "城乡建设"])
    np.testing.assert_allclose(model.predict_proba(["路灯"], [""]).sum(), 1.0, rtol=1e-6)


def test_two_labels_work():
    train, _ = split()
    rows = [r for r in train if r[2] != "教育文体"]
    titles, bodies, labels = zip(*rows, strict=True)
    model = TriageClassifier().fit(titles, bodies, labels)
    assert model.predict_proba(["花照壁垃圾堆放"], ["垃圾堆放多日无人清运"]).shape == (1, 2)
    assert model.predict(["花照壁垃圾堆放"], ["垃圾堆放多日无人清运"])[0] == "环境保护"


def test_one_message_at_a_time_gives_the_batch_probabilities(trained):
    model, test = trained
    titles, bodies, _ = zip(*test, strict=True)
    batch = model.predict_proba(list(titles) + ["", "路灯"], list(bodies) + ["没有见过的字", ""])
    single = [model.predict_proba([t], [b])[0] for t, b in zip(titles, bodies, strict=True)]
    single += [model.predict_proba([""], ["没有见过的字"])[0], model.predict_proba(["路灯"], [""])[0]]
    np.testing.assert_allclose(np.array(single), batch, rtol=1e-5, atol=1e-6)


def test_a_compact_model_predicts_the_same_without_the_character_vocabularies(tmp_path):
    """What the platform serves: the character blocks' vocabularies freed, the same probabilities for
    one message and for a batch (a word with "_" included), and no saving of what is no longer whole."""
    train, test = split()
    titles, bodies, labels = zip(*train, strict=True)
    model = TriageClassifier().fit(titles, bodies, labels)
    path = tmp_path / "model.bin"
    model.save(path)
    compact = load_model(path).compact()
    titles, bodies, _ = (list(v) for v in zip(*test, strict=True))
    titles, bodies = titles + ["file_name 路灯", ""], bodies + ["路灯 a_b 坏了", "没有见过的字"]
    np.testing.assert_allclose(
        compact.predict_proba(titles, bodies), model.predict_proba(titles, bodies), rtol=1e-5, atol=1e-6
    )
    assert compact.predict_proba(titles[:1], bodies[:1]).shape == (1, len(model.classes_))
    chars = [v for name, v in compact._vectorizers.items() if name.endswith("char")]
    assert chars and all(v.vocabulary_ is None for v in chars)
    assert all(v.vocabulary_ for name, v in compact._vectorizers.items() if name.endswith("word"))
    with pytest.raises(RuntimeError, match="compact"):
        compact.to_bytes()
    assert model.to_bytes()  # the model it came from is whole


def test_the_blend_is_one_linear_model_summing_svm_and_nb_svm():
    train, test = split()
    titles, bodies, labels = zip(*train, strict=True)
    plain = TriageClassifier(TriageConfig(nb_weight=0.0)).fit(titles, bodies, labels)
    blend = TriageClassifier(TriageConfig(nb_weight=1.0)).fit(titles, bodies, labels)
    assert blend._model.svm.coef_.shape == plain._model.svm.coef_.shape
    assert not np.allclose(blend._model.svm.coef_, plain._model.svm.coef_)


def test_examples_without_any_title_train_without_a_title_block():
    train, test = split()
    _, bodies, labels = zip(*train, strict=True)
    model = TriageClassifier().fit([""] * len(bodies), bodies, labels)
    assert "title_char" not in model._weights and "body_char" in model._weights
    titles, bodies, labels = zip(*test, strict=True)
    assert list(model.predict(titles, bodies)) == list(labels)
    single = np.array([model.predict_proba([t], [b])[0] for t, b in zip(titles, bodies, strict=True)])
    np.testing.assert_allclose(single, model.predict_proba(titles, bodies), rtol=1e-5, atol=1e-6)


KNN = dict(stack=("svm", "nb", "knn"), knn=3)


@pytest.fixture(scope="module")
def with_neighbours():
    train, test = split()
    titles, bodies, labels = zip(*train, strict=True)
    return TriageClassifier(TriageConfig(**KNN)).fit(titles, bodies, labels), test


def test_the_neighbour_member_keeps_one_path_for_one_message_and_for_many(with_neighbours):
    model, test = with_neighbours
    stack = model._model.svm
    assert stack.neighbours_ is not None and stack.knn_coef_.shape == (3, 3)
    titles, bodies, labels = zip(*test, strict=True)
    assert list(model.predict(titles, bodies)) == list(labels)
    titles, bodies = [*titles, "", "路灯"], [*bodies, "没有见过的字", ""]
    batch = model.predict_proba(titles, bodies)
    single = np.array([model.predict_proba([t], [b])[0] for t, b in zip(titles, bodies, strict=True)])
    np.testing.assert_allclose(single, batch, rtol=1e-5, atol=1e-6)
    # The scores themselves (the probabilities of a separable set are too close to 0 and 1 to tell).
    x = model._features(titles, bodies)
    linear = np.asarray(x @ stack.coef_.T) + stack.intercept_
    full = stack.decision_function(x)
    assert np.abs(full - linear).max() > 0.01
    model._model.temperature, temperature = 1e6, model._model.temperature
    try:
        single = np.array([model.predict_proba([t], [b])[0] for t, b in zip(titles, bodies, strict=True)])
        np.testing.assert_allclose(single, model.predict_proba(titles, bodies), rtol=1e-6)
    finally:
        model._model.temperature = temperature


def test_the_neighbour_member_survives_a_round_trip(with_neighbours, tmp_path):
    model, test = with_neighbours
    titles, bodies, _ = zip(*test, strict=True)
    model.save(tmp_path / "model.bin")
    loaded = load_model(tmp_path / "model.bin")
    assert read_header(tmp_path / "model.bin")["config"]["stack"] == ["svm", "nb", "knn"]
    np.testing.assert_array_equal(loaded.predict_proba(titles, bodies), model.predict_proba(titles, bodies))
    np.testing.assert_array_equal(
        loaded.predict_proba(titles[:1], bodies[:1]), model.predict_proba(titles[:1], bodies[:1])
    )


def test_a_near_repeat_of_a_training_message_takes_its_label_through_the_neighbours():
    # A bus complaint filed under 教育文体 among many ordinary ones: the linear part follows the many, the
    # neighbour member the one message the new one nearly repeats.
    train, _ = split()
    odd = ("金沙路公交", "希望在金沙路增开公交线路，早高峰公交车太挤，站台太远，周末夜班车也少。", "教育文体")
    titles, bodies, labels = zip(*train, odd, strict=True)
    config = TriageConfig(stack=("svm", "nb", "knn"), knn=1, C=0.01)  # too regularised to learn one message
    model = TriageClassifier(config).fit(titles, bodies, labels)
    stack = model._model.svm
    repeat = (["金沙路公交"], ["希望金沙路增开公交线路，早高峰公交车太挤，站台太远，周末夜班车也少！"])
    x = model._features(*repeat)
    linear = np.asarray(x @ stack.coef_.T) + stack.intercept_
    assert stack.classes_[np.argmax(linear)] == "交通运输"
    stack.knn_coef_ = np.eye(3, dtype=np.float32) * 1000  # the neighbours decide
    assert model.predict(*repeat)[0] == "教育文体"
    ordinary = (["抚琴西路公交线路"], ["希望在抚琴西路增开公交线路，早高峰公交车太挤。"])
    assert model.predict(*ordinary)[0] == "交通运输"


def test_neighbour_scores_leave_out_the_message_itself_and_its_copies():
    from linli.domains.triage.classifier import _Neighbours

    x = sp.csr_matrix(
        np.array([[1, 0, 0, 0], [1, 0.1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 0.2], [0, 1, 0, 1]], dtype=np.float32)
    )
    labels = np.array(["b", "b", "a", "a", "b"])
    neighbours = _Neighbours(1, 1.0, 0, [(0, 4)]).fit(x, labels, np.array(["a", "b"]))
    rows = neighbours.rows(x)
    plain = neighbours.scores(rows)
    # Each row finds itself; the last one only row 3, through column 3.
    np.testing.assert_allclose(plain[:, 0], [0, 0, 1, 1, 0.2 / np.sqrt(2.08)], rtol=1e-5)
    left_out = neighbours.scores(rows, leave_out={})
    assert left_out[0, 1] == pytest.approx(1 / np.sqrt(1.01), rel=1e-5)  # row 1, not itself
    assert left_out[2, 0] == pytest.approx(1 / np.sqrt(1.04), rel=1e-5)
    without_copy = neighbours.scores(rows, leave_out={0: np.array([1]), 1: np.array([0])})
    assert without_copy[0, 1] < 0.5 and without_copy[1, 1] < 0.5
    query = neighbours.query_one(np.array([0, 1]), np.array([3.0, 0.3], dtype=np.float32))
    np.testing.assert_allclose(neighbours.scores(query), neighbours.scores(rows[1]), rtol=1e-5)


def test_copy_groups_link_a_message_with_its_copies_through_one_another():
    from linli.domains.triage.classifier import _copies, _copy_groups

    titles = ["路灯坏了", "", "路灯坏了", "噪音扰民", "", "别的"]
    bodies = ["小区路灯不亮", "小区路灯不亮", "", "", "工地夜间施工", "别的内容"]
    groups = _copy_groups(len(titles), _copies(titles, bodies))
    assert groups[0] == groups[1] == groups[2]  # the body links 0–1, the title 0–2
    assert len({groups[0], groups[3], groups[4], groups[5]}) == 4
    assert list(_copy_groups(3, {})) == [0, 1, 2]


def test_the_grouped_split_keeps_copies_in_one_part(monkeypatch):
    """With ``stack_grouped`` no member scores a message whose copy it was trained on."""
    from linli.domains.triage import classifier as module

    parts = []
    real = module._LinearStack._fit_members

    def record(self, x, labels):
        parts.append(x.shape[0])
        return real(self, x, labels)

    train, _ = split()
    titles, bodies, labels = (list(v) for v in zip(*train, strict=True))
    titles += [""] * 6  # body-only copies of six messages
    bodies += bodies[:6]
    labels += labels[:6]
    groups = module._copy_groups(len(labels), module._copies(titles, bodies))
    seen = {}
    real_split = module.StratifiedGroupKFold.split

    def split_recorder(self, x, y, groups_):
        for part, rest in real_split(self, x, y, groups_):
            seen.setdefault("pairs", []).append((set(groups_[part]), set(groups_[rest])))
            yield part, rest

    monkeypatch.setattr(module._LinearStack, "_fit_members", record)
    monkeypatch.setattr(module.StratifiedGroupKFold, "split", split_recorder)
    TriageClassifier(TriageConfig(stack_grouped=True)).fit(titles, bodies, labels)
    assert len(seen["pairs"]) == 2 and len(parts) == 3  # two halves, then everything
    for trained_on, scored in seen["pairs"]:
        assert not trained_on & scored
    assert len(set(groups)) == len(labels) - 6


ROUND_FOUR = [
    dict(char_tf="binary"),
    dict(word_tf="binary"),
    dict(char_tf="raw", word_tf="raw"),
    dict(title_char_ngram_range=(1, 2)),
    dict(char_ngram_range=(2, 4), char_max_features=300),
    dict(nb_alpha=0.25),
    dict(C=0.3, nb_C=0.5),
    dict(word_mode="search"),
    dict(body_max_chars=12),
    dict(stack_grouped=True),  # seventh round
    dict(stack_folds=3),
]


PLAIN_AND_BLENDED = [
    dict(nb_weight=0.0, field_weight=0.0),
    dict(nb_weight=0.0),
    dict(field_weight=0.0),
    dict(nb_weight=0.5),
]


@pytest.mark.parametrize("settings", PLAIN_AND_BLENDED + ROUND_FOUR)
def test_configurations_train_and_keep_one_path_for_one_message(settings):
    """Plain, blended and every round-four option: right on the test messages, and one message's
    fast path gives the batch's probabilities."""
    train, test = split()
    titles, bodies, labels = zip(*train, strict=True)
    model = TriageClassifier(TriageConfig(**settings)).fit(titles, bodies, labels)
    titles, bodies, labels = zip(*test, strict=True)
    assert list(model.predict(titles, bodies)) == list(labels)
    batch = model.predict_proba(titles, bodies)
    single = np.array([model.predict_proba([t], [b])[0] for t, b in zip(titles, bodies, strict=True)])
    np.testing.assert_allclose(single, batch, rtol=1e-5, atol=1e-6)


def test_the_options_reach_the_vectorizers_and_the_members():
    train, _ = split()
    titles, bodies, labels = zip(*train, strict=True)
    config = TriageConfig(
        char_tf="binary",
        word_tf="raw",
        title_char_ngram_range=(1, 2),
        char_ngram_range=(2, 4),
        char_max_features=300,
    )
    model = TriageClassifier(config).fit(titles, bodies, labels)
    char, word = model._vectorizers["char"], model._vectorizers["word"]
    assert char.binary and not char.sublinear_tf and char.ngram_range == (2, 4)
    assert not word.binary and not word.sublinear_tf
    assert model._vectorizers["title_char"].ngram_range == (1, 2)
    assert max(len(term) for term in model._vectorizers["title_char"].vocabulary_) <= 2
    assert min(len(term) for term in char.vocabulary_) == 2 and len(char.vocabulary_) == 300
    assert TriageClassifier().fit(titles, bodies, labels)._vectorizers["char"].sublinear_tf

    def nb_coef(**settings):
        model = TriageClassifier(TriageConfig(stack=(), **settings)).fit(titles, bodies, labels)
        return model._model.svm.coef_

    assert not np.allclose(nb_coef(nb_alpha=0.25), nb_coef())
    capped = TriageClassifier(TriageConfig(body_max_chars=5))
    docs = capped._documents(["路灯"], ["小区门口的路灯坏了三天"])
    assert docs["body_char"] == ["小区门口的"] and docs["char"] == ["路灯 路灯 小区门口的"]
    with pytest.raises(ValueError, match="term frequency"):
        TriageClassifier(TriageConfig(char_tf="log")).fit(titles, bodies, labels)


def test_a_model_whose_configuration_predates_the_round_four_options_still_predicts(trained, tmp_path):
    """A stored model's pickled configuration lacks the newer fields: it reads their defaults."""
    import copy

    model, test = trained
    old = copy.deepcopy(model)
    for name in (
        "title_char_ngram_range",
        "char_max_features",
        "char_tf",
        "word_tf",
        "word_mode",
        "nb_alpha",
        "nb_C",
    ):
        del vars(old.config)[name]
    path = tmp_path / "old.bin"
    old.save(path)
    loaded = load_model(path)
    titles, bodies, _ = zip(*test, strict=True)
    assert loaded.config.word_mode == "default" and loaded.config.char_tf == "sublinear"
    np.testing.assert_array_equal(loaded.predict_proba(titles, bodies), model.predict_proba(titles, bodies))


def _as_dict(index, values):
    return {int(i): float(v) for i, v in zip(index, values, strict=True)}


@pytest.mark.parametrize(
    "text",
    [
        "小区门口的路灯坏了三天",
        "Street LIGHT  broken\t\tsince 〖数〗 days ,  路灯不亮",
        "a",
        "",
        "表情😀😀和𠀀扩展字",  # code points beyond U+FFFF
        "TITLE  \t TITLE\n\nBODY",  # runs of white space, as the analyser collapses them
    ],
)
def test_the_character_keys_give_what_the_analyser_gives(trained, text):
    """One message's character n-grams formed and looked up as integer keys give the same columns
    and values as scikit-learn's analyser and the vocabulary."""
    from linli.domains.triage.classifier import _CharKeys, _tfidf_one

    model, test = trained
    title, body, _ = test[0]
    text = text.replace("TITLE", title).replace("BODY", body)
    vectorizers = {name: model._vectorizers[name] for name in ("char", "title_char", "body_char")}
    keys = _CharKeys.of(vectorizers)
    assert keys is not None and set(keys.ngram_ranges) == set(vectorizers)
    # each block alone, and each after a whole text that does not contain it (looked up apart)
    for name, vectorizer in vectorizers.items():
        alone = keys.tfidfs(vectorizers, {name: text})[name]
        after = keys.tfidfs(vectorizers, {"char": "无关", name: text})[name]
        slow = _as_dict(*_tfidf_one(vectorizer, vectorizer.build_analyzer()(text)))
        for fast in (_as_dict(*alone), _as_dict(*after)):
            assert fast.keys() == slow.keys()
            assert slow or not text.strip() or "😀" in text or text == "a"  # the vocabulary knows these
            for column, value in slow.items():
                assert fast[column] == pytest.approx(value, rel=1e-6)


def test_blocks_the_keys_cannot_hold_keep_the_analyser():
    from sklearn.feature_extraction.text import TfidfVectorizer

    from linli.domains.triage.classifier import _CharKeys

    texts = ["路灯不亮", "垃圾没人清运", "噪音扰民"]
    held = TfidfVectorizer(analyzer="char", ngram_range=(1, 3)).fit(texts)
    longer = TfidfVectorizer(analyzer="char", ngram_range=(2, 4)).fit(texts)
    nul = TfidfVectorizer(analyzer="char", ngram_range=(1, 2)).fit(["a\x00b", "ab"])
    assert _CharKeys.of({"char": held, "title_char": longer, "body_char": nul}).ngram_ranges == {
        "char": (1, 3)
    }
    assert _CharKeys.of({"title_char": longer}) is None


def test_the_key_table_finds_every_key_and_only_those():
    """Half full, so some groups of eight overflow into the next: a key found there, an absent key
    that meets a full group goes on, one that meets a group with room stops."""
    from linli.domains.triage.classifier import _KeyTable

    rng = np.random.default_rng(0)
    keys = np.unique(rng.integers(1, 2**63, size=5000, dtype=np.uint64))
    columns = np.column_stack([np.arange(len(keys)), np.where(np.arange(len(keys)) % 3, -1, 7)])
    table = _KeyTable(keys, columns.astype(np.int32), ["a", "b"])
    assert (table.keys[:, -1] != 0).any()  # some groups are full
    np.testing.assert_array_equal(table.find(keys), columns)
    absent = np.setdiff1d(rng.integers(1, 2**63, size=5000, dtype=np.uint64), keys)
    assert (table.find(absent) == -1).all()
    assert table.find(np.zeros(0, dtype=np.uint64)).shape == (0, 2)
    small = _KeyTable.of(
        {"a": {"路": 0, "灯": 1}, "b": {"灯": 5}},
        lambda terms: np.array([ord(t) for t in terms], dtype=np.uint64),
    )
    np.testing.assert_array_equal(
        small.find(np.array([ord("灯"), ord("路"), ord("x")], dtype=np.uint64)), [[1, 5], [0, -1], [-1, -1]]
    )


def test_words_with_an_underscore_take_the_vectorizers_path_and_agree():
    """A word with "_" in it could make a bigram term ambiguous; such a message is served by the
    vectorizers, and every message gets the batch's probabilities."""
    train, test = split()
    titles, bodies, labels = (list(v) for v in zip(*train, strict=True))
    titles += ["file_name 路灯", "a_b_c 路灯"] * 2
    bodies += ["路灯 file_name 坏了 a_b", "c_d 路灯"] * 2
    labels += labels[:1] * 4
    model = TriageClassifier().fit(titles, bodies, labels).warm()
    assert model._word_keys is not None and not model._word_keys.serves("a_b", "")
    cases = [("file_name 路灯", "路灯 a_b 坏了"), ("路灯坏了", "c_d"), ("路灯坏了", "小区路灯不亮")]
    for title, body in cases:
        np.testing.assert_allclose(
            model.predict_proba([title], [body]),
            model.predict_proba([title, title], [body, body])[:1],
            rtol=1e-5,
            atol=1e-7,
        )


def test_a_lone_surrogate_and_a_refit_still_give_the_batch_probabilities():
    train, test = split()
    titles, bodies, labels = zip(*train, strict=True)
    model = TriageClassifier().fit(titles, bodies, labels)
    odd = ("路灯\ud800", "坏了\ud800三天")  # no encoder takes a lone surrogate: normalize() replaces it
    np.testing.assert_allclose(
        model.predict_proba([odd[0]], [odd[1]]),
        model.predict_proba(list(odd[:1]) * 2, [odd[1]] * 2)[:1],
        rtol=1e-5,
    )
    # trained again on other examples: the one-message path follows the new vocabularies
    model.fit(
        titles[::-1][: len(titles) // 2 + 5],
        bodies[::-1][: len(titles) // 2 + 5],
        labels[::-1][: len(titles) // 2 + 5],
    )
    t, b, _ = zip(*test, strict=True)
    single = np.array([model.predict_proba([x], [y])[0] for x, y in zip(t, b, strict=True)])
    np.testing.assert_allclose(single, model.predict_proba(t, b), rtol=1e-5, atol=1e-6)
