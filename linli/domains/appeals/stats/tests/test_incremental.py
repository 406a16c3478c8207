"""The incremental refresh (``rollup.refresh()``) leaves the facts and every monthly sum exactly as a
full refresh builds them, after rounds of random changes to the appeals: new cases (some on month
boundaries), status changes, closings, signings, ratings, new categories and lead units, cases moved
to another place or across a month boundary, a late deadline signed (the group's latest deadline is
recomputed), and a change that commits late with an older ``updated_at``. And a refresh after nothing
changed writes nothing."""

from __future__ import annotations

import copy
import datetime as dt
import random
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from linli.core.orgs.models import Organisation
from linli.core.places.choices import AreaKind
from linli.core.places.models import Area
from linli.domains.appeals.choices import AppealStatus as S
from linli.domains.appeals.choices import RatingValue
from linli.domains.appeals.models import Appeal, Category, Rating
from linli.domains.appeals.stats import rollup
from linli.domains.appeals.stats.models import AppealFact, HandlingMonth, MonthStat, RateMonth

from .test_rates import STATUSES, _local, _random_cases, _walked_cases

pytestmark = pytest.mark.django_db

TABLES = (AppealFact, MonthStat, RateMonth, HandlingMonth)


def _rows(model) -> list[tuple]:
    """A table's rows without the summaries' surrogate ids; HandlingMonth's float sums of seconds
    apart (their last bits depend on the order of addition, in a full refresh too)."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname != "id" or model is AppealFact]
    if model is HandlingMonth:
        names.remove("seconds")
    return sorted(model.objects.values_list(*names), key=repr)


def _snapshot() -> dict:
    out = {model.__name__: _rows(model) for model in TABLES}
    out["seconds"] = {
        (r.month, r.kind, r.path, r.lead_unit_id, r.bucket): r.seconds for r in HandlingMonth.objects.all()
    }
    return out


def _assert_equal(incremental: dict, full: dict) -> None:
    for model in TABLES:
        name = model.__name__
        extra = set(incremental[name]) - set(full[name])
        missing = set(full[name]) - set(incremental[name])
        assert not extra and not missing, (name, sorted(extra, key=repr)[:3], sorted(missing, key=repr)[:3])
        assert len(incremental[name]) == len(full[name]), name
    assert incremental["seconds"].keys() == full["seconds"].keys()
    for key, secs in full["seconds"].items():
        assert incremental["seconds"][key] == pytest.approx(secs, rel=1e-9, abs=1e-6), key


def _boundaries(now: dt.datetime) -> list[dt.datetime]:
    m = timezone.localdate(now).replace(day=1)
    out = []
    for _ in range(3):
        start = _local(m.year, m.month, 1)
        out += [start, start - dt.timedelta(microseconds=1)]
        m = (m - dt.timedelta(days=1)).replace(day=1)
    return out


def _change_some(rnd: random.Random, now: dt.datetime, last_refresh: dt.datetime, serial: list[int]) -> None:
    """One round of random changes, saved as the services save them (``updated_at`` moves)."""
    appeals = list(Appeal.objects.order_by("pk"))
    cats = list(Category.objects.all()) + [None]
    units = list(Organisation.objects.all()) + [None]
    grids = list(Area.objects.filter(kind=AreaKind.GRID).select_related("parent__parent"))
    boundaries = _boundaries(now)
    for a in rnd.sample(appeals, 25):
        change = rnd.choice(
            ["status", "close", "sign", "unsign", "category", "unit", "place", "month", "due"]
        )
        if change == "status":
            a.status = rnd.choice(STATUSES)
        elif change == "close":
            a.status, a.closed_at = S.CLOSED, a.created_at + dt.timedelta(hours=rnd.random() * 300)
        elif change == "sign":
            a.signed_at = a.created_at + dt.timedelta(hours=rnd.random() * 40)
        elif change == "unsign":
            a.signed_at = None
        elif change == "category":
            a.category = rnd.choice(cats)
        elif change == "unit":
            a.lead_unit = rnd.choice(units)
        elif change == "place":
            g = rnd.choice(grids)
            a.grid, a.community, a.street, a.path = g, g.parent, g.parent.parent, g.path
        elif change == "month":
            a.created_at = rnd.choice(boundaries)
        else:
            a.acceptance_due = (
                None if rnd.random() < 0.2 else a.created_at + dt.timedelta(hours=rnd.random() * 900)
            )
        a.save()
    # the group with the latest unsigned deadline loses it: the deadline is recomputed from the others
    latest = Appeal.objects.filter(signed_at__isnull=True, acceptance_due__isnull=False).order_by(
        "-acceptance_due"
    )
    for a in latest[:2]:
        a.signed_at = a.created_at + dt.timedelta(hours=1)
        a.save()
    # ratings, some on cases not otherwise touched
    for a in rnd.sample(appeals, 6):
        round_ = (
            Rating.objects.filter(appeal=a).order_by("-round").values_list("round", flat=True).first() or 0
        ) + 1
        Rating.objects.create(
            appeal=a, round=round_, value=rnd.choice(list(RatingValue.values)), source="callback"
        )
    # new cases, some on month boundaries
    made = []
    for template in rnd.sample(appeals, 8):
        a = copy.copy(template)
        serial[0] += 1
        a.pk, a.reference, a.idempotency_key, a.external_ref = None, f"RI{serial[0]:06d}", "", ""
        a.created_at = (
            rnd.choice(boundaries) if rnd.random() < 0.5 else now - dt.timedelta(days=rnd.random() * 60)
        )
        a.status = rnd.choice(STATUSES)
        a.closed_at = a.created_at + dt.timedelta(hours=rnd.random() * 100) if a.status == S.CLOSED else None
        made.append(a)
    Appeal.objects.bulk_create(made)
    # a transaction that commits after the last refresh with an updated_at from before it
    late = rnd.choice(appeals)
    Appeal.objects.filter(pk=late.pk).update(
        status=S.CLOSED if late.status != S.CLOSED else S.REOPENED,
        closed_at=late.created_at + dt.timedelta(hours=7),
        category=rnd.choice(cats),
        updated_at=last_refresh - dt.timedelta(minutes=3),
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_incremental_refresh_equals_full(world, on_commit, seed):
    _walked_cases(world)
    now = timezone.now()
    _random_cases(now, n=150, seed=seed)
    st = rollup.refresh(full=True, now=now)
    rnd = random.Random(seed)
    serial = [0]
    for _ in range(3):
        for _ in range(2):  # two incremental refreshes between comparisons: their changes add up
            _change_some(rnd, timezone.now(), st.refreshed_at, serial)
            st = rollup.refresh(now=timezone.now())
            assert st.rows > 0
        incremental = _snapshot()
        late_months = st.late_months
        st = rollup.refresh(full=True, now=st.refreshed_at)
        _assert_equal(incremental, _snapshot())
        assert late_months == st.late_months


def _writes(queries) -> list[str]:
    """The statements that write to the copy's tables (not to the refresh's temporary table)."""
    tables = {m._meta.db_table for m in TABLES}
    out = []
    for q in queries:
        found = re.match(r'\s*(?:INSERT INTO|UPDATE|DELETE FROM)\s+"?(\w+)"?', q["sql"], re.IGNORECASE)
        if found and found.group(1) in tables:
            out.append(q["sql"])
    return out


def test_refresh_after_nothing_changed_writes_nothing(world, on_commit):
    _walked_cases(world)
    now = timezone.now()
    _random_cases(now, n=80, seed=4)
    rollup.refresh(full=True, now=now)
    before = _snapshot()
    with CaptureQueriesContext(connection) as queries:
        st = rollup.refresh(now=timezone.now())  # every appeal and rating is within the margin
    assert st.rows == 0
    assert _writes(queries.captured_queries) == []
    assert _snapshot() == before

    # only updated_at moves (a change the figures do not read): the fact's version, nothing else
    target = Appeal.objects.filter(reference__startswith="RT").first()
    Appeal.objects.filter(pk=target.pk).update(updated_at=timezone.now())
    with CaptureQueriesContext(connection) as queries:
        st = rollup.refresh(now=timezone.now())
    assert st.rows == 0
    writes = _writes(queries.captured_queries)
    assert len(writes) == 1 and AppealFact._meta.db_table in writes[0], writes
    target.refresh_from_db()
    assert AppealFact.objects.get(pk=target.pk).updated_at == target.updated_at

    # one case closed: its fact and the sums of its groups, then nothing again
    target.status, target.closed_at = S.CLOSED, target.created_at + dt.timedelta(hours=3)
    target.save()
    st = rollup.refresh(now=timezone.now())
    assert st.rows == 1
    with CaptureQueriesContext(connection) as queries:
        st = rollup.refresh(now=timezone.now())
    assert st.rows == 0 and _writes(queries.captured_queries) == []
