"""The counts behind the three rates read from the statistics copy (``rollup.py``), for
``appeals.selectors.appeal_rates``: whole months from ``RateMonth``, the other days before the cut
from ``AppealFact``, appeals submitted since the cut (the start of the day of the last refresh, or
of today) live from the appeals table. Same definitions, same conditions as the appeals table; the
only difference is freshness: a change to an appeal submitted before today reaches these counts at
the next refresh (every minute)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from ..choices import AppealStatus
from . import rollup
from .models import AppealFact, RateMonth

S = AppealStatus
COUNTS = ("total", "dispatched", "responded", "accepted", "resolved", "rated", "satisfied")
# appeal_rates' group → the fact column it groups by (month: the local month of created_at).
GROUP_FIELDS = {
    "street": "street_id",
    "community": "community_id",
    "department": "lead_unit_id",
    "category": "category_id",
    "domain": "category_parent_id",
    "month": None,
}
GROUP_DIMENSION = {
    "street": "place",
    "community": "place",
    "department": "unit",
    "category": "cat",
    "domain": "cat",
    "month": None,
}
# RateMonth's projections and the dimensions each one can group or filter by; smallest first.
PROJECTION_DIMENSIONS = {
    "unit_cat": {"unit", "cat"},
    "place_cat": {"place", "cat"},
    "place_unit": {"place", "unit"},
}


def start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def month_key(value) -> dt.datetime | None:
    """A month as ``appeal_rates`` returns it: the aware start of the local month."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = (timezone.localtime(value) if timezone.is_aware(value) else value).date()
    return start_of(value.replace(day=1))


def projection_for(
    group_by: str, *, area_path: str, category_id: int | None, unit_id: int | None
) -> str | None:
    """The ``RateMonth`` projection that can answer, or None (then every day comes from the facts)."""
    need = {GROUP_DIMENSION[group_by]} - {None}
    if area_path:
        depth = area_path.count("/")
        if depth > rollup.MONTH_PATH_DEPTH or (
            depth == rollup.MONTH_PATH_DEPTH and not area_path.endswith("/")
        ):
            return None  # finer than the community-level path the months keep
        need.add("place")
    if category_id:
        need.add("cat")
    if unit_id:
        need.add("unit")
    return next((kind for kind, dims in PROJECTION_DIMENSIONS.items() if need <= dims), None)


def _filter(qs: QuerySet, *, area_path: str, category_id: int | None, unit_id: int | None) -> QuerySet:
    if area_path:
        qs = qs.filter(path__startswith=area_path)
    if category_id:
        qs = qs.filter(Q(category_id=category_id) | Q(category_parent_id=category_id))
    if unit_id:
        qs = qs.filter(lead_unit_id=unit_id)
    return qs


def month_sums() -> dict[str, Sum]:
    """The sums of the monthly summaries' counters, under the names the rate formulas read
    (``sd``/``un``: dispatched cases signed and not yet signed)."""
    return {
        "total": Sum("total"),
        "sd": Sum("signed_dispatched"),
        "un": Sum("unsigned"),
        "responded": Sum("responded"),
        "accepted": Sum("accepted"),
        "resolved": Sum("resolved"),
        "rated": Sum("rated"),
        "satisfied": Sum("satisfied"),
    }


def case_counts(now: dt.datetime) -> dict:
    """The case counts behind the three rates (docs/appeals.md, "The three rates"), as aggregates
    over appeal-shaped rows (the appeals table, the live appeals or ``AppealFact``): the one
    definition every path counts with."""
    valid = ~Q(status__in=[S.REJECTED, S.MERGED, S.WITHDRAWN])
    return {
        "total": Count("id"),
        "dispatched": Count(
            "id",
            filter=Q(acceptance_due__isnull=False)
            & (Q(signed_at__isnull=False) | Q(acceptance_due__lte=now)),
        ),
        "responded": Count("id", filter=Q(signed_at__isnull=False, signed_at__lte=F("acceptance_due"))),
        "accepted": Count("id", filter=Q(registered_at__isnull=False) & valid),
        "resolved": Count("id", filter=Q(status=S.CLOSED)),
    }


