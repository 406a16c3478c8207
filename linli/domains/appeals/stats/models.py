"""The statistics copy of the appeals (``rollup.py``). Derived data only: ``refresh(full=True)``
rebuilds every row from the appeals tables, so these tables may be emptied at any time."""

from __future__ import annotations

from django.db import models


class AppealFact(models.Model):
    """One narrow row per appeal with only what the figures read. ``id`` is the appeal's id."""

    id = models.BigIntegerField(primary_key=True)
    day = models.DateField()  # local (Asia/Shanghai) date of created_at
    created_at = models.DateTimeField()
    status = models.CharField(max_length=16)
    channel = models.CharField(max_length=16)
    path = models.CharField(max_length=255)
    street_id = models.BigIntegerField(null=True)
    community_id = models.BigIntegerField(null=True)
    grid_id = models.BigIntegerField(null=True)
    category_id = models.BigIntegerField(null=True)
    category_parent_id = models.BigIntegerField(null=True)
    domain_id = models.BigIntegerField(null=True)
    lead_unit_id = models.BigIntegerField(null=True)
    acceptance_due = models.DateTimeField(null=True)
    signed_at = models.DateTimeField(null=True)
    registered_at = models.DateTimeField(null=True)
    closed_at = models.DateTimeField(null=True)
    rated = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)
    place = models.CharField(max_length=255, default="")  # community's path, else street's, else own
    street_place = models.CharField(max_length=255, default="")  # street's path, else own

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="stats_fact_created")]

    def __str__(self):
        return f"fact {self.pk}"


class RateCounts(models.Model):
    """The counts behind the three rates, summed over a group of facts. ``dispatched`` depends on
    ``now`` (an unsigned case counts once its acceptance deadline has passed): ``signed_dispatched +
    unsigned`` when ``unsigned_due_max`` is past, else the month is read from the facts."""

    total = models.IntegerField(default=0)
    signed_dispatched = models.IntegerField(default=0)  # acceptance_due set and signed
    unsigned = models.IntegerField(default=0)  # acceptance_due set, not signed
    unsigned_due_max = models.DateTimeField(null=True)
    responded = models.IntegerField(default=0)
    accepted = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    rated = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)

    class Meta:
        abstract = True


class MonthStat(RateCounts):
    """Facts summed per month × community-level path × street × community × category domain × lead
    unit × channel: the dashboard's whole past months (trend, long periods, scopes, channel filter)."""

    month = models.DateField()
    path = models.CharField(max_length=255)  # the appeal's path cut to community level
    street_id = models.BigIntegerField(null=True)
    community_id = models.BigIntegerField(null=True)
    domain_id = models.BigIntegerField(null=True)
    lead_unit_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=16)
    # for the open data: cases open now, and merged or withdrawn ones (not counted there) with their ratings
    open = models.IntegerField(default=0)
    excluded = models.IntegerField(default=0)
    excluded_rated = models.IntegerField(default=0)
    excluded_satisfied = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["month"], name="stats_month_month")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.path}"


class RateMonth(RateCounts):
    """Facts summed per month over one of three projections (``kind``), for ``appeal_rates``:

    - ``place_cat``: community-level path × street × community × category (and its parent);
    - ``place_unit``: community-level path × street × community × lead unit;
    - ``unit_cat``: lead unit × category (and its parent).

    A question whose grouping and filters fit in one projection is summed there; the columns a
    projection does not carry are null."""

    month = models.DateField()
    kind = models.CharField(max_length=10)
    path = models.CharField(max_length=255, blank=True)
    street_id = models.BigIntegerField(null=True)
    community_id = models.BigIntegerField(null=True)
    category_id = models.BigIntegerField(null=True)
    category_parent_id = models.BigIntegerField(null=True)
    lead_unit_id = models.BigIntegerField(null=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "month"], name="stats_rate_kind_month")]

    def __str__(self):
        return f"{self.kind} {self.month:%Y-%m}"


class HandlingMonth(models.Model):
    """Histogram of handling time (submission to closing) of the closed facts per month, on
    logarithmic buckets (``rollup.bucket_of``: bucket b holds [60·1.05^b, 60·1.05^(b+1)) seconds,
    bucket 0 everything under 63 s), with the exact sum of seconds per bucket. Two projections:

    - ``unit``: per lead unit (``path`` empty) — the district and department scopes;
    - ``street_unit``: per street-level path × lead unit — street scopes."""

    month = models.DateField()
    kind = models.CharField(max_length=12)
    path = models.CharField(max_length=255, blank=True)
    lead_unit_id = models.BigIntegerField(null=True)
    bucket = models.SmallIntegerField()
    n = models.IntegerField(default=0)
    seconds = models.FloatField(default=0)

    class Meta:
        indexes = [models.Index(fields=["kind", "month"], name="stats_handling_kind_month")]

    def __str__(self):
        return f"{self.kind} {self.month:%Y-%m} #{self.bucket}"


class RollupState(models.Model):
    """A single row: when the copy was last brought up to date."""

    refreshed_at = models.DateTimeField()
    seconds = models.FloatField(default=0)
    rows = models.IntegerField(default=0)
    # {"YYYY-MM-01": ISO datetime}: months with an unsigned case whose acceptance deadline was still
    # ahead at the refresh (their "dispatched" count depends on now), with the latest such deadline.
    late_months = models.JSONField(default=dict)

    def __str__(self):
        return f"refreshed {self.refreshed_at:%Y-%m-%d %H:%M:%S}"
