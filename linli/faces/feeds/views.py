"""Feeds (public) and case exports (staff)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core.orgs.jurisdiction import is_staff_member

from . import exports
from .forms import ExportForm


def _require_staff(user) -> None:
    if not is_staff_member(user):
        raise PermissionDenied(_("只有工作人员可以导出 / only staff may export"))


@login_required
def export_page(request):
    """The filter form, with the number of cases it would export."""
    _require_staff(request.user)
    form = ExportForm(request.GET or None)
    count = None
    if form.is_valid():
        count = exports.export_queryset(request.user, form.filters()).count()
    return render(
        request,
        "feeds/export.html",
        {
            "form": form,
            "count": count,
            "querystring": request.GET.urlencode(),
            "xlsx_max_rows": exports.xlsx_max_rows(),
            "personal": exports.includes_personal(request.user),
        },
    )


def _filename(ext: str) -> str:
    return f"linli-appeals-{timezone.localtime():%Y%m%d-%H%M}.{ext}"


def _prepare(request):
    _require_staff(request.user)
    form = ExportForm(request.GET or None)
    if request.GET and not form.is_valid():
        return None, None, None, form
    filters = form.filters() if request.GET else exports.ExportFilters()
    qs = exports.export_queryset(request.user, filters)
    return filters, qs, qs.count(), form


@login_required
def export_csv(request):
    filters, qs, rows, form = _prepare(request)
    if qs is None:
        return render(request, "feeds/export.html", {"form": form}, status=400)
    exports.export_log(
        actor=request.user,
        fmt="csv",
        filters=filters,
        rows=rows,
        personal=exports.includes_personal(request.user),
    )
    response = StreamingHttpResponse(
        exports.csv_stream(request.user, qs), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename("csv")}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def export_xlsx(request):
    filters, qs, rows, form = _prepare(request)
    if qs is None:
        return render(request, "feeds/export.html", {"form": form}, status=400)
    if rows > exports.xlsx_max_rows():
        messages.error(
            request,
            _(
                "共 %(n)d 条，超过 Excel 导出上限 %(max)d 条，请缩小范围或导出 CSV / "
                "too many rows for Excel; narrow the filters or export CSV"
            )
            % {"n": rows, "max": exports.xlsx_max_rows()},
        )
        return render(
            request,
            "feeds/export.html",
            {
                "form": form,
                "count": rows,
                "querystring": request.GET.urlencode(),
                "xlsx_max_rows": exports.xlsx_max_rows(),
            },
            status=400,
        )
    exports.export_log(
        actor=request.user,
        fmt="xlsx",
        filters=filters,
        rows=rows,
        personal=exports.includes_personal(request.user),
    )
    response = FileResponse(
        exports.xlsx_file(request.user, qs, filters, rows=rows),
        as_attachment=True,
        filename=_filename("xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Cache-Control"] = "no-store"
    return response