def _row_counts(qs: QuerySet, field: str | None, now: dt.datetime) -> list[tuple[object, dict]]:
    """Counts per group over fact-shaped rows (the facts or the live appeals)."""
    if field is None:
        qs = qs.annotate(x_month=TruncMonth("created_at"))
        field = "x_month"
    rows = (
        qs.values(field)
        .annotate(
            **case_counts(now),
            x_rated=Sum("rated"),
            x_satisfied=Sum("satisfied"),
        )
        .order_by()
    )
    out = []
    for r in rows:
        r["rated"], r["satisfied"] = r.pop("x_rated"), r.pop("x_satisfied")
        out.append((month_key(r[field]) if field == "x_month" else r[field], r))
    return out


def rate_counts(
    *,
    group_by: str,
    since: dt.date | None = None,
    until: dt.date | None = None,
    area_path: str = "",
    category_id: int | None = None,
    unit_id: int | None = None,
    now: dt.datetime,
) -> dict | None:
    """{group key: {total, dispatched, responded, accepted, resolved, rated, satisfied}} for the
    appeals submitted from ``since`` to ``until`` (local dates, inclusive), or None when the copy
    was never built (then ``appeal_rates`` reads the appeals table)."""
    st = rollup.state()
    if st is None:
        return None
    field = GROUP_FIELDS[group_by]
    filters = {"area_path": area_path, "category_id": category_id, "unit_id": unit_id}
    cut = min(start_of(timezone.localdate(now)), start_of(timezone.localdate(st.refreshed_at)))
    start = start_of(since) if since else None
    end = start_of(until + dt.timedelta(days=1)) if until else None
    counts: dict = {}

    def add(key, row):
        c = counts.setdefault(key, dict.fromkeys(COUNTS, 0))
        for name in COUNTS:
            c[name] += row[name] or 0

    if end is None or end > cut:
        live = _filter(rollup.live_appeals(), **filters).filter(
            created_at__gte=max(start, cut) if start else cut
        )
        if end is not None:
            live = live.filter(created_at__lt=end)
        for key, row in _row_counts(live, field, now):
            add(key, row)
    fact_end = cut if end is None else min(end, cut)
    if start is not None and start >= fact_end:
        return counts
    ranges: list[tuple[dt.datetime | None, dt.datetime]] = [(start, fact_end)]
    kind = projection_for(group_by, **filters)
    if kind is not None:
        first = None
        if since:
            first = since.replace(day=1)
            if start_of(first) < start:
                first = rollup.next_month(first)
        last = timezone.localdate(fact_end).replace(day=1)  # months before it end by fact_end
        if first is None or first < last:
            months = RateMonth.objects.filter(kind=kind, month__lt=last)
            if first is not None:
                months = months.filter(month__gte=first)
            if now >= st.refreshed_at:
                late = {
                    dt.date.fromisoformat(m)
                    for m, due in st.late_months.items()
                    if dt.datetime.fromisoformat(due) > now
                }
            else:
                late = set(months.filter(unsigned_due_max__gt=now).values_list("month", flat=True).distinct())
            months = _filter(months.exclude(month__in=late), **filters)
            sums = months.values(field or "month").annotate(**month_sums()).order_by()
            for r in sums:
                r["dispatched"] = (r["sd"] or 0) + (r["un"] or 0)
                add(month_key(r["month"]) if field is None else r[field], r)
            # the facts cover what the months do not: before the first, after the last, late months
            ranges = [(start, start_of(first))] if first is not None and start < start_of(first) else []
            ranges.append((start_of(last), fact_end))
            ranges += [
                (start_of(m), start_of(rollup.next_month(m)))
                for m in sorted(late)
                if (first is None or m >= first) and m < last
            ]
    cond = Q()
    for lo, hi in ranges:
        if lo is not None and lo >= hi:
            continue
        cond |= Q(created_at__lt=hi) & (Q(created_at__gte=lo) if lo is not None else Q())
    if cond:
        for key, row in _row_counts(_filter(AppealFact.objects.filter(cond), **filters), field, now):
            add(key, row)
    return counts
