"""Reads of smart triage: the model registry, predictions, the queue of cases waiting for a person, and
the training data (closed cases, imported messages, dispatchers' corrections).

Appeals are read, never written, here."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import QuerySet

from linli.core.orgs.models import Organisation
from linli.domains.appeals.choices import Action
from linli.domains.appeals.choices import AppealStatus as S
from linli.domains.appeals.models import Appeal, AppealEvent, Category
from linli.domains.appeals.permissions import appeals_visible_to

from .choices import CorrectionKind, ModelStatus
from .models import TrainingExample, TrainingSet, TriageCorrection, TriageModel, TriagePrediction

# Cases nobody has sent on yet: what the triage queue lists.
WAITING_STATUSES = (S.SUBMITTED, S.REGISTERED, S.RETURNED)


def min_per_class() -> int:
    """A second-level category is its own class once it has this many training messages; below
    that its messages count for its first-level category."""
    return int(getattr(settings, "LINLI_TRIAGE_MIN_PER_CLASS", 8))


def correction_weight() -> int:
    """How many times a corrected appeal counts in the next training."""
    return int(getattr(settings, "LINLI_TRIAGE_CORRECTION_WEIGHT", 3))


# --- registry ----------------------------------------------------------------------------------------


def active_model() -> TriageModel | None:
    return TriageModel.objects.filter(status=ModelStatus.ACTIVE).first()


def model_list() -> QuerySet[TriageModel]:
    return TriageModel.objects.select_related("trained_by", "activated_by").order_by("-version")


def rollback_target(current: TriageModel | None = None) -> TriageModel | None:
    """The version that was active before the current one (the latest activated retired one)."""
    qs = TriageModel.objects.filter(status=ModelStatus.RETIRED, activated_at__isnull=False)
    if current is not None:
        qs = qs.exclude(pk=current.pk)
    return qs.order_by("-activated_at", "-version").first()


def category_names(ids: Iterable[int]) -> dict[int, Category]:
    return {c.pk: c for c in Category.objects.filter(pk__in=set(ids)).select_related("parent")}


# --- predictions -------------------------------------------------------------------------------------


def latest_predictions(appeal_ids: Iterable[int]) -> dict[int, TriagePrediction]:
    """The newest prediction of each appeal."""
    found: dict[int, TriagePrediction] = {}
    rows = (
        TriagePrediction.objects.filter(appeal_id__in=list(appeal_ids))
        .select_related("model", "category", "category__parent")
        .order_by("appeal_id", "-created_at", "-id")
    )
    for row in rows:
        found.setdefault(row.appeal_id, row)
    return found


def _auto_dispatch_events() -> QuerySet[AppealEvent]:
    """Dispatches the platform made by itself on the model's word: the event records the model
    version whose probability cleared the threshold (``suggest.suggest_route``). A dispatch by the
    routing rules alone, made while no model was active, is not triage's, even once the model has read
    the case (the queue reads the cases sent back to it)."""
    return AppealEvent.objects.filter(
        action=Action.DISPATCH, actor__isnull=True, data__has_key="triage_model"
    )


def _triage_confidence(data: dict) -> float | None:
    value = data.get("triage_confidence")  # written with "triage_model" by suggest.suggest_route
    return None if value is None else float(value)


def auto_dispatches(appeal_ids: Iterable[int]) -> dict[int, float]:
    """Appeal id → the model's confidence when it dispatched the appeal by itself (the latest such
    dispatch)."""
    found: dict[int, float] = {}
    events = _auto_dispatch_events().filter(appeal_id__in=list(appeal_ids)).order_by("at", "id")
    for appeal_id, data in events.values_list("appeal_id", "data"):
        confidence = _triage_confidence(data)
        if confidence is not None:
            found[appeal_id] = confidence
    return found


@dataclass(frozen=True)
class AutoDispatch:
    appeal: Appeal
    at: datetime.datetime
    unit: Organisation | None  # where it went then (the case may have moved on since)
    confidence: float | None


def waiting_appeals(user) -> QuerySet[Appeal]:
    """Cases in the user's jurisdiction that wait for a person to route them."""
    return (
        appeals_visible_to(user)
        .filter(status__in=WAITING_STATUSES)
        .select_related("category", "category__parent", "community")
        .order_by("created_at", "id")
    )


def recent_auto_dispatched(user, limit: int = 20) -> list[AutoDispatch]:
    """The latest automatic dispatches by triage among the cases the user sees, one per case: where
    each went then and how sure the model was (the case's current status is on ``appeal``)."""
    events = (
        _auto_dispatch_events()
        .filter(appeal__in=appeals_visible_to(user))
        .select_related("appeal", "unit")
        .order_by("-at", "-id")[: limit * 3]
    )
    found: dict[int, AutoDispatch] = {}
    for event in events:
        if event.appeal_id not in found:
            found[event.appeal_id] = AutoDispatch(
                appeal=event.appeal, at=event.at, unit=event.unit, confidence=_triage_confidence(event.data)
            )
    return list(found.values())[:limit]


