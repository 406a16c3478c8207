"""What the command centre keeps of its own: the leaders' reports (PDF and Excel files with the
period and scope they cover). Every figure on screen is read live from the appeals tables."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import ReportKind, ReportStatus


def report_path(instance, filename):
    return f"reports/{instance.period_start:%Y}/{filename}"


class Report(models.Model):
    """A weekly, monthly or custom report on one scope: the district, a street (``area``) or a unit
    (``unit``). Made by the scheduler (``requested_by`` empty) or on demand."""

    kind = models.CharField(_("类型"), max_length=8, choices=ReportKind.choices)
    period_start = models.DateField(_("起始日期"))
    period_end = models.DateField(_("截止日期"), help_text=_("含当日"))
    area = models.ForeignKey(
        "places.Area",
        verbose_name=_("区域"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("留空且无单位表示全区"),
    )
    unit = models.ForeignKey(
        "orgs.Organisation",
        verbose_name=_("承办单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    scope_key = models.CharField(max_length=24, editable=False, help_text="district | area:<id> | unit:<id>")
    status = models.CharField(
        _("状态"), max_length=8, choices=ReportStatus.choices, default=ReportStatus.PENDING
    )
    progress = models.PositiveSmallIntegerField(_("进度 (%)"), default=0)
    step = models.CharField(_("当前步骤"), max_length=60, blank=True)
    error = models.TextField(_("错误"), blank=True)
    pdf = models.FileField(_("PDF"), upload_to=report_path, blank=True)
    xlsx = models.FileField(_("Excel"), upload_to=report_path, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    seconds = models.FloatField(_("耗时 (秒)"), null=True, blank=True)

    class Meta:
        verbose_name = _("统计报告")
        verbose_name_plural = _("统计报告")
        ordering = ["-period_start", "-created_at"]
        constraints = [
            # The scheduler may tick twice: one scheduled report per kind, period and scope.
            models.UniqueConstraint(
                fields=["kind", "period_start", "scope_key"],
                condition=models.Q(requested_by__isnull=True),
                name="report_scheduled_once",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.period_start}–{self.period_end}"

    @property
    def scope_label(self) -> str:
        if self.unit_id:
            return self.unit.name
        if self.area_id:
            return self.area.name
        return str(_("全区"))


class AppealFact(models.Model):
    """One narrow row per appeal with only what the figures read (``rollup.py``): the dashboard's
    copy for fast counting at a million appeals. ``id`` is the appeal's id. Refreshed incrementally
    (appeals changed or rated since the last refresh) by ``dashboard_rollup_refresh``."""

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

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="dash_fact_created")]


class MonthStat(models.Model):
    """Sums of ``AppealFact`` per month × community-level path × street × community × category domain
    × lead unit × channel, for whole past months (trend, long periods)."""

    month = models.DateField()
    path = models.CharField(max_length=255)  # the appeal's path cut to community level
    street_id = models.BigIntegerField(null=True)
    community_id = models.BigIntegerField(null=True)
    domain_id = models.BigIntegerField(null=True)
    lead_unit_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=16)
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
        indexes = [models.Index(fields=["month"], name="dash_month_month")]


class RollupState(models.Model):
    """A single row: when ``AppealFact``/``MonthStat`` were last brought up to date."""

    refreshed_at = models.DateTimeField()
    seconds = models.FloatField(default=0)
    rows = models.IntegerField(default=0)
    # {"YYYY-MM-01": ISO datetime}: months with an unsigned case whose acceptance deadline was still
    # ahead at the refresh (their "dispatched" count depends on now), with the latest such deadline.
    late_months = models.JSONField(default=dict)
