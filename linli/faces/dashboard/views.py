"""The command centre's pages and the JSON they draw from. Every view resolves the user's scope first
(``scope.require_scope``) and reads only through ``selectors`` with it."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linli.core.places.choices import AreaKind
from linli.core.places.models import Area
from linli.domains.appeals.choices import AppealStatus, SupervisionLevel
from linli.domains.appeals.permissions import access_appeal_by_id, is_dispatcher

from . import public, reports, selectors
from .choices import MapLevel, MapMetric, RateGroup, ReportKind, ReportStatus
from .scope import require_scope


def scoped(view):
    """Signed in, with a dashboard scope; the scope is passed to the view."""

    @login_required
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        scope = require_scope(request.user)
        return view(request, scope, *args, **kwargs)

    return wrapper


def _json(data, **kwargs) -> JsonResponse:
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False}, **kwargs)
    response["Cache-Control"] = "private, no-store"
    return response


def _page_context(request, scope, f) -> dict:
    return {
        "filters": f,
        "choices": selectors.filter_choices(scope),
        "scope": scope,
        "scope_label": scope_label(scope),
        "periods": [
            ("today", _("今日")),
            ("7d", _("近7天")),
            ("30d", _("近30天")),
            ("90d", _("近90天")),
            ("365d", _("近一年")),
        ],
        "period": request.GET.get("period", "" if request.GET.get("since") else "30d"),
    }


def scope_label(scope) -> str:
    if scope.everything:
        return _("全区")
    names = list(Area.objects.filter(path__in=scope.paths).values_list("name", flat=True))
    if scope.unit_ids:
        from linli.core.orgs.models import Organisation

        names += list(Organisation.objects.filter(pk__in=scope.unit_ids).values_list("name", flat=True))
    return "、".join(names)


# --- pages ---------------------------------------------------------------------------------------


@scoped
def home(request, scope):
    f = selectors.filters_from(request.GET)
    context = _page_context(request, scope, f)
    context.update(
        headline=selectors.headline(scope, f),
        groups=RateGroup.choices,
        api={
            "summary": reverse("dashboard:api_summary"),
            "rates": reverse("dashboard:api_rates"),
            "trend": reverse("dashboard:api_trend"),
            "intake": reverse("dashboard:api_intake"),
            "handling": reverse("dashboard:api_handling"),
            "workers": reverse("dashboard:api_workers"),
        },
    )
    return render(request, "dashboard/home.html", context)


@scoped
def map_view(request, scope):
    from django.conf import settings

    f = selectors.filters_from(request.GET, default_period="7d")
    context = _page_context(request, scope, f)
    if "period" not in request.GET and not request.GET.get("since"):
        context["period"] = "7d"
    areas_url = reverse("api:places_areas_geojson")
    under = _scope_area_code(scope)
    context.update(
        metrics=MapMetric.choices,
        levels=MapLevel.choices,
        areas_url=areas_url + (f"?under={under}" if under else ""),
        figures_url=reverse("dashboard:api_map"),
        area_url=reverse("dashboard:api_area", args=[0]),
        tile_url=settings.LINLI_TILE_URL,
    )
    return render(request, "dashboard/map.html", context)


def _scope_area_code(scope) -> str:
    """The one area to draw for a user confined to one street or community, else ''."""
    if scope.everything or scope.unit_ids or len(scope.paths) != 1:
        return ""
    return scope.paths[0].rstrip("/").rsplit("/", 1)[-1]


@scoped
def deadlines(request, scope):
    f = selectors.filters_from(request.GET, default_period="365d")
    now = timezone.now()
    board = selectors.deadline_board(scope, f, now=now)  # counts and colours at one instant
    can_supervise = is_dispatcher(request.user)
    _link_cases(board, supervise=can_supervise)
    return render(
        request,
        "dashboard/deadlines.html",
        {
            "filters": f,  # no filter form on this page: not _page_context (two queries for its choices)
            "scope": scope,
            "scope_label": scope_label(scope),
            "board": board,
            "red": sum(u.red for u in board),
            "yellow": sum(u.yellow for u in board),
            "can_supervise": can_supervise,
            "now": now,
        },
    )


_MARK = 9_999_999_999  # an id no case has


def _link_cases(board, *, supervise: bool) -> None:
    """The board's links, each URL name reversed once and the case's id put in place of a marker
    (hundreds of {% url %} tags took a sixth of the page's time)."""
    case_head, case_tail = reverse("appeals:case", args=[_MARK]).split(str(_MARK))
    act_head, act_tail = reverse("dashboard:supervise", args=[_MARK]).split(str(_MARK))
    for unit in board:
        for case in unit.cases:
            case.url = f"{case_head}{case.pk}{case_tail}"
            if supervise:
                case.supervise_url = f"{act_head}{case.pk}{act_tail}"


@require_POST
@scoped
def supervise(request, scope, appeal_id: int):
    """One click on the deadline board: a supervision notice (督办) or reminder (催办) to the lead unit,
    through the appeals service (which checks the dispatcher's role and the case's status)."""
    from linli.domains.appeals import services as appeal_services

    appeal = access_appeal_by_id(request.user, appeal_id)
    if not scope.appeals(type(appeal).objects.filter(pk=appeal.pk)).exists():
        raise Http404("appeal")
    level = request.POST.get("level") or SupervisionLevel.SUPERVISION
    note = (request.POST.get("note") or "").strip()[:500] or _("指挥中心督办：请尽快办理并反馈。")
    try:
        appeal_services.appeal_supervise(actor=request.user, appeal=appeal, level=level, note=note)
    except PermissionDenied:
        raise
    except ValidationError as exc:
        if request.accepts("application/json") and not request.accepts("text/html"):
            return _json({"ok": False, "detail": " ".join(exc.messages)}, status=409)
        messages.error(request, " ".join(exc.messages))
    else:
        if request.accepts("application/json") and not request.accepts("text/html"):
            return _json({"ok": True, "reference": appeal.reference})
        messages.success(
            request,
            _("已向 %(unit)s 发出督办：%(ref)s")
            % {"unit": appeal.lead_unit.name if appeal.lead_unit_id else "-", "ref": appeal.reference},
        )
    return redirect(request.POST.get("next") if _safe_next(request) else reverse("dashboard:deadlines"))


def _safe_next(request) -> bool:
    from django.utils.http import url_has_allowed_host_and_scheme

    nxt = request.POST.get("next") or ""
    return bool(nxt) and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()})


