"""The route suggester of smart triage, plugged in as ``LINLI_APPEALS_ROUTE_SUGGESTER``.

It reads the appeal's title and body with the active model and asks the routing rules who handles the
appeal's category. The confidence of each route is the model's probability that the appeal belongs to
that category (capped by the rules' own confidence), so a case whose text clearly matches its category
is dispatched automatically above ``LINLI_APPEALS_AUTO_DISPATCH_CONFIDENCE`` and the rest wait for a
person. Without an active model it is the rules alone.

Each process loads the active model once and keeps it; the id of the active version sits in the shared
cache, so activating or rolling back a version (which clears that key) reaches every process at its
next appeal. A process that already has a model keeps answering with it while it loads the new version
in a thread of its own (``LINLI_TRIAGE_SWITCH_IN_BACKGROUND``, on by default): nobody's request waits
the seconds a full model takes to load and warm up, and the new version answers from then on. Retiring
the active version, leaving none, takes effect at once."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from linli.domains.appeals.models import Appeal, Category
from linli.domains.appeals.routing import RouteSuggestion, suggest_by_rules

from .choices import ModelStatus
from .models import TriageModel

logger = logging.getLogger("linli.triage")

CACHE_KEY = "linli:triage:active-model"
_lock = threading.Lock()
_loaded: Loaded | None = None
_failed: str | None = None  # a version whose file could not be read (not retried until it changes)
_switch_lock = threading.Lock()
_switching: tuple[str, threading.Thread] | None = None  # (marker, thread) loading a new active version


@dataclass(frozen=True)
class Loaded:
    marker: str  # "id:sha256" of the version
    model_id: int
    version: int
    classifier: object
    category_ids: np.ndarray  # category id of each of the classifier's classes, in its order
    parents: dict[int, int | None]  # category id → parent id, for the categories above


@dataclass(frozen=True)
class Reading:
    """The model's probabilities for one message, by category id."""

    model: Loaded
    probabilities: dict[int, float]

    def top(self, k: int = 3) -> list[tuple[int, float]]:
        return sorted(self.probabilities.items(), key=lambda item: (-item[1], item[0]))[:k]

    def of(self, category: Category) -> float:
        """The probability that the message belongs to ``category``: its own class, or the class of
        its first-level category when the model learnt it there, or the sum of its items' classes."""
        p = self.probabilities.get(category.pk, 0.0)
        if category.parent_id is not None:
            p += self.probabilities.get(category.parent_id, 0.0)
        else:
            p += sum(v for cid, v in self.probabilities.items() if self.model.parents.get(cid) == category.pk)
        return min(1.0, p)


def forget_active() -> None:
    """Make every process look up the active version again (after activation or roll-back)."""
    cache.delete(CACHE_KEY)


def reset() -> None:
    """Drop this process's loaded model (tests), once a version being loaded has finished."""
    global _loaded, _failed
    switching = _switching
    if switching is not None:
        switching[1].join()
    with _lock:
        _loaded, _failed = None, None
    forget_active()


def active() -> Loaded | None:
    """The active model, loaded once per process and version; None when no version is active.
    Inside ``read_ahead`` the model that read the batch."""
    pinned = _read_ahead.get()
    if pinned is not None:
        return pinned[0]
    marker = cache.get(CACHE_KEY)
    if marker is None:
        row = TriageModel.objects.filter(status=ModelStatus.ACTIVE).values_list("pk", "sha256").first()
        marker = f"{row[0]}:{row[1]}" if row else ""
        cache.set(CACHE_KEY, marker, timeout=None)
    if not marker or marker == _failed:
        return None
    current = _loaded
    if current is not None and current.marker == marker:
        return current
    if current is not None and getattr(settings, "LINLI_TRIAGE_SWITCH_IN_BACKGROUND", True):
        _switch_in_background(marker)
        return current
    with _lock:
        return _load_locked(marker)


def _load_locked(marker: str) -> Loaded | None:
    """Load the version ``marker`` names and make it this process's model (the caller holds ``_lock``)."""
    global _loaded, _failed
    if _loaded is not None and _loaded.marker == marker:
        return _loaded
    try:
        loaded = _load(marker)
    except Exception:
        logger.exception("triage model %s could not be loaded; routing by rules only", marker)
        _failed = marker
        return None
    if loaded is None:  # the cache named a version that is no longer active
        forget_active()
        return None
    _loaded = loaded
    return loaded


def _in_thread(name: str, work) -> threading.Thread:
    """Run ``work`` in a daemon thread that logs a failure and closes its own database connection."""

    def run() -> None:
        try:
            work()
        except Exception:
            logger.exception("triage model could not be loaded in the background (%s)", name)
        finally:
            connection.close()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread


def _switch_in_background(marker: str) -> threading.Thread:
    """Start loading ``marker`` in a thread, unless one is loading it already; the thread that is."""
    global _switching
    with _switch_lock:
        if _switching is None or _switching[0] != marker:

            def load() -> None:
                with _lock:
                    _load_locked(marker)

            _switching = (marker, _in_thread("triage-model-switch", load))
        return _switching[1]


def load_in_background() -> threading.Thread:
    """Load the active model in a thread of its own. The web server calls this as it starts
    (``config/wsgi.py``), so the first resident whose form asks for suggestions does not wait the
    several seconds a full model takes to load and warm up; a request that needs the model meanwhile
    waits for this load, not for a second one."""
    return _in_thread("triage-model-load", active)


