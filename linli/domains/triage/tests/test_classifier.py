import numpy as np
import pytest

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
    assert header["format"] == FORMAT_VERSION == 2
    assert header["classes"] == ["交通运输", "教育文体", "环境保护"]
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(titles, bodies), model.predict_proba(titles, bodies))


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


@pytest.mark.parametrize(
    "settings",
    [dict(nb_weight=0.0, field_weight=0.0), dict(nb_weight=0.0), dict(field_weight=0.0), dict(nb_weight=0.5)],
)
def test_plain_and_blended_configurations_agree_with_their_fast_path(settings):
    train, test = split()
    titles, bodies, labels = zip(*train, strict=True)
    model = TriageClassifier(TriageConfig(**settings)).fit(titles, bodies, labels)
    titles, bodies, labels = zip(*test, strict=True)
    assert list(model.predict(titles, bodies)) == list(labels)
    batch = model.predict_proba(titles, bodies)
    single = np.array([model.predict_proba([t], [b])[0] for t, b in zip(titles, bodies, strict=True)])
    np.testing.assert_allclose(single, batch, rtol=1e-5, atol=1e-6)


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
