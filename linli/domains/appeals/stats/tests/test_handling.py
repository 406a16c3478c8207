"""The handling-time histogram (``HandlingMonth``): buckets computed in SQL as in Python, every closed
fact counted once per projection, and the 90th percentile read from it within one bucket (5 %) of
PostgreSQL's ``percentile_cont`` — exact when the ranks it needs sit alone in their buckets."""

from __future__ import annotations

import datetime as dt
import math
import random

import pytest
from django.db.models import Sum
from django.utils import timezone

from linli.domains.appeals.choices import AppealStatus as S
from linli.domains.appeals.models import Appeal
from linli.domains.appeals.stats import rollup
from linli.domains.appeals.stats.models import AppealFact, HandlingMonth
from linli.domains.appeals.tests.helpers import bring_to


def exact_percentile(values, q):
    values = sorted(values)
    pos = (len(values) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def histogram(values):
    h: dict = {}
    for v in values:
        n, secs = h.get(rollup.bucket_of(v), (0, 0.0))
        h[rollup.bucket_of(v)] = [n + 1, secs + v]
    return h


@pytest.mark.parametrize("seed", range(6))
def test_percentile_within_one_bucket(seed):
    rnd = random.Random(seed)
    n = rnd.choice([2, 3, 10, 97, 1000, 20000])
    values = [rnd.lognormvariate(math.log(3600 * rnd.choice([2, 30, 200])), 1.2) for _ in range(n)]
    values += [rnd.random() * 50 for _ in range(n // 20)]  # a few under a minute (bucket 0)
    exact = exact_percentile(values, 0.9)
    estimate = rollup.histogram_percentile(histogram(values), 0.9)
    assert abs(estimate - exact) <= max(0.05 * exact, 63), (n, exact, estimate)


def test_percentile_exact_for_lone_values_and_empty():
    values = [100.0, 7200.0, 86400.0 * 3]
    assert rollup.histogram_percentile(histogram(values), 0.9) == pytest.approx(exact_percentile(values, 0.9))
    assert rollup.histogram_percentile({}, 0.9) is None
    lower, upper = rollup.bucket_bounds(rollup.bucket_of(3600))
    assert lower <= 3600 < upper and upper / lower == pytest.approx(1.05)


@pytest.mark.django_db
def test_histogram_counts_every_closed_fact_in_its_bucket(world, on_commit):
    for i in range(4):
        bring_to(world, S.CLOSED, grid_index=i)
    bring_to(world, S.IN_PROGRESS)
    now = timezone.now()
    rnd = random.Random(3)
    for a in Appeal.objects.filter(status=S.CLOSED):
        created = now - dt.timedelta(days=rnd.random() * 90)
        Appeal.objects.filter(pk=a.pk).update(
            created_at=created, closed_at=created + dt.timedelta(seconds=rnd.choice([30, 3599, 86400 * 4.5]))
        )
    rollup.refresh(full=True, now=now)
    closed = AppealFact.objects.filter(status=S.CLOSED)
    for kind in rollup.HANDLING_PROJECTIONS:
        rows = HandlingMonth.objects.filter(kind=kind)
        assert rows.aggregate(n=Sum("n"))["n"] == closed.count() == 4
        total = 0.0
        for fact in closed:
            secs = (fact.closed_at - fact.created_at).total_seconds()
            total += secs
            month = timezone.localtime(fact.created_at).date().replace(day=1)
            assert rows.filter(
                month=month, bucket=rollup.bucket_of(secs), lead_unit_id=fact.lead_unit_id
            ).exists()
        assert rows.aggregate(s=Sum("seconds"))["s"] == pytest.approx(total, rel=1e-6)
    assert set(HandlingMonth.objects.filter(kind="street_unit").values_list("path", flat=True)) <= {
        s.path for s in world.d.streets
    }
