"""The command centre's figures, read from the appeals tables (read-only) inside a ``Scope``.

Definitions (shown to users on the definitions page, ``definitions.html``):
- 今日受理 intake today: appeals submitted since 00:00 today (Asia/Shanghai).
- 在办 open: appeals in an open status (待受理, 已立案, 已派遣, 处置中, 待核查, 已退回, 重新办理).
- 超期 overdue: open appeals whose handling deadline has passed (red).
- 临期 near the deadline: open appeals past 80% of their handling time (yellow).
- 今日办结 closed today: appeals closed since 00:00 today.
- the three rates: exactly as ``linli.domains.appeals.selectors.appeal_rates``, over appeals submitted
  in the period.
- handling time: from submission to closing, for appeals submitted in the period and closed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek
from django.utils import timezone

from linli.core.orgs.choices import Role
from linli.core.orgs.models import Membership
from linli.core.places.choices import AreaKind
from linli.core.places.models import Area
from linli.domains.appeals.choices import (
    OPEN_STATUSES,
    SATISFIED_VALUES,
    AppealStatus,
    Channel,
    DeadlineState,
)
from linli.domains.appeals.models import Appeal, Category, Rating, colour_at
from linli.domains.appeals.selectors import deadline_q  # the colours are derived from the instants
from linli.domains.appeals.stats.rates import case_counts, month_sums  # the rates' one definition

from .scope import Scope

S = AppealStatus

# --- filters -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    since: dt.date
    until: dt.date  # inclusive
    category_id: int | None = None
    channel: str = ""
    unit_id: int | None = None
    area_path: str = ""

    @property
    def start(self) -> dt.datetime:
        return start_of(self.since)

    @property
    def end(self) -> dt.datetime:
        return start_of(self.until + dt.timedelta(days=1))

    def query(self) -> dict[str, str]:
        out = {"since": self.since.isoformat(), "until": self.until.isoformat()}
        if self.category_id:
            out["category"] = str(self.category_id)
        if self.channel:
            out["channel"] = self.channel
        if self.unit_id:
            out["unit"] = str(self.unit_id)
        return out


PERIODS = {"today": 0, "7d": 6, "30d": 29, "90d": 89, "365d": 364}


def today() -> dt.date:
    return timezone.localdate()


def start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _int(value) -> int | None:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    return n if n > 0 else None


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def filters_from(params, *, default_period: str = "30d") -> Filters:
    """Filters from a query string: ``period`` (today, 7d, 30d, 90d, 365d) or ``since``/``until``
    (ISO dates), ``category``, ``channel``, ``unit``. Nonsense is ignored, never an error."""
    until = _date(params.get("until")) or today()
    since = _date(params.get("since"))
    period = params.get("period") or ""
    if period in PERIODS or since is None:
        back = PERIODS.get(period, PERIODS[default_period])
        until = today()
        since = until - dt.timedelta(days=back)
    if since > until:
        since, until = until, since
    if (until - since).days > 3 * 366:
        since = until - dt.timedelta(days=3 * 366)
    channel = params.get("channel") or ""
    return Filters(
        since=since,
        until=until,
        category_id=_int(params.get("category")),
        channel=channel if channel in Channel.values else "",
        unit_id=_int(params.get("unit")),
    )


def appeals_in(scope: Scope, f: Filters | None = None, *, period: bool = False) -> QuerySet[Appeal]:
    """Appeals in the scope matching the category/channel/unit filters; ``period`` also limits them
    to those submitted in the period."""
    qs = scope.appeals(Appeal.objects.all())
    if f is None:
        return qs
    if f.category_id:
        qs = qs.filter(Q(category_id=f.category_id) | Q(category__parent_id=f.category_id))
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.unit_id:
        qs = qs.filter(lead_unit_id=f.unit_id)
    if f.area_path:
        qs = qs.filter(path__startswith=f.area_path)
    if period:
        qs = qs.filter(created_at__gte=f.start, created_at__lt=f.end)
    return qs


# --- headline figures ----------------------------------------------------------------------------


def headline(scope: Scope, f: Filters, *, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    midnight = start_of(timezone.localdate(now))
    qs = appeals_in(scope, f)
    # Three index-backed queries (open statuses, created_at, closed_at) rather than one OR.
    live = qs.filter(status__in=OPEN_STATUSES).aggregate(
        open=Count("id"),
        overdue=Count("id", filter=deadline_q(DeadlineState.RED, now=now)),
        near=Count("id", filter=deadline_q(DeadlineState.YELLOW, now=now)),
    )
    today = _settled_facts(scope, f)
    if today is None:
        today = qs
    live["intake_today"] = today.filter(created_at__gte=midnight).count()
    live["closed_today"] = today.filter(status=S.CLOSED, closed_at__gte=midnight).count()
    period = fast_period_counts(scope, f, now)
    if period is None:
        period = appeals_in(scope, f, period=True).aggregate(
            intake=Count("id"), closed=Count("id", filter=Q(status=S.CLOSED))
        )
    return {**live, "intake_period": period["intake"], "closed_period": period["closed"]}


# --- the three rates -----------------------------------------------------------------------------

GROUPS = {
    "street": ("street_id", "street__name"),
    "community": ("community_id", "community__name"),
    "department": ("lead_unit_id", "lead_unit__name"),
    "category": ("category__parent_id", "category__parent__name"),
    "month": ("month", "month"),
}


def _rated_and_ranked(rows: list[dict], group_by: str) -> list[dict]:
    """The three rates of each row of counts, and (but by month) the rows ranked by 解决率, then by
    how many cases, then by name."""
    for r in rows:
        r["response_rate"] = _ratio(r["responded"], r["dispatched"])
        r["resolution_rate"] = _ratio(r["resolved"], r["accepted"])
        r["satisfaction_rate"] = _ratio(r["satisfied"], r["rated"])
    if group_by != "month":
        rows.sort(key=lambda r: (-(r["resolution_rate"] or -1), -r["total"], str(r["label"])))
        for i, r in enumerate(rows, 1):
            r["rank"] = i
    return rows


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def rates(
    scope: Scope, f: Filters, *, group_by: str = "street", now: dt.datetime | None = None
) -> list[dict]:
    """One row per group with counts and the three rates, same definitions as
    ``appeals.selectors.appeal_rates``, inside the scope; ranked best resolution rate first. A
    category row is the category's domain (its top level)."""
    if group_by not in GROUPS:
        raise ValueError(group_by)
    now = now or timezone.now()
    fast = fast_rates(scope, f, group_by=group_by, now=now)
    if fast is not None:
        return fast
    return slow_rates(scope, f, group_by=group_by, now=now)


