"""Reports: a readable PDF and a workbook with the expected sheets; scheduled once per period and
scope; listed and downloadable only inside the user's scope."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess

import pytest
from django.urls import reverse
from django.utils import timezone

from linli.faces.dashboard import reports
from linli.faces.dashboard.choices import ReportKind, ReportStatus
from linli.faces.dashboard.models import Report
from linli.faces.dashboard.scope import scope_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_report_files(dash):
    today = timezone.localdate()
    report = Report.objects.create(
        kind=ReportKind.CUSTOM,
        period_start=today - dt.timedelta(days=6),
        period_end=today,
        scope_key="district",
    )
    report = reports.report_generate(report.pk)
    assert report.status == ReportStatus.DONE, report.error
    assert report.progress == 100
    pdf = report.pdf.read()
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(  # noqa: S603 — poppler's pdftotext, found on PATH just above
            ["pdftotext", "-", "-"],  # noqa: S607
            input=pdf,
            capture_output=True,
            check=True,
        ).stdout.decode()
        assert "诉求办理" in text and "第1街道" in text
        assert "本期受理诉求 11 件" in text.replace("\n", "")
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(report.xlsx.read()))
    assert wb.sheetnames == list(reports.SHEETS)
    assert wb["概览"]["B6"].value == 11
    assert wb["区域三率"]._charts and wb["受理趋势"]._charts
    streets = {row[0] for row in wb["区域三率"].iter_rows(min_row=2, values_only=True)}
    assert streets == {"第1街道", "第2街道"}


def test_schedule_is_idempotent(dash):
    monday = dt.date(2026, 11, 23)
    made = reports.report_schedule(ReportKind.WEEKLY, day=monday)
    assert len(made) == 3  # the district and two streets
    assert {(r.period_start, r.period_end) for r in made} == {(dt.date(2026, 11, 16), dt.date(2026, 11, 22))}
    assert reports.report_schedule(ReportKind.WEEKLY, day=monday) == []
    assert reports.previous_month(dt.date(2026, 3, 1)) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))


def test_on_demand_report_and_download_scope(client, dash, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    client.force_login(dash.street_leader)
    r = client.post(reverse("dashboard:reports"), {"kind": "weekly"})
    assert r.status_code == 302
    report = Report.objects.get()
    assert report.area == dash.w.d.streets[0] and report.requested_by == dash.street_leader
    assert report.status == ReportStatus.DONE, report.error
    status = client.get(reverse("dashboard:api_reports"), {"ids": report.pk}).json()["reports"][0]
    assert status["progress"] == 100 and status["pdf"]
    assert client.get(status["xlsx"]).status_code == 200
    # another street's staff and a department do not see it
    client.force_login(dash.w.handler)
    assert client.get(reverse("dashboard:report_file", args=[report.pk, "pdf"])).status_code == 404
    assert not reports.reports_visible(scope_of(dash.w.handler)).exists()
    assert reports.reports_visible(scope_of(dash.leader)).filter(pk=report.pk).exists()
