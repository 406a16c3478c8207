"""The fast path (AppealFact / MonthStat / live slice, ``linli.domains.appeals.stats.rollup``) gives
exactly the figures of the appeals table (the path taken when no rollup was ever built), on random
demo-like data spread over fourteen months, for every scope kind and filter, after a full and after an
incremental refresh."""

from __future__ import annotations

import copy
import datetime as dt
import random

import pytest
from django.db.models import Count, F, Q
from django.utils import timezone

from linli.core.orgs.models import Organisation
from linli.core.places.choices import AreaKind
from linli.core.places.models import Area
from linli.domains.appeals.choices import OPEN_STATUSES, RatingValue
from linli.domains.appeals.choices import AppealStatus as S
from linli.domains.appeals.models import Appeal, Category, Rating
from linli.domains.appeals.selectors import deadline_q
from linli.domains.appeals.stats import rollup
from linli.domains.appeals.stats.models import AppealFact, MonthStat, RollupState
from linli.faces.dashboard import selectors
from linli.faces.dashboard.scope import Scope, scope_of

pytestmark = pytest.mark.django_db

STATUSES = [
    S.SUBMITTED,
    S.REGISTERED,
    S.DISPATCHED,
    S.IN_PROGRESS,
    S.HANDLED,
    S.CLOSED,
    S.CLOSED,
    S.CLOSED,
    S.REJECTED,
    S.MERGED,
    S.WITHDRAWN,
    S.REOPENED,
]
CHANNELS = ["web", "mobile", "hotline", "patrol", "api", "walk_in"]


def _random_appeals(dash, n=260, seed=7):
    rnd = random.Random(seed)
    now = timezone.now()
    templates = list(Appeal.objects.all())
    cats = list(Category.objects.all()) + [None]
    units = list(Organisation.objects.all())
    grids = list(Area.objects.filter(kind=AreaKind.GRID).select_related("parent__parent"))
    made = []
    for i in range(n):
        a = copy.copy(rnd.choice(templates))
        g = rnd.choice(grids)
        a.pk = None
        a.reference = f"RND{i:06d}"
        a.idempotency_key = ""
        a.external_ref = ""
        created = (
            now - dt.timedelta(days=rnd.random() * 420)
            if i % 5
            else now - dt.timedelta(hours=rnd.random() * 30)
        )
        a.created_at = created
        a.status = rnd.choice(STATUSES)
        a.channel = rnd.choice(CHANNELS)
        a.category = rnd.choice(cats)
        a.lead_unit = rnd.choice(units + [None])
        a.grid, a.community, a.street, a.path = g, g.parent, g.parent.parent, g.path
        a.acceptance_due = (
            None if rnd.random() < 0.1 else created + dt.timedelta(hours=rnd.choice([2, 30, 24 * 400]))
        )
        a.signed_at = created + dt.timedelta(hours=rnd.random() * 40) if rnd.random() < 0.7 else None
        a.registered_at = created + dt.timedelta(minutes=20) if rnd.random() < 0.8 else None
        a.closed_at = created + dt.timedelta(hours=rnd.random() * 200) if a.status == S.CLOSED else None
        # the colour is derived from the instants: overdue, near (past 80%) or still ahead
        a.handling_due = now + dt.timedelta(hours=rnd.choice([-30, -1, 2, 50]))
        a.handling_warn_at = a.handling_due - dt.timedelta(hours=rnd.choice([1, 10]))
        made.append(a)
    Appeal.objects.bulk_create(made)
    ratings = []
    for a in Appeal.objects.filter(reference__startswith="RND", status=S.CLOSED):
        for rnd_round in range(rnd.choice([0, 1, 1, 2])):
            ratings.append(
                Rating(
                    appeal=a,
                    round=rnd_round + 1,
                    value=rnd.choice(list(RatingValue.values)),
                    source="callback",
                    at=now,
                )
            )
    Rating.objects.bulk_create(ratings)
    # bulk_create bypasses auto_now only for updated_at of new rows; all are new, so all are picked up.


def _scopes(dash):
    street = dash.w.d.streets[0]
    community = dash.w.d.communities[0]
    grid = dash.w.d.grids[0]
    return [
        scope_of(dash.leader),
        scope_of(dash.street_leader),
        Scope(paths=(community.path,)),
        Scope(paths=(grid.path,)),  # deeper than MonthStat: read from the facts
        Scope(unit_ids=frozenset({dash.w.housing.pk})),
        Scope(paths=(dash.w.d.streets[1].path,), unit_ids=frozenset({dash.w.housing.pk})),
        Scope(everything=True) if street else None,
    ]