def slow_rates(
    scope: Scope, f: Filters, *, group_by: str = "street", now: dt.datetime | None = None
) -> list[dict]:
    """``rates`` read from the appeals table alone (no rollup built yet; the tests' reference)."""
    now = now or timezone.now()
    key, label = GROUPS[group_by]
    appeals = appeals_in(scope, f, period=True)
    if group_by == "month":
        appeals = appeals.annotate(month=TruncMonth("created_at"))
    if group_by == "category":
        # A top-level category on the appeal itself is its own domain.
        from django.db.models.functions import Coalesce

        appeals = appeals.annotate(
            domain_id=Coalesce("category__parent_id", "category_id"),
            domain_name=Coalesce("category__parent__name", "category__name"),
        )
        key, label = "domain_id", "domain_name"
    rows = appeals.values(key, label).annotate(**case_counts(now)).order_by(key)
    ratings = Rating.objects.filter(appeal__in=appeals.values("id"))
    if group_by == "month":
        rkey = "month"
        ratings = ratings.annotate(month=TruncMonth("appeal__created_at"))
    elif group_by == "category":
        from django.db.models.functions import Coalesce

        rkey = "domain_id"
        ratings = ratings.annotate(domain_id=Coalesce("appeal__category__parent_id", "appeal__category_id"))
    else:
        rkey = "appeal__" + key
    rated = {
        r[rkey]: r
        for r in ratings.values(rkey)
        .annotate(rated=Count("id"), satisfied=Count("id", filter=Q(value__in=SATISFIED_VALUES)))
        .order_by()
    }
    out = []
    for row in rows:
        r = rated.get(row[key], {"rated": 0, "satisfied": 0})
        k = row[key]
        out.append(
            {
                "key": k.date().isoformat() if isinstance(k, dt.datetime) else k,
                "label": _month_label(k) if group_by == "month" else (row[label] or ""),
                "total": row["total"],
                "dispatched": row["dispatched"],
                "responded": row["responded"],
                "accepted": row["accepted"],
                "resolved": row["resolved"],
                "rated": r["rated"],
                "satisfied": r["satisfied"],
            }
        )
    return _rated_and_ranked(out, group_by)


def _month_label(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{value:%Y-%m}"


def rate_trend(scope: Scope, f: Filters, *, months: int = 12, now: dt.datetime | None = None) -> list[dict]:
    """The three rates month by month over the last ``months`` months (up to the filter's end)."""
    end = f.until
    first = dt.date(end.year, end.month, 1)
    for _ in range(months - 1):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    span = Filters(first, end, f.category_id, f.channel, f.unit_id, f.area_path)
    rows = {r["label"]: r for r in rates(scope, span, group_by="month", now=now)}
    out = []
    day = first
    while day <= end:
        label = f"{day:%Y-%m}"
        out.append(
            rows.get(label)
            or {
                "label": label,
                "total": 0,
                "response_rate": None,
                "resolution_rate": None,
                "satisfaction_rate": None,
            }
        )
        day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return out


# --- intake over time ----------------------------------------------------------------------------


def bucket_for(f: Filters) -> str:
    days = (f.until - f.since).days + 1
    return "day" if days <= 45 else ("week" if days <= 190 else "month")


def intake_series(scope: Scope, f: Filters, *, by: str = "channel") -> dict:
    """Appeals submitted per day/week/month, one series per channel or per category domain."""
    bucket = bucket_for(f)
    trunc = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}[bucket]
    p = parts(scope, f, use_months=bucket == "month")
    if p is not None:
        keyed = []
        names = dict(Category.objects.values_list("pk", "name"))
        labels = dict(Channel.choices)
        for qs in p.rowsets():
            field_name = "channel" if by == "channel" else "domain_id"
            for r in (
                qs.annotate(b=trunc("created_at")).values("b", field_name).annotate(n=Count("id")).order_by()
            ):
                if by == "channel":
                    keyed.append((r["b"], str(labels.get(r["channel"], r["channel"])), r["n"]))
                else:
                    keyed.append((r["b"], names.get(r["domain_id"]) or "未分类", r["n"]))
        if p.months is not None:  # whole months (only with a monthly bucket)
            field_name = "channel" if by == "channel" else "domain_id"
            for r in p.months.values("month", field_name).annotate(n=Sum("total")).order_by():
                if by == "channel":
                    keyed.append((r["month"], str(labels.get(r["channel"], r["channel"])), r["n"]))
                else:
                    keyed.append((r["month"], names.get(r["domain_id"]) or "未分类", r["n"]))
        return _series(f, bucket, keyed)
    qs = appeals_in(scope, f, period=True).annotate(b=trunc("created_at"))
    if by == "channel":
        rows = qs.values("b", "channel").annotate(n=Count("id")).order_by()
        labels = dict(Channel.choices)
        keyed = [(r["b"], str(labels.get(r["channel"], r["channel"])), r["n"]) for r in rows]
    else:
        from django.db.models.functions import Coalesce

        rows = (
            qs.annotate(domain=Coalesce("category__parent__name", "category__name"))
            .values("b", "domain")
            .annotate(n=Count("id"))
            .order_by()
        )
        keyed = [(r["b"], r["domain"] or "未分类", r["n"]) for r in rows]
    return _series(f, bucket, keyed)


def _series(f: Filters, bucket: str, keyed: list) -> dict:
    axis = _axis(f, bucket)
    index = {d: i for i, d in enumerate(axis)}
    series: dict[str, list[int]] = defaultdict(lambda: [0] * len(axis))
    for b, name, n in keyed:
        day = _local_day(b)
        if day in index:
            series[name][index[day]] += n
    ordered = sorted(series.items(), key=lambda kv: -sum(kv[1]))
    return {
        "bucket": bucket,
        "axis": [
            d.isoformat() if bucket == "day" else (f"{d:%Y-%m}" if bucket == "month" else d.isoformat())
            for d in axis
        ],
        "series": [{"name": name, "data": data, "total": sum(data)} for name, data in ordered],
    }


def _local_day(value) -> dt.date:
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    return value


def _axis(f: Filters, bucket: str) -> list[dt.date]:
    out = []
    if bucket == "day":
        day = f.since
        while day <= f.until:
            out.append(day)
            day += dt.timedelta(days=1)
    elif bucket == "week":
        day = f.since - dt.timedelta(days=f.since.weekday())
        while day <= f.until:
            out.append(day)
            day += dt.timedelta(days=7)
    else:
        day = f.since.replace(day=1)
        while day <= f.until:
            out.append(day)
            day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return out


