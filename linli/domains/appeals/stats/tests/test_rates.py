"""``appeal_rates`` read from the statistics copy (monthly sums, facts, today live) gives exactly the
numbers of the appeals table: on cases walked through the real services (reopened, merged, withdrawn,
rated twice) and on random cases over fourteen months with cases on the month and period boundaries
and acceptance deadlines still ahead, for every grouping and filter; after a full and after an
incremental refresh. And it really reads the copy: a change not yet refreshed is not seen."""

from __future__ import annotations

import copy
import datetime as dt
import random

import pytest
from django.db.models import F
from django.utils import timezone

from linli.core.orgs.models import Organisation
from linli.core.places.choices import AreaKind
from linli.core.places.models import Area
from linli.domains.appeals import services as svc
from linli.domains.appeals.choices import AppealStatus as S
from linli.domains.appeals.choices import RatingValue
from linli.domains.appeals.models import Appeal, Category, Rating
from linli.domains.appeals.selectors import GROUPS, appeal_rate_counts_from_table, appeal_rates
from linli.domains.appeals.stats import rollup
from linli.domains.appeals.stats.models import AppealFact, RateMonth, RollupState
from linli.domains.appeals.stats.rates import projection_for
from linli.domains.appeals.tests.helpers import bring_to

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
    S.RETURNED,
]


def _local(*args) -> dt.datetime:
    return timezone.make_aware(dt.datetime(*args))


def _walked_cases(w):
    """Cases in every state through the services, one of them rated, reopened and rated again."""
    for status in (
        S.SUBMITTED,
        S.REGISTERED,
        S.DISPATCHED,
        S.IN_PROGRESS,
        S.HANDLED,
        S.REJECTED,
        S.MERGED,
        S.WITHDRAWN,
        S.RETURNED,
        S.REOPENED,
    ):
        bring_to(w, status)
    twice = bring_to(w, S.CLOSED, grid_index=3)
    svc.appeal_rate(actor=w.resident, appeal=twice, value=RatingValue.UNSATISFIED)
    twice = svc.appeal_reopen(actor=w.resident, appeal=twice, reason="还是没有清运")
    twice = svc.appeal_sign(actor=w.handler, appeal=twice)
    twice = svc.appeal_handle(actor=w.handler, appeal=twice, result="再次清运")
    twice = svc.appeal_verify(actor=w.dispatcher, appeal=twice, passed=True)
    svc.appeal_rate(actor=w.resident, appeal=twice, value=RatingValue.BASICALLY_SATISFIED)
    assert twice.status == S.CLOSED and twice.ratings.count() == 2
    once = bring_to(w, S.CLOSED, grid_index=5, category=w.dirty_road)
    svc.appeal_rate(actor=w.dispatcher, appeal=once, value=RatingValue.SATISFIED)


