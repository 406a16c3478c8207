"""Duplicates: open appeals that may be the same problem as a new one (issue 5, item 3).

A candidate must be open and not itself merged, in the same domain (the same parent category, or the
category itself when it has no parent), submitted within ``days`` and, when the new appeal has a point,
within ``within_m`` metres of it (else in the same compound or community). Candidates are scored by

    score = 0.75 · text + 0.15 · proximity + 0.05 · same item + 0.05 · recency

where ``text`` is the cosine similarity of character 2–3-gram TF-IDF vectors of the normalised title
and body (``text.normalize``). The IDF is fitted on the candidates together with a background of the
most recent appeals (cached for a few minutes), so that words every nearby appeal shares — the name of
the compound, "小区", "反映" — count for little. ``proximity`` falls from 1 at the same point to 0 at
``within_m``; ``recency`` from 1 today to 0 at ``days`` ago. Only candidates whose text similarity
reaches ``MIN_TEXT`` are returned, best first.

The same scoring serves the resident's form (before sending) and the dispatcher's merge suggestions.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.db.models import Q
from django.utils import timezone
from sklearn.feature_extraction.text import TfidfVectorizer

from linli.core.places.coords import haversine_m
from linli.domains.appeals.choices import OPEN_STATUSES
from linli.domains.appeals.models import Appeal, Category

from .text import normalize

__all__ = [
    "DuplicateCandidate",
    "MIN_TEXT",
    "similar_for_appeal",
    "similar_open_appeals",
    "text_similarities",
]

MIN_TEXT = 0.2  # text cosine below which two appeals are not offered as the same problem
MAX_CANDIDATES = 300  # the most recent open appeals looked at around one point
BACKGROUND_SIZE = 400  # recent appeals that give the IDF its "what is common here" baseline
BACKGROUND_TTL = 300.0  # seconds the background texts are reused
METRES_PER_DEGREE = 111_320.0
WEIGHTS = {"text": 0.75, "proximity": 0.15, "same_item": 0.05, "recency": 0.05}


@dataclass(frozen=True)
class DuplicateCandidate:
    appeal: Appeal
    score: float
    text_similarity: float
    distance_m: float | None
    days_ago: float
    same_item: bool

    def as_dict(self) -> dict:
        return {
            "id": self.appeal.pk,
            "reference": self.appeal.reference,
            "score": round(self.score, 3),
            "text_similarity": round(self.text_similarity, 3),
            "distance_m": None if self.distance_m is None else round(self.distance_m),
            "days_ago": round(self.days_ago, 1),
            "same_item": self.same_item,
        }


def appeal_text(title: str, body: str) -> str:
    """The one string compared: normalised title (twice, so it weighs more) and body."""
    title = normalize(title or "")
    return f"{title} {title} {normalize(body or '')}".strip()


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char", ngram_range=(2, 3), sublinear_tf=True, min_df=1, dtype=np.float32)


def text_similarities(query: str, others: Sequence[str], background: Sequence[str] = ()) -> np.ndarray:
    """Cosine similarity of ``query`` with each of ``others`` (all already passed through
    ``appeal_text``), IDF fitted on query, others and background together."""
    if not others:
        return np.zeros(0, dtype=np.float32)
    docs = [query, *others, *background]
    try:
        matrix = _vectorizer().fit_transform(docs)
    except ValueError:  # nothing but spaces and placeholders
        return np.zeros(len(others), dtype=np.float32)
    sims = (matrix[1 : 1 + len(others)] @ matrix[0].T).toarray().ravel()
    return np.clip(sims, 0.0, 1.0)


_background_lock = threading.Lock()
_background: tuple[float, list[str]] = (0.0, [])


def _background_texts() -> list[str]:
    """Texts of the most recent appeals, whatever their status, refreshed every BACKGROUND_TTL s."""
    global _background
    stamp, texts = _background
    if time.monotonic() - stamp < BACKGROUND_TTL and texts:
        return texts
    rows = Appeal.objects.order_by("-created_at").values_list("title", "body")[:BACKGROUND_SIZE]
    texts = [appeal_text(t, b) for t, b in rows]
    with _background_lock:
        _background = (time.monotonic(), texts)
    return texts


def reset_background() -> None:
    global _background
    with _background_lock:
        _background = (0.0, [])


def _domain_filter(category: Category | None) -> Q:
    if category is None:
        return Q()
    domain = category.parent_id or category.pk
    return Q(category_id=domain) | Q(category__parent_id=domain) | Q(category__isnull=True)


def _candidates(
    *,
    lng: float | None,
    lat: float | None,
    category: Category | None,
    within_m: float,
    since: dt.datetime,
    compound_id: int | None,
    community_id: int | None,
    exclude_id: int | None,
    public_only: bool,
):
    qs = Appeal.objects.filter(status__in=OPEN_STATUSES, merged_into__isnull=True, created_at__gte=since)
    qs = qs.filter(_domain_filter(category))
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    if public_only:
        qs = qs.filter(is_private=False)
    if lng is not None and lat is not None:
        dlat = within_m / METRES_PER_DEGREE
        dlng = within_m / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
        qs = qs.filter(lng__range=(lng - dlng, lng + dlng), lat__range=(lat - dlat, lat + dlat))
    elif compound_id:
        qs = qs.filter(compound_id=compound_id)
    elif community_id:
        qs = qs.filter(community_id=community_id)
    else:
        return []
    return list(
        qs.select_related("category", "compound", "road", "community").order_by("-created_at")[
            :MAX_CANDIDATES
        ]
    )


def similar_open_appeals(
    title: str,
    body: str,
    lng: float | None,
    lat: float | None,
    category: Category | None = None,
    within_m: float = 300,
    days: int = 30,
    limit: int = 5,
    *,
    compound_id: int | None = None,
    community_id: int | None = None,
    exclude_id: int | None = None,
    public_only: bool = False,
    now: dt.datetime | None = None,
    min_text: float = MIN_TEXT,
) -> list[DuplicateCandidate]:
    """Open appeals that may report the same problem, best first (see the module's docstring).

    Without a point, candidates come from the same compound, else the same community; without any
    place nothing is returned. ``public_only`` leaves out private cases (for the resident's form)."""
    now = now or timezone.now()
    found = _candidates(
        lng=lng,
        lat=lat,
        category=category,
        within_m=within_m,
        since=now - dt.timedelta(days=days),
        compound_id=compound_id,
        community_id=community_id,
        exclude_id=exclude_id,
        public_only=public_only,
    )
    if not found:
        return []
    query = appeal_text(title, body)
    texts = [appeal_text(a.title, a.body) for a in found]
    ids = {a.pk for a in found}
    background = [t for t in _background_texts() if t not in set(texts)] if len(ids) < BACKGROUND_SIZE else []
    sims = text_similarities(query, texts, background)
    results = []
    for appeal, sim in zip(found, sims, strict=True):
        sim = float(sim)
        if sim < min_text:
            continue
        distance = None
        if None not in (lng, lat, appeal.lng, appeal.lat):
            distance = haversine_m(lng, lat, appeal.lng, appeal.lat)
            if distance > within_m:
                continue
            proximity = 1.0 - distance / within_m
        else:
            proximity = 0.5  # same compound or community, exact distance unknown
        age_days = abs((now - appeal.created_at).total_seconds()) / 86400.0
        recency = max(0.0, 1.0 - age_days / max(days, 1))
        same_item = category is not None and appeal.category_id == category.pk
        score = (
            WEIGHTS["text"] * sim
            + WEIGHTS["proximity"] * proximity
            + WEIGHTS["same_item"] * same_item
            + WEIGHTS["recency"] * recency
        )
        results.append(DuplicateCandidate(appeal, score, sim, distance, age_days, same_item))
    results.sort(key=lambda c: (-c.score, -c.appeal.pk))
    return results[:limit]


def similar_for_appeal(appeal: Appeal, *, within_m: float = 300, days: int = 30, limit: int = 8):
    """Merge suggestions for a case already in the system: the same search around it, anchored at
    its own submission time (so an older case finds its contemporaries; later ones count too)."""
    return similar_open_appeals(
        appeal.title,
        appeal.body,
        appeal.lng,
        appeal.lat,
        appeal.category,
        within_m=within_m,
        days=days,
        limit=limit,
        compound_id=appeal.compound_id,
        community_id=appeal.community_id,
        exclude_id=appeal.pk,
        now=appeal.created_at,
    )