# --- handling time -------------------------------------------------------------------------------


class _Percentile90(Aggregate):
    """PostgreSQL's ordered-set aggregate for the 90th percentile."""

    function = "percentile_cont"
    template = "percentile_cont(0.9) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def handling_time(scope: Scope, f: Filters, *, group_by: str | None = "department") -> dict:
    """Average and 90th-percentile hours from submission to closing, for appeals submitted in the
    period and closed: overall and per lead unit."""
    p = parts(scope, f)
    histogram = _handling_histogram(scope, f, p) if p is not None else None
    if histogram is not None:  # whole months from HandlingMonth: p90 within one bucket (5 %)
        overall, rows = histogram
        rows = rows if group_by else []
    elif p is not None:
        sets = [qs.filter(status=S.CLOSED, closed_at__isnull=False) for qs in p.rowsets()]
        overall = _durations_union(sets, None)
        rows = _durations_union(sets, "lead_unit_id") if group_by else []
    else:
        qs = appeals_in(scope, f, period=True).filter(status=S.CLOSED, closed_at__isnull=False)
        overall = _durations(qs, None)
        rows = _durations(qs, "lead_unit_id") if group_by else []
    names = {}
    if rows:
        from linli.core.orgs.models import Organisation

        names = dict(
            Organisation.objects.filter(pk__in=[r["key"] for r in rows if r["key"]]).values_list("pk", "name")
        )
    for r in rows:
        r["label"] = names.get(r["key"], "")
    rows.sort(key=lambda r: -(r["avg_hours"] or 0))
    return {
        "overall": overall[0] if overall else {"n": 0, "avg_hours": None, "p90_hours": None},
        "by_unit": rows,
    }


def _street_level(path: str) -> bool:
    """A path no finer than a street's ("510106/<street>/"): HandlingMonth's street_unit rows answer it."""
    depth = path.count("/")
    return depth < 2 or (depth == 2 and path.endswith("/"))


def _handling_histogram(scope: Scope, f: Filters, p: Parts, now: dt.datetime | None = None):
    """(overall, by unit) from the handling-time histogram: whole months of the period from
    ``HandlingMonth``, the other days bucketed the same way from the facts and the live slice. None
    when the period holds no whole month or the scope/filters are finer than the histogram (a
    community, a category, a channel): then the exact percentile is computed from the durations.
    The average is exact; the 90th percentile is within 5 % (``rollup.histogram_percentile``)."""
    from linli.domains.appeals.stats import rollup
    from linli.domains.appeals.stats.models import AppealFact, HandlingMonth

    if f.category_id or f.channel:
        return None
    if f.area_path and not _street_level(f.area_path):
        return None
    if scope.everything or (scope.unit_ids and not scope.paths):
        kind = "street_unit" if f.area_path else "unit"
    elif scope.paths and not scope.unit_ids and all(_street_level(x) for x in scope.paths):
        kind = "street_unit"
    else:
        return None
    st = rollup.state()
    now = now or timezone.now()
    first = rollup.month_start(f.since)
    if start_of(first) < f.start:
        first = rollup.next_month(first)
    if f.end > now:
        # The period runs to now: the months up to the last refresh's (it holds every case submitted
        # before the refresh), and the appeals submitted since the refresh live.
        last = rollup.next_month(timezone.localdate(st.refreshed_at).replace(day=1))
        live_from = st.refreshed_at
    else:
        fact_end = min(
            f.end, min(start_of(timezone.localdate(now)), start_of(timezone.localdate(st.refreshed_at)))
        )
        last = timezone.localdate(fact_end).replace(day=1) if fact_end > f.start else first
        live_from = None
    if first >= last:
        return None
    months = HandlingMonth.objects.filter(kind=kind, month__gte=first, month__lt=last)
    if kind == "street_unit":
        months = scope.appeals(months)
        if f.area_path:
            months = months.filter(path__startswith=f.area_path)
    elif not scope.everything:
        months = months.filter(lead_unit_id__in=sorted(scope.unit_ids))
    if f.unit_id:
        months = months.filter(lead_unit_id=f.unit_id)
    hist: dict = defaultdict(lambda: defaultdict(lambda: [0, 0.0]))

    def add(unit, bucket, n, secs):
        h = hist[unit][bucket]
        h[0] += n
        h[1] += secs or 0.0

    for r in months.values("lead_unit_id", "bucket").annotate(n=Sum("n"), secs=Sum("seconds")).order_by():
        add(r["lead_unit_id"], r["bucket"], r["n"], r["secs"])
    rest = [
        _filtered(
            AppealFact.objects.filter(created_at__gte=f.start, created_at__lt=start_of(first)), scope, f
        )
    ]
    if live_from is None:
        rest.append(
            _filtered(
                AppealFact.objects.filter(created_at__gte=start_of(last), created_at__lt=fact_end), scope, f
            )
        )
        if p.live is not None:
            rest.append(p.live)
    else:
        rest.append(
            _filtered(Appeal.objects.filter(created_at__gte=live_from, created_at__lt=f.end), scope, f)
        )
    for qs in rest:
        qs = qs.filter(status=S.CLOSED, closed_at__isnull=False).annotate(x_secs=rollup.handling_seconds())
        qs = qs.annotate(x_bucket=rollup.bucket_expression("x_secs"))
        for r in qs.values("lead_unit_id", "x_bucket").annotate(n=Count("id"), secs=Sum("x_secs")).order_by():
            add(r["lead_unit_id"], int(r["x_bucket"]), r["n"], r["secs"])

    def figures(key, h):
        n = sum(v[0] for v in h.values())
        secs = sum(v[1] for v in h.values())
        return {
            "key": key,
            "n": n,
            "avg_hours": _hours(secs / n),
            "p90_hours": _hours(rollup.histogram_percentile(h, 0.9)),
        }

    total: dict = defaultdict(lambda: [0, 0.0])
    for h in hist.values():
        for b, (n, secs) in h.items():
            total[b][0] += n
            total[b][1] += secs
    overall = [figures(None, total)] if total else []
    rows = [figures(k, h) for k, h in hist.items() if any(v[0] for v in h.values())]
    return overall, rows


