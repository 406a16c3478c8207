"""Measuring a triage classifier on labelled messages: quality, latency, size."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from .classifier import TriageClassifier, TriageConfig
from .datasets import LabelledMessages

__all__ = ["evaluate", "train"]


def train(
    data: LabelledMessages,
    *,
    config: TriageConfig | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[TriageClassifier, float]:
    """A fresh classifier trained on ``data`` and the seconds its training took."""
    started = time.perf_counter()
    model = TriageClassifier(config).fit(data.titles, data.bodies, data.labels, progress=progress)
    return model, time.perf_counter() - started


def evaluate(model: TriageClassifier, data: LabelledMessages) -> dict:
    """Quality and per-appeal latency of ``model`` on ``data``.

    Every message is predicted by its own call, the way an appeal arrives, so the latency includes
    normalisation, segmentation and feature extraction.
    """
    predicted: list[str] = []
    latencies: list[float] = []
    model.warm()  # as the platform does when it loads a model: one-time set-up is not an appeal's cost
    for title, body in zip(data.titles, data.bodies, strict=True):
        started = time.perf_counter()
        proba = model.predict_proba([title], [body])[0]
        latencies.append((time.perf_counter() - started) * 1000)
        predicted.append(str(model.classes_[int(np.argmax(proba))]))
    labels = sorted(set(data.labels) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(
        data.labels, predicted, labels=labels, zero_division=0
    )
    return {
        "macro_f1": float(f1_score(data.labels, predicted, labels=labels, average="macro", zero_division=0)),
        "accuracy": float(accuracy_score(data.labels, predicted)),
        "per_class_f1": {label: float(value) for label, value in zip(labels, f1, strict=True)},
        "per_class_precision": {label: float(value) for label, value in zip(labels, precision, strict=True)},
        "per_class_recall": {label: float(value) for label, value in zip(labels, recall, strict=True)},
        "support": {label: int(value) for label, value in zip(labels, support, strict=True)},
        "labels": labels,
        "confusion_matrix": confusion_matrix(data.labels, predicted, labels=labels).tolist(),
        "ms_per_appeal_p50": float(np.percentile(latencies, 50)),
        "ms_per_appeal_p99": float(np.percentile(latencies, 99)),
        "n_test": len(data),
        "_predicted": predicted,
    }
