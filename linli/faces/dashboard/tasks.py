"""Background work of the command centre: building reports. Tasks take ids and may run twice."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from .choices import ReportKind


@task()
def dashboard_report_generate(report_id: int) -> None:
    from .reports import report_generate

    report_generate(report_id)


@task()
def dashboard_weekly_reports() -> None:
    """Monday 07:00: last week's reports on the district and each street."""
    from .reports import report_schedule

    with transaction.atomic():
        report_schedule(ReportKind.WEEKLY)


@task()
def dashboard_monthly_reports() -> None:
    """The 1st, 07:00: last month's reports."""
    from .reports import report_schedule

    with transaction.atomic():
        report_schedule(ReportKind.MONTHLY)


@task()
def dashboard_rollup_refresh() -> None:
    """Former name of ``appeal_stats_refresh`` (the copy moved to ``linli.domains.appeals.stats``);
    kept so that task rows queued before the upgrade still run."""
    from linli.domains.appeals.stats.rollup import refresh

    refresh()


@task()
def dashboard_public_warm() -> None:
    """Every minute: the public statistics page and the open data of the default period recounted in
    the background, so visitors are served from the cache (``public.py``)."""
    from .public import warm

    warm()