def _durations(qs: QuerySet, key: str | None) -> list[dict]:
    if connection.vendor == "postgresql":
        seconds = Func(
            F("closed_at") - F("created_at"),
            function="EXTRACT",
            template="EXTRACT(EPOCH FROM %(expressions)s)::double precision",
        )
        base = qs.annotate(secs=seconds)
        values = base.values(key) if key else base.values()
        agg = {"n": Count("id"), "avg": Avg("secs"), "p90": _Percentile90("secs")}
        if key:
            rows = list(values.annotate(**agg).order_by())
        else:
            rows = [base.aggregate(**agg)]
        return [
            {
                "key": r.get(key) if key else None,
                "n": r["n"],
                "avg_hours": _hours(r["avg"]),
                "p90_hours": _hours(r["p90"]),
            }
            for r in rows
            if r["n"]
        ]
    # SQLite: fetch the durations and compute in Python (demo-sized data).
    duration = ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField())
    groups: dict[object, list[float]] = defaultdict(list)
    for k, d in qs.annotate(d=duration).values_list(key or "id", "d"):
        groups[k if key else None].append(d.total_seconds())
    out = []
    for k, secs in groups.items():
        secs.sort()
        out.append(
            {
                "key": k,
                "n": len(secs),
                "avg_hours": _hours(sum(secs) / len(secs)),
                "p90_hours": _hours(percentile(secs, 0.9)),
            }
        )
    return out


def _epoch_seconds():
    return Func(
        F("closed_at") - F("created_at"),
        function="EXTRACT",
        template="EXTRACT(EPOCH FROM %(expressions)s)::double precision",
    )


def _durations_union(sets: list[QuerySet], key: str | None) -> list[dict]:
    """``_durations`` over the union of the fast path's row sets (facts and the live slice)."""
    if not sets:
        return []
    if connection.vendor == "postgresql":
        parts_sql, params = [], []
        for qs in sets:
            q = qs.annotate(
                k=F(key) if key else Value(None, output_field=IntegerField()), secs=_epoch_seconds()
            )
            sql, ps = q.values_list("k", "secs").order_by().query.sql_with_params()
            parts_sql.append(f"({sql})")
            params.extend(ps)
        union = " UNION ALL ".join(parts_sql)
        with connection.cursor() as cur:
            cur.execute(  # the union is the ORM's own SQL; every value travels in params
                f"SELECT k, count(*), avg(s), percentile_cont(0.9) WITHIN GROUP (ORDER BY s) "  # noqa: S608
                f"FROM ({union}) t(k, s) GROUP BY k",
                params,
            )
            rows = cur.fetchall()
        return [
            {"key": k if key else None, "n": n, "avg_hours": _hours(avg), "p90_hours": _hours(p90)}
            for k, n, avg, p90 in rows
            if n
        ]
    duration = ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField())
    groups: dict[object, list[float]] = defaultdict(list)
    for qs in sets:
        for k, d in qs.annotate(d=duration).values_list(key or "id", "d"):
            groups[k if key else None].append(d.total_seconds())
    out = []
    for k, secs in groups.items():
        secs.sort()
        out.append(
            {
                "key": k,
                "n": len(secs),
                "avg_hours": _hours(sum(secs) / len(secs)),
                "p90_hours": _hours(percentile(secs, 0.9)),
            }
        )
    return out


