"""The appeals' statistics copy: a narrow row per appeal (``AppealFact``) and monthly sums of it
(``MonthStat``, ``RateMonth``, ``HandlingMonth``), so that the three rates (``appeal_rates``) and the
dashboard's figures stay fast at a million appeals with exactly the definitions of the appeals table.

- ``AppealFact``: one row per appeal with the columns the figures read (ids of its places, category,
  domain, lead unit, channel, status, the timestamps of the three rates and its rating counts). The
  figures count it with the same conditions as the appeals table; ``now`` is applied at query time.
- ``MonthStat``: sums of the facts per month × community-level path × street × community × domain ×
  lead unit × channel; used by the dashboard for whole past months (the 12-month trend, long periods).
  A month whose unsigned cases have an acceptance deadline still ahead of ``now`` is read from the
  facts instead.
- ``RateMonth``: the same sums over three narrower projections (place × category, place × unit, unit
  × category) for ``appeal_rates`` (``rates.py``).
- ``HandlingMonth``: per month, a histogram of handling time on 5 % logarithmic buckets (per unit, and
  per street × unit) for the dashboard's average and 90th percentile over long periods.
- Live: appeals submitted since the start of the day of the last refresh (``cut``) are read from the
  appeals table (indexed on ``created_at``, a small slice), so today's figures are exact at once.

``refresh()`` brings facts and months up to date, in full (``full=True``, or when never built: every
row rebuilt) or incrementally, at a cost in proportion to what changed since the last refresh:

- Which facts. A transaction that commits after a refresh may carry an ``updated_at`` (or a rating's
  ``at``) from before it, so the candidates are still the appeals whose ``updated_at`` or whose
  rating's ``at`` is newer than the last refresh minus ``MARGIN`` (10 minutes). But each fact keeps
  the ``updated_at`` of the appeal it was written from (a version), so the candidates whose fact holds
  their current ``updated_at`` are skipped at once by one indexed join on the primary key, without
  recomputing their row. The rest (new or newer appeals, recent ratings) get their fact row computed
  in SQL and compared with the stored one column by column (``IS DISTINCT FROM``; SQLite ``IS NOT``):
  a fact that differs only in ``updated_at`` (a change the figures do not read) gets the new version
  written; only those that differ in a column the figures read are rewritten. So the margin costs a
  read of the recent ``updated_at`` values, not a rewrite of ten minutes of facts; a late commit is
  still caught (its ``updated_at`` differs from the fact's version), and two refreshes with nothing
  changed in between write nothing.
- Monthly sums by deltas. For the rewritten facts, their old rows' contribution is subtracted from
  each summary row of the same dimensions and their new rows' contribution added (``_add_to_summary``:
  ``INSERT … SELECT … ON CONFLICT (dimensions) DO UPDATE SET n = n + EXCLUDED.n``, one statement per
  table and projection, grouped in SQL); each summary has a unique index on its dimensions, null ids
  counting as ``models.NULL_KEY`` in the index only (the columns stay null for the readers). Rows
  whose group is left empty (``total`` or ``n`` 0) are deleted, as a full refresh would not make them.
  ``unsigned_due_max`` (the latest acceptance deadline of the unsigned cases) is not a sum: adding keeps
  the later deadline; subtracting the one that was the group's latest clears it, and after the deltas
  a row with unsigned cases but no deadline gets it recomputed from the month's unsigned facts (a
  partial index holds them; few rows lose their latest deadline in a minute). ``HandlingMonth`` is
  additive per bucket; its ``seconds`` are float sums, so they equal a full refresh's to the last bits
  of rounding only (a full refresh's own float sum depends on the order of the rows too).

Results equal a full refresh's (``tests/test_incremental.py``). As before, what the incremental
refresh does not see is a change without a newer ``updated_at`` (a place's or a category's path or
parent renamed, an appeal deleted): ``refresh(full=True)`` (``manage.py dashboard_rollup --full``).
It runs every minute (``appeal_stats_refresh`` in ``LINLI_PERIODIC_TASKS``), before each report, and
by ``manage.py dashboard_rollup [--full]``; one refresh at a time (PostgreSQL advisory lock). Changes
to older appeals reach the figures at the next refresh. Without any refresh (fresh install, tests) the
selectors read the appeals table only.
"""

from __future__ import annotations

import datetime as dt
import math
import time

from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Floor, Ln, TruncDate, TruncMonth
from django.utils import timezone

