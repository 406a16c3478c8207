"""The dashboard's own narrow copy of the appeals (``AppealFact``) and its monthly sums (``MonthStat``),
so that the figures stay fast at a million appeals with exactly the definitions of ``selectors``.

- ``AppealFact``: one row per appeal with the columns the figures read (ids of its places, category,
  domain, lead unit, channel, status, the timestamps of the three rates and its rating counts). The
  figures count it with the same conditions as the appeals table; ``now`` is applied at query time.
- ``MonthStat``: sums of the facts per month × community-level path × street × community × domain ×
  lead unit × channel; used for whole past months (the 12-month trend, long periods). A month whose
  unsigned cases have an acceptance deadline still ahead of ``now`` is read from the facts instead.
- Live: appeals submitted since the start of the day of the last refresh (``cut``) are read from the
  appeals table (indexed on ``created_at``, a small slice), so today's figures are exact at once.

``refresh()`` brings facts and months up to date: incrementally (appeals whose ``updated_at`` or
whose rating is newer than the last refresh, minus a margin for late commits) or in full. It runs
every minute (``dashboard_rollup_refresh`` in ``LINLI_PERIODIC_TASKS``), before each report, and by
``manage.py dashboard_rollup [--full]``. Changes to older appeals reach the figures at the next
refresh. Without any refresh (fresh install, tests) the selectors read the appeals table only.
"""

from __future__ import annotations

import datetime as dt
import time

from django.db import connection, transaction
from django.db.models import Count, F, IntegerField, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from linli.core.places.models import Area
from linli.domains.appeals.choices import SATISFIED_VALUES, AppealStatus
from linli.domains.appeals.models import Appeal, Rating

from .models import AppealFact, MonthStat, RollupState

S = AppealStatus
MARGIN = dt.timedelta(minutes=10)  # transactions that commit late
CHUNK = 5000
# Scope paths at most this deep ("510106/<street>/<community>/") can read MonthStat.
MONTH_PATH_DEPTH = 3

