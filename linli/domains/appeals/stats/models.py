"""The statistics copy of the appeals (``rollup.py``). Derived data only: ``refresh(full=True)``
rebuilds every row from the appeals tables, so these tables may be emptied at any time."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce

# A summary row is one group of facts: its dimension columns are unique together, a null id counting
# as this value (so that ``rollup.refresh`` can add a group's changes with INSERT … ON CONFLICT).
NULL_KEY = -1


def unique_dimensions(name: str, *columns: str, nullable: tuple[str, ...] = ()) -> models.UniqueConstraint:
    """The unique index of a summary's dimensions; ``rollup.conflict_target`` reads it back."""
    return models.UniqueConstraint(
        *(Coalesce(c, Value(NULL_KEY)) if c in nullable else F(c) for c in columns), name=name
    )


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
    updated_at = models.DateTimeField(null=True)  # the appeal's, when this row was written from it

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], name="stats_fact_created"),
            # the unsigned cases with an acceptance deadline, whose latest deadline a summary keeps
            models.Index(
                fields=["created_at"],
                name="stats_fact_unsigned",
                condition=Q(signed_at__isnull=True, acceptance_due__isnull=False),
            ),
        ]

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
        constraints = [
            unique_dimensions(
                "stats_month_dims",
                "month",
                "path",
                "street_id",
                "community_id",
                "domain_id",
                "lead_unit_id",
                "channel",
                nullable=("street_id", "community_id", "domain_id", "lead_unit_id"),
            )
        ]

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
        constraints = [
            unique_dimensions(
                "stats_rate_dims",
                "month",
                "kind",
                "path",
                "street_id",
                "community_id",
                "category_id",
                "category_parent_id",
                "lead_unit_id",
                nullable=("street_id", "community_id", "category_id", "category_parent_id", "lead_unit_id"),
            )
        ]

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
        constraints = [
            unique_dimensions(
                "stats_handling_dims",
                "month",
                "kind",
                "path",
                "lead_unit_id",
                "bucket",
                nullable=("lead_unit_id",),
            )
        ]

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