from ..choices import OPEN_STATUSES, SATISFIED_VALUES, AppealStatus
from ..models import Appeal, Rating
from .models import NULL_KEY, AppealFact, HandlingMonth, MonthStat, RateMonth, RollupState

S = AppealStatus
MARGIN = dt.timedelta(minutes=10)  # transactions that commit late
CHUNK = 5000
# Scope paths at most this deep ("510106/<street>/<community>/") can read MonthStat.
MONTH_PATH_DEPTH = 3

FACT_COLUMNS = (
    "id",
    "day",
    "created_at",
    "status",
    "channel",
    "path",
    "street_id",
    "community_id",
    "grid_id",
    "category_id",
    "category_parent_id",
    "domain_id",
    "lead_unit_id",
    "acceptance_due",
    "signed_at",
    "registered_at",
    "closed_at",
    "rated",
    "satisfied",
    "place",
    "street_place",
    "updated_at",
)


def _count_ratings(**filters) -> Coalesce:
    sub = (
        Rating.objects.filter(appeal=OuterRef("pk"), **filters)
        .order_by()
        .values("appeal")
        .annotate(c=Count("id"))
        .values("c")
    )
    return Coalesce(Subquery(sub, output_field=IntegerField()), Value(0))


def live_appeals() -> QuerySet:
    """The appeals table with the fact columns it lacks, under the facts' names."""
    return Appeal.objects.annotate(
        category_parent_id=F("category__parent_id"),
        domain_id=Coalesce("category__parent_id", "category_id"),
        rated=_count_ratings(),
        satisfied=_count_ratings(value__in=SATISFIED_VALUES),
    )


def _insert_select(table: str, columns: tuple[str, ...], aliases: tuple[str, ...], qs: QuerySet) -> int:
    sql, params = qs.query.sql_with_params()
    select = ", ".join(f"t.{connection.ops.quote_name(a)}" for a in aliases)
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cur:
        # our own table and column names; the values travel as parameters
        cur.execute(f"INSERT INTO {table} ({cols}) SELECT {select} FROM ({sql}) t", params)  # noqa: S608
        return cur.rowcount


def _fact_rows(qs: QuerySet) -> tuple[QuerySet, tuple[str, ...]]:
    """The fact rows of some appeals (``live_appeals()``), and the alias of each of ``FACT_COLUMNS``."""
    src = qs.annotate(
        x_day=TruncDate("created_at"),
        place=Coalesce("community__path", "street__path", "path"),
        street_place=Coalesce("street__path", "path"),
    ).values(*("x_day" if column == "day" else column for column in FACT_COLUMNS))
    return src, tuple("x_day" if c == "day" else c for c in FACT_COLUMNS)


def _insert_facts(qs: QuerySet, *, ordered: bool = False) -> int:
    src, aliases = _fact_rows(qs)
    src = src.order_by(*(["created_at"] if ordered else []))
    return _insert_select(AppealFact._meta.db_table, FACT_COLUMNS, aliases, src)


def start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


MONTH_KEYS = ("month", "path", "street_id", "community_id", "domain_id", "lead_unit_id", "channel")
MONTH_SUMS = (
    "total",
    "signed_dispatched",
    "unsigned",
    "unsigned_due_max",
    "responded",
    "accepted",
    "resolved",
    "rated",
    "satisfied",
)
SUM_ALIASES = (
    "total",
    "signed_dispatched",
    "unsigned",
    "unsigned_due_max",
    "responded",
    "accepted",
    "resolved",
    "x_rated",
    "x_satisfied",
)


def _sums() -> dict:
    """The counts behind the three rates over a group of facts (``RateCounts``)."""
    return dict(
        total=Count("id"),
        signed_dispatched=Count("id", filter=Q(acceptance_due__isnull=False, signed_at__isnull=False)),
        unsigned=Count("id", filter=Q(acceptance_due__isnull=False, signed_at__isnull=True)),
        unsigned_due_max=Max("acceptance_due", filter=Q(signed_at__isnull=True)),
        responded=Count("id", filter=Q(signed_at__isnull=False, signed_at__lte=F("acceptance_due"))),
        accepted=Count(
            "id", filter=Q(registered_at__isnull=False) & ~Q(status__in=[S.REJECTED, S.MERGED, S.WITHDRAWN])
        ),
        resolved=Count("id", filter=Q(status=S.CLOSED)),
        x_rated=Sum("rated"),
        x_satisfied=Sum("satisfied"),
    )