def _random_cases(now, n=300, seed=11):
    """Copies of the walked cases spread over fourteen months, some exactly on month boundaries (and
    a microsecond before), a few submitted today, some with the acceptance deadline still ahead."""
    rnd = random.Random(seed)
    templates = list(Appeal.objects.all())
    cats = list(Category.objects.all()) + [None]
    units = list(Organisation.objects.all()) + [None]
    grids = list(Area.objects.filter(kind=AreaKind.GRID).select_related("parent__parent"))
    local = timezone.localtime(now)
    boundaries = []
    m = local.date().replace(day=1)
    for _ in range(14):
        boundaries += [_local(m.year, m.month, 1), _local(m.year, m.month, 1) - dt.timedelta(microseconds=1)]
        m = (m - dt.timedelta(days=1)).replace(day=1)
    made = []
    for i in range(n):
        a = copy.copy(rnd.choice(templates))
        g = rnd.choice(grids)
        a.pk = None
        a.reference = f"RT{i:06d}"
        a.idempotency_key = ""
        a.external_ref = ""
        if i % 10 == 0:
            created = rnd.choice(boundaries)
        elif i % 10 == 1:
            created = now - dt.timedelta(hours=rnd.random() * 20)
        else:
            created = now - dt.timedelta(days=rnd.random() * 420)
        a.created_at = created
        a.status = rnd.choice(STATUSES)
        a.category = rnd.choice(cats)
        a.lead_unit = rnd.choice(units)
        if i % 17 == 0:  # placed in a street only
            a.grid, a.community, a.street, a.path = None, None, g.parent.parent, g.parent.parent.path
        else:
            a.grid, a.community, a.street, a.path = g, g.parent, g.parent.parent, g.path
        a.acceptance_due = (
            None if rnd.random() < 0.1 else created + dt.timedelta(hours=rnd.choice([2, 30, 24 * 400]))
        )
        a.signed_at = created + dt.timedelta(hours=rnd.random() * 40) if rnd.random() < 0.7 else None
        a.registered_at = created + dt.timedelta(minutes=20) if rnd.random() < 0.8 else None
        a.closed_at = created + dt.timedelta(hours=rnd.random() * 200) if a.status == S.CLOSED else None
        made.append(a)
    Appeal.objects.bulk_create(made)
    ratings = []
    for a in Appeal.objects.filter(reference__startswith="RT", status__in=[S.CLOSED, S.REOPENED]):
        for r in range(rnd.choice([0, 1, 1, 2])):
            ratings.append(
                Rating(
                    appeal=a,
                    round=r + 1,
                    value=rnd.choice(list(RatingValue.values)),
                    source="callback",
                    at=now,
                )
            )
    Rating.objects.bulk_create(ratings)


def _questions(w, today):
    street, community, grid = w.d.streets[0], w.d.communities[0], w.d.grids[0]
    month1 = today.replace(day=1)
    prev = (month1 - dt.timedelta(days=1)).replace(day=1)
    periods = [
        {},
        {"since": today - dt.timedelta(days=365)},
        {"since": today - dt.timedelta(days=29), "until": today},
        {"since": prev, "until": month1 - dt.timedelta(days=1)},  # exactly last month
        {"since": prev - dt.timedelta(days=200), "until": prev + dt.timedelta(days=3)},
        {"since": today},
        {"until": today - dt.timedelta(days=40)},
        {"since": today + dt.timedelta(days=1)},
    ]
    filters = [
        {},
        {"area_path": street.path},
        {"area_path": community.path},
        {"area_path": grid.path},  # finer than the monthly sums: facts
        {"category_id": w.domain.pk},
        {"category_id": w.rubbish.pk},
        {"unit_id": w.city_mgmt.pk},
        {"area_path": street.path, "category_id": w.domain.pk},
        {"area_path": street.path, "unit_id": w.city_mgmt.pk},
        {"category_id": w.domain.pk, "unit_id": w.city_mgmt.pk},
        {"area_path": community.path, "category_id": w.rubbish.pk, "unit_id": w.city_mgmt.pk},
    ]
    return [(g, p, f) for g in GROUPS for p in periods for f in filters]


def _compare(w, now):
    st = rollup.state()
    assert st is not None
    questions = _questions(w, timezone.localdate(now))
    slow = {}
    RollupState.objects.all().delete()
    for g, p, f in questions:
        slow[g, str(p), str(f)] = appeal_rates(group_by=g, now=now, **p, **f)
    RollupState.objects.create(refreshed_at=st.refreshed_at, late_months=st.late_months)
    differ = []
    for g, p, f in questions:
        fast = appeal_rates(group_by=g, now=now, **p, **f)
        if fast != slow[g, str(p), str(f)]:
            differ.append((g, p, f))
    assert not differ, differ[:5]
    return slow