def percentile(sorted_values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks, as PostgreSQL's percentile_cont."""
    if not sorted_values:
        return math.nan
    pos = (len(sorted_values) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def _hours(seconds) -> float | None:
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return None
    return round(float(seconds) / 3600, 1)


# --- grid workers --------------------------------------------------------------------------------


def grid_worker_load(scope: Scope, f: Filters, *, limit: int = 20) -> list[dict]:
    """Per grid: its grid workers, the appeals submitted there in the period and open now, and the
    appeals per grid worker; busiest first."""
    rows = _open_and_new(scope, f, "grid_id")
    rows = {k: {"period": r["new"], "open": r["open"]} for k, r in rows.items()}
    workers = dict(
        Membership.objects.filter(role=Role.GRID_WORKER, is_active=True, jurisdiction_id__in=list(rows))
        .values("jurisdiction_id")
        .annotate(n=Count("user_id", distinct=True))
        .values_list("jurisdiction_id", "n")
    )
    grids = {a.pk: a for a in Area.objects.filter(pk__in=list(rows)).select_related("parent")}
    out = []
    for gid, r in rows.items():
        n = workers.get(gid, 0)
        g = grids.get(gid)
        out.append(
            {
                "grid_id": gid,
                "grid": g.name if g else "",
                "community": g.parent.name if g and g.parent_id else "",
                "workers": n,
                "period": r["period"],
                "open": r["open"],
                "per_worker": round(r["period"] / n, 1) if n else None,
            }
        )
    out.sort(key=lambda r: (-(r["per_worker"] if r["per_worker"] is not None else r["period"]), r["grid"]))
    return out[:limit]


# --- the map -------------------------------------------------------------------------------------

LEVEL_FIELD = {AreaKind.GRID: "grid_id", AreaKind.COMMUNITY: "community_id", AreaKind.STREET: "street_id"}


def map_figures(scope: Scope, f: Filters, *, level: str = AreaKind.GRID) -> dict[int, dict]:
    """{area id: {open, overdue, near, new}} for every area of ``level`` with any case: open,
    overdue and near-deadline now; new = submitted in the period."""
    rows = _open_and_new(scope, f, LEVEL_FIELD[level])
    return {k: {n: r[n] for n in ("open", "overdue", "near", "new")} for k, r in rows.items()}


def _open_and_new(scope: Scope, f: Filters, field_name: str) -> dict:
    """{value of ``field_name``: {open, overdue, near, new}} for rows with the field set: open ones now
    (the open-status index) and those submitted in the period (the fast path when built)."""
    is_open = Q(status__in=OPEN_STATUSES)
    out: dict = {}
    blank = {"open": 0, "overdue": 0, "near": 0, "new": 0}
    opened = (
        appeals_in(scope, f)
        .filter(is_open)
        .filter(**{f"{field_name}__isnull": False})
        .values(field_name)
        .annotate(
            open=Count("id"),
            overdue=Count("id", filter=deadline_q(DeadlineState.RED)),
            near=Count("id", filter=deadline_q(DeadlineState.YELLOW)),
        )
        .order_by()
    )
    for r in opened:
        out[r[field_name]] = {**blank, **{k: r[k] for k in ("open", "overdue", "near")}}
    new = fast_counts_by(scope, f, field_name)
    if new is None:
        new = dict(
            appeals_in(scope, f, period=True)
            .filter(**{f"{field_name}__isnull": False})
            .values_list(field_name)
            .annotate(n=Count("id"))
            .order_by()
        )
    for k, n in new.items():
        out.setdefault(k, dict(blank))["new"] = n
    return out


def area_cases(scope: Scope, f: Filters, area: Area, *, limit: int = 50) -> dict:
    """An area's figures and its cases: open ones (most urgent first) and those submitted in the period."""
    qs = appeals_in(scope, f).filter(path__startswith=area.path)
    in_period = Q(created_at__gte=f.start, created_at__lt=f.end)
    is_open = Q(status__in=OPEN_STATUSES)
    # Open now through the open-status index; submitted in the period from the statistics copy when
    # built (an OR of the two on the appeals table reads every case of the area).
    figures = qs.filter(is_open).aggregate(
        open=Count("id"),
        overdue=Count("id", filter=deadline_q(DeadlineState.RED)),
        near=Count("id", filter=deadline_q(DeadlineState.YELLOW)),
    )
    period = fast_period_counts(scope, replace(f, area_path=area.path), timezone.now())
    if period is None:
        period = qs.filter(in_period).aggregate(
            intake=Count("id"), closed=Count("id", filter=Q(status=S.CLOSED))
        )
    figures.update(new=period["intake"], closed=period["closed"])
    # The most urgent open cases and the most urgent submitted in the period, merged: the same list
    # as one query over both, each part read through its own index.
    order = (F("handling_due").asc(nulls_last=True), "-created_at")
    picked = {}
    for part in (qs.filter(is_open), qs.filter(in_period)):
        for case in (
            part.select_related("category", "lead_unit")
            .order_by(*order)
            .only(
                "id",
                "reference",
                "title",
                "status",
                "handling_warn_at",
                "handling_due",
                "created_at",
                "category__name",
                "lead_unit__name",
            )[:limit]
        ):
            picked[case.pk] = case
    cases = sorted(
        picked.values(),
        key=lambda a: (a.handling_due is None, a.handling_due or a.created_at, -a.created_at.timestamp()),
    )
    return {"figures": figures, "cases": cases[:limit]}


# --- hot issues ----------------------------------------------------------------------------------


def hot_groups(scope: Scope, f: Filters, *, days: int = 14, limit: int = 30) -> list[dict]:
    """Hot-issue groups for the map. Uses ``linli.domains.triage`` when it offers
    ``hot_issue_groups(area=None, since=None)``; otherwise groups open appeals of the last ``days``
    days by grid × category with a heat score (see ``_heat``). Each: label, category, grid, lng, lat,
    count, heat, appeal_ids."""
    since = timezone.now() - dt.timedelta(days=days)
    provider = _triage_provider()
    if provider is not None:
        try:
            groups = list(provider(area=None, since=since))
        except Exception:  # noqa: BLE001 - a broken provider must not take the map down
            groups = None
        if groups is not None:
            visible = set(
                appeals_in(scope, f)
                .filter(pk__in={i for g in groups for i in g.get("appeal_ids", [])})
                .values_list("pk", flat=True)
            )
            out = []
            for g in groups:
                ids = [i for i in g.get("appeal_ids", []) if i in visible]
                if ids:
                    out.append({**g, "appeal_ids": ids, "count": len(ids)})
            return sorted(out, key=lambda g: -g.get("heat", g["count"]))[:limit]
    return fallback_hot_groups(scope, f, since=since, limit=limit)


def _triage_provider():
    try:
        from linli.domains.triage.selectors import hot_issue_groups  # type: ignore[attr-defined]
    except ImportError:
        return None
    return hot_issue_groups


def _heat(count: int, recent: int, overdue: int) -> float:
    """count of open cases, + 1 for each submitted in the last 3 days, + 2 for each overdue."""
    return float(count + recent + 2 * overdue)


def fallback_hot_groups(
    scope: Scope, f: Filters, *, since: dt.datetime, limit: int = 30, min_count: int = 2
) -> list[dict]:
    recent = timezone.now() - dt.timedelta(days=3)
    qs = appeals_in(scope, f).filter(
        status__in=OPEN_STATUSES, created_at__gte=since, grid_id__isnull=False, category_id__isnull=False
    )
    rows = (
        qs.values("grid_id", "category_id")
        .annotate(
            n=Count("id"),
            recent=Count("id", filter=Q(created_at__gte=recent)),
            overdue=Count("id", filter=deadline_q(DeadlineState.RED)),
        )
        .filter(n__gte=min_count)
        .order_by("-n")[: limit * 2]
    )
    rows = list(rows)
    if not rows:
        return []
    grids = {a.pk: a for a in Area.objects.filter(pk__in={r["grid_id"] for r in rows})}
    cats = dict(Category.objects.filter(pk__in={r["category_id"] for r in rows}).values_list("pk", "name"))
    ids: dict[tuple, list[int]] = defaultdict(list)
    for pk, g, c in qs.filter(grid_id__in=list(grids), category_id__in=list(cats)).values_list(
        "pk", "grid_id", "category_id"
    ):
        ids[(g, c)].append(pk)
    out = []
    for r in rows:
        g = grids[r["grid_id"]]
        out.append(
            {
                "label": f"{g.name} · {cats.get(r['category_id'], '')}",
                "category": cats.get(r["category_id"], ""),
                "grid": g.name,
                "lng": g.centroid_lng,
                "lat": g.centroid_lat,
                "count": r["n"],
                "heat": _heat(r["n"], r["recent"], r["overdue"]),
                "appeal_ids": ids[(r["grid_id"], r["category_id"])][:50],
            }
        )
    out.sort(key=lambda g: -g["heat"])
    return out[:limit]


# --- the deadline board --------------------------------------------------------------------------


@dataclass(slots=True)
class BoardCase:
    """One case on the deadline board, as shown: read as plain values (the board lists hundreds; model
    instances with their category and community cost more than the query), labels resolved here."""

    pk: int
    reference: str
    title: str
    status: str
    status_label: str
    category: str
    community: str
    handling_due: dt.datetime
    due_label: str  # local "m-d H:i" (the template's date filter looks its formats up on every call)
    colour: str  # DeadlineState at the board's instant, as counted
    colour_label: str
    # the case page and, for dispatchers, the 督办/催办 action: set by the page
    url: str = ""
    supervise_url: str = ""


@dataclass
class UnitDeadlines:
    unit_id: int | None
    unit: str
    red: int = 0
    yellow: int = 0
    cases: list[BoardCase] = field(default_factory=list)


def deadline_board(
    scope: Scope, f: Filters, *, per_unit: int = 30, now: dt.datetime | None = None
) -> list[UnitDeadlines]:
    """Open cases near (yellow) or past (red) their handling deadline at ``now``, by lead unit; the units
    with most overdue cases first, each unit's ``per_unit`` most overdue cases first (``BoardCase``).
    Counts, lists and colours are taken at the same instant."""
    now = now or timezone.now()
    red, yellow = deadline_q(DeadlineState.RED, now=now), deadline_q(DeadlineState.YELLOW, now=now)
    # No separate status__in=OPEN_STATUSES: both colours hold only in the handling statuses, which are
    # open ones. A second IN on status makes PostgreSQL multiply the two selectivities (16,000 late cases
    # of 1M estimated at 300) and read every late case from the table instead of the index-only scan
    # of the open cases' covering index (dash_appeal_open): 53 ms against 19 ms warm, 170 ms cold.
    qs = appeals_in(scope, f).filter(red | yellow)
    counts = (
        qs.values("lead_unit_id", "lead_unit__name")
        .annotate(red=Count("id", filter=red), yellow=Count("id", filter=yellow))
        .order_by()
    )
    units = {
        r["lead_unit_id"]: UnitDeadlines(r["lead_unit_id"], r["lead_unit__name"] or "", r["red"], r["yellow"])
        for r in counts
    }
    if per_unit > 0 and units:
        # One query for every unit's most urgent cases (a window per unit), not one query per unit;
        # without the model's ordering (a sort of the late cases by created_at for nothing).
        from django.db.models import Window
        from django.db.models.functions import RowNumber

        ids = list(
            qs.annotate(
                rn=Window(
                    RowNumber(),
                    partition_by=[F("lead_unit_id")],
                    order_by=[F("handling_due").asc(nulls_last=True), F("id").asc()],
                )
            )
            .filter(rn__lte=per_unit)
            .order_by()
            .values_list("id", flat=True)
        )
        urgent = (
            Appeal.objects.filter(pk__in=ids)
            .order_by(F("handling_due").asc(nulls_last=True), "id")
            .values_list(
                "id",
                "reference",
                "title",
                "status",
                "handling_warn_at",
                "handling_due",
                "lead_unit_id",
                "category__name",
                "community__name",
            )
        )
        # Display labels resolved once (get_FOO_display rebuilds the choices for every call).
        status_labels = {k: str(v) for k, v in AppealStatus.choices}
        state_labels = {k: str(v) for k, v in DeadlineState.choices}
        for pk, reference, title, status, warn_at, due, unit_id, category, community in urgent:
            if unit_id not in units or due is None:  # re-dispatched or stopped since the count
                continue
            colour = colour_at(now, warn_at, due)
            units[unit_id].cases.append(
                BoardCase(
                    pk=pk,
                    reference=reference,
                    title=title,
                    status=status,
                    status_label=status_labels.get(status, status),
                    category=category or "",
                    community=community or "",
                    handling_due=due,
                    due_label=timezone.localtime(due).strftime("%m-%d %H:%M"),
                    colour=colour,
                    colour_label=state_labels.get(colour, colour),
                )
            )
    return sorted(units.values(), key=lambda u: (-u.red, -u.yellow, u.unit))


# --- open data -----------------------------------------------------------------------------------

OPEN_DATA_FIELDS = (
    "month",
    "street",
    "community",
    "category",
    "submitted",
    "closed",
    "open",
    "rated",
    "satisfied",
)


def open_data_rows(*, since: dt.date | None = None, until: dt.date | None = None) -> list[dict]:
    """Counts of appeals by month submitted × street × community × category domain, for the public:
    counts only, never a name, a phone, an address or a single case's text. Merged and withdrawn
    cases are left out (and their ratings). Whole months from ``MonthStat``, the other days from the
    facts and the live slice once the statistics copy is built; else from the appeals table."""
    fast = _open_data_fast(since, until) if since and until else None
    rows = fast if fast is not None else _open_data_from_table(since, until)
    return sorted(rows, key=lambda r: (r["month"], r["street"], r["community"], r["category"]))


def _open_data_fast(since: dt.date, until: dt.date) -> list[dict] | None:
    from .scope import Scope

    p = parts(Scope(everything=True), Filters(since, until), use_months=True)
    if p is None:
        return None
    names = ("submitted", "closed", "open", "rated", "satisfied")
    counts: dict = defaultdict(lambda: [0, 0, 0, 0, 0])
    keys = ("street_id", "community_id", "domain_id")
    kept = ~Q(status__in=[S.MERGED, S.WITHDRAWN])
    labels: dict = {}  # month value -> "YYYY-MM" (computed once per month, not per row)

    def add(qs):
        sql, params = qs.query.sql_with_params()
        with connection.cursor() as cur:  # plain rows: no per-row converters (10k rows for a year)
            cur.execute(sql, params)
            rows = cur.fetchall()
        for m, street, community, domain, *values in rows:
            label = labels.get(m) or labels.setdefault(m, m[:7] if isinstance(m, str) else _month_label(m))
            c = counts[(label, street, community, domain)]
            for i, v in enumerate(values):
                c[i] += int(v or 0)  # PostgreSQL's sum of bigint is numeric (Decimal)

    for qs in p.rowsets():
        add(
            qs.filter(kept)
            .annotate(m=TruncMonth("created_at"))
            .values("m", *keys)
            .annotate(
                submitted=Count("id"),
                closed=Count("id", filter=Q(status=S.CLOSED)),
                open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
                rated=Sum("rated"),
                satisfied=Sum("satisfied"),
            )
            .values_list("m", *keys, *names)
            .order_by()
        )
    if p.months is not None:
        add(
            p.months.values("month", *keys)
            .annotate(
                submitted=Sum(F("total") - F("excluded")),
                closed=Sum("resolved"),
                open=Sum("open"),
                rated=Sum(F("rated") - F("excluded_rated")),
                satisfied=Sum(F("satisfied") - F("excluded_satisfied")),
            )
            .values_list("month", *keys, *names)
            .order_by()
        )
    areas = dict(
        Area.objects.filter(kind__in=[AreaKind.STREET, AreaKind.COMMUNITY]).values_list("pk", "name")
    )
    domains = dict(Category.objects.values_list("pk", "name"))
    merged: dict = {}
    for (month, street, community, domain), c in counts.items():
        if not c[0]:  # nothing submitted (only merged or withdrawn cases)
            continue
        key = (month, areas.get(street, ""), areas.get(community, ""), domains.get(domain, ""))
        row = merged.get(key)
        if row is None:
            merged[key] = {
                "month": key[0],
                "street": key[1],
                "community": key[2],
                "category": key[3],
                **dict(zip(names, c, strict=True)),
            }
        else:
            for name, n in zip(names, c, strict=True):
                row[name] += n
    return list(merged.values())


def _open_data_from_table(since: dt.date | None, until: dt.date | None) -> list[dict]:
    from django.db.models.functions import Coalesce

    qs = Appeal.objects.exclude(status__in=[S.MERGED, S.WITHDRAWN])
    if since:
        qs = qs.filter(created_at__gte=start_of(since))
    if until:
        qs = qs.filter(created_at__lt=start_of(until + dt.timedelta(days=1)))
    qs = qs.annotate(m=TruncMonth("created_at"), domain=Coalesce("category__parent__name", "category__name"))
    rows = (
        qs.values("m", "street__name", "community__name", "domain")
        .annotate(
            submitted=Count("id"),
            closed=Count("id", filter=Q(status=S.CLOSED)),
            open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
        )
        .order_by()
    )
    ratings = {
        (
            _month_label(r["m"]),
            r["appeal__street__name"] or "",
            r["appeal__community__name"] or "",
            r["domain"] or "",
        ): r
        for r in Rating.objects.filter(appeal__in=qs.values("id"))
        .annotate(
            m=TruncMonth("appeal__created_at"),
            domain=Coalesce("appeal__category__parent__name", "appeal__category__name"),
        )
        .values("m", "appeal__street__name", "appeal__community__name", "domain")
        .annotate(rated=Count("id"), satisfied=Count("id", filter=Q(value__in=SATISFIED_VALUES)))
        .order_by()
    }
    out: dict = {}
    for r in rows:
        key = (_month_label(r["m"]), r["street__name"] or "", r["community__name"] or "", r["domain"] or "")
        row = out.setdefault(
            key,
            {
                "month": key[0],
                "street": key[1],
                "community": key[2],
                "category": key[3],
                **dict.fromkeys(("submitted", "closed", "open"), 0),
            },
        )
        for name in ("submitted", "closed", "open"):
            row[name] += r[name]
    for key, row in out.items():
        rt = ratings.get(key, {})
        row["rated"], row["satisfied"] = rt.get("rated", 0), rt.get("satisfied", 0)
    return list(out.values())


# --- choices for the filter bars -----------------------------------------------------------------


def filter_choices(scope: Scope) -> dict:
    from linli.core.orgs.choices import OrgKind
    from linli.core.orgs.models import Organisation

    domains = list(
        Category.objects.filter(parent__isnull=True, is_active=True)
        .order_by("sort_order", "code")
        .values_list("pk", "name")
    )
    units = Organisation.objects.filter(
        kind__in=[OrgKind.DEPARTMENT, OrgKind.STREET_OFFICE, OrgKind.COMMUNITY_STATION]
    )
    if scope.unit_ids and not scope.paths and not scope.everything:
        units = units.filter(pk__in=scope.unit_ids)
    elif not scope.everything:
        units = units.filter(pk__in=appeals_in(scope).values("lead_unit_id"))
    return {
        "categories": domains,
        "channels": list(Channel.choices),
        "units": list(units.order_by("kind", "code").values_list("pk", "name")),
    }


# --- the fast path: AppealFact / MonthStat / live slice (rollup.py) --------------------------------


@dataclass
class Parts:
    """Where a period's appeals are counted: whole past months (``MonthStat``), other days before
    ``cut`` (``AppealFact``) and since ``cut`` (the appeals table). Each already scoped and filtered."""

    facts: QuerySet | None = None
    live: QuerySet | None = None
    months: QuerySet | None = None

    def rowsets(self) -> list[QuerySet]:
        return [qs for qs in (self.facts, self.live) if qs is not None]


def _filtered(qs: QuerySet, scope: Scope, f: Filters) -> QuerySet:
    qs = scope.appeals(qs)
    if f.category_id:
        qs = qs.filter(Q(category_id=f.category_id) | Q(category_parent_id=f.category_id))
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.unit_id:
        qs = qs.filter(lead_unit_id=f.unit_id)
    if f.area_path:
        qs = qs.filter(path__startswith=f.area_path)
    return qs


def _months_usable(scope: Scope, f: Filters) -> bool:
    from linli.domains.appeals.stats import rollup

    if any(p.count("/") > rollup.MONTH_PATH_DEPTH for p in scope.paths):
        return False
    if f.area_path and f.area_path.count("/") > rollup.MONTH_PATH_DEPTH:
        return False
    if f.category_id and Category.objects.filter(pk=f.category_id, parent__isnull=False).exists():
        return False
    return True


_as_of_refresh: ContextVar[bool] = ContextVar("dashboard_as_of_refresh", default=False)


@contextmanager
def as_of_refresh() -> Iterator[None]:
    """Inside, the figures read today's appeals from the statistics copy too, as they stood at its
    last refresh (at most a minute ago), instead of from the appeals table: for the public page,
    recounted every minute just after the refresh. On a busy day today's slice of the appeals table
    is the costly part of a count (rating subqueries per row), and it would be read again every
    minute, competing with the intakes for the database."""
    token = _as_of_refresh.set(True)
    try:
        yield
    finally:
        _as_of_refresh.reset(token)


def _settled_facts(scope: Scope, f: Filters) -> QuerySet | None:
    """Inside ``as_of_refresh`` with the copy built: the facts, scoped and filtered; else None."""
    from linli.domains.appeals.stats import rollup
    from linli.domains.appeals.stats.models import AppealFact

    if not _as_of_refresh.get() or rollup.state() is None:
        return None
    return _filtered(AppealFact.objects.all(), scope, f)


def parts(
    scope: Scope, f: Filters, *, now: dt.datetime | None = None, use_months: bool = False
) -> Parts | None:
    """The fast path's sources for the appeals submitted in ``f``'s period, or None when the rollup
    has never been built (then the selectors read the appeals table). Inside ``as_of_refresh`` the
    facts serve the whole period, today included (no live slice)."""
    from linli.domains.appeals.stats import rollup
    from linli.domains.appeals.stats.models import AppealFact, MonthStat

    st = rollup.state()
    if st is None:
        return None
    now = now or timezone.now()
    cut = min(start_of(timezone.localdate(now)), start_of(timezone.localdate(st.refreshed_at)))
    start, end = f.start, f.end
    if _as_of_refresh.get():
        cut = max(cut, end)
    out = Parts()
    if end > cut:
        out.live = _filtered(rollup.live_appeals(), scope, f).filter(
            created_at__gte=max(start, cut), created_at__lt=end
        )
    fact_end = min(end, cut)
    if start >= fact_end:
        return out
    ranges = [(start, fact_end)]
    if use_months and _months_usable(scope, f):
        m = rollup.month_start(f.since)
        if start_of(m) < start:
            m = rollup.next_month(m)
        full = []
        while start_of(rollup.next_month(m)) <= fact_end:
            full.append(m)
            m = rollup.next_month(m)
        if full:
            if now >= st.refreshed_at:
                late = {
                    dt.date.fromisoformat(m)
                    for m, due in st.late_months.items()
                    if dt.datetime.fromisoformat(due) > now
                }
            else:
                late = set(
                    MonthStat.objects.filter(month__in=full, unsigned_due_max__gt=now)
                    .values_list("month", flat=True)
                    .distinct()
                )
            good = [m for m in full if m not in late]
            if good:
                mf = Filters(f.since, f.until, None, f.channel, f.unit_id, f.area_path)
                months = _filtered_months(MonthStat.objects.filter(month__in=good), scope, mf)
                if f.category_id:
                    months = months.filter(domain_id=f.category_id)
                out.months = months
                ranges = []
                lo = start
                for g in good:
                    if start_of(g) > lo:
                        ranges.append((lo, start_of(g)))
                    lo = start_of(rollup.next_month(g))
                if lo < fact_end:
                    ranges.append((lo, fact_end))
    if ranges:
        cond = Q()
        for a, b in ranges:
            cond |= Q(created_at__gte=a, created_at__lt=b)
        out.facts = _filtered(AppealFact.objects.all(), scope, f).filter(cond)
    return out


def _filtered_months(qs: QuerySet, scope: Scope, f: Filters) -> QuerySet:
    qs = scope.appeals(qs)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.unit_id:
        qs = qs.filter(lead_unit_id=f.unit_id)
    if f.area_path:
        qs = qs.filter(path__startswith=f.area_path)
    return qs


RATE_COUNTS = ("total", "dispatched", "responded", "accepted", "resolved", "rated", "satisfied")


def _rate_aggregates(now: dt.datetime) -> dict:
    valid = ~Q(status__in=[S.REJECTED, S.MERGED, S.WITHDRAWN])
    return dict(
        total=Count("id"),
        dispatched=Count(
            "id",
            filter=Q(acceptance_due__isnull=False)
            & (Q(signed_at__isnull=False) | Q(acceptance_due__lte=now)),
        ),
        responded=Count("id", filter=Q(signed_at__isnull=False, signed_at__lte=F("acceptance_due"))),
        accepted=Count("id", filter=Q(registered_at__isnull=False) & valid),
        resolved=Count("id", filter=Q(status=S.CLOSED)),
        r_rated=Sum("rated"),
        r_satisfied=Sum("satisfied"),
    )


def _month_key(value) -> str:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.date()
    return value.isoformat() if value else ""


def _fast_rate_counts(p: Parts, group_by: str, now: dt.datetime) -> dict:
    key = {
        "street": "street_id",
        "community": "community_id",
        "department": "lead_unit_id",
        "category": "domain_id",
        "month": "m",
    }[group_by]
    counts: dict = {}

    def add(k, row):
        c = counts.setdefault(k, dict.fromkeys(RATE_COUNTS, 0))
        for name in RATE_COUNTS:
            c[name] += row[name] or 0

    for qs in p.rowsets():
        if group_by == "month":
            qs = qs.annotate(m=TruncMonth("created_at"))
        for r in qs.values(key).annotate(**_rate_aggregates(now)).order_by():
            r["rated"], r["satisfied"] = r["r_rated"], r["r_satisfied"]
            add(_month_key(r["m"]) if group_by == "month" else r[key], r)
    if p.months is not None:
        mkey = "month" if group_by == "month" else key
        for r in p.months.values(mkey).annotate(**month_sums()).order_by():
            r["dispatched"] = (r["sd"] or 0) + (r["un"] or 0)
            add(_month_key(r["month"]) if group_by == "month" else r[key], r)
    return counts


def _labels(group_by: str, keys) -> dict:
    from linli.core.orgs.models import Organisation

    ids = [k for k in keys if k is not None]
    if group_by in ("street", "community"):
        return dict(Area.objects.filter(pk__in=ids).values_list("pk", "name"))
    if group_by == "department":
        return dict(Organisation.objects.filter(pk__in=ids).values_list("pk", "name"))
    if group_by == "category":
        return dict(Category.objects.filter(pk__in=ids).values_list("pk", "name"))
    return {}


def fast_rates(scope: Scope, f: Filters, *, group_by: str, now: dt.datetime) -> list[dict] | None:
    p = parts(scope, f, now=now, use_months=True)
    if p is None:
        return None
    counts = _fast_rate_counts(p, group_by, now)
    names = _labels(group_by, counts)
    out = []
    for k in sorted(counts, key=lambda k: (k is None, k if k is not None else 0)):
        c = counts[k]
        out.append({"key": k, "label": k[:7] if group_by == "month" else names.get(k, ""), **c})
    return _rated_and_ranked(out, group_by)


def fast_period_counts(scope: Scope, f: Filters, now: dt.datetime) -> dict | None:
    """Appeals submitted in the period, and of those closed."""
    p = parts(scope, f, now=now, use_months=True)
    if p is None:
        return None
    out = {"intake": 0, "closed": 0}
    for qs in p.rowsets():
        r = qs.aggregate(intake=Count("id"), closed=Count("id", filter=Q(status=S.CLOSED)))
        out["intake"] += r["intake"]
        out["closed"] += r["closed"]
    if p.months is not None:
        r = p.months.aggregate(intake=Sum("total"), closed=Sum("resolved"))  # resolved = status closed
        out["intake"] += r["intake"] or 0
        out["closed"] += r["closed"] or 0
    return out


def fast_counts_by(scope: Scope, f: Filters, field_name: str, now: dt.datetime | None = None) -> dict | None:
    """{value of ``field_name``: appeals submitted in the period}, rows with the field set."""
    p = parts(scope, f, now=now)
    if p is None:
        return None
    out: dict = defaultdict(int)
    for qs in p.rowsets():
        for k, n in (
            qs.filter(**{f"{field_name}__isnull": False})
            .values_list(field_name)
            .annotate(n=Count("id"))
            .order_by()
        ):
            out[k] += n
    return out