def _month_facts(first: dt.date, end: dt.date) -> QuerySet:
    # by created_at (indexed) rather than day: the same rows
    return _with_month(
        AppealFact.objects.filter(created_at__gte=start_of(first), created_at__lt=start_of(end))
    )


def _with_month(facts: QuerySet) -> QuerySet:
    return facts.annotate(x_month=TruncMonth("day"), x_path=F("place"))


def _summaries(facts: QuerySet):
    """For each summary table and projection: (model, kind, columns, aliases, grouped queryset) — the
    facts ``facts`` (annotated by ``_with_month``) summed into that table's rows."""
    excluded = Q(status__in=[S.MERGED, S.WITHDRAWN])
    qs = (
        facts.values("x_month", "x_path", "street_id", "community_id", "domain_id", "lead_unit_id", "channel")
        .annotate(
            **_sums(),
            x_open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
            x_excluded=Count("id", filter=excluded),
            x_excluded_rated=Coalesce(Sum("rated", filter=excluded), 0),
            x_excluded_satisfied=Coalesce(Sum("satisfied", filter=excluded), 0),
        )
        .order_by()
    )
    aliases = (
        "x_month",
        "x_path",
        "street_id",
        "community_id",
        "domain_id",
        "lead_unit_id",
        "channel",
        *SUM_ALIASES,
        "x_open",
        "x_excluded",
        "x_excluded_rated",
        "x_excluded_satisfied",
    )
    columns = MONTH_KEYS + MONTH_SUMS + ("open", "excluded", "excluded_rated", "excluded_satisfied")
    yield MonthStat, None, columns, aliases, qs
    for kind, keys in RATE_PROJECTIONS.items():
        qs = (
            facts.annotate(
                x_kind=Value(kind, output_field=CharField()),
                x_place=F("x_path") if "x_path" in keys else Value("", output_field=CharField()),
            )
            .values("x_month", "x_kind", "x_place", *[k for k in keys if k != "x_path"])
            .annotate(**_sums())
            .order_by()
        )
        columns = ("month", "kind", "path", *[k for k in keys if k != "x_path"], *MONTH_SUMS)
        aliases = ("x_month", "x_kind", "x_place", *[k for k in keys if k != "x_path"], *SUM_ALIASES)
        yield RateMonth, kind, columns, aliases, qs
    closed = facts.filter(status=S.CLOSED, closed_at__isnull=False)
    closed = closed.annotate(x_secs=handling_seconds()).annotate(x_bucket=bucket_expression("x_secs"))
    for kind in HANDLING_PROJECTIONS:
        place = F("street_place") if kind == "street_unit" else Value("", output_field=CharField())
        qs = (
            closed.annotate(x_kind=Value(kind, output_field=CharField()), x_place=place)
            .values("x_month", "x_kind", "x_place", "lead_unit_id", "x_bucket")
            .annotate(x_n=Count("id"), x_seconds=Sum("x_secs"))
            .order_by()
        )
        columns = ("month", "kind", "path", "lead_unit_id", "bucket", "n", "seconds")
        aliases = ("x_month", "x_kind", "x_place", "lead_unit_id", "x_bucket", "x_n", "x_seconds")
        yield HandlingMonth, kind, columns, aliases, qs


def _insert_months(first: dt.date, end: dt.date) -> int:
    """MonthStat, RateMonth and HandlingMonth rows for the months whose first day lies in [first, end)."""
    return sum(
        _insert_select(model._meta.db_table, columns, aliases, qs)
        for model, _kind, columns, aliases, qs in _summaries(_month_facts(first, end))
    )


# RateMonth's projections: the fact columns each one keeps ("x_path": the community-level path).
RATE_PROJECTIONS = {
    "place_cat": ("x_path", "street_id", "community_id", "category_id", "category_parent_id"),
    "place_unit": ("x_path", "street_id", "community_id", "lead_unit_id"),
    "unit_cat": ("lead_unit_id", "category_id", "category_parent_id"),
}
HANDLING_PROJECTIONS = ("unit", "street_unit")

# Handling-time buckets: bucket b >= 1 holds [60·q^b, 60·q^(b+1)) seconds, bucket 0 [0, 60·q).
BUCKET_RATIO = 1.05


class _EpochSeconds(Func):
    """Seconds from ``created_at`` to ``closed_at`` as a float, on PostgreSQL and SQLite."""

    output_field = FloatField()

    def __init__(self):
        super().__init__(F("closed_at"), F("created_at"))

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="EXTRACT(EPOCH FROM (%(expressions)s))::double precision",  # numeric is slow in ln/sort
            arg_joiner=" - ",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra,
        )