def definitions(request):
    return render(request, "dashboard/definitions.html", {"public": not request.user.is_authenticated})


# --- JSON ----------------------------------------------------------------------------------------


@require_GET
@scoped
def api_summary(request, scope):
    f = selectors.filters_from(request.GET)
    return _json(
        {
            "filters": f.query(),
            "figures": selectors.headline(scope, f),
            "at": timezone.localtime().isoformat(timespec="seconds"),
        }
    )


@require_GET
@scoped
def api_rates(request, scope):
    f = selectors.filters_from(request.GET)
    group = request.GET.get("group", "street")
    if group not in RateGroup.values:
        return _json({"detail": "group"}, status=400)
    return _json({"filters": f.query(), "group": group, "rows": selectors.rates(scope, f, group_by=group)})


@require_GET
@scoped
def api_trend(request, scope):
    f = selectors.filters_from(request.GET)
    return _json({"filters": f.query(), "months": selectors.rate_trend(scope, f)})


@require_GET
@scoped
def api_intake(request, scope):
    f = selectors.filters_from(request.GET)
    by = request.GET.get("by", "channel")
    if by not in ("channel", "category"):
        return _json({"detail": "by"}, status=400)
    return _json({"filters": f.query(), "by": by, **selectors.intake_series(scope, f, by=by)})


@require_GET
@scoped
def api_handling(request, scope):
    f = selectors.filters_from(request.GET)
    return _json({"filters": f.query(), **selectors.handling_time(scope, f)})


@require_GET
@scoped
def api_workers(request, scope):
    f = selectors.filters_from(request.GET)
    return _json({"filters": f.query(), "grids": selectors.grid_worker_load(scope, f)})


@require_GET
@scoped
def api_map(request, scope):
    f = selectors.filters_from(request.GET, default_period="7d")
    level = request.GET.get("level", MapLevel.GRID)
    if level not in MapLevel.values:
        return _json({"detail": "level"}, status=400)
    figures = selectors.map_figures(scope, f, level=level)
    hot = [
        {k: g.get(k) for k in ("label", "category", "grid", "lng", "lat", "count", "heat")}
        for g in selectors.hot_groups(scope, f)
        if g.get("lng") is not None
    ]
    return _json(
        {
            "filters": f.query(),
            "level": level,
            "areas": {str(k): v for k, v in figures.items()},
            "max": {m: max((v[m] for v in figures.values()), default=0) for m in MapMetric.values},
            "totals": {m: sum(v[m] for v in figures.values()) for m in (*MapMetric.values, "near")},
            "hot": hot,
            "at": timezone.localtime().isoformat(timespec="seconds"),
        }
    )


