"""Pages of the appeals loop: the resident's form and cases, staff intake, the dispatcher's queue,
the handling unit's inbox, the grid worker's patrol report, the case page where staff act, and the
public results. Views read through ``selectors`` and ``permissions`` and write through ``services``;
a refused or conflicting action comes back as a message on the page, never as a server error."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.core.orgs.choices import Role
from linli.core.orgs.jurisdiction import is_staff_member, jurisdiction_of
from linli.core.orgs.models import Organisation
from linli.core.places.choices import AreaKind
from linli.core.places.models import Area

from . import forms, permissions, selectors, services
from .choices import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    Action,
    AppealStatus,
    AssignmentRole,
    AttachmentKind,
    Channel,
    DeadlineState,
    RatingValue,
)
from .models import Appeal, AppealEvent, AppealFollow, Assignment, Attachment, Category
from .routing import appeal_suggest_route
from .services import AppealConflict, AppealError

S = AppealStatus
PAGE_SIZE = 25
HANDLER_ROLES = frozenset(
    {Role.DEPARTMENT_STAFF, Role.STREET_STAFF, Role.COMMUNITY_STAFF, Role.GRID_WORKER, Role.ADMIN}
)


# --- helpers ---------------------------------------------------------------------------------------


def _message(exc) -> str:
    return "；".join(getattr(exc, "messages", None) or [str(exc)])


def _attempt(request, call) -> bool:
    """Run one service call; a conflict or a refusal becomes a message on the next page."""
    try:
        call()
    except AppealConflict as exc:
        messages.warning(request, _message(exc))
        return False
    except AppealError as exc:
        messages.error(request, _message(exc))
        return False
    return True


def _form_errors(request, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


def _photos(request, name: str = "photos"):
    return request.FILES.getlist(name)


def _answers(request, category: Category | None) -> dict:
    if category is None:
        return {}
    return {
        q["code"]: request.POST.getlist(f"q_{q['code']}")  # multichoice: a list of the ticked values
        if q.get("datatype") == "multichoice"
        else request.POST.get(f"q_{q['code']}", "")
        for q in category.questions or []
        if "code" in q
    }


def _category_questions():
    """Every item with extra questions, for the form to show those of the chosen item."""
    return [
        (c.pk, c.questions)
        for c in Category.objects.filter(is_active=True).exclude(questions=[])
        if c.questions
    ]


def _place_context() -> dict:
    return {
        "locate_url": reverse("api:places_locate"),
        "search_url": reverse("api:places_search"),
        "areas_url": reverse("api:places_areas_geojson"),
        "tile_url": settings.LINLI_TILE_URL,
        "tile_attribution": getattr(settings, "LINLI_TILE_ATTRIBUTION", ""),
    }


def _querystring(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _int(value) -> int | None:
    return int(value) if value and str(value).isdigit() else None


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _with_seen_status(request, appeal: Appeal) -> Appeal:
    """Act on the case as the person saw it: if it moved since, the service reports a conflict."""
    seen = request.POST.get("seen_status", "")
    if seen in S.values:
        appeal.status = seen
    return appeal


# --- landing ---------------------------------------------------------------------------------------


@login_required
def work(request):
    """The "诉求办理" entry: each person lands on their own workspace."""
    user = request.user
    if getattr(user, "is_resident", False) and not user.is_superuser:
        return redirect("appeals:mine")
    if permissions.is_dispatcher(user):
        return redirect("appeals:queue")
    return redirect("appeals:inbox")


# --- residents -------------------------------------------------------------------------------------


def _require_resident(request):
    if not getattr(request.user, "is_resident", False):
        raise PermissionDenied(_("此页面供居民使用 / this page is for residents"))


@login_required
def submit(request):
    _require_resident(request)
    form = forms.SubmitForm(request.POST or None)
    status = 200
    if request.method == "POST":
        done = _already_submitted(
            request, _("这份诉求已经提交过了，下面是您提交的诉求。"), "appeals:mine_detail"
        )
        if done:
            return done
        if form.is_valid():
            d = form.cleaned_data
            photos = _photos(request)
            try:
                appeal = services.appeal_submit(
                    actor=request.user,
                    title=d["title"],
                    body=d["body"],
                    category=d["category"],
                    lng=d["lng"],
                    lat=d["lat"],
                    address=d["address"],
                    is_private=d["is_private"],
                    anonymous_to_public=d["anonymous_to_public"],
                    answers=_answers(request, d["category"]),
                    photos=photos,
                    idempotency_key=d["idempotency_key"],
                    channel=Channel.WEB,
                )
            except AppealError as exc:
                form.add_error(None, _message(exc))
            else:
                messages.success(
                    request,
                    _("已收到您的诉求，编号 %(ref)s。处理进展会在这里和消息中告诉您。")
                    % {"ref": appeal.reference},
                )
                return redirect("appeals:mine_detail", appeal.pk)
        status = 400
    return render(
        request,
        "appeals/submit.html",
        {
            "form": form,
            "questions": _category_questions(),
            "max_photos": forms.photo_limit(),
            **_place_context(),
        },
        status=status,
    )


@login_required
def mine(request):
    page = Paginator(selectors.resident_appeals(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    for appeal in page:
        appeal.shown_status = selectors.resident_status(appeal)
        appeal.shown_status_label = S(appeal.shown_status).label
    return render(request, "appeals/mine.html", {"page": page})


def _access_own(request, appeal_id) -> Appeal:
    appeal = permissions.access_appeal_by_id(request.user, appeal_id)
    if not permissions.is_resident_of(request.user, appeal):
        raise Http404("appeal")
    return appeal


@login_required
def mine_detail(request, appeal_id: int):
    appeal = _access_own(request, appeal_id)
    shown = selectors.resident_status(appeal)
    rating = selectors.current_rating(appeal) if appeal.status == S.CLOSED else None
    report_photos = appeal.attachments.filter(kind=AttachmentKind.REPORT).count()
    return render(
        request,
        "appeals/mine_detail.html",
        {
            "appeal": appeal,
            "shown_status": shown,
            "shown_status_label": S(shown).label,
            "category_by_triage": selectors.category_by_triage(appeal),
            "timeline": selectors.appeal_timeline(appeal, staff=False).prefetch_related("attachments"),
            "can_supplement": appeal.status in services.TRANSITIONS["supplement"][0],
            "supplement_form": forms.SupplementForm(),
            "photos_left": max(0, forms.photo_limit() - report_photos),
            "photos": selectors.public_attachments(appeal),
            "can_withdraw": appeal.status in services.TRANSITIONS["withdraw"][0],
            "can_rate": appeal.status == S.CLOSED and rating is None,
            "can_reopen": appeal.status == S.CLOSED
            and rating is not None
            and rating.value == RatingValue.UNSATISFIED,
            "rating": rating,
            "rating_form": forms.RatingForm(),
            "ratings": appeal.ratings.order_by("round"),
        },
    )


@login_required
@require_POST
def mine_act(request, appeal_id: int, action: str):
    appeal = _with_seen_status(request, _access_own(request, appeal_id))
    if action == "withdraw":
        reason = request.POST.get("reason", "")[:300]
        if _attempt(
            request, lambda: services.appeal_withdraw(actor=request.user, appeal=appeal, reason=reason)
        ):
            messages.success(request, _("诉求已撤回。"))
    elif action == "rate":
        form = forms.RatingForm(request.POST)
        if not form.is_valid():
            _form_errors(request, form)
        elif _attempt(
            request,
            lambda: services.appeal_rate(
                actor=request.user,
                appeal=appeal,
                value=form.cleaned_data["value"],
                comment=form.cleaned_data["comment"],
            ),
        ):
            messages.success(request, _("感谢您的评价。"))
    elif action == "reopen":
        reason = request.POST.get("reason", "")
        if _attempt(
            request, lambda: services.appeal_reopen(actor=request.user, appeal=appeal, reason=reason)
        ):
            messages.success(request, _("已要求重新办理，承办单位会再次处理。"))
    elif action == "supplement":
        form = forms.SupplementForm(request.POST)
        if not form.is_valid():
            _form_errors(request, form)
        elif _attempt(
            request,
            lambda: services.appeal_supplement(
                actor=request.user, appeal=appeal, note=form.cleaned_data["note"], photos=_photos(request)
            ),
        ):
            messages.success(request, _("补充材料已提交，承办人员可以看到。"))
    else:
        raise Http404("action")
    return redirect("appeals:mine_detail", appeal_id)


@login_required
@require_POST
def follow(request):
    """The resident follows an open case offered as "already reported" instead of a new one (JSON for
    the form's script; a plain POST lands on the list of followed cases)."""
    _require_resident(request)
    reference = request.POST.get("reference", "").strip()[:24]
    appeal = Appeal.objects.filter(reference=reference).first() if reference else None
    wants_json = "application/json" in request.headers.get("Accept", "")
    error, created = "", False
    if appeal is None:
        error = _("没有找到该编号的诉求 / no appeal with that reference")
    else:
        try:
            followed, created = services.appeal_follow(actor=request.user, appeal=appeal)
        except (AppealError, PermissionDenied) as exc:
            error = _message(exc)
    if wants_json:
        if error:
            return JsonResponse({"ok": False, "error": error}, status=400)
        return JsonResponse(
            {
                "ok": True,
                "created": created,
                "reference": followed.appeal.reference,
                "url": reverse("appeals:following"),
            }
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(
            request, _("已关注 %(ref)s，办理进展会通知您。") % {"ref": followed.appeal.reference}
        )
    return redirect("appeals:following")


@login_required
def following(request):
    """The cases the resident follows: number, place, status, and the published result once closed.
    Never the other resident's name, phone or exact address."""
    _require_resident(request)
    rows = []
    follows = (
        AppealFollow.objects.filter(resident=request.user)
        .select_related(
            "appeal",
            "appeal__compound",
            "appeal__road",
            "appeal__community",
            "appeal__street",
            "appeal__resident",
            "appeal__merged_into",
        )
        .order_by("-created_at", "-id")[:200]
    )
    for f in follows:
        a = f.appeal
        rows.append(
            {
                "follow": f,
                "appeal": a,
                "title": a.public_title
                or services.redact_text(a.title, names=services._names_of(a), address=a.address),
                "place": services.coarse_place(a),
                "status": selectors.resident_status(a),
                "status_label": S(selectors.resident_status(a)).label,
            }
        )
    return render(request, "appeals/following.html", {"rows": rows})


# --- staff intake and patrol -----------------------------------------------------------------------


@login_required
def intake(request):
    if not is_staff_member(request.user):
        raise PermissionDenied(_("只有工作人员可以代为登记 / staff only"))
    form = forms.IntakeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if done := _already_submitted(request, _("这份诉求已经登记过了。"), "appeals:case"):
            return done
        if form.is_valid():
            d = form.cleaned_data
            try:
                appeal = services.appeal_submit(
                    actor=request.user,
                    title=d["title"],
                    body=d["body"],
                    category=d["category"],
                    priority=d["priority"],
                    channel=d["channel"],
                    lng=d["lng"],
                    lat=d["lat"],
                    address=d["address"],
                    contact_name=d["contact_name"],
                    contact_phone=d["contact_phone"],
                    is_private=d["is_private"],
                    anonymous_to_public=d["anonymous_to_public"],
                    answers=_answers(request, d["category"]),
                    photos=_photos(request),
                    idempotency_key=d["idempotency_key"],
                )
            except AppealError as exc:
                form.add_error(None, _message(exc))
            else:
                messages.success(request, _("已登记，编号 %(ref)s。") % {"ref": appeal.reference})
                return redirect("appeals:case", appeal.pk)
        status = 400
    return render(
        request,
        "appeals/intake.html",
        {
            "form": form,
            "questions": _category_questions(),
            "max_photos": forms.photo_limit(),
            **_place_context(),
        },
        status=status,
    )


@login_required
def patrol(request):
    if not jurisdiction_of(request.user).has_role(Role.GRID_WORKER):
        raise PermissionDenied(_("只有网格员可以上报巡查 / grid workers only"))
    form = forms.PatrolForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if done := _already_submitted(request, _("这份巡查上报已经提交过了。"), "appeals:case"):
            return done
        if form.is_valid():
            d = form.cleaned_data
            try:
                appeal = services.appeal_patrol_report(
                    actor=request.user,
                    title=d["title"],
                    body=d["body"],
                    category=d["category"],
                    lng=d["lng"],
                    lat=d["lat"],
                    address=d["address"],
                    photos=_photos(request),
                    handled_on_spot=d["handled_on_spot"],
                    result=d["result"],
                    after_photos=_photos(request, "after_photos"),
                    idempotency_key=d["idempotency_key"],
                )
            except AppealError as exc:
                form.add_error(None, _message(exc))
            else:
                if appeal.status == S.CLOSED:
                    messages.success(
                        request, _("已现场处置并办结，编号 %(ref)s。") % {"ref": appeal.reference}
                    )
                else:
                    messages.success(
                        request, _("已上报，编号 %(ref)s，等待调度派遣。") % {"ref": appeal.reference}
                    )
                return redirect("appeals:case", appeal.pk)
        status = 400
    return render(
        request,
        "appeals/patrol.html",
        {
            "form": form,
            "max_photos": forms.photo_limit(),
            "recent": _recent_patrol(request.user),
            **_place_context(),
        },
        status=status,
    )


# --- dispatcher queue ------------------------------------------------------------------------------


@login_required
def queue(request):
    user = request.user
    if not permissions.is_dispatcher(user):
        raise PermissionDenied(_("只有调度员可以查看派遣队列 / dispatchers only"))
    g = request.GET
    status = g.get("status", "")
    status = status if status in S.values else ""
    areas = list(selectors.queue_areas(user))
    area = next((a for a in areas if str(a.pk) == g.get("area")), None)
    deadline = g.get("deadline", "")
    deadline = deadline if deadline in DeadlineState.values else ""
    channel = g.get("channel", "")
    channel = channel if channel in Channel.values else ""
    category_id = _int(g.get("category"))
    q = g.get("q", "").strip()[:60]
    qs = selectors.dispatcher_queue(
        user,
        status=status or None,
        category_id=category_id,
        area_path=area.path if area else None,
        deadline_state=deadline or None,
        channel=channel or None,
        q=q,
    )
    page = Paginator(qs, PAGE_SIZE).get_page(g.get("page"))
    page.object_list = list(page.object_list)
    _mark_assist_missing(page.object_list)
    counts = selectors.dispatcher_counts(user)
    return render(
        request,
        "appeals/queue.html",
        {
            "page": page,
            "counts": [(value, label, counts.get(value, 0)) for value, label in S.choices],
            "open_total": sum(counts.get(s, 0) for s in OPEN_STATUSES),
            "yellow": counts.get("yellow", 0),
            "red": counts.get("red", 0),
            "f": {
                "status": status,
                "area": area,
                "deadline": deadline,
                "channel": channel,
                "category": category_id,
                "q": q,
            },
            "areas": areas,
            "domains": Category.objects.filter(parent__isnull=True, is_active=True),
            "channels": Channel.choices,
            "deadlines": [
                (DeadlineState.GREEN, _("正常")),
                (DeadlineState.YELLOW, _("临期")),
                (DeadlineState.RED, _("超期")),
            ],
            "querystring": _querystring(request),
        },
    )


# --- handling unit inbox ---------------------------------------------------------------------------


@login_required
def inbox(request):
    user = request.user
    j = jurisdiction_of(user)
    if not j.organisation_ids or not (j.roles & HANDLER_ROLES or j.is_superuser):
        raise PermissionDenied(_("只有承办单位工作人员可以查看 / handling units only"))
    show = request.GET.get("show", "todo")
    qs = selectors.unit_inbox(user, include_finished=show == "all").prefetch_related("assignments")
    if show == "all":
        qs = qs.order_by("-dispatched_at")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    units = set(j.organisation_ids)
    for appeal in page:
        mine = [a for a in appeal.assignments.all() if a.is_active and a.unit_id in units]
        appeal.my_role = mine[0].get_role_display() if mine else ""
        appeal.needs_signing = any(a.signed_at is None for a in mine)
    return render(
        request,
        "appeals/inbox.html",
        {
            "page": page,
            "show": show,
            "units": Organisation.objects.filter(pk__in=units).order_by("code"),
            "is_grid_worker": j.has_role(Role.GRID_WORKER),
            "querystring": _querystring(request),
        },
    )


# --- the case page (staff) -------------------------------------------------------------------------


def _access_case(request, appeal_id) -> Appeal:
    user = request.user
    appeal = permissions.access_appeal_by_id(user, appeal_id)
    if permissions.is_resident_of(user, appeal) and not is_staff_member(user):
        raise Http404("appeal")  # residents see their own page, not the staff one
    return appeal


@login_required
def case(request, appeal_id: int):
    appeal = _access_case(request, appeal_id)
    return render(request, "appeals/case.html", _case_context(request, appeal))


def _case_context(request, appeal: Appeal) -> dict:
    user = request.user
    is_dispatcher = permissions.is_dispatcher_for(user, appeal)
    roles = selectors.assignment_roles_for(user, appeal)
    is_lead = AssignmentRole.LEAD in roles
    status = appeal.status
    units = jurisdiction_of(user).organisation_ids
    my_assignment = appeal.assignments.filter(is_active=True, unit_id__in=units).order_by("role").first()
    can_sign = (
        my_assignment is not None
        and my_assignment.signed_at is None
        and status in (services.TRANSITIONS["sign"][0] | services.TRANSITIONS["sign_assist"][0])
    )
    pending = selectors.pending_extension(appeal)
    suggestions = []
    if is_dispatcher and status in services.TRANSITIONS["route"][0]:
        by_id = {}
        for s in appeal_suggest_route(appeal)[:3]:
            ids = [s.lead_unit_id, *s.assisting_unit_ids]
            by_id.update({o.pk: o for o in Organisation.objects.filter(pk__in=ids)})
            suggestions.append(
                {
                    "lead": by_id.get(s.lead_unit_id),
                    "assisting": [by_id[i] for i in s.assisting_unit_ids if i in by_id],
                    "confidence": round(s.confidence * 100),
                    "reason": s.reason,
                }
            )
    allowed = set(services.allowed_transitions(status))
    dispatch_initial = {}
    if appeal.lead_unit_id:
        dispatch_initial = {
            "lead_unit": appeal.lead_unit_id,
            "assisting_units": list(appeal.assisting_units.all()),
        }
    elif suggestions and suggestions[0]["lead"] is not None:
        dispatch_initial = {
            "lead_unit": suggestions[0]["lead"],
            "assisting_units": suggestions[0]["assisting"],
        }
    rating = selectors.current_rating(appeal) if status == S.CLOSED else None
    assist_results = _assist_results(appeal)
    can_assist_report = (
        my_assignment is not None
        and my_assignment.role == AssignmentRole.ASSIST
        and "assist_report" in allowed
        and not any(r["reported"] and r["assignment"].pk == my_assignment.pk for r in assist_results)
    )
    context = {
        "appeal": appeal,
        "timeline": selectors.appeal_timeline(appeal, staff=True).prefetch_related("attachments"),
        "assignments": appeal.assignments.select_related("unit").order_by("-is_active", "role", "id"),
        "assist_results": assist_results,
        "assist_missing": [r for r in assist_results if not r["reported"]],
        "can_assist_report": can_assist_report,
        "assist_form": forms.AssistReportForm(),
        "followers": appeal.follows.count(),
        "attachments": appeal.attachments.order_by("uploaded_at", "id"),
        "ratings": appeal.ratings.order_by("round"),
        "supervisions": appeal.supervisions.select_related("unit").order_by("-created_at")[:10],
        "duplicates": appeal.duplicates.all(),
        "pending": pending,
        "is_dispatcher": is_dispatcher,
        "is_lead": is_lead,
        "my_assignment": my_assignment,
        "can_sign": can_sign,
        "can_handle": is_lead and "handle" in allowed,
        "can_return": is_lead and "return" in allowed,
        "can_extend": is_lead and "extension_request" in allowed and pending is None,
        "can_verify": "verify_pass" in allowed
        and (is_dispatcher or permissions.is_grid_worker_for(user, appeal.path)),
        "allowed": allowed,
        "suggestions": suggestions,
        "similar": _merge_suggestions(appeal) if is_dispatcher and "merge" in allowed else [],
        "register_form": forms.RegisterForm(
            initial={"category": appeal.category_id, "priority": appeal.priority}
        ),
        "dispatch_form": forms.DispatchForm(initial=dispatch_initial),
        "supervise_form": forms.SuperviseForm(),
        "verify_form": forms.VerifyForm(),
        "redact_form": forms.RedactForm(
            initial={
                "public_title": appeal.public_title or appeal.title,
                "public_body": appeal.public_body,
                "public_result": appeal.public_result,
                "published": appeal.published,
            }
        ),
        "rating_form": forms.RatingForm(),
        "can_callback": is_dispatcher
        and status == S.CLOSED
        and rating is None
        and appeal.resident_id is None,
        "handle_form": forms.HandleForm(),
        "extension_form": forms.ExtensionForm(),
        "max_photos": forms.photo_limit(),
        "is_final": status in FINAL_STATUSES,
        "result_check_url": reverse("appeals:result_check", args=[appeal.pk]),
    }
    return context


def _mark_assist_missing(appeals) -> None:
    """``assist_missing`` on each appeal being handled: how many of its assisting units have not
    reported their part this round (two queries for the page)."""
    handling = {a.pk: a for a in appeals if a.status in services.TRANSITIONS["assist_report"][0]}
    for a in appeals:
        a.assist_missing = 0
    if not handling:
        return
    cycles = dict(
        AppealEvent.objects.filter(appeal_id__in=handling, to_status=S.REOPENED)
        .exclude(from_status=S.REOPENED)
        .values_list("appeal_id")
        .annotate(n=Count("id"))
        .values_list("appeal_id", "n")
    )
    reported = {
        (appeal_id, unit_id)
        for appeal_id, unit_id, cycle in AppealEvent.objects.filter(
            appeal_id__in=handling, action=Action.ASSIST_REPORT
        ).values_list("appeal_id", "unit_id", "data__cycle")
        if cycle == cycles.get(appeal_id, 0)
    }
    for appeal_id, unit_id in Assignment.objects.filter(
        appeal_id__in=handling, is_active=True, role=AssignmentRole.ASSIST
    ).values_list("appeal_id", "unit_id"):
        if (appeal_id, unit_id) not in reported:
            handling[appeal_id].assist_missing += 1


def _assist_results(appeal: Appeal) -> list[dict]:
    """Each active assisting unit (协办) with what it reported in this handling cycle, if anything."""
    reports = {
        e.unit_id: e
        for e in appeal.events.filter(action=Action.ASSIST_REPORT, data__cycle=services.assist_cycle(appeal))
        .select_related("actor")
        .prefetch_related("attachments")
        .order_by("at", "id")
    }
    rows = []
    for a in appeal.assignments.filter(is_active=True, role=AssignmentRole.ASSIST).select_related("unit"):
        event = reports.get(a.unit_id)
        rows.append({"assignment": a, "unit": a.unit, "reported": event is not None, "event": event})
    return rows


def _units(ids) -> list[Organisation]:
    return list(Organisation.objects.filter(pk__in=ids))


@login_required
@require_POST
def case_act(request, appeal_id: int, action: str):
    user = request.user
    appeal = _with_seen_status(request, _access_case(request, appeal_id))
    post = request.POST
    done_message = None
    ok = False

    def form_or_errors(form_class):
        form = form_class(post)
        if not form.is_valid():
            _form_errors(request, form)
            return None
        return form.cleaned_data

    if action == "register":
        d = form_or_errors(forms.RegisterForm)
        if d is not None:
            ok = _attempt(
                request,
                lambda: services.appeal_register(
                    actor=user, appeal=appeal, category=d["category"], priority=d["priority"], note=d["note"]
                ),
            )
            done_message = _("已立案。")
    elif action == "reject":
        d = form_or_errors(forms.ReasonForm)
        if d is not None:
            ok = _attempt(
                request, lambda: services.appeal_reject(actor=user, appeal=appeal, reason=d["reason"])
            )
            done_message = _("已作不予受理处理。")
    elif action == "merge":
        d = form_or_errors(forms.MergeForm)
        if d is not None:
            master = Appeal.objects.filter(reference=d["master"].strip()).first()
            if master is None or not permissions.can_read(user, master):
                messages.error(request, _("没有找到该编号的诉求 / no appeal with that reference"))
            else:
                ok = _attempt(
                    request,
                    lambda: services.appeal_merge(actor=user, appeal=appeal, master=master, note=d["note"]),
                )
                done_message = _("已合并到 %(ref)s。") % {"ref": master.reference}
    elif action in ("route", "dispatch"):
        d = form_or_errors(forms.DispatchForm)
        if d is not None:
            service = services.appeal_route if action == "route" else services.appeal_dispatch
            ok = _attempt(
                request,
                lambda: service(
                    actor=user,
                    appeal=appeal,
                    lead_unit=d["lead_unit"],
                    assisting_units=list(d["assisting_units"]),
                    note=d["note"],
                ),
            )
            done_message = (
                _("已派遣至 %(unit)s。") % {"unit": d["lead_unit"].name}
                if action == "dispatch"
                else _("已确定承办单位。")
            )
    elif action == "supervise":
        d = form_or_errors(forms.SuperviseForm)
        if d is not None:
            ok = _attempt(
                request,
                lambda: services.appeal_supervise(
                    actor=user, appeal=appeal, level=d["level"], note=d["note"]
                ),
            )
            done_message = _("已发出督办。")
    elif action == "verify":
        d = form_or_errors(forms.VerifyForm)
        if d is not None:
            ok = _attempt(
                request,
                lambda: services.appeal_verify(
                    actor=user, appeal=appeal, passed=d["passed"], note=d["note"], photos=_photos(request)
                ),
            )
            done_message = (
                _("核查通过，已办结。") if d["passed"] else _("核查未通过，已退回承办单位重新办理。")
            )
    elif action == "close":
        d = form_or_errors(forms.NoteForm)
        if d is not None:
            ok = _attempt(request, lambda: services.appeal_close(actor=user, appeal=appeal, note=d["note"]))
            done_message = _("已办结。")
    elif action == "redact":
        d = form_or_errors(forms.RedactForm)
        if d is not None:
            ok = _attempt(request, lambda: services.appeal_redact(actor=user, appeal=appeal, **d))
            done_message = _("公开内容已保存。")
    elif action == "callback":
        d = form_or_errors(forms.RatingForm)
        if d is not None:
            ok = _attempt(
                request,
                lambda: services.appeal_rate(
                    actor=user, appeal=appeal, value=d["value"], comment=d["comment"]
                ),
            )
            done_message = _("回访评价已记录。")
    elif action == "extension_decide":
        d = form_or_errors(forms.ExtensionDecideForm)
        if d is not None:
            req = appeal.extension_requests.filter(pk=d["request_id"]).first()
            if req is None:
                raise Http404("extension request")
            ok = _attempt(
                request,
                lambda: services.appeal_extension_decide(
                    actor=user, request=req, approve=d["approve"], note=d["note"]
                ),
            )
            done_message = _("已批准延期。") if d["approve"] else _("已不予批准延期。")
    elif action == "withdraw":
        d = form_or_errors(forms.ReasonForm)
        if d is not None:
            ok = _attempt(
                request, lambda: services.appeal_withdraw(actor=user, appeal=appeal, reason=d["reason"])
            )
            done_message = _("已按诉求人要求撤回。")
    elif action == "sign":
        ok = _attempt(request, lambda: services.appeal_sign(actor=user, appeal=appeal))
        done_message = _("已签收，请尽快办理。")
    elif action == "handle":
        d = form_or_errors(forms.HandleForm)
        findings = _result_findings(appeal, d["result"], len(_photos(request))) if d is not None else []
        if findings and post.get("quality_check") and not post.get("quality_ack"):
            # The page's form, sent without the script having shown the findings: show them and ask
            # the handler to confirm (the text is kept; photos must be chosen again).
            context = _case_context(request, appeal)
            context["handle_form"] = forms.HandleForm(post)
            context["quality_findings"] = findings
            return render(request, "appeals/case.html", context)
        if d is not None:
            for finding in findings if not post.get("quality_ack") else []:
                messages.warning(request, finding.message)
            ok = _attempt(
                request,
                lambda: services.appeal_handle(
                    actor=user, appeal=appeal, result=d["result"], photos=_photos(request)
                ),
            )
            done_message = _("办理结果已提交，等待核查。")
    elif action == "assist_report":
        d = form_or_errors(forms.AssistReportForm)
        if d is not None:
            ok = _attempt(
                request,
                lambda: services.appeal_assist_report(
                    actor=user, appeal=appeal, result=d["result"], photos=_photos(request)
                ),
            )
            done_message = _("协办结果已报送，主办单位可以看到。")
    elif action == "extend":
        d = form_or_errors(forms.ExtensionForm)
        if d is not None:
            ok = _attempt(
                request,
                lambda: services.appeal_extension_request(
                    actor=user, appeal=appeal, days=d["days"], reason=d["reason"]
                ),
            )
            done_message = _("延期申请已提交，等待调度审批。")
    elif action == "return":
        d = form_or_errors(forms.ReasonForm)
        if d is not None:
            ok = _attempt(
                request, lambda: services.appeal_return(actor=user, appeal=appeal, reason=d["reason"])
            )
            done_message = _("已退回调度中心。")
    else:
        raise Http404("action")
    if ok and done_message:
        messages.success(request, done_message)
    if ok and action == "return":
        return redirect("appeals:inbox")
    return redirect("appeals:case", appeal_id)


# --- smart triage on the forms: duplicates and the result check -------------------------------------


def _merge_suggestions(appeal: Appeal) -> list:
    """Open cases that may be the same problem, ranked by the duplicate score; the area-based list
    (same community, same domain) fills up the rest, unscored."""
    from linli.domains.triage.duplicates import similar_for_appeal

    suggestions = []
    for c in similar_for_appeal(appeal):
        c.appeal.dup_score = round(c.score * 100)
        c.appeal.dup_distance = None if c.distance_m is None else round(c.distance_m)
        suggestions.append(c.appeal)
    seen = {a.pk for a in suggestions}
    for other in selectors.similar_open_appeals(appeal):
        if other.pk not in seen and len(suggestions) < 8:
            suggestions.append(other)
    return suggestions


def _result_findings(appeal: Appeal, text: str, n_photos: int) -> list:
    from linli.domains.triage.quality import check_result

    existing = appeal.attachments.filter(kind__in=[AttachmentKind.RESULT, AttachmentKind.AFTER]).count()
    return check_result(appeal, text, n_photos, existing_photos=existing)


def _float(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if -180.0 <= number <= 180.0 else None


@login_required
def similar(request):
    """JSON for the resident's form: open cases nearby that may be the same problem. Private cases
    are left out, and only what a published result would show is returned (no names, phones or
    exact addresses)."""
    from linli.domains.triage.duplicates import similar_open_appeals

    title = request.GET.get("title", "")[:120]
    body = request.GET.get("body", "")[:4000]
    lng, lat = _float(request.GET.get("lng")), _float(request.GET.get("lat"))
    if len((title + body).strip()) < 6 or lng is None or lat is None:
        return JsonResponse({"results": []})
    category = Category.objects.filter(pk=_int(request.GET.get("category")) or 0, is_active=True).first()
    found = similar_open_appeals(title, body, lng, lat, category, limit=3, public_only=True)
    results = []
    for c in found:
        a = c.appeal
        results.append(
            {
                "reference": a.reference,
                "title": services.redact_text(a.title, names=services._names_of(a), address=a.address),
                "place": services.coarse_place(a),
                "category": a.category.name if a.category_id else "",
                "status": selectors.resident_status(a),
                "status_label": a.get_status_display(),
                "submitted": timezone.localdate(a.created_at).isoformat(),
                "distance_m": None if c.distance_m is None else round(c.distance_m),
                "score": round(c.score, 2),
            }
        )
    return JsonResponse({"results": results})


@login_required
@require_POST
def result_check(request, appeal_id: int):
    """JSON for the handler's form: what the result text still lacks (warnings, never a refusal)."""
    appeal = _access_case(request, appeal_id)
    if AssignmentRole.LEAD not in selectors.assignment_roles_for(request.user, appeal):
        raise PermissionDenied("not the lead unit")
    text = request.POST.get("result", "")[:4000]
    photos = _int(request.POST.get("photos")) or 0
    findings = _result_findings(appeal, text, min(photos, 50))
    return JsonResponse({"findings": [f.as_dict() for f in findings]})


# --- photos ----------------------------------------------------------------------------------------

PUBLIC_PHOTO_KINDS = (AttachmentKind.RESULT, AttachmentKind.AFTER)


@login_required
def photo(request, attachment_id: int):
    """A photo of a case: the original for staff who may read the case, the copy without EXIF data
    for the resident."""
    attachment = Attachment.objects.select_related("appeal").filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404("photo")
    appeal = permissions.access_appeal_by_id(request.user, attachment.appeal_id)
    own = permissions.is_resident_of(request.user, appeal) and not is_staff_member(request.user)
    file = attachment.public_file if own else attachment.file
    if not file:
        raise Http404("photo")
    response = FileResponse(file.open("rb"), content_type=attachment.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def public_photo(request, attachment_id: int):
    attachment = (
        Attachment.objects.filter(
            pk=attachment_id,
            kind__in=PUBLIC_PHOTO_KINDS,
            appeal__published=True,
            appeal__is_private=False,
            appeal__status=S.CLOSED,
        )
        .exclude(public_file="")
        .first()
    )
    if attachment is None:
        raise Http404("photo")
    return FileResponse(attachment.public_file.open("rb"), content_type=attachment.content_type)


# --- public results --------------------------------------------------------------------------------


def _rate_groups():
    return [
        ("street", _("按街道")),
        ("community", _("按社区")),
        ("department", _("按承办单位")),
        ("domain", _("按类别")),
        ("month", _("按月份")),
    ]


def public(request):
    g = request.GET
    areas = list(Area.objects.filter(kind__in=[AreaKind.STREET, AreaKind.COMMUNITY]).order_by("path"))
    area = next((a for a in areas if str(a.pk) == g.get("area")), None)
    domains = list(Category.objects.filter(parent__isnull=True, is_active=True))
    category_id = _int(g.get("category"))
    since, until = _date(g.get("since")), _date(g.get("until"))
    q = g.get("q", "").strip()[:60]
    rows = selectors.public_appeals(
        area_path=area.path if area else "", category_id=category_id, since=since, until=until, q=q
    )
    page = Paginator(rows, 15).get_page(g.get("page"))
    groups = _rate_groups()
    by = g.get("by", "street")
    by = by if by in dict(groups) else "street"
    rates = selectors.appeal_rates(
        group_by=by, since=since, until=until, area_path=area.path if area else "", category_id=category_id
    )
    rates = [r for r in rates if r["key"] is not None]
    if by == "month":
        for r in rates:
            r["label"] = r["key"].strftime("%Y-%m") if r["key"] else ""
        rates.reverse()
    totals = selectors.appeal_rates(
        group_by="month",
        since=since,
        until=until,
        area_path=area.path if area else "",
        category_id=category_id,
    )
    overall = _sum_rates(totals)
    params = g.copy()
    params.pop("by", None)
    params.pop("page", None)
    return render(
        request,
        "appeals/public.html",
        {
            "page": page,
            "areas": areas,
            "domains": domains,
            "f": {"area": area, "category": category_id, "since": since, "until": until, "q": q},
            "groups": groups,
            "by": by,
            "rates": rates,
            "overall": overall,
            "querystring": _querystring(request),
            "by_querystring": params.urlencode(),
        },
    )


def _sum_rates(rows) -> dict:
    keys = ("total", "dispatched", "responded", "accepted", "resolved", "rated", "satisfied")
    total = {k: sum(r[k] for r in rows) for k in keys}

    def ratio(a, b):
        return round(a / b, 4) if b else None

    total["response_rate"] = ratio(total["responded"], total["dispatched"])
    total["resolution_rate"] = ratio(total["resolved"], total["accepted"])
    total["satisfaction_rate"] = ratio(total["satisfied"], total["rated"])
    return total


def public_detail(request, reference: str):
    row = selectors.public_appeal(reference)
    if row is None:
        raise Http404("appeal")
    appeal_id = Appeal.objects.filter(reference=reference).values_list("pk", flat=True).first()
    photos = Attachment.objects.filter(appeal_id=appeal_id, kind__in=PUBLIC_PHOTO_KINDS).exclude(
        public_file=""
    )
    for event in row["timeline"]:
        event["action_label"] = dict(_action_labels()).get(event["action"], event["action"])
    return render(request, "appeals/public_detail.html", {"row": row, "photos": photos})


def _action_labels():
    from .choices import Action

    return Action.choices


def _recent_patrol(user):
    """A grid worker's own latest patrol reports, shown under the form."""
    qs = Appeal.objects.filter(submitted_by=user, channel=Channel.PATROL).filter(~Q(status=S.WITHDRAWN))
    return qs.select_related("category").order_by("-created_at")[:5]


def _already_submitted(request, message: str, view_name: str):
    """A resubmitted form (same idempotency key) goes to the case it already made, once."""
    existing = selectors.appeal_by_idempotency_key(request.user, request.POST.get("idempotency_key", ""))
    if existing is None:
        return None
    messages.info(request, message)
    return redirect(view_name, existing.pk)