def handling_seconds() -> Func:
    return _EpochSeconds()


def bucket_expression(field: str) -> Case:
    """The histogram bucket of a number of seconds (see ``BUCKET_RATIO``), in SQL."""
    return Case(
        When(**{f"{field}__lt": 60 * BUCKET_RATIO}, then=Value(0)),
        default=Floor(Ln(F(field) / Value(60.0)) / Value(math.log(BUCKET_RATIO))),
        output_field=IntegerField(),
    )


def bucket_of(seconds: float) -> int:
    """``bucket_expression`` in Python."""
    if seconds < 60 * BUCKET_RATIO:
        return 0
    return math.floor(math.log(seconds / 60.0) / math.log(BUCKET_RATIO))


def bucket_bounds(bucket: int) -> tuple[float, float]:
    """[lower, upper) seconds of a bucket."""
    if bucket <= 0:
        return 0.0, 60 * BUCKET_RATIO
    return 60 * BUCKET_RATIO**bucket, 60 * BUCKET_RATIO ** (bucket + 1)


def histogram_percentile(hist: dict[int, list], q: float) -> float | None:
    """``percentile_cont(q)`` estimated from {bucket: [n, seconds]}: the values at the two ranks it
    interpolates between are placed evenly inside their buckets (a bucket of one value: that value,
    exactly). Each estimate lies in the true value's bucket, so the result is within 5 % (one
    bucket's width) of the exact percentile; under 63 s, within 63 s."""
    total = sum(n for n, _ in hist.values())
    if not total:
        return None
    pos = (total - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)

    def value_at(rank: int) -> float:
        seen = 0
        for b in sorted(hist):
            n, secs = hist[b]
            if rank < seen + n:
                if n == 1:
                    return secs
                lower, upper = bucket_bounds(b)
                return lower + (upper - lower) * (rank - seen + 0.5) / n
            seen += n
        raise AssertionError("rank beyond the histogram")

    v_lo = value_at(lo)
    v_hi = value_at(hi) if hi != lo else v_lo
    return v_lo + (v_hi - v_lo) * (pos - lo)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def state() -> RollupState | None:
    return RollupState.objects.order_by("-pk").first()


# --- the incremental refresh ------------------------------------------------------------------------


def _null_safe_differs() -> str:
    return "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"


def conflict_target(model) -> str:
    """The ON CONFLICT target of a summary: the expressions of its unique dimensions index."""
    (constraint,) = model._meta.constraints
    qn = connection.ops.quote_name
    terms = []
    for expr in constraint.expressions:
        if isinstance(expr, Coalesce):
            terms.append(f"(COALESCE({qn(expr.source_expressions[0].name)}, {NULL_KEY}))")
        else:
            terms.append(qn(expr.name))
    return ", ".join(terms)


def _dimensions(model) -> set[str]:
    (constraint,) = model._meta.constraints
    return {
        e.source_expressions[0].name if isinstance(e, Coalesce) else e.name for e in constraint.expressions
    }


def _add_to_summary(model, columns, aliases, qs: QuerySet, *, sign: int) -> int:
    """Add (``sign`` 1) or subtract (-1) the grouped sums ``qs`` to the summary rows of the same
    dimensions, creating the missing ones. The latest unsigned deadline (``unsigned_due_max``) is
    not a sum: adding keeps the later one; subtracting a group's latest one clears it, and a row with
    unsigned cases and no latest deadline is then recomputed (``_repair_due_max``)."""
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    dims = _dimensions(model)
    select, sets = [], []
    for c, a in zip(columns, aliases, strict=True):
        if c in dims or c == "unsigned_due_max" or sign > 0:
            select.append(f"t.{qn(a)}")
        else:
            select.append(f"-t.{qn(a)}")
        col, new, old = qn(c), f"EXCLUDED.{qn(c)}", f"{table}.{qn(c)}"
        if c in dims:
            continue
        if c != "unsigned_due_max":
            sets.append(f"{col} = {old} + {new}")
        elif sign > 0:  # a stale row (unsigned cases, no deadline) stays stale until repaired
            sets.append(
                f"{col} = CASE WHEN {table}.{qn('unsigned')} > 0 AND {old} IS NULL THEN NULL"
                f" WHEN {old} IS NULL OR {new} > {old} THEN {new} ELSE {old} END"
            )
        else:
            sets.append(f"{col} = CASE WHEN {new} >= {old} THEN NULL ELSE {old} END")
    sql, params = qs.query.sql_with_params()
    cols = ", ".join(qn(c) for c in columns)
    with connection.cursor() as cur:
        # our own table and column names; the values travel as parameters. "WHERE true": SQLite's
        # parser would otherwise read ON CONFLICT as a join's ON.
        cur.execute(
            f"INSERT INTO {table} ({cols}) SELECT {', '.join(select)} FROM ({sql}) t WHERE true"  # noqa: S608
            f" ON CONFLICT ({conflict_target(model)}) DO UPDATE SET {', '.join(sets)}",
            params,
        )
        return cur.rowcount