def _load(marker: str) -> Loaded | None:
    from .classifier import TriageClassifier

    model_id, _, sha256 = marker.partition(":")
    row = TriageModel.objects.filter(pk=int(model_id), sha256=sha256, status=ModelStatus.ACTIVE).first()
    if row is None:
        return None
    data = (Path(settings.MEDIA_ROOT) / row.file).read_bytes()
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise ValueError(f"model file {row.file} does not match its checksum")
    classifier = TriageClassifier.from_bytes(data).compact()  # warmed, and ~300 MB lighter
    ids = np.asarray([int(row.labels[str(label)]) for label in classifier.classes_])
    parents = dict(Category.objects.filter(pk__in=ids.tolist()).values_list("pk", "parent_id"))
    logger.info("triage model v%s loaded (%s categories)", row.version, len(ids))
    return Loaded(marker, row.pk, row.version, classifier, ids, parents)


# (the model, {(marker, title, body): probabilities}) inside ``read_ahead``
_read_ahead: ContextVar[tuple[Loaded | None, dict] | None] = ContextVar(
    "linli_triage_read_ahead", default=None
)


def read(title: str, body: str, model: Loaded | None = None) -> Reading | None:
    model = model or active()
    if model is None or not ((title or "").strip() or (body or "").strip()):
        return None
    pinned = _read_ahead.get()
    proba = pinned[1].get((model.marker, title or "", body or "")) if pinned else None
    if proba is None:
        proba = model.classifier.predict_proba([title or ""], [body or ""])[0]
    return Reading(model, {int(cid): float(p) for cid, p in zip(model.category_ids, proba, strict=True)})


@contextmanager
def read_ahead(messages: Iterable[tuple[str, str]]) -> Iterator[None]:
    """Inside the block ``read`` answers these (title, body) messages from one prediction over all of
    them (a batch of intakes: one call to the classifier instead of one per appeal)."""
    model = active()
    pairs = list(
        dict.fromkeys((t or "", b or "") for t, b in messages if (t or "").strip() or (b or "").strip())
    )
    ahead = {}
    if model is not None and pairs:
        try:
            rows = model.classifier.predict_proba([t for t, _ in pairs], [b for _, b in pairs])
            ahead = {(model.marker, t, b): row for (t, b), row in zip(pairs, rows, strict=True)}
        except Exception:  # each appeal is then read on its own (and logged there if it fails again)
            logger.exception("triage could not read a batch of %s messages", len(pairs))
    from .services import predictions_written_together

    token = _read_ahead.set((model, ahead))
    try:
        with predictions_written_together():
            yield
    finally:
        _read_ahead.reset(token)


def suggest_categories(title: str, body: str, k: int = 3) -> tuple[Loaded | None, list[dict]]:
    """The ``k`` likeliest categories of a message, for the resident's form and the dispatcher."""
    reading = read(title, body)
    if reading is None:
        return None, []
    top = reading.top(k)
    categories = Category.objects.filter(pk__in=[cid for cid, _ in top]).select_related("parent")
    by_id = {c.pk: c for c in categories}
    leaves_with_items = set(
        Category.objects.filter(parent_id__in=list(by_id), is_active=True).values_list("parent_id", flat=True)
    )
    found = []
    for cid, p in top:
        category = by_id.get(cid)
        if category is None:
            continue
        found.append(
            {
                "id": cid,
                "name": category.name,
                "domain": category.parent.name if category.parent_id else "",
                "label": str(category),
                "probability": round(p, 4),
                "choosable": category.is_active and cid not in leaves_with_items,
            }
        )
    return reading.model, found


def suggest_route(appeal: Appeal) -> list[RouteSuggestion]:
    """The pluggable suggester: the routing rules' units for the appeal's category, with the model's
    confidence in that category. Also keeps what the model read (``TriagePrediction``)."""
    rules = suggest_by_rules(appeal)
    model = active()
    if model is None:
        return rules
    try:
        reading = read(appeal.title, appeal.body, model)
    except Exception:
        logger.exception("triage could not read appeal %s; routing by rules only", appeal.pk)
        return rules
    if reading is None:
        return rules
    top = reading.top(3)
    confidence = reading.of(appeal.category) if appeal.category_id else top[0][1]
    from .services import triage_prediction_record

    triage_prediction_record(
        appeal=appeal,
        model_id=model.model_id,
        top=top,
        confidence=confidence,
        unit_id=rules[0].lead_unit_id if rules else None,
    )
    return [
        replace(
            s,
            confidence=round(min(s.confidence, confidence), 4),
            reason=f"{s.reason} · 智能分拨 v{model.version} {confidence:.0%}",
            extra={
                **s.extra,
                "triage_model": model.version,
                "triage_confidence": round(float(confidence), 4),
            },
        )
        for s in rules
    ]


def suggest_category(appeal: Appeal) -> tuple[Category, float, dict] | None:
    """For an appeal that came without a category (``LINLI_APPEALS_CATEGORY_SUGGESTER``): the active
    model's likeliest category with its probability, when that category can be chosen (active, with
    no active items of its own); None without an active model. The appeals intake decides whether
    the probability is high enough."""
    model = active()
    if model is None:
        return None
    reading = read(appeal.title, appeal.body, model)
    if reading is None:
        return None
    (category_id, probability), *_rest = reading.top(1)
    category = Category.objects.filter(pk=category_id, is_active=True).first()
    if category is None or Category.objects.filter(parent=category, is_active=True).exists():
        return None
    return category, reading.of(category), {"triage_model": model.version}
