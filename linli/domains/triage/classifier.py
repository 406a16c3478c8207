"""The category classifier of smart triage.

A linear model over sparse TF-IDF features, small and fast enough for the CPU of any deployment:

* character 1–3-grams and jieba words + word bigrams of the normalised message, the title repeated so
  that it weighs more (sublinear tf);
* the same n-grams and words of the title alone and of the body alone (their own vocabularies and
  IDF, half weight), so a word can say something different in a title than in a body;
* a linear SVM and an NB-SVM (SVMs on features scaled by each label's log-count ratio) stacked by a
  logistic regression on their out-of-fold scores, folded into one linear model whose scores become
  calibrated probabilities by temperature scaling fitted on out-of-fold scores (so the probabilities
  sum to 1 and the argmax is the linear model's).

Training examples may have only a title or only a body; both are used as they are.

A trained model is one file: a short header line (format, version, sklearn version, labels) followed by
the joblib pickle of this object. Only load files this module wrote (pickle runs code on load).
"""

from __future__ import annotations

import io
import itertools
import json
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import joblib
import numpy as np
import scipy.sparse as sp
import sklearn
from scipy.optimize import minimize_scalar
from scipy.sparse.csgraph import connected_components
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_predict
from sklearn.svm import LinearSVC

from .text import dedup_key, normalize, segment

__all__ = ["ModelFormatError", "TriageClassifier", "TriageConfig", "load_model"]

MAGIC = b"LINLI-TRIAGE-MODEL"
FORMAT_VERSION = 3
# Formats this version still reads: a format-2 file is a model without the nearest-neighbour member
# (its stack predicts as before), so a district's active model survives the upgrade.
READABLE_FORMATS = (2, 3)

Progress = Callable[[str], None]


class ModelFormatError(ValueError):
    """The file is not a triage model this version can read."""


@dataclass(frozen=True)
class TriageConfig:
    char_ngram_range: tuple[int, int] = (1, 3)
    # The title-only character block's n-gram range (None: ``char_ngram_range``).
    title_char_ngram_range: tuple[int, int] | None = None
    # Most terms kept in each character block (the most frequent ones; 0 keeps all).
    char_max_features: int = 0
    # Term frequency of the character and word blocks: "sublinear" (1 + log count), "binary" (1 for
    # any count) or "raw" (the count).
    char_tf: str = "sublinear"
    word_tf: str = "sublinear"
    # jieba's segmentation: "default" (``cut``) or "search" (``cut_for_search``: a long word also gives
    # the shorter dictionary words inside it).
    word_mode: str = "default"
    min_df: int = 2
    max_df: float = 0.9
    title_repeat: int = 2
    word_bigrams: bool = True
    word_weight: float = 1.0
    # Extra blocks over the title alone and the body alone (their own vocabularies and IDF), each
    # scaled by this weight; 0 leaves them out.
    field_weight: float = 0.5
    C: float = 0.5
    # Weight of the NB-SVM (one-vs-rest SVMs on features scaled by each label's log-count ratio) in the
    # blend with the plain SVM; 0 for the plain SVM alone.
    nb_weight: float = 1.0
    # The NB-SVM's add-alpha smoothing of the log-count ratios, and its SVMs' C inside the stack (None:
    # ``C``).
    nb_alpha: float = 1.0
    nb_C: float | None = None
    # Stacking: the members whose 2-fold out-of-fold scores feed a multinomial logistic regression
    # (inverse regularisation ``meta_C``); ``svm`` and ``nb`` (NB-SVM, left out when nb_weight is 0)
    # read every block, ``sgd`` is an SGD classifier with the modified Huber loss, ``svm:GROUP`` a
    # linear SVM on one group of blocks (char, word, title, body). Empty: the SVM + NB-SVM blend.
    stack: tuple[str, ...] = ("svm", "nb")
    meta_C: float = 0.1
    # The stack's out-of-fold split: how many folds, and whether the rows that repeat one message (its
    # title-only and body-only copies) stay in the same fold, so no member scores a message it has seen.
    stack_folds: int = 2
    stack_grouped: bool = False
    # The nearest-neighbour member (``knn`` in ``stack``): for each label, the sum of the cosine
    # similarities, raised to ``knn_power``, of the ``knn`` training messages of that label most similar
    # to the message (over the whole-message character and word blocks); ``knn_terms`` > 0 keeps only
    # that many heaviest terms of each stored training message.
    knn: int = 20
    knn_power: float = 1.0
    knn_terms: int = 0
    # Characters of the normalised body the classifier reads (0: all). One message costs about 0.7 ms
    # per 100 characters (mostly jieba's segmentation), so a cap bounds the slowest predictions.
    body_max_chars: int = 0
    class_weight: str | None = None
    calibration_folds: int = 2
    random_state: int = 0
    extra: dict = field(default_factory=dict)


_BLOCKS = ("char", "word", "title_char", "body_char", "title_word", "body_word")


def _tf_options(tf: str) -> dict:
    if tf not in ("sublinear", "binary", "raw"):
        raise ValueError(f"term frequency {tf!r}: 'sublinear', 'binary' or 'raw'")
    return {"sublinear_tf": tf == "sublinear", "binary": tf == "binary"}


def _identity(tokens):
    return tokens


def _word_features(words: list[str], bigrams: bool) -> list[str]:
    if not bigrams:
        return list(words)
    return list(words) + [f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)]