CHANGED_TABLE = "appeal_stats_changed"  # a temporary table: the new rows of the facts being rewritten


def _changed_ids() -> RawSQL:
    return RawSQL(f"SELECT id FROM {CHANGED_TABLE}", [])  # noqa: S608, S611 - a constant name


def _stage(ids: list[int]) -> int:
    """The fact rows of the appeals ``ids`` as they are now, in a temporary table, less those equal
    to the stored fact (a fact differing only in ``updated_at`` gets that version written). Returns
    how many are left: the facts to rewrite."""
    qn = connection.ops.quote_name
    table, staged = qn(AppealFact._meta.db_table), qn(CHANGED_TABLE)
    with connection.cursor() as cur:
        drop = " ON COMMIT DROP" if connection.vendor == "postgresql" else ""
        cur.execute(f"CREATE TEMPORARY TABLE {staged}{drop} AS SELECT * FROM {table} WHERE 1 = 0")  # noqa: S608
        cur.execute(f"CREATE UNIQUE INDEX {qn(CHANGED_TABLE + '_id')} ON {staged} (id)")
    for i in range(0, len(ids), CHUNK):
        src, aliases = _fact_rows(live_appeals().filter(id__in=ids[i : i + CHUNK]))
        _insert_select(staged, FACT_COLUMNS, aliases, src)
    op = _null_safe_differs()
    same = " AND ".join(
        f"NOT (n.{qn(c)} {op} f.{qn(c)})" for c in FACT_COLUMNS if c not in ("id", "updated_at")
    )
    same_figures = f"SELECT n.id FROM {staged} n JOIN {table} f ON f.id = n.id WHERE {same}"  # noqa: S608
    with connection.cursor() as cur:
        # our own table and column names; no values
        versions = f"{same_figures} AND n.{qn('updated_at')} {op} f.{qn('updated_at')}"
        cur.execute(versions)
        if cur.fetchall():
            cur.execute(
                f"UPDATE {table} SET {qn('updated_at')} = (SELECT n.{qn('updated_at')}"  # noqa: S608
                f" FROM {staged} n WHERE n.id = {table}.id) WHERE id IN ({versions})"
            )
        cur.execute(f"DELETE FROM {staged} WHERE id IN ({same_figures})")  # noqa: S608
        if connection.vendor == "postgresql":
            cur.execute(f"ANALYZE {staged}")
        cur.execute(f"SELECT COUNT(*) FROM {staged}")  # noqa: S608
        return cur.fetchone()[0]


def _apply(*, sign: int) -> int:
    """Subtract (``sign`` -1) or add (1) the staged facts' contribution to every summary."""
    facts = _with_month(AppealFact.objects.filter(id__in=_changed_ids()))
    return sum(
        _add_to_summary(model, columns, aliases, qs, sign=sign)
        for model, _kind, columns, aliases, qs in _summaries(facts)
    )


def _months_of_changed() -> set[dt.date]:
    days = (
        AppealFact.objects.filter(id__in=_changed_ids()).values_list("day", flat=True).distinct().order_by()
    )
    return {month_start(d) for d in days}


