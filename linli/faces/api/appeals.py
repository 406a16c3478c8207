"""/api/v1/appeals/: file a case (residents, staff on someone's behalf, partners), cases handed
down by a city platform (12345), lists (mine; everything the caller may read, filtered), one case
with its timeline, and every action of the loop — each the one appeals service for it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from ninja import File, Header, Query, Router
from ninja.files import UploadedFile
from ninja.responses import Status

from linli.core.apikeys.models import Scope
from linli.core.orgs.models import Organisation
from linli.core.problems import Input, Problem
from linli.domains.appeals import permissions as appeal_permissions
from linli.domains.appeals import selectors
from linli.domains.appeals import services as svc
from linli.domains.appeals.choices import Channel, DeadlineState
from linli.domains.appeals.models import Appeal, Category

from . import schemas as s
from .auth import ANYONE, PEOPLE, partner_key, refuse_partners, require_scope
from .pagination import page
from .permissions import access_appeal, visible_appeals
from .uploads import upload_create, uploads_take

router = Router(tags=["appeals"])

ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 429: Problem}
IDEMPOTENCY = Header(
    ...,
    alias="Idempotency-Key",
    min_length=1,
    max_length=64,
    description="每次新建必填；重试时用同一个值，返回第一次的结果 / required on every create; a retry "
    "with the same key returns the case made the first time",
)


# --- shapes -----------------------------------------------------------------------------------------


def appeal_out(a: Appeal) -> dict:
    return {
        "id": a.pk,
        "reference": a.reference,
        "title": a.title,
        "body": a.body,
        "status": a.status,
        "status_label": str(a.get_status_display()),
        "category": {"code": a.category.code, "name": a.category.name} if a.category_id else None,
        "priority": a.priority,
        "channel": a.channel,
        "address": a.address,
        "lng": a.lng,
        "lat": a.lat,
        "street": a.street.name if a.street_id else None,
        "community": a.community.name if a.community_id else None,
        "lead_unit": a.lead_unit.name if a.lead_unit_id else None,
        "deadline_state": a.deadline_state,
        "handling_due": a.handling_due,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
        "closed_at": a.closed_at,
        "result": a.result,
        "external_source": a.external_source,
        "external_ref": a.external_ref,
    }


# Endpoint name → (transition names it may use, who may call it).
ACTIONS = {
    "register": (("register",), "dispatcher"),
    "reject": (("reject",), "dispatcher"),
    "merge": (("merge",), "dispatcher"),
    "dispatch": (("dispatch",), "dispatcher"),
    "extension-decide": (("extension_decide",), "dispatcher"),
    "verify": (("verify_pass", "verify_fail"), "verifier"),
    "close": (("close",), "dispatcher"),
    "sign": (("sign", "sign_assist"), "unit"),
    "handle": (("handle",), "lead"),
    "return": (("return",), "lead"),
    "extension": (("extension_request",), "lead"),
    "withdraw": (("withdraw",), "resident_or_dispatcher"),
    "rate": (("rate",), "resident_or_dispatcher"),
    "reopen": (("reopen",), "resident_or_dispatcher"),
}


def actions_for(user, appeal: Appeal) -> list[str]:
    open_now = set(svc.allowed_transitions(appeal.status))
    dispatcher = appeal_permissions.is_dispatcher_for(user, appeal)
    resident = appeal_permissions.is_resident_of(user, appeal)
    lead = appeal_permissions.is_member_of(user, appeal.lead_unit_id)
    roles = selectors.assignment_roles_for(user, appeal)
    who = {
        "dispatcher": dispatcher,
        "verifier": dispatcher or appeal_permissions.is_grid_worker_for(user, appeal.path),
        "unit": bool(roles) or lead,
        "lead": lead,
        "resident_or_dispatcher": resident or dispatcher,
    }
    names = [name for name, (names, role) in ACTIONS.items() if open_now.intersection(names) and who[role]]
    if "rate" in names and selectors.current_rating(appeal) is not None:
        names.remove("rate")
    return names


def detail_out(request, appeal: Appeal) -> dict:
    staff = not appeal_permissions.is_resident_of(request.user, appeal) and partner_key(request) is None
    events = selectors.appeal_timeline(appeal, staff=staff)
    data = appeal_out(appeal)
    data["answers"] = appeal.answers or {}
    data["timeline"] = [
        {
            "at": e.at,
            "action": e.action,
            "action_label": str(e.get_action_display()),
            "from_status": e.from_status,
            "to_status": e.to_status,
            "note": e.shown_note if (staff or e.public) else "",
            "unit": e.unit.name if (staff and e.unit_id) else None,
        }
        for e in events
    ]
    data["actions"] = [] if partner_key(request) is not None else actions_for(request.user, appeal)
    return data


def _category(code: str | None) -> Category | None:
    if not code:
        return None
    category = Category.objects.filter(code=code).first()
    if category is None:
        raise ValidationError(_("没有此类别 / unknown category: %(c)s") % {"c": code}, code="category")
    return category


def _compound(compound_id: int | None):
    if compound_id is None:
        return None
    from linli.core.places.models import Compound

    compound = Compound.objects.filter(pk=compound_id).first()
    if compound is None:
        raise ValidationError(_("没有此小区 / unknown compound"), code="compound")
    return compound


# --- create -----------------------------------------------------------------------------------------


def _submit(request, payload: s.AppealIn, key: str, *, external_ref: str = "") -> tuple[int, Appeal]:
    partner = partner_key(request)
    user = request.user
    existing = selectors.appeal_by_idempotency_key(user, key)
    if existing is None and external_ref and partner is not None:
        existing = Appeal.objects.filter(external_source=partner.source, external_ref=external_ref).first()
    if existing is not None:
        return 200, existing
    if partner is not None:
        channel = Channel.API
    else:
        channel = payload.channel or (Channel.MOBILE if getattr(user, "is_resident", False) else Channel.WEB)
    with transaction.atomic():
        photos = uploads_take(actor=user, ids=payload.photo_ids)
        appeal = svc.appeal_submit(
            actor=user,
            title=payload.title,
            body=payload.body,
            category=_category(payload.category),
            priority=payload.priority,
            channel=channel,
            lng=payload.lng,
            lat=payload.lat,
            address=payload.address,
            compound=_compound(payload.compound_id),
            contact_name=payload.contact_name,
            contact_phone=payload.contact_phone,
            is_private=payload.is_private,
            answers=payload.answers,
            photos=photos,
            idempotency_key=key,
            external_source=partner.source if (partner is not None and external_ref) else "",
            external_ref=external_ref,
        )
    return 201, appeal


@router.post(
    "/",
    response={200: s.AppealOut, 201: s.AppealOut, **ERRORS},
    auth=ANYONE,
    summary="File an appeal (resident, staff on someone's behalf, or partner)",
    url_name="appeals_create",
)
def appeal_create(request, payload: s.AppealIn, idempotency_key: str = IDEMPOTENCY):
    require_scope(request, Scope.APPEALS_CREATE)
    status, appeal = _submit(request, payload, idempotency_key)
    return Status(status, appeal_out(appeal))


@router.post(
    "/handdown",
    response={200: s.AppealOut, 201: s.AppealOut, **ERRORS},
    auth=ANYONE,
    summary="A case handed down by a city platform (12345), deduplicated on its external reference",
)
def appeal_handdown(request, payload: s.HanddownIn, idempotency_key: str = IDEMPOTENCY):
    key = partner_key(request)
    if key is None or not key.source:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(
            _("只有登记了来源的平台密钥可以下派 / only a source platform's key hands down")
        )
    require_scope(request, Scope.HANDDOWN)
    status, appeal = _submit(request, payload, idempotency_key, external_ref=payload.external_ref)
    return Status(status, appeal_out(appeal))


# --- read -------------------------------------------------------------------------------------------


class ListFilters(Input):
    status: str | None = None
    category: str | None = None
    channel: str | None = None
    deadline_state: str | None = None
    external_source: str | None = None
    q: str = ""
    cursor: str | None = None
    limit: int = 20


@router.get("/mine", response={200: s.AppealPage, **ERRORS}, auth=PEOPLE, summary="My own appeals")
def appeals_mine(request, cursor: str | None = None, limit: int = 20):
    result = page(
        selectors.resident_appeals(request.user).select_related("street", "community", "lead_unit"),
        cursor=cursor,
        limit=limit,
    )
    return {"items": [appeal_out(a) for a in result["items"]], "next_cursor": result["next_cursor"]}


@router.get(
    "/",
    response={200: s.AppealPage, **ERRORS},
    auth=ANYONE,
    summary="Appeals the caller may read (staff: their jurisdiction and units), newest first",
)
def appeals_list(request, filters: Query[ListFilters]):
    qs = visible_appeals(request)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.category:
        qs = qs.filter(category__code=filters.category) | qs.filter(category__parent__code=filters.category)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.deadline_state:  # derived from the deadlines when read, not a column
        known = filters.deadline_state in DeadlineState.values
        qs = qs.filter(selectors.deadline_q(filters.deadline_state)) if known else qs.none()
    if filters.external_source:
        qs = qs.filter(external_source=filters.external_source)
    if filters.q:
        qs = qs.filter(title__icontains=filters.q[:100]) | qs.filter(reference__icontains=filters.q[:100])
    result = page(qs, cursor=filters.cursor, limit=filters.limit)
    return {"items": [appeal_out(a) for a in result["items"]], "next_cursor": result["next_cursor"]}


@router.get(
    "/{int:appeal_id}", response={200: s.AppealDetailOut, **ERRORS}, auth=ANYONE, summary="One appeal"
)
def appeal_read(request, appeal_id: int):
    return detail_out(request, access_appeal(request, appeal_id))


# --- actions ----------------------------------------------------------------------------------------


def _act(request, appeal_id: int, do) -> dict:
    refuse_partners(request)
    appeal = access_appeal(request, appeal_id)
    do(appeal)
    return detail_out(request, access_appeal(request, appeal_id))


def _unit(code: str) -> Organisation:
    unit = Organisation.objects.filter(code=code).first()
    if unit is None:
        raise ValidationError(_("没有此单位 / unknown unit: %(c)s") % {"c": code}, code="unit")
    return unit


def _action(name: str, summary: str):
    return router.post(
        f"/{{int:appeal_id}}/{name}",
        response={200: s.AppealDetailOut, **ERRORS},
        auth=PEOPLE,
        summary=summary,
        operation_id=f"appeal_{name.replace('-', '_')}",
    )


@_action("register", "Register (立案), optionally setting category and priority — dispatcher")
def act_register(request, appeal_id: int, payload: s.RegisterIn):
    return _act(
        request,
        appeal_id,
        lambda a: svc.appeal_register(
            actor=request.user,
            appeal=a,
            category=_category(payload.category),
            priority=payload.priority,
            note=payload.note,
        ),
    )


@_action("reject", "Reject (不予受理) with a reason — dispatcher")
def act_reject(request, appeal_id: int, payload: s.ReasonIn):
    return _act(
        request, appeal_id, lambda a: svc.appeal_reject(actor=request.user, appeal=a, reason=payload.reason)
    )


@_action("merge", "Merge into another appeal (duplicate) — dispatcher")
def act_merge(request, appeal_id: int, payload: s.MergeIn):
    def do(a):
        master = access_appeal(request, payload.master_id)
        svc.appeal_merge(actor=request.user, appeal=a, master=master, note=payload.note)

    return _act(request, appeal_id, do)


@_action("dispatch", "Dispatch to the lead (and assisting) units — dispatcher")
def act_dispatch(request, appeal_id: int, payload: s.DispatchIn):
    def do(a):
        lead = _unit(payload.lead_unit) if payload.lead_unit else None
        assisting = [_unit(c) for c in payload.assisting_units] if payload.lead_unit else None
        svc.appeal_dispatch(
            actor=request.user, appeal=a, lead_unit=lead, assisting_units=assisting, note=payload.note
        )

    return _act(request, appeal_id, do)


@_action("sign", "Sign for the case (签收) — staff of an assigned unit")
def act_sign(request, appeal_id: int):
    return _act(request, appeal_id, lambda a: svc.appeal_sign(actor=request.user, appeal=a))


@_action("handle", "Report the result (办理) — lead unit")
def act_handle(request, appeal_id: int, payload: s.HandleIn):
    def do(a):
        with transaction.atomic():
            photos = uploads_take(actor=request.user, ids=payload.photo_ids)
            svc.appeal_handle(actor=request.user, appeal=a, result=payload.result, photos=photos)

    return _act(request, appeal_id, do)


@_action("return", "Return a misrouted case (退回) — lead unit")
def act_return(request, appeal_id: int, payload: s.ReasonIn):
    return _act(
        request, appeal_id, lambda a: svc.appeal_return(actor=request.user, appeal=a, reason=payload.reason)
    )


@_action("extension", "Ask for more working days (申请延期) — lead unit")
def act_extension(request, appeal_id: int, payload: s.ExtensionIn):
    return _act(
        request,
        appeal_id,
        lambda a: svc.appeal_extension_request(
            actor=request.user, appeal=a, days=payload.days, reason=payload.reason
        ),
    )


@_action("extension-decide", "Approve or refuse the pending extension — dispatcher")
def act_extension_decide(request, appeal_id: int, payload: s.ExtensionDecideIn):
    def do(a):
        pending = selectors.pending_extension(a)
        if pending is None:
            raise svc.AppealConflict(
                _("没有待审批的延期申请 / no pending extension request"), code="conflict"
            )
        svc.appeal_extension_decide(
            actor=request.user, request=pending, approve=payload.approve, note=payload.note
        )

    return _act(request, appeal_id, do)


@_action("verify", "Verify the result: pass closes, fail reopens — dispatcher or the grid's worker")
def act_verify(request, appeal_id: int, payload: s.VerifyIn):
    def do(a):
        with transaction.atomic():
            photos = uploads_take(actor=request.user, ids=payload.photo_ids)
            svc.appeal_verify(
                actor=request.user, appeal=a, passed=payload.passed, note=payload.note, photos=photos
            )

    return _act(request, appeal_id, do)


@_action("close", "Close (办结) — dispatcher")
def act_close(request, appeal_id: int, payload: s.NoteIn):
    return _act(
        request, appeal_id, lambda a: svc.appeal_close(actor=request.user, appeal=a, note=payload.note)
    )


@_action("withdraw", "Withdraw (撤回) — the resident, or a dispatcher at their request")
def act_withdraw(request, appeal_id: int, payload: s.WithdrawIn):
    return _act(
        request, appeal_id, lambda a: svc.appeal_withdraw(actor=request.user, appeal=a, reason=payload.reason)
    )


@_action("rate", "Rate the result (评价) — the resident, or a call-back by a dispatcher")
def act_rate(request, appeal_id: int, payload: s.RateIn):
    return _act(
        request,
        appeal_id,
        lambda a: svc.appeal_rate(actor=request.user, appeal=a, value=payload.value, comment=payload.comment),
    )


@_action(
    "reopen", "Ask for another round (重新办理) — the resident after an unsatisfied rating, or a dispatcher"
)
def act_reopen(request, appeal_id: int, payload: s.ReasonIn):
    return _act(
        request, appeal_id, lambda a: svc.appeal_reopen(actor=request.user, appeal=a, reason=payload.reason)
    )


# --- attachments ------------------------------------------------------------------------------------

attachments_router = Router(tags=["attachments"])


@attachments_router.post(
    "/",
    response={201: s.UploadOut, **ERRORS},
    auth=ANYONE,
    summary="Upload a photo (JPEG, PNG, WebP; checked by its bytes); use its id in photo_ids",
)
def attachment_upload(request, file: File[UploadedFile]):
    require_scope(request, Scope.APPEALS_CREATE)
    if file.size and file.size > 20 * 1024 * 1024:
        raise ValidationError(_("文件过大 / the file is too large"))
    upload = upload_create(actor=request.user, content=file.read())
    return Status(
        201,
        {"id": upload.pk, "content_type": upload.content_type, "size": upload.size, "sha256": upload.sha256},
    )


# --- categories -------------------------------------------------------------------------------------

categories_router = Router(tags=["categories"])


def _category_out(c: Category, children: list) -> dict:
    return {
        "code": c.code,
        "name": c.name,
        "description": c.description,
        "is_public": c.is_public,
        "questions": [
            {
                "code": str(q.get("code", "")),
                "label": str(q.get("label", q.get("code", ""))),
                "datatype": str(q.get("datatype", "text")),
                "required": bool(q.get("required")),
                "choices": [str(x) for x in q.get("choices") or []],
            }
            for q in c.questions or []
        ],
        "children": children,
    }


@categories_router.get(
    "/",
    response={200: list[s.CategoryOut], 429: Problem},
    auth=None,
    summary="The category tree with each category's extra questions",
)
def categories(request):
    active = list(Category.objects.filter(is_active=True).order_by("sort_order", "code"))
    kids: dict[int, list[Category]] = {}
    for c in active:
        if c.parent_id:
            kids.setdefault(c.parent_id, []).append(c)
    return [
        _category_out(c, [_category_out(k, []) for k in kids.get(c.pk, [])])
        for c in active
        if c.parent_id is None
    ]