@require_GET
@scoped
def api_area(request, scope, area_id: int):
    area = get_object_or_404(Area, pk=area_id, kind__in=[AreaKind.GRID, AreaKind.COMMUNITY, AreaKind.STREET])
    if not (scope.everything or scope.unit_ids or scope.covers_path(area.path)):
        raise Http404("area")
    f = selectors.filters_from(request.GET, default_period="7d")
    data = selectors.area_cases(scope, f, area)
    status_labels = dict(AppealStatus.choices)
    return _json(
        {
            "area": {"id": area.pk, "name": area.name, "kind": area.kind, "code": area.code},
            "figures": data["figures"],
            "cases": [
                {
                    "reference": a.reference,
                    "title": a.title,
                    "status": str(status_labels.get(a.status, a.status)),
                    "deadline": a.deadline_state,
                    "category": a.category.name if a.category_id else "",
                    "unit": a.lead_unit.name if a.lead_unit_id else "",
                    "due": timezone.localtime(a.handling_due).strftime("%m-%d %H:%M")
                    if a.handling_due
                    else "",
                    "url": reverse("appeals:case", args=[a.pk]),
                }
                for a in data["cases"]
            ],
        }
    )


# --- reports -------------------------------------------------------------------------------------


@scoped
def reports_list(request, scope):
    if request.method == "POST":
        return _report_request(request, scope)
    qs = reports.reports_visible(scope).select_related("area", "unit")[:100]
    return render(
        request,
        "dashboard/reports.html",
        {
            "reports": qs,
            "kinds": ReportKind.choices,
            "scope_label": scope_label(scope),
            "status_url": reverse("dashboard:api_reports"),
            "today": timezone.localdate(),
        },
    )


def _report_request(request, scope):
    kind = request.POST.get("kind", ReportKind.WEEKLY)
    since = selectors._date(request.POST.get("since"))
    until = selectors._date(request.POST.get("until"))
    try:
        report = reports.report_request(actor=request.user, scope=scope, kind=kind, since=since, until=until)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已开始生成 %(report)s，完成后可在列表中下载。") % {"report": report})
    return redirect("dashboard:reports")


@require_GET
@scoped
def api_reports(request, scope):
    ids = [int(i) for i in request.GET.get("ids", "").split(",") if i.isdigit()][:100]
    qs = reports.reports_visible(scope).filter(pk__in=ids) if ids else reports.reports_visible(scope)[:20]
    return _json(
        {
            "reports": [
                {
                    "id": r.pk,
                    "status": r.status,
                    "status_label": r.get_status_display(),
                    "progress": r.progress,
                    "step": r.step,
                    "pdf": reverse("dashboard:report_file", args=[r.pk, "pdf"])
                    if r.status == ReportStatus.DONE
                    else "",
                    "xlsx": reverse("dashboard:report_file", args=[r.pk, "xlsx"])
                    if r.status == ReportStatus.DONE
                    else "",
                }
                for r in qs
            ]
        }
    )


@require_GET
@scoped
def report_file(request, scope, report_id: int, fmt: str):
    report = get_object_or_404(reports.reports_visible(scope), pk=report_id, status=ReportStatus.DONE)
    f = report.pdf if fmt == "pdf" else report.xlsx if fmt == "xlsx" else None
    if not f:
        raise Http404("file")
    name = reports.download_name(report, fmt)
    return FileResponse(f.open("rb"), as_attachment=True, filename=name)


# --- public statistics and open data -------------------------------------------------------------


def public_stats(request):
    f = selectors.filters_from(request.GET, default_period="365d")
    response = render(
        request,
        "dashboard/public_stats.html",
        {
            "filters": f,
            **public.public_figures(f),
            "csv_url": reverse("public_stats:open_data", args=["csv"]),
            "json_url": reverse("public_stats:open_data", args=["json"]),
        },
    )
    response["Cache-Control"] = f"public, max-age={public.CACHE_SECONDS}"
    return response


def open_data(request, fmt: str):
    f = selectors.filters_from(request.GET, default_period="365d")
    if fmt not in public.OPEN_DATA_TYPES:
        raise Http404("format")
    # the same for everyone: counted and written at most once a minute
    response = HttpResponse(public.open_data_file(f, fmt), content_type=public.OPEN_DATA_TYPES[fmt])
    filename = f"linli-appeals-{f.since:%Y%m%d}-{f.until:%Y%m%d}"
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = f"public, max-age={public.CACHE_SECONDS}"
    return response