def test_summary_equals_appeals_table(world, on_commit):
    _walked_cases(world)
    now = timezone.now()
    _random_cases(now)
    st = rollup.refresh(full=True, now=now)
    assert AppealFact.objects.count() == Appeal.objects.count()
    assert {k for k in RateMonth.objects.values_list("kind", flat=True).distinct()} == {
        "place_cat",
        "place_unit",
        "unit_cat",
    }
    assert st.late_months  # acceptance deadlines still ahead: those months are read from the facts
    slow = _compare(world, now)
    street_rows = slow["street", "{}", "{}"]
    assert sum(r["total"] for r in street_rows) == Appeal.objects.count()
    assert street_rows[-1]["key"] is None or all(r["key"] is not None for r in street_rows)
    assert sum(r["rated"] for r in street_rows) == Rating.objects.count()
    months = slow["month", "{}", "{}"]
    assert len(months) >= 14 and all(r["key"].day == 1 and r["label"] == r["key"] for r in months)

    # Changes after the refresh: an old case closed and rated, one re-categorised, a new case today.
    old = Appeal.objects.filter(status=S.IN_PROGRESS, created_at__lt=now - dt.timedelta(days=60)).first()
    old.status, old.closed_at = S.CLOSED, timezone.now()
    old.save()
    Rating.objects.create(appeal=old, round=old.round, value=RatingValue.SATISFIED, source="callback")
    moved = Appeal.objects.filter(created_at__lt=now - dt.timedelta(days=100)).exclude(pk=old.pk).first()
    moved.category = world.complaint
    moved.save()
    bring_to(world, S.CLOSED, grid_index=2)
    now = timezone.now()
    st = rollup.refresh(now=now)
    assert st.rows >= 3
    _compare(world, now)


def test_rates_read_the_copy_until_the_next_refresh(world, on_commit):
    """The copy is what is counted: an old case changed behind its back shows at the next refresh."""
    _walked_cases(world)
    now = timezone.now()
    _random_cases(now, n=120, seed=5)
    rollup.refresh(full=True, now=now)
    before = appeal_rates(group_by="street", now=now)
    target = (
        Appeal.objects.filter(created_at__lt=now - dt.timedelta(days=90)).exclude(status=S.CLOSED).first()
    )
    Appeal.objects.filter(pk=target.pk).update(status=S.CLOSED, closed_at=now)  # no refresh yet
    assert appeal_rates(group_by="street", now=now) == before
    table = appeal_rate_counts_from_table(group_by="street", now=now)
    assert sum(c["resolved"] for c in table.values()) == sum(r["resolved"] for r in before) + 1
    Appeal.objects.filter(pk=target.pk).update(updated_at=timezone.now())
    rollup.refresh(now=timezone.now())
    after = appeal_rates(group_by="street", now=now)
    assert sum(r["resolved"] for r in after) == sum(r["resolved"] for r in before) + 1
    # whole past months come from RateMonth: a change there shows in the answer
    RateMonth.objects.filter(kind="unit_cat").update(total=F("total") + 1)
    months = {r["key"]: r["total"] for r in appeal_rates(group_by="month", now=now)}
    table = appeal_rate_counts_from_table(group_by="month", now=now)
    assert sum(months.values()) > sum(c["total"] for c in table.values())


def test_projection_choice(world):
    street, grid = world.d.streets[0], world.d.grids[0]
    assert projection_for("month", area_path="", category_id=None, unit_id=None) == "unit_cat"
    assert projection_for("street", area_path="", category_id=1, unit_id=None) == "place_cat"
    assert projection_for("department", area_path=street.path, category_id=None, unit_id=None) == "place_unit"
    assert projection_for("category", area_path="", category_id=None, unit_id=3) == "unit_cat"
    assert projection_for("department", area_path=street.path, category_id=1, unit_id=None) is None
    assert projection_for("street", area_path=grid.path, category_id=None, unit_id=None) is None


def test_no_copy_means_appeals_table(world, on_commit):
    bring_to(world, S.CLOSED)
    assert rollup.state() is None
    rows = appeal_rates(group_by="department")
    assert [(r["label"], r["total"], r["resolved"]) for r in rows] == [("区综合执法局", 1, 1)]