def _filters(dash):
    domain = Category.objects.filter(parent__isnull=True).first()
    leaf = Category.objects.filter(parent__isnull=False).first()
    base = selectors.filters_from({"period": "30d"})
    year = selectors.filters_from({"period": "365d"})
    return [
        base,
        year,
        selectors.filters_from({"period": "today"}),
        selectors.filters_from({"period": "7d"}),
        selectors.filters_from({"period": "90d", "channel": "hotline"}),
        selectors.Filters(year.since, year.until, category_id=domain.pk),
        selectors.Filters(year.since, year.until, category_id=leaf.pk),
        selectors.Filters(year.since, year.until, unit_id=dash.w.housing.pk),
        selectors.Filters(dt.date(year.until.year - 1, 1, 1), year.until),
    ]


def _figures(scope, f, now):
    out = {"headline": selectors.headline(scope, f, now=now)}
    for g in ("street", "community", "department", "category", "month"):
        out[f"rates_{g}"] = {r["key"]: r for r in selectors.rates(scope, f, group_by=g, now=now)}
    out["trend"] = selectors.rate_trend(scope, f, now=now)
    for by in ("channel", "category"):
        s = selectors.intake_series(scope, f, by=by)
        out[f"intake_{by}"] = (s["axis"], {x["name"]: x["data"] for x in s["series"]})
    h = selectors.handling_time(scope, f)
    out["handling"] = (h["overall"], {r["key"]: r for r in h["by_unit"]})
    out["workers"] = {r["grid_id"]: r for r in selectors.grid_worker_load(scope, f, limit=1000)}
    for level in (AreaKind.GRID, AreaKind.COMMUNITY, AreaKind.STREET):
        out[f"map_{level}"] = selectors.map_figures(scope, f, level=level)
    return out


def _reference_map(scope, f, field_name):
    """The original single-query definition of the map figures."""
    in_period = Q(created_at__gte=f.start, created_at__lt=f.end)
    is_open = Q(status__in=OPEN_STATUSES)
    rows = (
        selectors.appeals_in(scope, f)
        .filter(**{f"{field_name}__isnull": False})
        .filter(is_open | in_period)
        .values(field_name)
        .annotate(
            open=Count("id", filter=is_open),
            overdue=Count("id", filter=is_open & deadline_q("red")),
            near=Count("id", filter=is_open & deadline_q("yellow")),
            new=Count("id", filter=in_period),
        )
        .order_by()
    )
    return {r[field_name]: {k: r[k] for k in ("open", "overdue", "near", "new")} for r in rows}


def _compare_all(dash, now):
    for scope in filter(None, _scopes(dash)):
        for f in _filters(dash):
            RollupState.objects.all().delete()
            slow = _figures(scope, f, now)
            for level, field_name in selectors.LEVEL_FIELD.items():
                assert slow[f"map_{level}"] == _reference_map(scope, f, field_name)
            RollupState.objects.create(
                refreshed_at=state_at[0].refreshed_at, late_months=state_at[0].late_months
            )
            fast = _figures(scope, f, now)
            for key in slow:
                if key == "handling":
                    _assert_handling_close(fast[key], slow[key], (scope, f))
                else:
                    assert fast[key] == slow[key], (scope, f, key)


def _assert_handling_close(fast, slow, where):
    """Handling time over whole months comes from the histogram: same counts, the average exact (up to
    the 0.1 h rounding of float sums), the 90th percentile within one bucket (5 %)."""
    (f_all, f_units), (s_all, s_units) = fast, slow
    assert f_units.keys() == s_units.keys(), where
    for a, b in [(f_all, s_all), *((f_units[k], s_units[k]) for k in s_units)]:
        assert a["n"] == b["n"], where
        if b["n"]:
            assert abs(a["avg_hours"] - b["avg_hours"]) <= 0.1, (where, a, b)
            assert abs(a["p90_hours"] - b["p90_hours"]) <= 0.05 * b["p90_hours"] + 0.1, (where, a, b)


state_at = [None]