def _repair_due_max(months: set[dt.date]) -> int:
    """Recompute ``unsigned_due_max`` of the rows that lost their latest unsigned deadline, from the
    month's unsigned facts (a partial index holds them)."""
    repaired = 0
    for m in sorted(months):
        unsigned = _month_facts(m, next_month(m)).filter(signed_at__isnull=True, acceptance_due__isnull=False)
        month_keys = ("x_path", "street_id", "community_id", "domain_id", "lead_unit_id", "channel")
        projections = [(MonthStat, None, month_keys)] + [
            (RateMonth, kind, keys) for kind, keys in RATE_PROJECTIONS.items()
        ]
        for model, kind, keys in projections:
            stale = model.objects.filter(month=m, unsigned__gt=0, unsigned_due_max__isnull=True)
            if kind is not None:
                stale = stale.filter(kind=kind)
            fields = ["path" if k == "x_path" else k for k in keys]
            stale_rows = list(stale.values_list("pk", *fields))
            if not stale_rows:
                continue
            latest = {
                tuple(r[:-1]): r[-1]
                for r in unsigned.values(*keys).annotate(due=Max("acceptance_due")).values_list(*keys, "due")
            }
            for pk, *key in stale_rows:
                repaired += model.objects.filter(pk=pk).update(unsigned_due_max=latest.get(tuple(key)))
    return repaired


def _catch_up(*, since: dt.datetime) -> int:
    """The incremental refresh (module docstring): the facts of the appeals that changed, and their
    old and new contributions to the monthly sums. Returns the number of facts rewritten."""
    newer = Appeal.objects.filter(updated_at__gte=since).exclude(
        Exists(AppealFact.objects.filter(pk=OuterRef("pk"), updated_at=OuterRef("updated_at")))
    )
    ids = set(newer.values_list("id", flat=True))
    ids |= set(Rating.objects.filter(at__gte=since).values_list("appeal_id", flat=True))
    if not ids:
        return 0
    rows = _stage(sorted(ids))
    if rows:
        months = _months_of_changed()  # of the old facts
        _apply(sign=-1)
        AppealFact.objects.filter(id__in=_changed_ids()).delete()
        qn = connection.ops.quote_name
        cols = ", ".join(qn(c) for c in FACT_COLUMNS)
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {qn(AppealFact._meta.db_table)} ({cols}) SELECT {cols} FROM {qn(CHANGED_TABLE)}"  # noqa: S608
            )
        months |= _months_of_changed()  # of the new ones
        _apply(sign=1)
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE {connection.ops.quote_name(CHANGED_TABLE)}")
    if rows:
        MonthStat.objects.filter(month__in=months, total=0).delete()
        RateMonth.objects.filter(kind__in=list(RATE_PROJECTIONS), month__in=months, total=0).delete()
        HandlingMonth.objects.filter(kind__in=list(HANDLING_PROJECTIONS), month__in=months, n=0).delete()
        _repair_due_max(months)
    return rows


SUMMARY_MODELS = (MonthStat, RateMonth, HandlingMonth)
LOCK_KEY = 0x4C4E5354  # "LNST": the advisory lock that lets one refresh run at a time


def refresh(*, full: bool = False, now: dt.datetime | None = None) -> RollupState:
    """Bring the facts and the monthly sums up to date (see the module docstring)."""
    t0 = time.monotonic()
    now = now or timezone.now()
    rows = 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
                if not cur.fetchone()[0]:  # another refresh is running; it will catch up
                    return state() or RollupState(refreshed_at=now)
        current = state()
        if full or current is None:
            tables = [m._meta.db_table for m in (AppealFact, *SUMMARY_MODELS)]
            if connection.vendor == "postgresql":
                with connection.cursor() as cur:
                    cur.execute(f"TRUNCATE {', '.join(tables)}")
            else:
                for model in (AppealFact, *SUMMARY_MODELS):
                    model.objects.all().delete()
            rows = _insert_facts(live_appeals(), ordered=True)  # a period's rows stay together on disk
            bounds = AppealFact.objects.aggregate(lo=Min("day"), hi=Max("day"))
            if bounds["lo"]:
                _insert_months(month_start(bounds["lo"]), next_month(bounds["hi"]))
        else:
            rows = _catch_up(since=current.refreshed_at - MARGIN)
        late = {
            m.isoformat(): due.isoformat()
            for m, due in MonthStat.objects.filter(unsigned_due_max__gt=now)
            .values("month")
            .annotate(due=Max("unsigned_due_max"))
            .values_list("month", "due")
            .order_by()
        }
        RollupState.objects.all().delete()
        current = RollupState.objects.create(
            refreshed_at=now, seconds=round(time.monotonic() - t0, 3), rows=rows, late_months=late
        )
        if (full or rows > 50_000) and connection.vendor == "postgresql":
            with connection.cursor() as cur:
                for model in (AppealFact, *SUMMARY_MODELS):
                    cur.execute(f"ANALYZE {model._meta.db_table}")
    return current