FACT_COLUMNS = (
    "id", "day", "created_at", "status", "channel", "path", "street_id", "community_id", "grid_id",
    "category_id", "category_parent_id", "domain_id", "lead_unit_id", "acceptance_due", "signed_at",
    "registered_at", "closed_at", "rated", "satisfied",
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
        cur.execute(f"INSERT INTO {table} ({cols}) SELECT {select} FROM ({sql}) t", params)
        return cur.rowcount


def _insert_facts(qs: QuerySet, *, ordered: bool = False) -> int:
    src = qs.annotate(x_day=TruncDate("created_at")).values(
        "id", "x_day", "created_at", "status", "channel", "path", "street_id", "community_id", "grid_id",
        "category_id", "category_parent_id", "domain_id", "lead_unit_id", "acceptance_due", "signed_at",
        "registered_at", "closed_at", "rated", "satisfied",
    ).order_by(*(["created_at"] if ordered else []))
    aliases = tuple("x_day" if c == "day" else c for c in FACT_COLUMNS)
    return _insert_select(AppealFact._meta.db_table, FACT_COLUMNS, aliases, src)


def _area_path(field: str) -> Subquery:
    return Subquery(Area.objects.filter(pk=OuterRef(field)).values("path")[:1])


MONTH_KEYS = ("month", "path", "street_id", "community_id", "domain_id", "lead_unit_id", "channel")
MONTH_SUMS = ("total", "signed_dispatched", "unsigned", "unsigned_due_max", "responded", "accepted",
              "resolved", "rated", "satisfied")


def _insert_months(first: dt.date, end: dt.date) -> int:
    """MonthStat rows for the months whose first day lies in [first, end)."""
    qs = (
        AppealFact.objects.filter(day__gte=first, day__lt=end)
        .annotate(
            x_month=TruncMonth("day"),
            x_path=Coalesce(_area_path("community_id"), _area_path("street_id"), "path"),
        )
        .values("x_month", "x_path", "street_id", "community_id", "domain_id", "lead_unit_id", "channel")
        .annotate(
            total=Count("id"),
            signed_dispatched=Count("id", filter=Q(acceptance_due__isnull=False, signed_at__isnull=False)),
            unsigned=Count("id", filter=Q(acceptance_due__isnull=False, signed_at__isnull=True)),
            unsigned_due_max=Max("acceptance_due", filter=Q(signed_at__isnull=True)),
            responded=Count("id", filter=Q(signed_at__isnull=False, signed_at__lte=F("acceptance_due"))),
            accepted=Count("id", filter=Q(registered_at__isnull=False) & ~Q(status__in=[S.REJECTED, S.MERGED, S.WITHDRAWN])),
            resolved=Count("id", filter=Q(status=S.CLOSED)),
            x_rated=Sum("rated"),
            x_satisfied=Sum("satisfied"),
        )
        .order_by()
    )
    aliases = ("x_month", "x_path", "street_id", "community_id", "domain_id", "lead_unit_id", "channel",
               "total", "signed_dispatched", "unsigned", "unsigned_due_max", "responded", "accepted",
               "resolved", "x_rated", "x_satisfied")
    return _insert_select(MonthStat._meta.db_table, MONTH_KEYS + MONTH_SUMS, aliases, qs)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def state() -> RollupState | None:
    return RollupState.objects.order_by("-pk").first()


def refresh(*, full: bool = False, now: dt.datetime | None = None) -> RollupState:
    """Bring ``AppealFact`` and ``MonthStat`` up to date (see the module docstring)."""
    t0 = time.monotonic()
    now = now or timezone.now()
    current = state()
    rows = 0
    with transaction.atomic():
        if full or current is None:
            if connection.vendor == "postgresql":
                with connection.cursor() as cur:
                    cur.execute(f"TRUNCATE {AppealFact._meta.db_table}, {MonthStat._meta.db_table}")
            else:
                AppealFact.objects.all().delete()
                MonthStat.objects.all().delete()
            rows = _insert_facts(live_appeals(), ordered=True)  # a period's rows stay together on disk
            bounds = AppealFact.objects.aggregate(lo=Min("day"), hi=Max("day"))
            if bounds["lo"]:
                _insert_months(month_start(bounds["lo"]), next_month(bounds["hi"]))
        else:
            since = current.refreshed_at - MARGIN
            ids = set(Appeal.objects.filter(updated_at__gte=since).values_list("id", flat=True))
            ids |= set(Rating.objects.filter(at__gte=since).values_list("appeal_id", flat=True))
            months: set[dt.date] = set()
            ids_list = sorted(ids)
            for i in range(0, len(ids_list), CHUNK):
                chunk = ids_list[i : i + CHUNK]
                months |= {month_start(d) for d in AppealFact.objects.filter(id__in=chunk).values_list("day", flat=True).distinct()}
                AppealFact.objects.filter(id__in=chunk).delete()
                rows += _insert_facts(live_appeals().filter(id__in=chunk))
                months |= {month_start(d) for d in AppealFact.objects.filter(id__in=chunk).values_list("day", flat=True).distinct()}
            for m in sorted(months):
                MonthStat.objects.filter(month=m).delete()
                _insert_months(m, next_month(m))
        late = {
            m.isoformat(): due.isoformat()
            for m, due in MonthStat.objects.filter(unsigned_due_max__gt=now).values("month")
            .annotate(due=Max("unsigned_due_max")).values_list("month", "due").order_by()
        }
        RollupState.objects.all().delete()
        current = RollupState.objects.create(refreshed_at=now, seconds=round(time.monotonic() - t0, 3), rows=rows,
                                             late_months=late)
        if (full or rows > 50_000) and connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute(f"ANALYZE {AppealFact._meta.db_table}")
                cur.execute(f"ANALYZE {MonthStat._meta.db_table}")
    return current