def _clean(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN from a spreadsheet
        return ""
    return str(value)


class TriageClassifier:
    """Predicts a category label from an appeal's title and body, with probabilities."""

    def __init__(self, config: TriageConfig | None = None):
        self.config = config or TriageConfig()
        self.classes_: np.ndarray | None = None
        self.trained_at: float | None = None
        self.train_size: int = 0
        self._char: TfidfVectorizer | None = None
        self._word: TfidfVectorizer | None = None
        self._model: _TemperatureCalibrated | None = None
        self._char_analyzer = None

    # --- features ---------------------------------------------------------------------------------

    def _documents(self, titles: Sequence, bodies: Sequence) -> dict[str, list]:
        """The inputs of every feature block: ``char``/``word`` for the whole message (title repeated),
        ``title_char``/``body_char``/``title_word``/``body_word`` for each field alone."""
        cfg = self.config
        search = cfg.word_mode == "search"
        docs: dict[str, list] = {name: [] for name in _BLOCKS}
        for title, body in zip(titles, bodies, strict=True):
            title, body = self._fields(title, body)
            title_words = _word_features(segment(title, search=search), cfg.word_bigrams)
            body_words = _word_features(segment(body, search=search), cfg.word_bigrams)
            docs["char"].append(self._whole_text(title, body))
            docs["word"].append(title_words * cfg.title_repeat + body_words)
            docs["title_char"].append(title)
            docs["body_char"].append(body)
            docs["title_word"].append(title_words)
            docs["body_word"].append(body_words)
        return docs

    def _fields(self, title, body) -> tuple[str, str]:
        """The normalised title and body the blocks read."""
        title, body = normalize(_clean(title)), normalize(_clean(body))
        if self.config.body_max_chars:
            body = body[: self.config.body_max_chars]
        return title, body

    def _whole_text(self, title: str, body: str) -> str:
        """The whole-message character block's text: the title repeated, then the body."""
        return " ".join([title] * self.config.title_repeat + [body]).strip()

    def _block_weights(self) -> dict[str, float]:
        cfg = self.config
        weights = {"char": 1.0, "word": cfg.word_weight}
        if cfg.field_weight:
            for name in ("title_char", "body_char", "title_word", "body_word"):
                weights[name] = cfg.field_weight * (cfg.word_weight if name.endswith("word") else 1.0)
        return weights

    def _features(self, titles: Sequence, bodies: Sequence, *, fit: bool = False):
        docs = self._documents(titles, bodies)
        blocks = []
        if fit:
            cfg = self.config
            options = dict(min_df=cfg.min_df, max_df=cfg.max_df, dtype=np.float32)
            self._vectorizers = {}
            self._weights = {}
            for name, weight in self._block_weights().items():
                if name.endswith("char"):
                    ngrams = cfg.char_ngram_range
                    if name == "title_char" and cfg.title_char_ngram_range:
                        ngrams = tuple(cfg.title_char_ngram_range)
                    vectorizer = TfidfVectorizer(
                        analyzer="char",
                        ngram_range=tuple(ngrams),
                        max_features=cfg.char_max_features or None,
                        **_tf_options(cfg.char_tf),
                        **options,
                    )
                else:
                    vectorizer = TfidfVectorizer(analyzer=_identity, **_tf_options(cfg.word_tf), **options)
                try:
                    x = vectorizer.fit_transform(docs[name])
                except ValueError:
                    if name in ("char", "word"):
                        raise
                    continue  # e.g. no titles at all among the examples: no title block
                # The pruned terms are kept only for introspection and would double the file size.
                vectorizer.stop_words_ = None
                self._vectorizers[name] = vectorizer
                self._weights[name] = weight
                blocks.append(x * weight if weight != 1.0 else x)
            self._char, self._word = self._vectorizers["char"], self._vectorizers["word"]
        else:
            for name, weight in self._weights.items():
                x = self._vectorizers[name].transform(docs[name])
                blocks.append(x * weight if weight != 1.0 else x)
        return sp.hstack(blocks, format="csr", dtype=np.float32)

    def _block_groups(self) -> dict[str, list[tuple[int, int, float]]]:
        """Column ranges and weights of the stacked blocks, by group: ``char`` and ``word`` (whole
        message), ``title`` and ``body`` (each field's character and word blocks)."""
        groups: dict[str, list[tuple[int, int, float]]] = {"char": [], "word": [], "title": [], "body": []}
        offset = 0
        for name, weight in self._weights.items():
            width = len(self._vectorizers[name].idf_)
            group = name.split("_")[0] if "_" in name else name
            groups[group].append((offset, offset + width, weight))
            offset += width
        return groups

    # --- training and prediction ------------------------------------------------------------------

    def fit(
        self, titles: Sequence, bodies: Sequence, labels: Sequence[str], *, progress: Progress | None = None
    ):
        say = progress or (lambda message: None)
        labels = [str(label) for label in labels]
        if len(set(labels)) < 2:
            raise ValueError("training needs at least two different labels")
        started = time.perf_counter()
        say(f"features for {len(labels)} examples …")
        self._char_analyzer = None  # the one-message path rebuilds its look-ups from the new vocabularies
        x = self._features(titles, bodies, fit=True)
        say(f"{x.shape[1]} features in {time.perf_counter() - started:.1f}s; training the SVM …")
        cfg = self.config
        members = [m for m in cfg.stack if m != "nb" or cfg.nb_weight]
        groups = self._block_groups()
        members = [m for m in members if not m.startswith("svm:") or groups.get(m[4:])]
        _, counts = np.unique(labels, return_counts=True)
        linear = [m for m in members if m != "knn"]
        if len(members) >= 2 and linear and len(counts) > 2 and counts.min() >= 2:
            svm = _LinearStack(
                C=cfg.C,
                members=tuple(members),
                groups=groups,
                meta_C=cfg.meta_C,
                nb_alpha=cfg.nb_alpha,
                nb_C=cfg.nb_C,
                knn=cfg.knn,
                knn_power=cfg.knn_power,
                knn_terms=cfg.knn_terms,
                folds=cfg.stack_folds,
                class_weight=cfg.class_weight,
                random_state=cfg.random_state,
            )
            fit_params = {}
            if "knn" in members or cfg.stack_grouped:
                fit_params["copies"] = _copies(titles, bodies)
            if cfg.stack_grouped:
                fit_params["grouped"] = True
        else:
            svm = _LinearBlend(
                C=cfg.C,
                nb_weight=cfg.nb_weight,
                alpha=cfg.nb_alpha,
                class_weight=cfg.class_weight,
                random_state=cfg.random_state,
            )
            fit_params = {}
        self._model = _TemperatureCalibrated.fit(
            svm, x, labels, folds=cfg.calibration_folds, say=say, fit_params=fit_params
        )
        self.classes_ = np.asarray(self._model.classes_)
        self.trained_at = time.time()
        self.train_size = len(labels)
        say(f"trained in {time.perf_counter() - started:.1f}s")
        return self

    def predict_proba(self, titles: Sequence, bodies: Sequence) -> np.ndarray:
        """Probabilities of each label (columns in the order of ``classes_``), one row per message."""
        self._check_fitted()
        if len(titles) == 1:
            return self._proba_one(titles[0], bodies[0])
        if self.__dict__.get("_compact"):  # the vectorizers can no longer transform: one by one
            rows = [self._proba_one(t, b) for t, b in zip(titles, bodies, strict=True)]
            return np.vstack(rows) if rows else np.zeros((0, len(self.classes_)))
        return self._model.predict_proba(self._features(titles, bodies))

    def compact(self) -> TriageClassifier:
        """Free what predicting one message at a time does not read: the vocabularies of the
        character blocks, once their key table holds them (``warm``). They are about 1.7 million
        Python strings for a model trained on the 2020 files, some 300 MB of each process that
        serves the model. A compact model predicts a batch message by message, with the same
        probabilities, and cannot be saved. For the platform's loaded model (``suggest``); a model
        being trained or evaluated keeps everything."""
        self.warm()
        held = self._char_keys.ngram_ranges if self._char_keys is not None else {}
        for name in held:
            self._vectorizers[name].vocabulary_ = None
        self._compact = True
        return self

    def warm(self) -> TriageClassifier:
        """Build now what predicting one message at a time needs (the character analyser, and the
        character and word blocks' key tables: about four seconds and 65 MB for a full model; the
        segmenter's dictionary, about 0.1 s once per process) instead of on the first appeal."""
        self._check_fitted()
        if self._char_analyzer is None:  # once per model: _proba_one calls this on every appeal
            segment("路灯")
            self._char_analyzer = self._char.build_analyzer()
            blocks = self._vectorizers.items()
            self._char_keys = _CharKeys.of({n: v for n, v in blocks if n.endswith("char")})
            self._word_keys = _WordKeys.of({n: v for n, v in blocks if n.endswith("word")})
            # One message reads a few thousand of the weights' columns: each column's weights side by
            # side (column-major) make that one memory read per column instead of one per label.
            model = self._model.svm
            model.coef_ = np.asfortranarray(model.coef_)
        return self

    def _proba_one(self, title, body) -> np.ndarray:
        """The same computation as the batch path for one message, without scikit-learn's per-call
        input validation, which costs more than the arithmetic when an appeal arrives alone. Each
        distinct n-gram and word is looked up once, as an integer key, for all the blocks
        (``_CharKeys``, ``_WordKeys``) rather than as one Python string per block; blocks the tables
        cannot serve keep the vectorizers' own path."""
        self.warm()
        cfg = self.config
        title, body = self._fields(title, body)
        texts = {"char": self._whole_text(title, body), "title_char": title, "body_char": body}
        texts = {name: text for name, text in texts.items() if name in self._weights}
        found = self._char_keys.tfidfs(self._vectorizers, texts) if self._char_keys else {}
        search = cfg.word_mode == "search"
        title_words, body_words = segment(title, search=search), segment(body, search=search)
        if self._word_keys is not None and self._word_keys.serves(title, body):
            title_keys = self._word_keys.document_keys(title_words, cfg.word_bigrams)
            body_keys = self._word_keys.document_keys(body_words, cfg.word_bigrams)
            documents = {
                "word": np.concatenate([title_keys] * cfg.title_repeat + [body_keys]),
                "title_word": title_keys,
                "body_word": body_keys,
            }
            documents = {name: keys for name, keys in documents.items() if name in self._weights}
            found.update(self._word_keys.tfidfs(self._vectorizers, documents))
        title_tokens = body_tokens = None
        model = self._model.svm
        coef = model.coef_
        scores = model.intercept_.astype(np.float64)
        neighbours = getattr(model, "neighbours_", None)
        columns, cells = [], []
        offset = 0
        for name, weight in self._weights.items():
            vectorizer = self._vectorizers[name]
            if name in found:
                index, values = found[name]
            elif name.endswith("char"):
                index, values = _tfidf_one(vectorizer, self._char_analyzer(texts[name]))
            else:
                if title_tokens is None:
                    title_tokens = _word_features(title_words, cfg.word_bigrams)
                    body_tokens = _word_features(body_words, cfg.word_bigrams)
                tokens = {
                    "word": title_tokens * cfg.title_repeat + body_tokens,
                    "title_word": title_tokens,
                    "body_word": body_tokens,
                }[name]
                index, values = _tfidf_one(vectorizer, tokens)
            scores = scores + (coef[:, offset + index] @ values) * weight
            if neighbours is not None:
                columns.append(offset + index)
                cells.append(values * np.float32(weight))
            offset += len(vectorizer.idf_)
        if neighbours is not None:
            query = neighbours.query_one(np.concatenate(columns), np.concatenate(cells))
            scores = scores + model.knn_coef_ @ neighbours.scores(query)[0]
        return self._model.proba_from_scores(scores[None, :] if coef.shape[0] > 1 else scores)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_char_analyzer"] = None  # rebuilt on first use
        state.pop("_char_keys", None)
        state.pop("_word_keys", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.setdefault("_char_analyzer", None)

    def predict(self, titles: Sequence, bodies: Sequence) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(titles, bodies), axis=1)]

    def top_k(self, title: str, body: str, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` likeliest labels of one appeal with their probabilities, likeliest first."""
        proba = self.predict_proba([title], [body])[0]
        order = np.argsort(-proba, kind="stable")[:k]
        return [(str(self.classes_[i]), float(proba[i])) for i in order]

    def _check_fitted(self) -> None:
        if self._model is None:
            raise RuntimeError("the classifier has not been trained")

    # --- persistence ------------------------------------------------------------------------------

    def header(self) -> dict:
        return {
            "format": FORMAT_VERSION,
            "sklearn": sklearn.__version__,
            "classes": [str(c) for c in self.classes_] if self.classes_ is not None else [],
            "trained_at": self.trained_at,
            "train_size": self.train_size,
            "config": asdict(self.config),
        }

    def to_bytes(self) -> bytes:
        self._check_fitted()
        if self.__dict__.get("_compact"):
            raise RuntimeError("a compact model has dropped part of itself and cannot be saved")
        buffer = io.BytesIO()
        buffer.write(MAGIC + b" " + json.dumps(self.header(), ensure_ascii=False).encode() + b"\n")
        joblib.dump(self, buffer, compress=3)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> TriageClassifier:
        first, _, payload = data.partition(b"\n")
        if not first.startswith(MAGIC + b" "):
            raise ModelFormatError("not a Linli triage model")
        header = json.loads(first[len(MAGIC) + 1 :])
        if header.get("format") not in READABLE_FORMATS:
            raise ModelFormatError(
                f"model format {header.get('format')}, this version reads "
                + ", ".join(str(f) for f in READABLE_FORMATS)
            )
        model = joblib.load(io.BytesIO(payload))
        if not isinstance(model, cls):
            raise ModelFormatError("the file does not hold a triage classifier")
        return model

    def save(self, path: str | Path) -> int:
        """Write the model to ``path``; returns its size in bytes."""
        data = self.to_bytes()
        Path(path).write_bytes(data)
        return len(data)


def load_model(path: str | Path) -> TriageClassifier:
    return TriageClassifier.from_bytes(Path(path).read_bytes())


def read_header(path: str | Path) -> dict:
    """The header of a saved model, without unpickling it."""
    with open(path, "rb") as handle:
        first = handle.readline()
    if not first.startswith(MAGIC + b" "):
        raise ModelFormatError("not a Linli triage model")
    return json.loads(first[len(MAGIC) + 1 :])


class _LinearBlend(ClassifierMixin, BaseEstimator):
    """A linear SVM (one-vs-rest) blended with an NB-SVM, folded into one linear model.

    The NB-SVM (Wang & Manning 2012) trains, for each label, a binary linear SVM on the features scaled
    by that label's log-count ratio ``r`` (how much likelier each feature is to occur in the label's
    examples than in the others). Its score ``w·(r∘x) + b`` equals ``(w∘r)·x + b``, so it is a linear
    model over the same features. The blend adds the two models' scores, each divided by the standard
    deviation of its scores on the training set: ``coef_`` and ``intercept_`` hold the sum, and
    prediction costs what a single linear model does.
    """

    def __init__(self, C=0.5, nb_weight=1.0, alpha=1.0, class_weight=None, random_state=0):
        self.C = C
        self.nb_weight = nb_weight
        self.alpha = alpha
        self.class_weight = class_weight
        self.random_state = random_state

    def fit(self, x, labels):
        labels = np.asarray(labels)
        svm = LinearSVC(C=self.C, class_weight=self.class_weight, random_state=self.random_state)
        svm.fit(x, labels)
        self.classes_ = svm.classes_
        coef = svm.coef_.astype(np.float64)
        intercept = svm.intercept_.astype(np.float64)
        if self.nb_weight and len(self.classes_) > 2:
            scale = _score_scale(x, coef, intercept)
            nb_coef, nb_intercept = self._nb_svm(x, labels)
            nb_scale = _score_scale(x, nb_coef, nb_intercept)
            coef = coef / scale + self.nb_weight * nb_coef / nb_scale
            intercept = intercept / scale + self.nb_weight * nb_intercept / nb_scale
        self.coef_ = coef.astype(np.float32)  # half the size, the same predictions
        self.intercept_ = intercept.astype(np.float32)
        return self

    def _nb_svm(self, x, labels):
        present = x.copy()
        present.data[:] = 1.0
        coefs, intercepts = [], []
        for label in self.classes_:
            mine = labels == label
            p = self.alpha + np.asarray(present[mine].sum(axis=0), dtype=np.float64).ravel()
            q = self.alpha + np.asarray(present[~mine].sum(axis=0), dtype=np.float64).ravel()
            ratio = np.log(p / p.sum()) - np.log(q / q.sum())
            svm = LinearSVC(C=self.C, class_weight=self.class_weight, random_state=self.random_state)
            svm.fit(x @ sp.diags(ratio.astype(np.float32)), mine.astype(int))
            coefs.append(svm.coef_.ravel() * ratio)
            intercepts.append(svm.intercept_[0])
        return np.array(coefs), np.array(intercepts)

    def decision_function(self, x):
        scores = np.asarray(x @ self.coef_.T) + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, x):
        scores = self.decision_function(x)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]


class _LinearStack(ClassifierMixin, BaseEstimator):
    """Several linear models over the same features stacked by a logistic regression, folded into one
    linear model.

    Each member (a linear SVM on all features or on one group of blocks, the NB-SVM, an SGD classifier
    with the modified Huber loss, which is robust to mislabelled examples) is trained on half of the
    examples and scores the other half, and the other way round; a multinomial logistic regression
    learns from these out-of-fold scores how much to trust each member for each label. The members are
    then trained on all examples. Every member's scores (divided by the standard deviation of its
    training scores) are linear in the features and so is the regression, so ``coef_`` and
    ``intercept_`` hold one linear model and prediction costs what a single linear model does. The
    out-of-fold scores of the regression (``oof_decision_``) serve the temperature calibration.
    """

    def __init__(
        self,
        C=0.5,
        members=("svm", "nb"),
        groups=None,
        meta_C=0.1,
        nb_alpha=1.0,
        nb_C=None,
        folds=2,
        knn=20,
        knn_power=1.0,
        knn_terms=0,
        class_weight=None,
        random_state=0,
    ):
        self.C = C
        self.members = members
        self.groups = groups
        self.meta_C = meta_C
        self.nb_alpha = nb_alpha
        self.nb_C = nb_C
        self.folds = folds
        self.knn = knn
        self.knn_power = knn_power
        self.knn_terms = knn_terms
        self.class_weight = class_weight
        self.random_state = random_state

    def _fit_members(self, x, labels) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(coef, intercept)`` of every member, each over all columns, scaled to unit score spread."""
        fitted = []
        for member in self.members:
            if member == "knn":
                continue  # not linear: fitted apart
            if member == "nb":
                blend = _LinearBlend(
                    C=self.C if self.nb_C is None else self.nb_C,
                    alpha=self.nb_alpha,
                    class_weight=self.class_weight,
                    random_state=self.random_state,
                )
                blend.classes_ = np.unique(labels)
                coef, intercept = blend._nb_svm(x, labels)
            elif member == "sgd":
                model = SGDClassifier(
                    loss="modified_huber",
                    alpha=5e-5,
                    max_iter=30,
                    tol=1e-4,
                    class_weight=self.class_weight,
                    random_state=self.random_state,
                )
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    model.fit(x, labels)
                coef, intercept = model.coef_.astype(np.float64), model.intercept_.astype(np.float64)
            else:
                svm = LinearSVC(C=self.C, class_weight=self.class_weight, random_state=self.random_state)
                if member.startswith("svm:"):
                    # One group of blocks, each at its own unit weight.
                    blocks = self.groups[member[4:]]
                    columns = np.concatenate([np.arange(a, b) for a, b, _ in blocks])
                    unweight = np.concatenate(
                        [np.full(b - a, 1.0 / w, dtype=np.float32) for a, b, w in blocks]
                    )
                    svm.fit(x[:, columns] @ sp.diags(unweight), labels)
                    coef = np.zeros((len(svm.classes_), x.shape[1]))
                    coef[:, columns] = svm.coef_ * unweight
                else:
                    svm.fit(x, labels)
                    coef = svm.coef_.astype(np.float64)
                intercept = svm.intercept_.astype(np.float64)
            scale = _score_scale(x, coef, intercept)
            fitted.append((coef / scale, intercept / scale))
        return fitted

    @staticmethod
    def _scores(x, fitted) -> np.ndarray:
        return np.hstack([np.asarray(x @ coef.T) + intercept for coef, intercept in fitted])

    def fit(self, x, labels, copies=None, grouped=False):
        """``copies``: for some training rows, the other rows that repeat the same message (its title or
        body alone, say); the nearest-neighbour member does not count them as its neighbours, and with
        ``grouped`` they fall in the same out-of-fold part."""
        labels = np.asarray(labels)
        self.classes_ = np.unique(labels)
        k = len(self.classes_)
        linear = [m for m in self.members if m != "knn"]
        oof = np.zeros((x.shape[0], k * len(linear)))
        if grouped:
            splitter = StratifiedGroupKFold(self.folds, shuffle=True, random_state=self.random_state)
            splits = splitter.split(np.zeros(len(labels)), labels, _copy_groups(len(labels), copies or {}))
        else:
            splitter = StratifiedKFold(self.folds, shuffle=True, random_state=self.random_state)
            splits = splitter.split(np.zeros(len(labels)), labels)
        for part, rest in splits:
            oof[rest] = self._scores(x[rest], self._fit_members(x[part], labels[part]))
        if "knn" in self.members:
            # Leave-one-out: each training message's neighbours are the others, without its copies.
            neighbours = _Neighbours(
                self.knn, self.knn_power, self.knn_terms, self._neighbour_columns(x.shape[1])
            ).fit(x, labels, self.classes_)
            knn_oof = neighbours.scores(neighbours.rows(x), leave_out=copies or {})
            knn_scale = float(np.std(knn_oof)) or 1.0
            oof = np.hstack([oof, knn_oof / knn_scale])
        meta = LogisticRegression(C=self.meta_C, max_iter=1000).fit(oof, labels)
        self.oof_decision_ = meta.decision_function(oof)
        coef = np.zeros((k, x.shape[1]))
        intercept = meta.intercept_.astype(np.float64).copy()
        for i, (member_coef, member_intercept) in enumerate(self._fit_members(x, labels)):
            weights = meta.coef_[:, i * k : (i + 1) * k]
            coef += weights @ member_coef
            intercept += weights @ member_intercept
        self.coef_ = coef.astype(np.float32)
        self.intercept_ = intercept.astype(np.float32)
        if "knn" in self.members:
            self.neighbours_ = neighbours
            self.knn_coef_ = (meta.coef_[:, -k:] / knn_scale).astype(np.float32)
        else:
            self.neighbours_ = None
        return self

    def _neighbour_columns(self, width: int) -> list[tuple[int, int]]:
        """The whole-message character and word blocks (all columns when the groups are unknown)."""
        if not self.groups:
            return [(0, width)]
        return [(a, b) for group in ("char", "word") for a, b, _ in self.groups.get(group, [])]

    def decision_function(self, x):
        scores = _LinearBlend.decision_function(self, x)
        neighbours = getattr(self, "neighbours_", None)
        if neighbours is not None:
            scores = scores + neighbours.scores(neighbours.rows(x)) @ self.knn_coef_.T
        return scores

    predict = _LinearBlend.predict


class _Neighbours:
    """Per-label nearest-neighbour scores over L2-normalised TF-IDF rows.

    For each label, the sum of the ``k`` largest cosine similarities (each raised to ``power``) between a
    message and the training messages of that label. The training rows are stored transposed (one row
    per term, columns grouped by label), so scoring one message is one sparse row times a sparse matrix
    and a partial sort per label.
    """

    def __init__(self, k: int, power: float, terms: int, columns: list[tuple[int, int]]):
        self.k = k
        self.power = power
        self.terms = terms
        self.columns = columns

    def rows(self, x) -> sp.csr_matrix:
        """The columns the search reads, each row scaled to unit length."""
        rows = sp.hstack([x[:, a:b] for a, b in self.columns], format="csr", dtype=np.float32)
        return _normalise_rows(rows)

    def fit(self, x, labels: np.ndarray, classes: np.ndarray) -> _Neighbours:
        rows = self.rows(x)
        if self.terms:
            rows = _normalise_rows(_heaviest(rows, self.terms))
        order = np.argsort(np.searchsorted(classes, labels), kind="stable")
        self.position_ = np.empty(len(order), dtype=np.intp)
        self.position_[order] = np.arange(len(order))  # training row -> stored column
        self.bounds_ = np.searchsorted(np.searchsorted(classes, labels[order]), np.arange(len(classes) + 1))
        self.matrix_ = rows[order].T.tocsr()
        self.matrix_.sort_indices()
        return self

    def query_one(self, columns: np.ndarray, values: np.ndarray) -> sp.csr_matrix:
        """One message's row in the search space from its (column, value) pairs in the full features."""
        keep_columns, keep_values, offset = [], [], 0
        for a, b in self.columns:
            inside = (columns >= a) & (columns < b)
            keep_columns.append(columns[inside] - a + offset)
            keep_values.append(values[inside])
            offset += b - a
        index, data = np.concatenate(keep_columns), np.concatenate(keep_values).astype(np.float32)
        norm = float(np.sqrt(data @ data))
        if norm > 0:
            data = data / norm
        return sp.csr_matrix((data, index, [0, len(index)]), shape=(1, offset))

    def scores(
        self, queries: sp.csr_matrix, *, leave_out: dict | None = None, chunk: int = 1000
    ) -> np.ndarray:
        """``(n, labels)`` scores; with ``leave_out`` the queries are the training rows themselves, and
        each leaves out itself and the rows ``leave_out[i]`` lists."""
        bounds = self.bounds_
        result = np.zeros((queries.shape[0], len(bounds) - 1))
        for start in range(0, queries.shape[0], chunk):
            similarity = (queries[start : start + chunk] @ self.matrix_).toarray()
            if leave_out is not None:
                for i in range(similarity.shape[0]):
                    similarity[i, self.position_[start + i]] = 0.0
                    others = leave_out.get(start + i)
                    if others is not None:
                        similarity[i, self.position_[others]] = 0.0
            for label, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
                block = similarity[:, a:b]
                k = min(self.k, b - a)
                if k < 1:
                    continue
                top = -np.partition(-block, k - 1, axis=1)[:, :k] if k < b - a else block
                top = np.maximum(top, 0.0)
                result[start : start + len(similarity), label] = (top**self.power).sum(axis=1)
        return result


def _normalise_rows(rows: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1), dtype=np.float64)).ravel()
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags((1.0 / norms).astype(np.float32)) @ rows, dtype=np.float32)


def _heaviest(rows: sp.csr_matrix, n: int) -> sp.csr_matrix:
    """Each row's ``n`` largest values, the others dropped."""
    rows = rows.tocsr(copy=True)
    for i in range(rows.shape[0]):
        a, b = rows.indptr[i], rows.indptr[i + 1]
        if b - a > n:
            values = rows.data[a:b]
            values[np.argpartition(-values, n - 1)[n:]] = 0.0
    rows.eliminate_zeros()
    return rows


def _copies(titles: Sequence, bodies: Sequence) -> dict[int, np.ndarray]:
    """For each training row that shares its title or its body with others (ignoring case, spaces and
    punctuation), those other rows: a message and its title-only and body-only copies, say."""
    by_key: dict[str, list[int]] = {}
    for i, (title, body) in enumerate(zip(titles, bodies, strict=True)):
        for prefix, text in (("t", title), ("b", body)):
            key = dedup_key(_clean(text))
            if key:
                by_key.setdefault(prefix + key, []).append(i)
    copies: dict[int, set[int]] = {}
    for rows in by_key.values():
        if len(rows) > 1:
            for i in rows:
                copies.setdefault(i, set()).update(rows)
    return {i: np.fromiter(rows - {i}, dtype=np.intp) for i, rows in copies.items()}


def _copy_groups(n: int, copies: dict[int, np.ndarray]) -> np.ndarray:
    """One group number per row: rows linked by ``copies`` (directly or through another row) share it."""
    rows = [np.full(len(others), i, dtype=np.intp) for i, others in copies.items()]
    if not rows:
        return np.arange(n)
    rows, columns = np.concatenate(rows), np.concatenate(list(copies.values()))
    graph = sp.coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, columns)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _score_scale(x, coef, intercept) -> float:
    scale = float(np.std(np.asarray(x @ coef.T) + intercept))
    return scale if scale > 0 else 1.0


class _TemperatureCalibrated:
    """A linear SVM whose scores become probabilities by a softmax at a fitted temperature.

    The temperature minimises the log-loss of cross-validated scores on the training set (or of the
    training scores themselves when some label has a single example), so the predicted label is always
    the SVM's and the probabilities of one appeal sum to 1.
    """

    def __init__(self, svm: _LinearBlend, temperature: float):
        self.svm = svm
        self.temperature = temperature
        self.classes_ = svm.classes_

    @classmethod
    def fit(
        cls,
        svm: _LinearBlend,
        x,
        labels: list[str],
        *,
        folds: int,
        say: Progress,
        fit_params: dict | None = None,
    ) -> _TemperatureCalibrated:
        classes, y, counts = np.unique(labels, return_inverse=True, return_counts=True)
        folds = min(folds, int(counts.min()))
        if isinstance(svm, _LinearStack):
            # The stack's own out-of-fold scores: no second cross-validation.
            say(f"stacking {', '.join(svm.members)} on {svm.folds}-fold out-of-fold scores …")
            svm.fit(x, labels, **(fit_params or {}))
            scores = svm.oof_decision_
            del svm.oof_decision_
            model = cls(svm, 1.0)
            model.temperature = _fit_temperature(model._as_matrix(scores), y)
            return model
        if folds >= 2:
            say(f"calibrating on {folds}-fold cross-validated scores …")
            splitter = StratifiedKFold(folds, shuffle=True, random_state=svm.random_state)
            scores = cross_val_predict(clone(svm), x, labels, cv=splitter, method="decision_function")
        else:
            scores = None
        svm.fit(x, labels)
        if scores is None:
            scores = svm.decision_function(x)
        model = cls(svm, 1.0)
        model.temperature = _fit_temperature(model._as_matrix(scores), y)
        return model

    @staticmethod
    def _as_matrix(scores: np.ndarray) -> np.ndarray:
        # Two labels: one score for the second label; make it a pair of logits.
        return np.column_stack([-scores / 2, scores / 2]) if scores.ndim == 1 else scores

    def predict_proba(self, x) -> np.ndarray:
        return self.proba_from_scores(self.svm.decision_function(x))

    def proba_from_scores(self, scores: np.ndarray) -> np.ndarray:
        return _softmax(self._as_matrix(np.asarray(scores, dtype=np.float64)) / self.temperature)


class _CharKeys:
    """The character blocks' vocabularies as integer keys in one hash table, so that one message's
    n-grams are formed, counted and looked up in NumPy rather than one Python string and one
    dictionary look-up each, and each distinct n-gram once for all the blocks. An n-gram of code
    points c1 … cn has the key ((c1 + 1) << 21·(n−1)) | … | (cn + 1): 21 bits per code point, so up to
    three characters fit in 64 bits, and keys of different lengths never collide. Built from the
    vocabularies by ``warm()`` (not stored in the model file); a block with longer n-grams keeps the
    analyser."""

    BITS = 21
    MAX_N = 3

    def __init__(self, table: _KeyTable, ngram_ranges: dict[str, tuple[int, int]]):
        self.table, self.ngram_ranges = table, ngram_ranges

    @classmethod
    def holds(cls, vectorizer: TfidfVectorizer) -> bool:
        low, high = vectorizer.ngram_range
        plain = vectorizer.lowercase and vectorizer.strip_accents is None and vectorizer.preprocessor is None
        # NumPy's fixed-width strings cannot tell a trailing NUL
        return (
            high <= cls.MAX_N
            and vectorizer.analyzer == "char"
            and plain
            and "\x00" not in "".join(vectorizer.vocabulary_)
        )

    @classmethod
    def of(cls, vectorizers: dict[str, TfidfVectorizer]) -> _CharKeys | None:
        """For the blocks it can hold (None if none)."""
        held = {name: v for name, v in vectorizers.items() if cls.holds(v)}
        if not held:
            return None
        vocabularies = {name: v.vocabulary_ for name, v in held.items()}
        return cls(_KeyTable.of(vocabularies, cls.term_keys), {n: v.ngram_range for n, v in held.items()})

    @classmethod
    def term_keys(cls, terms: list[str]) -> np.ndarray:
        array = np.array(terms, dtype=f"<U{cls.MAX_N}")
        lengths = np.char.str_len(array)
        points = array.view(np.uint32).reshape(len(array), cls.MAX_N).astype(np.uint64) + 1
        keys = np.zeros(len(array), dtype=np.uint64)
        for j in range(cls.MAX_N):
            inside = j < lengths
            keys[inside] = (keys[inside] << np.uint64(cls.BITS)) | points[inside, j]
        return keys

    def ngram_keys(self, text: str, ngram_range: tuple[int, int] = (1, 3)) -> np.ndarray:
        """The keys of the document's n-grams, as scikit-learn's character analyser forms them
        (lower case, runs of white space as one space)."""
        text = _WHITE_SPACES.sub(" ", text.lower())
        points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64) + 1
        shift = np.uint64(self.BITS)
        parts = []
        low, high = ngram_range
        for n in range(low, min(high, len(points)) + 1):
            keys = points[: len(points) - n + 1].copy()
            for j in range(1, n):
                keys = (keys << shift) | points[j : len(points) - n + 1 + j]
            parts.append(keys)
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)

    def tfidfs(self, vectorizers: dict[str, TfidfVectorizer], texts: dict[str, str]) -> dict:
        """``{block: (columns, values)}`` for the blocks the table holds; the first text's n-grams (the
        whole message's) contain the others', so its distinct n-grams are the ones looked up."""
        names = [name for name in texts if name in self.ngram_ranges]
        keys = {name: self.ngram_keys(texts[name], self.ngram_ranges[name]) for name in names}
        return self.table.tfidfs({name: vectorizers[name] for name in names}, keys)


_WHITE_SPACES = TfidfVectorizer._white_spaces


class _KeyTable:
    """Non-zero integer keys → each block's vocabulary column (-1 where a block lacks the term): a hash
    table searched in NumPy. A key's hash picks a group of eight slots (64 bytes: one cache line),
    filled from the left; a key that finds its group full goes on to the next. The table is at most
    half full, so a group overflows rarely and one message's few thousand distinct keys cost about one
    gather of a group each, where a binary search in each block's million sorted keys cost twenty steps
    (most of a long appeal's time)."""

    WIDTH = 8
    _MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: the top bits of key × 2⁶⁴/φ

    def __init__(self, keys: np.ndarray, columns: np.ndarray, names: list[str]):
        """``columns``: one row per key, one column per block of ``names``."""
        keys = np.asarray(keys, dtype=np.uint64)
        self.names = {name: i for i, name in enumerate(names)}
        bits = max(1, int(-(-2 * len(keys) // self.WIDTH) - 1).bit_length())
        self.shift, self.mask = np.uint64(64 - bits), (1 << bits) - 1
        self.keys = np.zeros((1 << bits, self.WIDTH), dtype=np.uint64)  # 0: an empty slot
        self.columns = np.full((1 << bits, self.WIDTH, len(names)), -1, dtype=np.int32)
        pending, group = np.arange(len(keys)), self._groups(keys)
        while len(pending):
            order = np.argsort(group, kind="stable")
            pending, group = pending[order], group[order]
            rank = np.arange(len(group)) - np.searchsorted(group, group)  # among this round's same group
            slot = np.count_nonzero(self.keys[group], axis=1) + rank
            fits = slot < self.WIDTH
            self.keys[group[fits], slot[fits]] = keys[pending[fits]]
            self.columns[group[fits], slot[fits]] = columns[pending[fits]]
            pending, group = pending[~fits], (group[~fits] + 1) & self.mask

    @classmethod
    def of(cls, vocabularies: dict[str, dict], term_keys: Callable[[list[str]], np.ndarray]) -> _KeyTable:
        """The table of several blocks' vocabularies, ``term_keys`` giving each term's key."""
        keys, columns = [], []
        for i, vocabulary in enumerate(vocabularies.values()):
            keys.append(term_keys(list(vocabulary)))
            block = np.full((len(vocabulary), len(vocabularies)), -1, dtype=np.int32)
            block[:, i] = np.fromiter(vocabulary.values(), dtype=np.int32, count=len(vocabulary))
            columns.append(block)
        keys, columns = np.concatenate(keys), np.concatenate(columns)
        distinct, where = np.unique(keys, return_inverse=True)
        merged = np.full((len(distinct), len(vocabularies)), -1, dtype=np.int32)
        np.maximum.at(merged, where, columns)  # each term's column in each block that has it
        return cls(distinct, merged, list(vocabularies))

    def _groups(self, keys: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return ((keys * self._MIX) >> self.shift).astype(np.intp)

    def find(self, keys: np.ndarray) -> np.ndarray:
        """Each key's row of block columns, -1 for a block (or the table) without the key."""
        found = np.full((len(keys), self.columns.shape[2]), -1, dtype=np.int32)
        pending, group, wanted = np.arange(len(keys)), self._groups(keys), keys
        while len(pending):
            stored = self.keys[group]
            slot = (stored == wanted[:, None]).argmax(axis=1)
            hit = stored[np.arange(len(slot)), slot] == wanted
            found[pending[hit]] = self.columns[group[hit], slot[hit]]
            go_on = ~hit & (stored[:, -1] != 0)  # a full group: the key may be further on
            pending, group, wanted = pending[go_on], (group[go_on] + 1) & self.mask, wanted[go_on]
        return found

    def tfidfs(self, vectorizers: dict[str, TfidfVectorizer], documents: dict[str, np.ndarray]) -> dict:
        """``{block: (columns, values)}`` of one message, each block's document given as the keys of its
        terms, one per occurrence. The first document's distinct keys are looked up; another's are found
        among them (a key outside them, possible only with other n-gram ranges, is looked up too)."""
        names = list(documents)
        if not names:
            return {}
        looked_up, counts = np.unique(documents[names[0]], return_counts=True)
        columns = self.find(looked_up)
        result = {}
        for name in names:
            if name != names[0]:
                keys, counts = np.unique(documents[name], return_counts=True)
                at = np.minimum(np.searchsorted(looked_up, keys), max(len(looked_up) - 1, 0))
                inside = looked_up[at] == keys if len(looked_up) else np.zeros(len(keys), dtype=bool)
                block = np.full(len(keys), -1, dtype=np.int32)
                block[inside] = columns[at[inside], self.names[name]]
                if not inside.all():
                    block[~inside] = self.find(keys[~inside])[:, self.names[name]]
            else:
                block = columns[:, self.names[name]]
            known = block >= 0
            result[name] = _tfidf_values(
                vectorizers[name], block[known].astype(np.intp), counts[known].astype(np.float64)
            )
        return result


class _WordKeys:
    """The word blocks' vocabularies as integer keys in one hash table: every word of any block's terms
    gets a number, a word the key number + 1 and a bigram ``a_b`` the key (a + 1) << 32 | (b + 1), so one
    message costs one dictionary look-up per word and one table look-up per distinct term, instead of
    one dictionary look-up per word and bigram and block, and no bigram strings. A word that contains
    "_" could make a bigram term ambiguous: a message with "_" in its title or body takes the
    vectorizers' own path (``serves``)."""

    def __init__(self, numbers: dict[str, int], table: _KeyTable):
        self.numbers, self.table = numbers, table

    @classmethod
    def of(cls, vectorizers: dict[str, TfidfVectorizer]) -> _WordKeys | None:
        if not vectorizers or any(v.analyzer is not _identity for v in vectorizers.values()):
            return None
        numbers: dict[str, int] = {}
        vocabularies = {}
        for name, vectorizer in vectorizers.items():
            # a term with two "_" or an empty side can only come from a word with "_": not served
            vocabularies[name] = {
                term: column
                for term, column in vectorizer.vocabulary_.items()
                if term.count("_") < 2 and "" not in term.split("_")
            }
            for term in vocabularies[name]:
                for part in term.split("_"):
                    numbers.setdefault(part, len(numbers))

        def term_keys(terms: list[str]) -> np.ndarray:
            parts = [term.split("_") for term in terms]
            return np.fromiter(
                (
                    (numbers[p[0]] + 1 << 32) | (numbers[p[1]] + 1) if len(p) == 2 else numbers[p[0]] + 1
                    for p in parts
                ),
                dtype=np.uint64,
                count=len(parts),
            )

        return cls(numbers, _KeyTable.of(vocabularies, term_keys))

    @staticmethod
    def serves(title: str, body: str) -> bool:
        return "_" not in title and "_" not in body

    def document_keys(self, words: list[str], bigrams: bool) -> np.ndarray:
        """The keys of a field's words and, with ``bigrams``, of its word bigrams, without those of a
        word no term holds (nor the bigrams with such a word)."""
        found = map(self.numbers.get, words, itertools.repeat(-1))
        numbers = (np.fromiter(found, dtype=np.int64, count=len(words)) + 1).astype(np.uint64)
        keys = numbers
        if bigrams and len(numbers) > 1:
            pairs = (numbers[:-1] << np.uint64(32)) | numbers[1:]
            pairs[(numbers[:-1] == 0) | (numbers[1:] == 0)] = 0
            keys = np.concatenate([numbers, pairs])
        return keys[keys != 0]

    def tfidfs(self, vectorizers: dict[str, TfidfVectorizer], documents: dict[str, np.ndarray]) -> dict:
        """``{block: (columns, values)}``; the first document (the whole message's) holds every other's
        keys."""
        return self.table.tfidfs(vectorizers, documents)


def _tfidf_one(vectorizer: TfidfVectorizer, tokens) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and l2-normalised TF-IDF values of one document's tokens (sublinear, binary or raw
    term frequency, as the vectorizer was set)."""
    vocabulary = vectorizer.vocabulary_
    counts: dict[int, int] = {}
    for token in tokens:
        column = vocabulary.get(token)
        if column is not None:
            counts[column] = counts.get(column, 0) + 1
    index = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
    tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
    return _tfidf_values(vectorizer, index, tf)


def _tfidf_values(
    vectorizer: TfidfVectorizer, index: np.ndarray, tf: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    if vectorizer.binary:
        tf[:] = 1.0
    elif vectorizer.sublinear_tf:
        tf = np.log(tf) + 1.0
    values = tf * vectorizer.idf_[index]
    norm = np.sqrt(values @ values)
    if norm > 0:
        values /= norm
    return index, values.astype(np.float32)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    def loss(log_t: float) -> float:
        p = _softmax(scores / np.exp(log_t))
        return float(-np.mean(np.log(p[np.arange(len(y)), y] + 1e-12)))

    result = minimize_scalar(loss, bounds=(np.log(1e-3), np.log(1e3)), method="bounded")
    return float(np.exp(result.x))