def test_fast_path_equals_appeals_table(dash):
    _random_appeals(dash)
    now = timezone.now()
    st = rollup.refresh(full=True, now=now)
    state_at[0] = st
    assert AppealFact.objects.count() == Appeal.objects.count()
    assert MonthStat.objects.exists()
    _compare_all(dash, now)

    # Changes after the refresh: an old case closed and rated, a new case, one case re-categorised.
    old = Appeal.objects.filter(status=S.IN_PROGRESS, created_at__lt=now - dt.timedelta(days=60)).first()
    old.status, old.closed_at = S.CLOSED, timezone.now()
    old.save()
    Rating.objects.create(appeal=old, round=1, value=RatingValue.SATISFIED, source="callback")
    moved = Appeal.objects.filter(created_at__lt=now - dt.timedelta(days=100)).exclude(pk=old.pk).first()
    moved.category = Category.objects.filter(parent__isnull=False).last()
    moved.channel = "hotline"
    moved.save()
    now = timezone.now()
    st = rollup.refresh(now=now)
    state_at[0] = st
    assert st.rows >= 2
    _compare_all(dash, now)


def test_no_rollup_means_appeals_table(dash):
    assert rollup.state() is None
    f = selectors.filters_from({"period": "30d"})
    assert selectors.parts(scope_of(dash.leader), f) is None


def test_deadline_board_one_query_equals_per_unit_queries(dash):
    _random_appeals(dash, n=120, seed=3)
    from django.db.models import F

    for scope in filter(None, _scopes(dash)):
        f = selectors.filters_from({"period": "365d"})
        board = selectors.deadline_board(scope, f, per_unit=3)
        qs = selectors.appeals_in(scope, f).filter(
            deadline_q("red") | deadline_q("yellow"), status__in=OPEN_STATUSES
        )
        for u in board:
            expected = list(
                qs.filter(lead_unit_id=u.unit_id)
                .order_by(F("handling_due").asc(nulls_last=True), "id")
                .values_list("id", flat=True)[:3]
            )
            assert [c.pk for c in u.cases] == expected
            assert u.red == qs.filter(deadline_q("red"), lead_unit_id=u.unit_id).count()


def test_open_data_from_the_copy_equals_appeals_table(dash):
    _random_appeals(dash, n=200, seed=5)
    merged = Appeal.objects.filter(reference__startswith="RND", status=S.MERGED).first()
    Rating.objects.create(appeal=merged, round=1, value=RatingValue.SATISFIED, source="callback")  # left out
    now = timezone.now()
    rollup.refresh(full=True, now=now)
    today = timezone.localdate(now)
    periods = [
        (today - dt.timedelta(days=364), today),
        (today - dt.timedelta(days=29), today),
        (dt.date(today.year - 1, 1, 1), today - dt.timedelta(days=40)),
        (today, today),
    ]
    for since, until in periods:
        fast = selectors.open_data_rows(since=since, until=until)
        RollupState.objects.all().delete()
        slow = selectors.open_data_rows(since=since, until=until)
        RollupState.objects.create(refreshed_at=now)
        assert fast == slow, (since, until)
        assert sum(r["submitted"] for r in slow) == (
            Appeal.objects.filter(
                created_at__gte=selectors.start_of(since),
                created_at__lt=selectors.start_of(until + dt.timedelta(days=1)),
            )
            .exclude(status__in=[S.MERGED, S.WITHDRAWN])
            .count()
        )
    assert any(r["rated"] for r in fast) and any(r["open"] for r in fast)


def test_area_detail_equals_one_query_over_the_appeals_table(dash):
    """``area_cases`` (open index + statistics copy, two merged case lists) against the original
    single query over the appeals table."""
    _random_appeals(dash, n=200, seed=9)
    now = timezone.now()
    rollup.refresh(full=True, now=now)
    w = dash.w
    for scope in (scope_of(dash.leader), scope_of(dash.street_leader)):
        for area in (w.d.streets[0], w.d.communities[0], w.d.grids[0]):
            for period in ("7d", "30d", "365d"):
                f = selectors.filters_from({"period": period})
                got = selectors.area_cases(scope, f, area, limit=7)
                qs = selectors.appeals_in(scope, f).filter(path__startswith=area.path)
                in_period = Q(created_at__gte=f.start, created_at__lt=f.end)
                is_open = Q(status__in=OPEN_STATUSES)
                expected = qs.filter(is_open | in_period).aggregate(
                    open=Count("id", filter=is_open),
                    new=Count("id", filter=in_period),
                    closed=Count("id", filter=in_period & Q(status=S.CLOSED)),
                )
                assert {k: got["figures"][k] for k in expected} == expected, (area, period)
                ids = list(
                    qs.filter(is_open | in_period)
                    .order_by(F("handling_due").asc(nulls_last=True), "-created_at", "id")
                    .values_list("id", "handling_due", "created_at")[:7]
                )
                assert [(c.handling_due, c.created_at) for c in got["cases"]] == [(d, c) for _, d, c in ids]