def corrections(limit: int = 50) -> QuerySet[TriageCorrection]:
    return TriageCorrection.objects.select_related(
        "appeal", "predicted_category", "chosen_category", "predicted_unit", "chosen_unit", "by"
    ).order_by("-at", "-id")[:limit]


# --- training data -----------------------------------------------------------------------------------


@dataclass
class TrainingData:
    """Messages labelled with the code of the category they are learnt at, and what each label is."""

    titles: list[str] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)  # one number per original message (weights repeat it)
    label_map: dict[str, int] = field(default_factory=dict)  # label → category id
    sources: list[dict] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)  # labels left out (too few messages)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def label_counts(self) -> dict[str, int]:
        return dict(Counter(self.labels))


def training_data(
    *,
    platform: bool = True,
    set_ids: Iterable[int] | None = None,
    use_corrections: bool = True,
    per_class: int | None = None,
) -> TrainingData:
    """The training messages: closed cases with their final category, the mapped rows of imported
    sets (all active sets when ``set_ids`` is None), and corrected appeals with the dispatcher's
    category, counted ``correction_weight()`` times.

    Each message is learnt at its second-level category when that category has at least
    ``per_class`` messages, else at its first-level category; classes with fewer than two messages
    are left out."""
    per_class = min_per_class() if per_class is None else per_class
    rows: list[tuple[str, str, int, int]] = []  # title, body, category id, weight
    sources: list[dict] = []
    corrected: dict[int, int] = {}
    if use_corrections:
        for appeal_id, category_id in (
            TriageCorrection.objects.filter(kind=CorrectionKind.CATEGORY, chosen_category__isnull=False)
            .order_by("at", "id")
            .values_list("appeal_id", "chosen_category_id")
        ):
            corrected[appeal_id] = category_id  # the latest correction wins
    if platform:
        closed = (
            Appeal.objects.filter(status=S.CLOSED, category__isnull=False)
            .exclude(pk__in=list(corrected))
            .order_by("pk")  # the same rows in the same order on every database: the same model
            .values_list("title", "body", "category_id")
        )
        n = 0
        for title, body, category_id in closed.iterator(chunk_size=2000):
            rows.append((title, body, category_id, 1))
            n += 1
        sources.append({"kind": "platform", "name": "已办结诉求", "rows": n})
    sets = (
        TrainingSet.objects.filter(is_active=True)
        if set_ids is None
        else TrainingSet.objects.filter(pk__in=list(set_ids))
    )
    for training_set in sets.order_by("pk"):
        mapping = {label: int(cid) for label, cid in training_set.mapping.items() if cid}
        n = 0
        examples = TrainingExample.objects.filter(
            training_set=training_set, label__in=list(mapping)
        ).order_by("pk")
        for title, body, label in examples.values_list("title", "body", "label").iterator(chunk_size=2000):
            rows.append((title, body, mapping[label], 1))
            n += 1
        sources.append({"kind": "import", "name": training_set.name, "rows": n, "id": training_set.pk})
    if corrected:
        weight = correction_weight()
        texts = dict(
            (pk, (title, body))
            for pk, title, body in Appeal.objects.filter(pk__in=list(corrected)).values_list(
                "pk", "title", "body"
            )
        )
        for appeal_id, category_id in corrected.items():
            if appeal_id in texts:
                rows.append((*texts[appeal_id], category_id, weight))
        sources.append({"kind": "corrections", "name": "调度员纠正", "rows": len(texts), "weight": weight})
    return _label(rows, sources, per_class)


def _label(rows, sources, per_class: int) -> TrainingData:
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    codes = dict(Category.objects.values_list("pk", "code"))
    per_category = Counter(category_id for _, _, category_id, _ in rows)
    data = TrainingData(sources=sources)

    def learnt_at(category_id: int) -> int:
        parent = parents.get(category_id)
        if parent is not None and per_category[category_id] < per_class:
            return parent
        return category_id

    labelled = [(t, b, learnt_at(c), w) for t, b, c, w in rows if c in codes]
    counts = Counter(c for _, _, c, _ in labelled)
    for group, (title, body, category_id, weight) in enumerate(labelled):
        label = codes[category_id]
        if counts[category_id] < 2:
            data.dropped[label] = counts[category_id]
            continue
        data.label_map[label] = category_id
        for _ in range(weight):
            data.titles.append(title or "")
            data.bodies.append(body or "")
            data.labels.append(label)
            data.groups.append(group)
    return data
