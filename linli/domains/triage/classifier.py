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
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.svm import LinearSVC

from .text import normalize, segment

__all__ = ["ModelFormatError", "TriageClassifier", "TriageConfig", "load_model"]

MAGIC = b"LINLI-TRIAGE-MODEL"
FORMAT_VERSION = 2

Progress = Callable[[str], None]


class ModelFormatError(ValueError):
    """The file is not a triage model this version can read."""


@dataclass(frozen=True)
class TriageConfig:
    char_ngram_range: tuple[int, int] = (1, 3)
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
    # Stacking: the members whose 2-fold out-of-fold scores feed a multinomial logistic regression
    # (inverse regularisation ``meta_C``); ``svm`` and ``nb`` (NB-SVM, left out when nb_weight is 0)
    # read every block, ``sgd`` is an SGD classifier with the modified Huber loss, ``svm:GROUP`` a
    # linear SVM on one group of blocks (char, word, title, body). Empty: the SVM + NB-SVM blend.
    stack: tuple[str, ...] = ("svm", "nb")
    meta_C: float = 0.1
    class_weight: str | None = None
    calibration_folds: int = 2
    random_state: int = 0
    extra: dict = field(default_factory=dict)


_BLOCKS = ("char", "word", "title_char", "body_char", "title_word", "body_word")


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
        docs: dict[str, list] = {name: [] for name in _BLOCKS}
        for title, body in zip(titles, bodies, strict=True):
            title, body = normalize(_clean(title)), normalize(_clean(body))
            title_words = _word_features(segment(title), cfg.word_bigrams)
            body_words = _word_features(segment(body), cfg.word_bigrams)
            docs["char"].append(" ".join([title] * cfg.title_repeat + [body]).strip())
            docs["word"].append(title_words * cfg.title_repeat + body_words)
            docs["title_char"].append(title)
            docs["body_char"].append(body)
            docs["title_word"].append(title_words)
            docs["body_word"].append(body_words)
        return docs

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
            options = dict(sublinear_tf=True, min_df=cfg.min_df, max_df=cfg.max_df, dtype=np.float32)
            self._vectorizers = {}
            self._weights = {}
            for name, weight in self._block_weights().items():
                if name.endswith("char"):
                    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=cfg.char_ngram_range, **options)
                else:
                    vectorizer = TfidfVectorizer(analyzer=_identity, **options)
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
        x = self._features(titles, bodies, fit=True)
        say(f"{x.shape[1]} features in {time.perf_counter() - started:.1f}s; training the SVM …")
        cfg = self.config
        members = [m for m in cfg.stack if m != "nb" or cfg.nb_weight]
        groups = self._block_groups()
        members = [m for m in members if not m.startswith("svm:") or groups.get(m[4:])]
        _, counts = np.unique(labels, return_counts=True)
        if len(members) >= 2 and len(counts) > 2 and counts.min() >= 2:
            svm = _LinearStack(
                C=cfg.C,
                members=tuple(members),
                groups=groups,
                meta_C=cfg.meta_C,
                class_weight=cfg.class_weight,
                random_state=cfg.random_state,
            )
        else:
            svm = _LinearBlend(
                C=cfg.C, nb_weight=cfg.nb_weight, class_weight=cfg.class_weight, random_state=cfg.random_state
            )
        self._model = _TemperatureCalibrated.fit(svm, x, labels, folds=cfg.calibration_folds, say=say)
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
        return self._model.predict_proba(self._features(titles, bodies))

    def _proba_one(self, title, body) -> np.ndarray:
        """The same computation as the batch path for one message, without scikit-learn's per-call
        input validation, which costs more than the arithmetic when an appeal arrives alone."""
        docs = self._documents([title], [body])
        if self._char_analyzer is None:
            self._char_analyzer = self._char.build_analyzer()
        model = self._model.svm
        coef = model.coef_
        scores = model.intercept_.astype(np.float64)
        offset = 0
        for name, weight in self._weights.items():
            vectorizer = self._vectorizers[name]
            tokens = self._char_analyzer(docs[name][0]) if name.endswith("char") else docs[name][0]
            index, values = _tfidf_one(vectorizer, tokens)
            scores = scores + (coef[:, offset + index] @ values) * weight
            offset += len(vectorizer.idf_)
        return self._model.proba_from_scores(scores[None, :] if coef.shape[0] > 1 else scores)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_char_analyzer"] = None  # rebuilt on first use
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
        if header.get("format") != FORMAT_VERSION:
            raise ModelFormatError(
                f"model format {header.get('format')}, this version reads {FORMAT_VERSION}"
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
        folds=2,
        class_weight=None,
        random_state=0,
    ):
        self.C = C
        self.members = members
        self.groups = groups
        self.meta_C = meta_C
        self.folds = folds
        self.class_weight = class_weight
        self.random_state = random_state

    def _fit_members(self, x, labels) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(coef, intercept)`` of every member, each over all columns, scaled to unit score spread."""
        fitted = []
        for member in self.members:
            if member == "nb":
                blend = _LinearBlend(C=self.C, class_weight=self.class_weight, random_state=self.random_state)
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

    def fit(self, x, labels):
        labels = np.asarray(labels)
        self.classes_ = np.unique(labels)
        k = len(self.classes_)
        oof = np.zeros((x.shape[0], k * len(self.members)))
        splitter = StratifiedKFold(self.folds, shuffle=True, random_state=self.random_state)
        for part, rest in splitter.split(np.zeros(len(labels)), labels):
            oof[rest] = self._scores(x[rest], self._fit_members(x[part], labels[part]))
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
        return self

    decision_function = _LinearBlend.decision_function
    predict = _LinearBlend.predict


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
        cls, svm: _LinearBlend, x, labels: list[str], *, folds: int, say: Progress
    ) -> _TemperatureCalibrated:
        classes, y, counts = np.unique(labels, return_inverse=True, return_counts=True)
        folds = min(folds, int(counts.min()))
        if isinstance(svm, _LinearStack):
            # The stack's own out-of-fold scores: no second cross-validation.
            say(f"stacking {', '.join(svm.members)} on {svm.folds}-fold out-of-fold scores …")
            svm.fit(x, labels)
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


def _tfidf_one(vectorizer: TfidfVectorizer, tokens) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and l2-normalised sublinear TF-IDF values of one document's tokens."""
    vocabulary = vectorizer.vocabulary_
    counts: dict[int, int] = {}
    for token in tokens:
        column = vocabulary.get(token)
        if column is not None:
            counts[column] = counts.get(column, 0) + 1
    index = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
    values = (np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts))) + 1.0) * (
        vectorizer.idf_[index]
    )
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
