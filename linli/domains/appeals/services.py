"""Every write to the appeals loop. One function per transition: keyword-only arguments, ``actor``
first; each locks the appeal row, checks the transition table and the actor's role and jurisdiction,
records an ``AppealEvent`` and an audit row, and schedules notifications on commit.

Concurrency: the caller passes the appeal as it saw it. The service re-reads the row under
``select_for_update``; when its status has moved since (someone else acted first) the call fails with
``AppealConflict``, so of two staff acting at once exactly one wins and the other is told so.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import re
import threading
from collections.abc import Iterable, Sequence
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from linli.core.audit.services import audit_entry, audit_record, audit_record_many
from linli.core.orgs.choices import Role
from linli.core.orgs.jurisdiction import is_staff_member, jurisdiction_of
from linli.core.orgs.models import Membership, Organisation
from linli.core.places.choices import AreaKind
from linli.core.places.models import Area, Compound
from linli.core.webhooks.services import subscriptions_read_once

from . import deadlines, permissions
from .choices import (
    OPEN_STATUSES,
    STAFF_CHANNELS,
    Action,
    AppealStatus,
    AssignmentRole,
    AttachmentKind,
    Channel,
    ExtensionStatus,
    Priority,
    RatingSource,
    RatingValue,
    SupervisionLevel,
    SupervisionTrigger,
)
from .intake import insert_appeal, request_followup
from .models import (
    Appeal,
    AppealEvent,
    AppealFollow,
    Assignment,
    Attachment,
    Category,
    ExtensionRequest,
    Rating,
    Supervision,
    system_note,
)
from .outbox import appeal_outbox_emit
from .photos import PhotoRejected, check_photo, max_count
from .routing import appeal_suggest_route, rules_read_once

logger = logging.getLogger("linli.appeals")
S = AppealStatus


# --- errors ----------------------------------------------------------------------------------------


class AppealError(ValidationError):
    """A request the appeals loop refuses; the message is bilingual."""


class TransitionNotAllowed(AppealError):
    pass


class AppealConflict(AppealError):
    """Someone else changed the appeal first."""


class ActorNotAllowed(PermissionDenied):
    pass


# --- the transition table --------------------------------------------------------------------------
# name → (statuses it may start from, status it leads to; None = the status does not change)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "register": (frozenset({S.SUBMITTED}), S.REGISTERED),
    "reject": (frozenset({S.SUBMITTED, S.REGISTERED, S.RETURNED}), S.REJECTED),
    "merge": (frozenset({S.SUBMITTED, S.REGISTERED, S.RETURNED}), S.MERGED),
    "route": (frozenset({S.SUBMITTED, S.REGISTERED, S.RETURNED, S.REOPENED}), None),
    "dispatch": (frozenset({S.REGISTERED, S.RETURNED, S.REOPENED}), S.DISPATCHED),
    "sign": (frozenset({S.DISPATCHED, S.REOPENED}), S.IN_PROGRESS),
    "sign_assist": (frozenset({S.DISPATCHED, S.IN_PROGRESS, S.REOPENED}), None),
    "handle": (frozenset({S.IN_PROGRESS}), S.HANDLED),
    "return": (frozenset({S.DISPATCHED, S.IN_PROGRESS}), S.RETURNED),
    "extension_request": (frozenset({S.DISPATCHED, S.IN_PROGRESS}), None),
    "extension_decide": (frozenset({S.DISPATCHED, S.IN_PROGRESS}), None),
    "verify_pass": (frozenset({S.HANDLED}), S.CLOSED),
    "verify_fail": (frozenset({S.HANDLED}), S.REOPENED),
    "close": (frozenset({S.HANDLED, S.REOPENED}), S.CLOSED),
    "reopen": (frozenset({S.CLOSED}), S.REOPENED),
    "withdraw": (frozenset({S.SUBMITTED, S.REGISTERED, S.DISPATCHED, S.RETURNED}), S.WITHDRAWN),
    "rate": (frozenset({S.CLOSED}), None),
    "supervise": (frozenset({S.DISPATCHED, S.IN_PROGRESS, S.REOPENED}), None),
    "patrol_close": (frozenset({S.SUBMITTED}), S.CLOSED),
    "redact": (frozenset({S.CLOSED}), None),
    # the resident adds photos or a note to their open case (补充材料)
    "supplement": (frozenset(OPEN_STATUSES), None),
    # an assisting unit (协办) reports its part before the lead unit handles
    "assist_report": (frozenset({S.DISPATCHED, S.IN_PROGRESS, S.REOPENED}), None),
}


def allowed_transitions(status: str) -> list[str]:
    return [name for name, (sources, _to) in TRANSITIONS.items() if status in sources]


def _check(name: str, appeal: Appeal) -> str:
    sources, target = TRANSITIONS[name]
    if appeal.status not in sources:
        raise TransitionNotAllowed(
            _(
                "当前状态“%(status)s”下不能执行此操作 / "
                "this action is not allowed while the appeal is %(code)s"
            )
            % {"status": appeal.get_status_display(), "code": appeal.status},
            code="transition_not_allowed",
        )
    return target if target is not None else appeal.status


def _lock(appeal: Appeal) -> Appeal:
    """Re-read the row under lock; refuse if it moved since the caller read it."""
    locked = Appeal.objects.select_for_update(of=("self",)).select_related("category").get(pk=appeal.pk)
    if locked.status != appeal.status:
        raise AppealConflict(
            _(
                "该诉求已被他人处理，当前状态为“%(status)s”，请刷新后重试 / "
                "someone else acted on this appeal first (it is now %(code)s); reload and try again"
            )
            % {"status": locked.get_status_display(), "code": locked.status},
            code="conflict",
        )
    return locked


# --- actor checks ----------------------------------------------------------------------------------


def _deny(message: str):
    raise ActorNotAllowed(message)


def _require_dispatcher(actor, appeal: Appeal) -> None:
    if actor is None or not permissions.is_dispatcher_for(actor, appeal):
        _deny(_("只有辖区调度员可以执行此操作 / only a dispatcher covering this place may do this"))


def _lead_assignment(appeal: Appeal) -> Assignment | None:
    return appeal.assignments.filter(is_active=True, role=AssignmentRole.LEAD).first()


def _require_lead_member(actor, appeal: Appeal) -> Assignment:
    assignment = _lead_assignment(appeal)
    if actor is None or assignment is None or not permissions.is_member_of(actor, assignment.unit_id):
        _deny(_("只有主办单位的工作人员可以执行此操作 / only staff of the lead unit may do this"))
    return assignment


def _require_resident(actor, appeal: Appeal) -> None:
    if not permissions.is_resident_of(actor, appeal):
        _deny(_("只有诉求人本人可以执行此操作 / only the person who raised the appeal may do this"))


# --- events, notifications, audit -----------------------------------------------------------------


def _record(
    appeal: Appeal,
    *,
    actor,
    action: str,
    from_status: str,
    note: str = "",
    public: bool = True,
    unit: Organisation | None = None,
    data: dict | None = None,
    at=None,
) -> AppealEvent:
    event = AppealEvent.objects.create(
        appeal=appeal,
        at=at or timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        unit=unit,
        action=action,
        from_status=from_status,
        to_status=appeal.status,
        note=note,
        public=public,
        data=data or {},
    )
    changes = {"status": [from_status, appeal.status]} if from_status != appeal.status else {}
    if data:
        changes.update({k: v for k, v in data.items() if isinstance(v, (str, int, float, bool, type(None)))})
    audit_record(actor=actor, action=f"appeal.{action}", obj=appeal, changes=changes, reason=note)
    appeal_outbox_emit(appeal, event)  # signed webhooks: written in this transaction
    event_id = event.pk
    inline = _inline_notices.get()
    if inline is not None:
        inline.append(event_id)
    else:
        transaction.on_commit(lambda: _enqueue_notification(event_id))
    return event


# Inside a background task, the notices of the events recorded are written by the task itself
# (``notices_inline``) instead of one ``appeal_notify`` task each: an automatic dispatch records two
# events, and at hundreds of intakes a second the queue would fill with tasks the worker then
# claims one by one.
_inline_notices: ContextVar[list[int] | None] = ContextVar("appeal_inline_notices", default=None)


@contextmanager
def notices_inline():
    """The notices of the events recorded in the block, written at its end in the same transaction
    (each in its own savepoint: a failing notice undoes nothing else). For background tasks only."""
    event_ids: list[int] = []
    token = _inline_notices.set(event_ids)
    try:
        yield
    finally:
        _inline_notices.reset(token)
    for event_id in event_ids:
        _notify_now(event_id)


def _enqueue_notification(event_id: int) -> None:
    from .tasks import appeal_notify

    try:
        appeal_notify.enqueue(event_id=event_id)
    except Exception:  # a notification must never undo or hide a committed transition
        logger.exception("could not enqueue notification for appeal event %s", event_id)


@dataclass
class _Place:
    grid_id: int | None
    community_id: int | None
    street_id: int | None
    compound_id: int | None
    road_id: int | None
    path: str


_place_lock = threading.Lock()
_place_maps: tuple[object, dict, dict] | None = None  # (place index it belongs to, areas, compounds)


def _places(*, refresh: bool = False) -> tuple[dict, dict]:
    """``{area id: (kind, parent id, path)}`` and ``{compound id: (grid id, community id, road id)}``:
    what an intake needs to know of the geography, one copy per process, rebuilt with the place
    index (``linli.core.places.index``) or when an id it does not know turns up. Two queries per
    rebuild instead of four or five per intake."""
    global _place_maps
    from linli.core.places.index import get_index

    index = get_index()
    current = _place_maps
    if not refresh and current is not None and current[0] is index:
        return current[1], current[2]
    with _place_lock:
        areas = {
            pk: (kind, parent, path)
            for pk, kind, parent, path in Area.objects.values_list("id", "kind", "parent_id", "path")
        }
        compounds = {
            pk: (grid, community, road)
            for pk, grid, community, road in Compound.objects.values_list(
                "id", "grid_id", "community_id", "road_id"
            )
        }
        _place_maps = (index, areas, compounds)
    return areas, compounds


def _locate(*, lng, lat, grid: Area | None, compound: Compound | None) -> _Place:
    """Grid, community, street, compound, road and area path of a new appeal, from the point (or
    the grid or compound given) without touching the database on the usual path."""
    grid_id = grid.pk if grid is not None else None
    compound_id = road_id = None
    if compound is not None:
        compound_id, road_id = compound.pk, compound.road_id
        grid_id = grid_id or compound.grid_id
    if grid_id is None and lng is not None and lat is not None:
        location = _locate_point(lng, lat)
        if location is not None:
            grid_id = location.grid.id if location.grid else None
            near = getattr(location, "compound", None)
            limit = float(getattr(settings, "LINLI_APPEALS_COMPOUND_RADIUS_M", 150))
            if compound_id is None and near is not None and (location.distance_m or 0) <= limit:
                compound_id = near.id
    areas, compounds = _places()
    unknown_grid = grid_id is not None and grid_id not in areas
    if unknown_grid or (compound_id is not None and compound_id not in compounds):
        areas, compounds = _places(refresh=True)
    if compound_id is not None and compound_id in compounds:
        road_id = road_id if compound is not None else compounds[compound_id][2]
    anchor = grid_id
    if anchor is None and compound_id is not None:
        known = compounds.get(compound_id, (None, None, None))
        anchor = compound.community_id if compound is not None else known[1]
    chain: dict[str, int] = {}
    area_id, hops = anchor, 0
    while area_id is not None and area_id in areas and hops < 8:
        kind, parent, _path = areas[area_id]
        chain.setdefault(kind, area_id)
        area_id, hops = parent, hops + 1
    if anchor is None or anchor not in areas:
        districts = [pk for pk, (kind, _p, _path) in areas.items() if kind == AreaKind.DISTRICT]
        anchor = min(districts) if districts else None
    return _Place(
        grid_id=chain.get(AreaKind.GRID),
        community_id=chain.get(AreaKind.COMMUNITY),
        street_id=chain.get(AreaKind.STREET),
        compound_id=compound_id,
        road_id=road_id,
        path=areas[anchor][2] if anchor is not None else "",
    )


def _locate_point(lng: float, lat: float):
    """The grid (and nearest compound) of a point, or None outside the district."""
    try:
        from linli.core.places.selectors import place_locate  # the shared selector, when present
    except ImportError:
        from linli.core.places.index import get_index

        def place_locate(lng, lat):
            return get_index().locate(lng, lat)

    try:
        return place_locate(lng, lat)
    except ValueError:  # OutsideDistrict or bad coordinates
        raise AppealError(
            _("位置不在本区范围内 / the location lies outside the district"), code="outside_district"
        ) from None


# --- answers to a category's extra questions ------------------------------------------------------


def choice_keys(question: dict) -> list[str]:
    """The values a choice or multichoice question accepts: its choices, or each choice's ``key``
    when they are written as ``{"key", "name"}``."""
    return [str(c.get("key", "")) if isinstance(c, dict) else str(c) for c in question.get("choices") or []]


def _clean_answers(category: Category | None, answers: dict | None) -> dict:
    answers = dict(answers or {})
    if category is None:
        return answers
    cleaned = {}
    for q in category.questions or []:
        code, value = q.get("code"), answers.get(q.get("code"))
        if value in (None, "") or value == []:
            if q.get("required"):
                raise AppealError(
                    _("请回答：%(label)s / this question needs an answer: %(code)s")
                    % {"label": q.get("label", code), "code": code},
                    code="answer_required",
                )
            continue
        kind = q.get("datatype", "text")
        try:
            if kind == "number":
                value = float(value)
            elif kind == "bool":
                value = value in (True, "true", "1", 1, "on", "yes")
            elif kind == "choice":
                if str(value) not in choice_keys(q):
                    raise ValueError(value)
                value = str(value)
            elif kind == "multichoice":
                # a list of declared values, each once, in the order given; one value is a list of one
                values = [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
                if any(v not in choice_keys(q) for v in values):
                    raise ValueError(value)
                value = list(dict.fromkeys(values))
            else:
                value = str(value)[:500]
        except (TypeError, ValueError):
            raise AppealError(
                _("回答无效：%(label)s / invalid answer to %(code)s")
                % {"label": q.get("label", code), "code": code},
                code="answer_invalid",
            ) from None
        cleaned[code] = value
    return cleaned


# --- photos ----------------------------------------------------------------------------------------


def _attach(
    appeal: Appeal, photos: Iterable, *, kind: str, actor, event: AppealEvent | None
) -> list[Attachment]:
    photos = list(photos or ())
    if not photos:
        return []
    if appeal.attachments.count() + len(photos) > max_count() * 3 or len(photos) > max_count():
        raise AppealError(
            _("每次最多上传 %(n)d 张照片 / at most %(n)d photos at a time") % {"n": max_count()},
            code="too_many_photos",
        )
    created = []
    for photo in photos:
        content = photo if isinstance(photo, bytes) else photo.read()
        try:
            checked = check_photo(content)
        except PhotoRejected as exc:
            raise AppealError(str(exc), code="photo_rejected") from None
        attachment = Attachment(
            appeal=appeal,
            event=event,
            kind=kind,
            content_type=checked.content_type,
            size=len(checked.content),
            sha256=checked.sha256,
            uploaded_by=actor if getattr(actor, "pk", None) else None,
        )
        attachment.file.save("photo", ContentFile(checked.content), save=False)
        attachment.public_file.save("photo", ContentFile(checked.public_content), save=False)
        attachment.save()
        created.append(attachment)
    return created


# --- publication -----------------------------------------------------------------------------------

_PHONE = re.compile(r"(?<!\d)(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_HOUSE = re.compile(
    r"\d+\s*(?:栋|幢|号楼)\s*(?:\d+\s*单元)?\s*(?:\d+\s*(?:号|室))?|\d+\s*单元\s*\d+\s*(?:号|室)?"
)


def redact_text(text: str, *, names: Sequence[str] = (), address: str = "") -> str:
    """Remove phones, ID numbers, flat numbers, the exact address and the given names."""
    out = _ID.sub("[证件号已隐去]", text)
    out = _PHONE.sub("[电话已隐去]", out)
    if address:
        out = out.replace(address, "[地址已隐去]")
    out = _HOUSE.sub("[门牌已隐去]", out)
    for name in names:
        if name and len(name) >= 2:
            out = out.replace(name, name[0] + "*" * (len(name) - 1))
    return out


def coarse_place(appeal: Appeal) -> str:
    if appeal.compound_id:
        return appeal.compound.name
    if appeal.road_id:
        return appeal.road.name
    for area in (appeal.community, appeal.street):
        if area is not None:
            return area.name
    return ""


def _names_of(appeal: Appeal) -> list[str]:
    names = [appeal.contact_name]
    if appeal.resident_id:
        r = appeal.resident
        names += [r.display_name, r.get_full_name(), r.last_name + r.first_name]
        if r.person_id:
            names.append(r.person.name)
    return [n for n in names if n]


def _publish(appeal: Appeal, now) -> None:
    public = appeal.category.is_public if appeal.category_id else True
    if appeal.is_private or not public:
        appeal.published = False
        return
    names, address = _names_of(appeal), appeal.address
    appeal.public_title = redact_text(appeal.title, names=names, address=address)[:120]
    appeal.public_body = redact_text(appeal.body, names=names, address=address)
    appeal.public_result = redact_text(appeal.result, names=names, address=address)
    appeal.public_place = coarse_place(appeal)[:120]
    appeal.published = True
    appeal.published_at = now


def _follow_master_closed(master: Appeal, *, actor) -> None:
    """The duplicates merged into a case learn its outcome."""
    note, note_data = system_note("master_closed", ref=master.reference)
    for duplicate in master.duplicates.filter(status=S.MERGED):
        _record(
            duplicate,
            actor=actor,
            action=Action.CLOSE,
            from_status=S.MERGED,
            note=note,
            data={"master": master.reference, **note_data},
        )


# ==================================================================================================
# intake
# ==================================================================================================


def appeal_submit(
    *,
    actor,
    title: str,
    body: str,
    category: Category | None = None,
    priority: str = Priority.NORMAL,
    channel: str = Channel.WEB,
    lng: float | None = None,
    lat: float | None = None,
    address: str = "",
    compound: Compound | None = None,
    grid: Area | None = None,
    resident=None,
    contact_name: str = "",
    contact_phone: str = "",
    is_private: bool = False,
    anonymous_to_public: bool = True,
    answers: dict | None = None,
    photos: Iterable = (),
    idempotency_key: str = "",
    external_source: str = "",
    external_ref: str = "",
    auto_dispatch: bool | None = None,
    note: str = "",
) -> Appeal:
    """A new appeal from any channel. A retried call with the same ``idempotency_key`` (per
    submitter), or the same external reference, returns the case made the first time (the unique
    constraints decide, so two concurrent retries also make one case).

    The request path writes only what must be durable before the resident is told "received": the
    appeal row, in one statement (``intake.insert_appeal``); with photos, the appeal, its ``submit``
    event and the photos in one transaction. The follow-up (``appeal_intake_complete``, see
    ``intake``) does the rest once, in the background: the ``submit`` event when not written yet,
    the audit row, the webhook outbox, the dispatchers' notices and automatic routing, registration
    and dispatch. A backend that runs tasks at once (tests) does it before this returns."""
    submitter = actor if getattr(actor, "pk", None) else None
    keyed = bool(idempotency_key and submitter is not None) or bool(external_ref)
    actor_is_resident = getattr(actor, "is_resident", False)
    if actor_is_resident:
        if channel not in (Channel.WEB, Channel.MOBILE, Channel.API):
            _deny(_("居民只能通过网页、手机或接口提交 / residents submit on the web, phone or API"))
        resident = actor
    elif channel in STAFF_CHANNELS or channel == Channel.PATROL:
        if actor is None or not is_staff_member(actor):
            _deny(_("只有工作人员可以代为登记 / only staff may enter an appeal on someone's behalf"))
        if resident is None and not (contact_name or contact_phone) and channel != Channel.PATROL:
            raise AppealError(
                _("代为登记须留下联系人或电话 / a staff-entered appeal needs a contact name or phone"),
                code="contact_required",
            )
    elif channel == Channel.WEB or channel == Channel.MOBILE:
        if actor is None:
            _deny(_("请先登录 / please sign in first"))
    if priority not in Priority.values or channel not in Channel.values:
        raise AppealError(_("紧急程度或渠道无效 / invalid priority or channel"), code="invalid_choice")
    title, body = (title or "").strip(), (body or "").strip()
    if not title or not body:
        raise AppealError(_("请填写标题和内容 / title and description are required"), code="text_required")
    if category is not None and not category.is_active:
        raise AppealError(_("该类别已停用 / this category is no longer in use"), code="category_inactive")
    if contact_phone:
        from linli.core.privacy.phone import normalise_phone

        contact_phone = normalise_phone(contact_phone)
    photos = list(photos or ())
    place = _locate(lng=lng, lat=lat, grid=grid, compound=compound)
    now = timezone.now()
    appeal = Appeal(
        title=title[:120],
        body=body,
        category=category,
        priority=priority,
        channel=channel,
        status=S.SUBMITTED,
        lng=lng,
        lat=lat,
        address=address[:200],
        grid_id=place.grid_id,
        community_id=place.community_id,
        street_id=place.street_id,
        path=place.path,
        compound_id=place.compound_id,
        road_id=place.road_id,
        resident=resident,
        submitted_by=submitter,
        contact_name=contact_name,
        contact_phone=contact_phone,
        is_private=is_private,
        anonymous_to_public=anonymous_to_public,
        idempotency_key=idempotency_key or "",
        external_source=external_source,
        external_ref=external_ref,
        answers=_clean_answers(category, answers),
        created_at=now,
    )
    if photos or note:  # (a note: an Open311 picture that could not be fetched, noted by the worker)
        with transaction.atomic():
            if not insert_appeal(appeal, now=now, keyed=keyed):
                return _existing_submission(actor, idempotency_key, external_source, external_ref)
            event = AppealEvent.objects.create(
                appeal=appeal,
                at=now,
                actor=submitter,
                action=Action.SUBMIT,
                from_status="",
                to_status=S.SUBMITTED,
                note=note[:500],
                data={"channel": channel},
            )
            _attach(appeal, photos, kind=AttachmentKind.REPORT, actor=actor, event=event)
            done = request_followup(appeal.pk, auto_dispatch=auto_dispatch)
    else:
        with transaction.atomic() if auto_dispatch is not None else nullcontext():
            if not insert_appeal(appeal, now=now, keyed=keyed):
                return _existing_submission(actor, idempotency_key, external_source, external_ref)
            done = request_followup(appeal.pk, auto_dispatch=auto_dispatch)
    if done:  # a backend that runs tasks at once: show what it did
        appeal.refresh_from_db()
    return appeal


def _existing_submission(actor, key: str, source: str, ref: str) -> Appeal:
    """The case a keyed intake made the first time (its insert found the key taken)."""
    found = None
    if key and getattr(actor, "pk", None):
        found = Appeal.objects.filter(submitted_by=actor, idempotency_key=key).first()
    if found is None and ref:
        found = Appeal.objects.filter(external_source=source, external_ref=ref).first()
    if found is None:  # the conflicting case was withdrawn from under us: cannot happen (PROTECT)
        raise AppealConflict(_("请重试 / please try again"), code="conflict")
    return found


def _as_submitted(appeal: Appeal) -> Appeal:
    """The appeal as ``appeal_submit`` left it, for the ``appeal.created`` webhook payload when the
    follow-up runs after later transitions (a patrol case closed on the spot)."""
    snapshot = copy.copy(appeal)
    snapshot.status, snapshot.round, snapshot.lead_unit = S.SUBMITTED, 1, None
    snapshot.registered_at = snapshot.dispatched_at = snapshot.handled_at = snapshot.closed_at = None
    snapshot.handling_due, snapshot.merged_into, snapshot.published = None, None, False
    return snapshot


def _submit_event(appeal: Appeal) -> AppealEvent:
    """The first row of the timeline of an intake that wrote only the appeal row (unsaved), dated
    when the case was received."""
    return AppealEvent(
        appeal=appeal,
        at=appeal.created_at,
        actor=appeal.submitted_by,
        action=Action.SUBMIT,
        from_status="",
        to_status=S.SUBMITTED,
        data={"channel": appeal.channel},
    )


@transaction.atomic
def appeal_intake_complete(*, appeal_id: int, auto_dispatch: bool | None = None) -> bool:
    """The follow-ups of one intake, exactly once per appeal (a conditional update on
    ``intake_done_at`` claims it; a second run, or the sweep's, finds it done and returns False):
    the audit row of the submission, the ``appeal.created`` webhook event, the dispatchers' notices,
    then automatic routing, registration and dispatch where a rule is confident enough."""
    if not Appeal.objects.filter(pk=appeal_id, intake_done_at__isnull=True).update(
        intake_done_at=timezone.now()
    ):
        return False
    related = ("category", "street", "community", "submitted_by")
    appeal = Appeal.objects.select_related(*related).get(pk=appeal_id)
    event = appeal.events.filter(action=Action.SUBMIT).select_related("actor").order_by("id").first()
    if event is None:  # an intake without photos writes only the appeal row: its timeline starts here
        event = _submit_event(appeal)
        event.save(force_insert=True)
    channel = event.data.get("channel", appeal.channel)
    audit_record(
        actor=event.actor,
        action=f"appeal.{Action.SUBMIT}",
        obj=appeal,
        changes={"status": ["", S.SUBMITTED], "channel": channel},
    )
    appeal_outbox_emit(_as_submitted(appeal), event)
    _notify_now(event.pk)
    if channel != Channel.PATROL and appeal.status == S.SUBMITTED:
        with notices_inline():
            _maybe_auto_dispatch(appeal, enabled=auto_dispatch)
    return True


def appeal_intake_complete_many(appeal_ids: Sequence[int]) -> list[tuple[Appeal, str]]:
    """The follow-ups of a batch of intakes (``intake.finish_pending``), the same as
    ``appeal_intake_complete`` gives each, written in bulk: one claim, one read, one INSERT each for
    the missing timeline rows, the audit rows and the dispatchers' notices (one notice per dispatcher
    for the batch, see ``tasks.notify_new_intakes``), the subscriptions read once. Returns the
    appeals claimed here with the channel each came in by, for ``appeal_intake_route_many``. Call
    inside a transaction that holds the rows' locks; a failure undoes the whole batch (the caller
    then finishes each appeal alone)."""
    from .tasks import notify_new_intakes

    now = timezone.now()
    claimed = list(
        Appeal.objects.filter(pk__in=list(appeal_ids), intake_done_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    if not claimed:
        return []
    Appeal.objects.filter(pk__in=claimed).update(intake_done_at=now)
    related = ("category", "street", "community", "submitted_by")
    appeals = list(Appeal.objects.filter(pk__in=claimed).select_related(*related).order_by("pk"))
    events = {}
    for event in (
        AppealEvent.objects.filter(appeal_id__in=claimed, action=Action.SUBMIT)
        .select_related("actor")
        .order_by("-id")
    ):
        events[event.appeal_id] = event  # the first one wins (read last)
    missing = [_submit_event(appeal) for appeal in appeals if appeal.pk not in events]
    for event in AppealEvent.objects.bulk_create(missing):
        events[event.appeal_id] = event
    channels = {a.pk: events[a.pk].data.get("channel", a.channel) for a in appeals}
    audit_record_many(
        audit_entry(
            actor=events[appeal.pk].actor,
            action=f"appeal.{Action.SUBMIT}",
            obj=appeal,
            changes={"status": ["", S.SUBMITTED], "channel": channels[appeal.pk]},
        )
        for appeal in appeals
    )
    with subscriptions_read_once():
        for appeal in appeals:
            appeal_outbox_emit(_as_submitted(appeal), events[appeal.pk])
    try:
        with transaction.atomic():
            notify_new_intakes([(appeal, events[appeal.pk]) for appeal in appeals])
    except Exception:  # a notice must never undo the intakes' follow-ups
        logger.exception("notices for %s new appeals failed", len(appeals))
    return [(appeal, channels[appeal.pk]) for appeal in appeals]


def appeal_intake_route_many(submitted: Sequence[tuple[Appeal, str]]) -> None:
    """Automatic routing and dispatch of a batch of new appeals (after
    ``appeal_intake_complete_many``), each as ``appeal_intake_complete`` routes one, with the
    classifier run once over the batch and the routing rules read once."""
    from linli.domains.triage.suggest import read_ahead

    waiting = [a for a, channel in submitted if channel != Channel.PATROL and a.status == S.SUBMITTED]
    if not waiting:
        return
    with read_ahead((a.title, a.body) for a in waiting), rules_read_once(), notices_inline():
        for appeal in waiting:
            _maybe_auto_dispatch(appeal, enabled=None)


def _notify_now(event_id: int) -> None:
    """Notices for an event from inside a background task (already off the request path)."""
    from .tasks import appeal_notify

    try:
        with transaction.atomic():
            appeal_notify.call(event_id=event_id)
    except Exception:  # a notice must never undo the intake's follow-up
        logger.exception("notification for appeal event %s failed", event_id)


def appeal_intake_sweep(*, older_than: dt.timedelta = dt.timedelta(minutes=10), limit: int = 1000) -> int:
    """Enqueue the follow-up again for intakes whose task has not finished after ``older_than``
    (a worker that died mid-task, a task that failed); the claim makes a duplicate harmless."""
    from .tasks import appeal_intake_followup

    cutoff = timezone.now() - older_than
    ids = list(
        Appeal.objects.filter(intake_done_at__isnull=True, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    for appeal_id in ids:
        appeal_intake_followup.enqueue(appeal_id=appeal_id)
    return len(ids)


def _maybe_auto_dispatch(appeal: Appeal, *, enabled: bool | None) -> None:
    """High-confidence routes dispatch themselves; the rest wait in the triage queue."""
    if enabled is None:
        enabled = getattr(settings, "LINLI_APPEALS_AUTO_DISPATCH", True)
    if not enabled:
        return
    threshold = float(getattr(settings, "LINLI_APPEALS_AUTO_DISPATCH_CONFIDENCE", 0.9))
    try:
        with transaction.atomic():
            if appeal.category_id is None and not _category_from_triage(appeal, threshold):
                return
            suggestions = appeal_suggest_route(appeal)
            if not suggestions or suggestions[0].confidence < threshold:
                return
            best = suggestions[0]
            lead = Organisation.objects.get(pk=best.lead_unit_id, is_active=True)
            assisting = list(Organisation.objects.filter(pk__in=best.assisting_unit_ids, is_active=True))
            register_note, register_data = system_note("auto_register")
            _do_register(appeal, actor=None, note=register_note, data=register_data)
            note, note_data = system_note("auto_dispatch")
            _do_dispatch(
                appeal,
                actor=None,
                lead_unit=lead,
                assisting_units=assisting,
                note=note,
                rule_id=best.rule_id,
                confidence=best.confidence,
                data={**best.extra, **note_data},  # what the suggester based the route on
            )
    except Exception:
        logger.exception("automatic dispatch failed for %s; left in the triage queue", appeal.reference)
        appeal.refresh_from_db()


def _category_from_triage(appeal: Appeal, threshold: float) -> bool:
    """An appeal that came without a category takes the classifier's when it is at least
    ``threshold`` sure (``LINLI_APPEALS_CATEGORY_SUGGESTER``, a callable ``(appeal) -> (category,
    confidence, data) | None``); an internal timeline event records that triage chose it."""
    default = "linli.domains.triage.suggest.suggest_category"
    path = getattr(settings, "LINLI_APPEALS_CATEGORY_SUGGESTER", default)
    if not path:
        return False
    guess = import_string(path)(appeal)
    if guess is None or guess[1] < threshold or not guess[0].is_active:
        return False
    category, confidence, data = guess
    note, note_data = system_note("triage_category", c=str(category), p=round(confidence * 100))
    appeal.category = category
    appeal.save(update_fields=["category", "updated_at"])
    _record(
        appeal,
        actor=None,
        action=Action.CATEGORISE,
        from_status=appeal.status,
        public=False,
        note=note,
        data={
            **data,
            **note_data,
            "source": "triage",
            "category": category.code,
            "confidence": round(confidence, 4),
        },
    )
    return True


# ==================================================================================================
# dispatcher
# ==================================================================================================


def _do_register(appeal: Appeal, *, actor, note: str = "", data: dict | None = None) -> None:
    before = appeal.status
    appeal.status = _check("register", appeal)
    appeal.registered_at = timezone.now()
    appeal.save(update_fields=["status", "registered_at", "updated_at"])
    _record(appeal, actor=actor, action=Action.REGISTER, from_status=before, note=note, data=data)


@transaction.atomic
def appeal_register(
    *, actor, appeal: Appeal, category: Category | None = None, priority: str | None = None, note: str = ""
) -> Appeal:
    appeal = _lock(appeal)
    _check("register", appeal)
    _require_dispatcher(actor, appeal)
    if category is not None:
        if not category.is_active:
            raise AppealError(_("该类别已停用 / this category is no longer in use"), code="category_inactive")
        appeal.category = category
    if priority is not None:
        appeal.priority = priority
    if appeal.category_id is None:
        raise AppealError(
            _("立案前请选择类别 / choose a category before registering"), code="category_required"
        )
    appeal.save(update_fields=["category", "priority", "updated_at"])
    _do_register(appeal, actor=actor, note=note)
    return appeal


@transaction.atomic
def appeal_reject(*, actor, appeal: Appeal, reason: str) -> Appeal:
    appeal = _lock(appeal)
    before = appeal.status
    target = _check("reject", appeal)
    _require_dispatcher(actor, appeal)
    if not (reason or "").strip():
        raise AppealError(_("请说明不予受理的理由 / give the reason for rejecting"), code="reason_required")
    appeal.status, appeal.status_reason, appeal.closed_at = target, reason[:300], timezone.now()
    appeal.save()
    _record(appeal, actor=actor, action=Action.REJECT, from_status=before, note=reason)
    return appeal


@transaction.atomic
def appeal_merge(*, actor, appeal: Appeal, master: Appeal, note: str = "") -> Appeal:
    """Mark ``appeal`` a duplicate of ``master``; it follows the master from now on."""
    appeal = _lock(appeal)
    before = appeal.status
    target = _check("merge", appeal)
    _require_dispatcher(actor, appeal)
    while master.merged_into_id:
        master = master.merged_into
    if master.pk == appeal.pk:
        raise AppealError(_("不能合并到自身 / an appeal cannot be merged into itself"), code="merge_self")
    if master.status in (S.REJECTED, S.WITHDRAWN):
        raise AppealError(
            _("主件已不予受理或撤回 / the master case was rejected or withdrawn"), code="merge_master_final"
        )
    if not permissions.can_read(actor, master):
        _deny(_("主件不在您的辖区内 / the master case lies outside your jurisdiction"))
    appeal.status, appeal.merged_into = target, master
    appeal.status_reason = note[:300]
    appeal.save()
    _record(
        appeal,
        actor=actor,
        action=Action.MERGE,
        from_status=before,
        note=note,
        data={"master": master.reference},
    )
    return appeal


@transaction.atomic
def appeal_route(
    *,
    actor,
    appeal: Appeal,
    lead_unit: Organisation,
    assisting_units: Sequence[Organisation] = (),
    note: str = "",
) -> Appeal:
    """Choose the lead and assisting units (the dispatcher's decision or the accepted suggestion)."""
    appeal = _lock(appeal)
    _check("route", appeal)
    _require_dispatcher(actor, appeal)
    _set_units(appeal, lead_unit, assisting_units)
    _record(
        appeal,
        actor=actor,
        action=Action.ROUTE,
        from_status=appeal.status,
        note=note,
        public=False,
        data={"lead_unit": lead_unit.code, "assisting": ",".join(u.code for u in assisting_units)},
    )
    return appeal


def _set_units(appeal: Appeal, lead_unit: Organisation, assisting_units: Sequence[Organisation]) -> None:
    if not lead_unit.is_active or any(not u.is_active for u in assisting_units):
        raise AppealError(_("承办单位已停用 / a chosen unit is no longer active"), code="unit_inactive")
    if any(u.pk == lead_unit.pk for u in assisting_units):
        raise AppealError(
            _("主办单位不能同时是协办单位 / the lead unit cannot also assist"), code="unit_twice"
        )
    appeal.lead_unit = lead_unit
    appeal.save(update_fields=["lead_unit", "updated_at"])
    appeal.assisting_units.set(assisting_units)


def _do_dispatch(
    appeal: Appeal,
    *,
    actor,
    lead_unit: Organisation,
    assisting_units: Sequence[Organisation],
    note: str = "",
    rule_id: int | None = None,
    confidence: float | None = None,
    data: dict | None = None,
) -> None:
    before = appeal.status
    target = _check("dispatch", appeal)
    if appeal.category_id is None:
        raise AppealError(
            _("派遣前请选择类别 / choose a category before dispatching"), code="category_required"
        )
    _set_units(appeal, lead_unit, assisting_units)
    now = timezone.now()
    appeal.assignments.filter(is_active=True).update(is_active=False, ended_reason="redispatched")
    Assignment.objects.create(
        appeal=appeal,
        unit=lead_unit,
        role=AssignmentRole.LEAD,
        assigned_at=now,
        assigned_by=actor if getattr(actor, "pk", None) else None,
    )
    for unit in assisting_units:
        Assignment.objects.create(
            appeal=appeal,
            unit=unit,
            role=AssignmentRole.ASSIST,
            assigned_at=now,
            assigned_by=actor if getattr(actor, "pk", None) else None,
        )
    appeal.status, appeal.dispatched_at = target, now
    appeal.routing_rule_id = rule_id if rule_id is not None else appeal.routing_rule_id
    if before != S.REOPENED:
        appeal.signed_at = None
    deadlines.start_acceptance_clock(appeal, now, now)
    deadlines.start_handling_clock(appeal, now, now)
    appeal.save()
    data = {**(data or {}), "lead_unit": lead_unit.code, "due": appeal.handling_due.isoformat()}
    if confidence is not None:
        data["confidence"] = confidence
    _record(
        appeal, actor=actor, action=Action.DISPATCH, from_status=before, note=note, unit=lead_unit, data=data
    )


@transaction.atomic
def appeal_dispatch(
    *,
    actor,
    appeal: Appeal,
    lead_unit: Organisation | None = None,
    assisting_units: Sequence[Organisation] | None = None,
    note: str = "",
) -> Appeal:
    """Send the appeal to its lead unit (and assisting units); starts the acceptance and handling
    clocks. Units default to those chosen by ``appeal_route``."""
    appeal = _lock(appeal)
    _check("dispatch", appeal)
    _require_dispatcher(actor, appeal)
    if lead_unit is None:
        lead_unit = appeal.lead_unit
        if assisting_units is None:
            assisting_units = list(appeal.assisting_units.all())
    if lead_unit is None:
        raise AppealError(_("请先确定主办单位 / choose the lead unit first"), code="unit_required")
    _do_dispatch(
        appeal, actor=actor, lead_unit=lead_unit, assisting_units=list(assisting_units or ()), note=note
    )
    return appeal


@transaction.atomic
def appeal_extension_decide(
    *, actor, request: ExtensionRequest, approve: bool, note: str = ""
) -> ExtensionRequest:
    appeal = Appeal.objects.select_for_update().get(pk=request.appeal_id)
    request = ExtensionRequest.objects.select_for_update().get(pk=request.pk)
    _check("extension_decide", appeal)
    _require_dispatcher(actor, appeal)
    if request.status != ExtensionStatus.PENDING:
        raise AppealConflict(
            _("该延期申请已审批 / this extension request has already been decided"), code="conflict"
        )
    now = timezone.now()
    request.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED
    request.decided_by, request.decided_at, request.decision_note = actor, now, note[:300]
    request.save()
    data = {"days": request.days, "approved": approve}
    if approve:
        deadlines.extend_handling_clock(appeal, request.days, now)
        appeal.save()
        data["due"] = appeal.handling_due.isoformat()
    _record(
        appeal,
        actor=actor,
        action=Action.EXTENSION_DECIDE,
        from_status=appeal.status,
        note=note,
        unit=request.unit,
        data=data,
        public=approve,
    )
    return request


@transaction.atomic
def appeal_verify(*, actor, appeal: Appeal, passed: bool, note: str = "", photos: Iterable = ()) -> Appeal:
    """Check the unit's result on the spot or by phone: pass → closed; fail → reopened for the unit.
    A dispatcher, or a grid worker of the place, may verify."""
    appeal = _lock(appeal)
    before = appeal.status
    target = _check("verify_pass" if passed else "verify_fail", appeal)
    if actor is None or not (
        permissions.is_dispatcher_for(actor, appeal) or permissions.is_grid_worker_for(actor, appeal.path)
    ):
        _deny(_("只有调度员或本网格网格员可以核查 / only a dispatcher or the grid's worker may verify"))
    if not passed and not note.strip():
        raise AppealError(_("请说明核查未通过的原因 / say why verification failed"), code="reason_required")
    now = timezone.now()
    appeal.status = target
    if passed:
        appeal.closed_at = now
        _publish(appeal, now)
    else:
        appeal.status_reason = note[:300]
        deadlines.start_handling_clock(appeal, now, now)
    appeal.save()
    event = _record(
        appeal, actor=actor, action=Action.VERIFY, from_status=before, note=note, data={"passed": passed}
    )
    _attach(appeal, photos, kind=AttachmentKind.EVIDENCE, actor=actor, event=event)
    if passed:
        _follow_master_closed(appeal, actor=actor)
    return appeal


@transaction.atomic
def appeal_close(*, actor, appeal: Appeal, note: str = "") -> Appeal:
    """Close a handled case without a separate verification, or close a reopened one for good."""
    appeal = _lock(appeal)
    before = appeal.status
    target = _check("close", appeal)
    _require_dispatcher(actor, appeal)
    if before == S.REOPENED and not note.strip():
        raise AppealError(
            _("重新办理的诉求办结时须说明理由 / closing a reopened appeal needs a reason"),
            code="reason_required",
        )
    now = timezone.now()
    appeal.status, appeal.closed_at = target, now
    _publish(appeal, now)
    appeal.save()
    _record(appeal, actor=actor, action=Action.CLOSE, from_status=before, note=note)
    _follow_master_closed(appeal, actor=actor)
    return appeal


@transaction.atomic
def appeal_supervise(
    *, actor, appeal: Appeal, level: str = SupervisionLevel.REMINDER, note: str = ""
) -> Supervision:
    appeal = _lock(appeal)
    _check("supervise", appeal)
    _require_dispatcher(actor, appeal)
    if level not in SupervisionLevel.values:
        raise AppealError(_("督办级别无效 / invalid supervision level"), code="invalid_choice")
    supervision = Supervision.objects.create(
        appeal=appeal,
        unit=appeal.lead_unit,
        level=level,
        trigger=SupervisionTrigger.MANUAL,
        epoch=appeal.deadline_epoch,
        note=note,
        created_by=actor,
    )
    _record(
        appeal,
        actor=actor,
        action=Action.SUPERVISE,
        from_status=appeal.status,
        note=note,
        unit=appeal.lead_unit,
        public=False,
        data={"level": level, "supervision": supervision.pk},
    )
    return supervision


@transaction.atomic
def appeal_redact(
    *,
    actor,
    appeal: Appeal,
    public_title: str | None = None,
    public_body: str | None = None,
    public_result: str | None = None,
    published: bool | None = None,
) -> Appeal:
    """Staff edit what the public page shows of a closed case (or take it down)."""
    appeal = _lock(appeal)
    _check("redact", appeal)
    _require_dispatcher(actor, appeal)
    changed = {}
    for field, value in (
        ("public_title", public_title),
        ("public_body", public_body),
        ("public_result", public_result),
    ):
        if value is not None:
            setattr(appeal, field, value[:120] if field == "public_title" else value)
            changed[field] = True
    if published is not None:
        if published and appeal.is_private:
            raise AppealError(
                _("不公开的诉求不能发布 / a private appeal cannot be published"), code="private"
            )
        appeal.published = published
        appeal.published_at = appeal.published_at or timezone.now() if published else appeal.published_at
        changed["published"] = published
    appeal.save()
    _record(appeal, actor=actor, action=Action.PUBLISH, from_status=appeal.status, public=False, data=changed)
    return appeal


# ==================================================================================================
# handling unit
# ==================================================================================================


@transaction.atomic
def appeal_sign(*, actor, appeal: Appeal) -> Appeal:
    """The unit signs for the case (签收): the lead unit moves it to in progress; an assisting unit
    signs its own part."""
    appeal = _lock(appeal)
    before = appeal.status
    if before not in TRANSITIONS["sign"][0] | TRANSITIONS["sign_assist"][0]:
        _check("sign", appeal)
    lead = _lead_assignment(appeal)
    now = timezone.now()
    if lead is not None and actor is not None and permissions.is_member_of(actor, lead.unit_id):
        target = _check("sign", appeal)
        lead.signed_at, lead.signed_by = now, actor
        lead.save(update_fields=["signed_at", "signed_by"])
        appeal.status = target
        appeal.signed_at = appeal.signed_at or now
        appeal.save()
        _record(appeal, actor=actor, action=Action.SIGN, from_status=before, unit=lead.unit)
        return appeal
    assist = (
        appeal.assignments.filter(
            is_active=True, role=AssignmentRole.ASSIST, unit_id__in=jurisdiction_of(actor).organisation_ids
        ).first()
        if actor
        else None
    )
    if assist is None or not permissions.is_member_of(actor, assist.unit_id):
        _deny(_("只有承办单位的工作人员可以签收 / only staff of an assigned unit may sign for it"))
    _check("sign_assist", appeal)
    if assist.signed_at is not None:
        raise AppealConflict(_("本单位已签收 / your unit has already signed for it"), code="conflict")
    assist.signed_at, assist.signed_by = now, actor
    assist.save(update_fields=["signed_at", "signed_by"])
    _record(
        appeal,
        actor=actor,
        action=Action.SIGN,
        from_status=before,
        unit=assist.unit,
        public=False,
        data={"role": AssignmentRole.ASSIST},
    )
    return appeal


@transaction.atomic
def appeal_handle(*, actor, appeal: Appeal, result: str, photos: Iterable = ()) -> Appeal:
    appeal = _lock(appeal)
    before = appeal.status
    target = _check("handle", appeal)
    assignment = _require_lead_member(actor, appeal)
    if not (result or "").strip():
        raise AppealError(_("请填写办理结果 / describe what was done"), code="result_required")
    now = timezone.now()
    assignment.result, assignment.handled_at = result, now
    assignment.save(update_fields=["result", "handled_at"])
    appeal.status, appeal.result, appeal.handled_at = target, result, now
    appeal.save()
    event = _record(
        appeal,
        actor=actor,
        action=Action.HANDLE,
        from_status=before,
        note=result,
        unit=assignment.unit,
        data={"on_time": bool(appeal.handling_due and now <= appeal.handling_due)},
    )
    _attach(appeal, photos, kind=AttachmentKind.RESULT, actor=actor, event=event)
    return appeal


@transaction.atomic
def appeal_return(*, actor, appeal: Appeal, reason: str) -> Appeal:
    """The lead unit says the case is not theirs: back to the dispatcher to re-route."""
    appeal = _lock(appeal)
    before = appeal.status
    target = _check("return", appeal)
    assignment = _require_lead_member(actor, appeal)
    if not (reason or "").strip():
        raise AppealError(_("请说明退回理由 / give the reason for returning"), code="reason_required")
    appeal.assignments.filter(is_active=True).update(is_active=False, ended_reason=reason[:200])
    appeal.status, appeal.status_reason, appeal.lead_unit = target, reason[:300], None
    appeal.assisting_units.clear()
    appeal.save()
    _record(appeal, actor=actor, action=Action.RETURN, from_status=before, note=reason, unit=assignment.unit)
    return appeal


@transaction.atomic
def appeal_extension_request(*, actor, appeal: Appeal, days: int, reason: str) -> ExtensionRequest:
    appeal = _lock(appeal)
    _check("extension_request", appeal)
    assignment = _require_lead_member(actor, appeal)
    max_days = int(getattr(settings, "LINLI_APPEALS_MAX_EXTENSION_DAYS", 15))
    if not 1 <= int(days) <= max_days:
        raise AppealError(
            _("延期天数须在 1 到 %(n)d 个工作日之间 / an extension is 1 to %(n)d working days")
            % {"n": max_days},
            code="extension_days",
        )
    if not (reason or "").strip():
        raise AppealError(_("请说明延期理由 / give the reason for the extension"), code="reason_required")
    try:
        with transaction.atomic():
            request = ExtensionRequest.objects.create(
                appeal=appeal, unit=assignment.unit, requested_by=actor, days=int(days), reason=reason
            )
    except IntegrityError:
        raise AppealConflict(
            _("已有待审批的延期申请 / an extension request is already pending"), code="conflict"
        ) from None
    _record(
        appeal,
        actor=actor,
        action=Action.EXTENSION_REQUEST,
        from_status=appeal.status,
        note=reason,
        unit=assignment.unit,
        public=False,
        data={"days": int(days), "request": request.pk},
    )
    return request


def assist_cycle(appeal: Appeal) -> int:
    """Which handling cycle the case is in for its assisting units: 0 at first, one more each time it
    went back to the units (a failed verification or a reopen). Each assisting unit reports once per
    cycle."""
    return appeal.events.filter(to_status=S.REOPENED).exclude(from_status=S.REOPENED).count()


@transaction.atomic
def appeal_assist_report(*, actor, appeal: Appeal, result: str, photos: Iterable = ()) -> Assignment:
    """An assisting unit (协办) records what it did on its part, with photos, once per handling cycle
    (``assist_cycle``); the lead unit reads it before handling. Signing for the case is implied."""
    appeal = _lock(appeal)
    _check("assist_report", appeal)
    units = jurisdiction_of(actor).organisation_ids if actor is not None else frozenset()
    assist = (
        appeal.assignments.select_for_update()
        .filter(is_active=True, role=AssignmentRole.ASSIST, unit_id__in=units)
        .select_related("unit")
        .first()
    )
    if assist is None or not permissions.is_member_of(actor, assist.unit_id):
        _deny(
            _("只有协办单位的工作人员可以报送协办结果 / only staff of an assisting unit may report its part")
        )
    if not (result or "").strip():
        raise AppealError(_("请填写协办情况 / describe what your unit did"), code="result_required")
    cycle = assist_cycle(appeal)
    if appeal.events.filter(action=Action.ASSIST_REPORT, unit=assist.unit, data__cycle=cycle).exists():
        raise AppealConflict(
            _("本单位本轮已报送协办结果 / your unit has already reported its part for this round"),
            code="conflict",
        )
    now = timezone.now()
    assist.result, assist.handled_at = result, now
    if assist.signed_at is None:
        assist.signed_at, assist.signed_by = now, actor
    assist.save(update_fields=["result", "handled_at", "signed_at", "signed_by"])
    event = _record(
        appeal,
        actor=actor,
        action=Action.ASSIST_REPORT,
        from_status=appeal.status,
        note=result,
        unit=assist.unit,
        data={"round": appeal.round, "cycle": cycle, "role": AssignmentRole.ASSIST},
    )
    # evidence for the lead unit, not the published result: never among the public result photos
    _attach(appeal, photos, kind=AttachmentKind.EVIDENCE, actor=actor, event=event)
    return assist


# ==================================================================================================
# resident
# ==================================================================================================


@transaction.atomic
def appeal_supplement(*, actor, appeal: Appeal, note: str = "", photos: Iterable = ()) -> AppealEvent:
    """The resident adds photos and/or a note to their own open case (补充材料). The photos count
    towards the same limit as at intake (``LINLI_APPEAL_PHOTO_MAX_COUNT`` report photos in all) and
    are checked by content the same way."""
    appeal = _lock(appeal)
    _check("supplement", appeal)
    _require_resident(actor, appeal)
    note = (note or "").strip()
    photos = list(photos or ())
    if not note and not photos:
        raise AppealError(
            _("请填写补充说明或选择照片 / add a note or at least one photo"), code="supplement_empty"
        )
    if len(note) > 2000:
        raise AppealError(_("补充说明最多 2000 字 / a note is at most 2000 characters"), code="too_long")
    have = appeal.attachments.filter(kind=AttachmentKind.REPORT).count()
    if have + len(photos) > max_count():
        raise AppealError(
            _("照片总数不能超过 %(n)d 张（已有 %(have)d 张）/ at most %(n)d photos in all (%(have)d already)")
            % {"n": max_count(), "have": have},
            code="too_many_photos",
        )
    event = _record(
        appeal,
        actor=actor,
        action=Action.SUPPLEMENT,
        from_status=appeal.status,
        note=note,
        unit=appeal.lead_unit,
        data={"photos": len(photos)},
    )
    _attach(appeal, photos, kind=AttachmentKind.REPORT, actor=actor, event=event)
    return event


@transaction.atomic
def appeal_follow(*, actor, appeal: Appeal, source: str = "duplicate_offer") -> tuple[AppealFollow, bool]:
    """A resident follows (supports) an open case someone else reported, instead of reporting it
    again: one row per resident and case (a repeat returns the first, ``created`` False). A merged
    case is followed through the case it was merged into. Private cases cannot be followed."""
    is_resident = getattr(actor, "is_authenticated", False) and getattr(actor, "is_resident", False)
    if actor is None or not is_resident:
        _deny(_("只有居民可以关注诉求 / only residents follow appeals"))
    target = Appeal.objects.select_for_update(of=("self",)).get(pk=appeal.pk)
    while target.status == S.MERGED and target.merged_into_id:
        target = Appeal.objects.select_for_update(of=("self",)).get(pk=target.merged_into_id)
    if target.is_private:
        _deny(_("该诉求不公开，不能关注 / this appeal is private"))
    if target.resident_id == actor.pk:
        raise AppealError(_("这是您本人的诉求 / this is your own appeal"), code="own_appeal")
    existing = AppealFollow.objects.filter(appeal=target, resident=actor).first()
    if existing is not None:
        return existing, False
    if target.status not in OPEN_STATUSES:  # the appeal's status does not change: not in TRANSITIONS
        raise TransitionNotAllowed(
            _("该诉求已办结或已结束，不能再关注 / this appeal is no longer open"),
            code="transition_not_allowed",
        )
    try:
        with transaction.atomic():
            follow = AppealFollow.objects.create(appeal=target, resident=actor, source=source[:24])
    except IntegrityError:  # the same resident twice at once: the constraint keeps one
        return AppealFollow.objects.get(appeal=target, resident=actor), False
    audit_record(actor=actor, action="appeal.follow", obj=target, changes={"source": source[:24]})
    return follow, True


@transaction.atomic
def appeal_withdraw(*, actor, appeal: Appeal, reason: str = "") -> Appeal:
    """The resident takes the appeal back before handling starts (staff may do it on their request)."""
    appeal = _lock(appeal)
    before = appeal.status
    target = _check("withdraw", appeal)
    if not (
        permissions.is_resident_of(actor, appeal)
        or (actor is not None and permissions.is_dispatcher_for(actor, appeal))
    ):
        _deny(_("只有诉求人本人可以撤回 / only the person who raised the appeal may withdraw it"))
    appeal.assignments.filter(is_active=True).update(is_active=False, ended_reason="withdrawn")
    appeal.status, appeal.status_reason, appeal.closed_at = target, reason[:300], timezone.now()
    appeal.save()
    _record(appeal, actor=actor, action=Action.WITHDRAW, from_status=before, note=reason)
    return appeal


@transaction.atomic
def appeal_rate(*, actor, appeal: Appeal, value: str, comment: str = "") -> Rating:
    """The resident's rating of this closing round, or a call-back rating recorded by a dispatcher."""
    appeal = _lock(appeal)
    _check("rate", appeal)
    if permissions.is_resident_of(actor, appeal):
        source = RatingSource.RESIDENT
    elif actor is not None and permissions.is_dispatcher_for(actor, appeal):
        source = RatingSource.CALLBACK
    else:
        _deny(_("只有诉求人或回访人员可以评价 / only the resident or a call-back operator may rate"))
    if value not in RatingValue.values:
        raise AppealError(_("评价无效 / invalid rating"), code="invalid_choice")
    if Rating.objects.filter(appeal=appeal, round=appeal.round).exists():
        raise AppealConflict(_("本轮办理已评价 / this round has already been rated"), code="conflict")
    rating = Rating.objects.create(
        appeal=appeal, round=appeal.round, value=value, comment=comment, source=source, rated_by=actor
    )
    _record(
        appeal,
        actor=actor,
        action=Action.RATE,
        from_status=appeal.status,
        note=comment,
        data={"value": value, "source": source},
    )
    return rating


@transaction.atomic
def appeal_reopen(*, actor, appeal: Appeal, reason: str) -> Appeal:
    """Back to the unit for another round: the resident after an unsatisfied rating, or a dispatcher."""
    appeal = _lock(appeal)
    before = appeal.status
    target = _check("reopen", appeal)
    if permissions.is_resident_of(actor, appeal):
        unsatisfied = Rating.objects.filter(appeal=appeal, round=appeal.round, value=RatingValue.UNSATISFIED)
        if not unsatisfied.exists():
            raise AppealError(
                _("请先给出“不满意”评价 / rate the result unsatisfied first"), code="rating_required"
            )
    elif actor is None or not permissions.is_dispatcher_for(actor, appeal):
        _deny(_("只有诉求人或调度员可以要求重新办理 / only the resident or a dispatcher may reopen"))
    if not (reason or "").strip():
        raise AppealError(
            _("请说明重新办理的理由 / say why it should be handled again"), code="reason_required"
        )
    now = timezone.now()
    appeal.status, appeal.status_reason = target, reason[:300]
    appeal.round += 1
    appeal.closed_at = None
    appeal.published = False
    deadlines.start_handling_clock(appeal, now, now)
    appeal.save()
    _record(appeal, actor=actor, action=Action.REOPEN, from_status=before, note=reason, unit=appeal.lead_unit)
    return appeal


# ==================================================================================================
# grid worker
# ==================================================================================================


@transaction.atomic
def appeal_patrol_report(
    *,
    actor,
    title: str,
    body: str,
    category: Category,
    lng: float | None = None,
    lat: float | None = None,
    grid: Area | None = None,
    compound: Compound | None = None,
    address: str = "",
    priority: str = Priority.NORMAL,
    photos: Iterable = (),
    handled_on_spot: bool = False,
    result: str = "",
    after_photos: Iterable = (),
    idempotency_key: str = "",
) -> Appeal:
    """A grid worker reports what they saw on patrol. A small case handled on the spot is closed at
    once, with photos before (``photos``) and after (``after_photos``); otherwise it joins the
    dispatcher's queue like any other."""
    if actor is None or not jurisdiction_of(actor).has_role(Role.GRID_WORKER):
        _deny(_("只有网格员可以上报巡查 / only grid workers file patrol reports"))
    place = _locate(lng=lng, lat=lat, grid=grid, compound=compound)
    if not permissions.is_grid_worker_for(actor, place.path):
        _deny(_("该位置不在您负责的网格内 / this place lies outside your grid"))
    photos, after_photos = list(photos or ()), list(after_photos or ())
    if handled_on_spot and (not photos or not after_photos or not (result or "").strip()):
        raise AppealError(
            _(
                "现场处置须有处置前后照片和处置结果 / on-the-spot handling needs before and after "
                "photos and the result"
            ),
            code="patrol_evidence",
        )
    appeal = appeal_submit(
        actor=actor,
        title=title,
        body=body,
        category=category,
        priority=priority,
        channel=Channel.PATROL,
        lng=lng,
        lat=lat,
        grid=grid,
        compound=compound,
        address=address,
        idempotency_key=idempotency_key,
        is_private=False,
        auto_dispatch=False,
    )
    if appeal.status != S.SUBMITTED or appeal.attachments.exists():
        return appeal  # a retried report
    _attach(appeal, photos, kind=AttachmentKind.BEFORE, actor=actor, event=None)
    if not handled_on_spot:
        _maybe_auto_dispatch(appeal, enabled=None)
        return appeal
    unit_id = (
        Membership.objects.filter(
            user=actor,
            role=Role.GRID_WORKER,
            is_active=True,
            jurisdiction__path__in=_path_prefixes(place.path),
        )
        .values_list("organisation_id", flat=True)
        .first()
    )
    now = timezone.now()
    before = appeal.status
    target = _check("patrol_close", appeal)
    appeal.status, appeal.result = target, result
    appeal.registered_at = appeal.dispatched_at = appeal.signed_at = appeal.handled_at = appeal.closed_at = (
        now
    )
    appeal.lead_unit_id = unit_id
    if unit_id:
        Assignment.objects.create(
            appeal=appeal,
            unit_id=unit_id,
            role=AssignmentRole.LEAD,
            assigned_at=now,
            assigned_by=actor,
            signed_at=now,
            signed_by=actor,
            result=result,
            handled_at=now,
        )
    _publish(appeal, now)
    appeal.save()
    event = _record(
        appeal, actor=actor, action=Action.HANDLE, from_status=before, note=result, data={"on_the_spot": True}
    )
    _attach(appeal, after_photos, kind=AttachmentKind.AFTER, actor=actor, event=event)
    return appeal


def _path_prefixes(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
