"""What the command centre keeps of its own: the leaders' reports (PDF and Excel files with the
period and scope they cover). Every figure on screen is read from the appeals tables and their
statistics copy (``linli.domains.appeals.stats``)."""

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
