"""Background work for the appeals loop: notifications for each timeline event, and the deadline
scan. Tasks take ids and may run twice without harm."""

from __future__ import annotations

import logging

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from linli.core.accounts.models import User
from linli.core.notifications.models import Notification
from linli.core.notifications.services import notify
from linli.core.orgs.choices import Role
from linli.core.orgs.models import Membership

from .choices import (
    HANDLING_STATUSES,
    Action,
    AppealStatus,
    DeadlineState,
    SupervisionLevel,
    SupervisionTrigger,
)
from .models import Appeal, AppealEvent, Supervision

logger = logging.getLogger("linli.appeals")

DISPATCHERS, UNIT, ASSISTING, RESIDENT = "dispatchers", "unit", "assisting", "resident"

# Who must hear of each kind of event (whoever acts next, and the resident for public milestones).
RECIPIENTS: dict[str, tuple[str, ...]] = {
    Action.SUBMIT: (DISPATCHERS,),
    Action.REGISTER: (RESIDENT,),
    Action.REJECT: (RESIDENT,),
    Action.MERGE: (RESIDENT,),
    Action.DISPATCH: (UNIT, ASSISTING),
    Action.SIGN: (RESIDENT,),
    Action.HANDLE: (DISPATCHERS, RESIDENT),
    Action.RETURN: (DISPATCHERS,),
    Action.EXTENSION_REQUEST: (DISPATCHERS,),
    Action.EXTENSION_DECIDE: (UNIT,),
    Action.VERIFY: (UNIT, RESIDENT),
    Action.CLOSE: (RESIDENT,),
    Action.REOPEN: (UNIT, DISPATCHERS),
    Action.WITHDRAW: (DISPATCHERS, UNIT),
    Action.RATE: (DISPATCHERS,),
    Action.SUPERVISE: (UNIT,),
    Action.SUPPLEMENT: (UNIT, ASSISTING),  # no unit yet: the dispatchers (see _recipient_ids)
    Action.ASSIST_REPORT: (UNIT,),
}
# Events that also reach a resident by SMS.
SMS_ACTIONS = frozenset({Action.REGISTER, Action.REJECT, Action.MERGE, Action.CLOSE, Action.VERIFY})


def _prefixes(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def _recipient_ids(appeal: Appeal, event: AppealEvent) -> set[int]:
    ids: set[int] = set()
    for who in RECIPIENTS.get(event.action, ()):
        if who == DISPATCHERS:
            ids |= set(
                Membership.objects.filter(
                    role__in=[Role.DISPATCHER],
                    is_active=True,
                    user__is_active=True,
                    jurisdiction__path__in=_prefixes(appeal.path),
                ).values_list("user_id", flat=True)
            )
        elif who in (UNIT, ASSISTING):
            units = appeal.assignments.filter(is_active=True, role="lead" if who == UNIT else "assist")
            ids |= set(
                Membership.objects.filter(
                    organisation_id__in=units.values("unit_id"),
                    is_active=True,
                    user__is_active=True,
                )
                .exclude(role=Role.VOLUNTEER)
                .values_list("user_id", flat=True)
            )
        elif who == RESIDENT and appeal.resident_id and event.public:
            ids.add(appeal.resident_id)
    if event.action == Action.SUPPLEMENT and not appeal.assignments.filter(is_active=True).exists():
        ids |= _dispatcher_ids(appeal)
    ids.discard(event.actor_id)
    return ids


def _dispatcher_ids(appeal: Appeal) -> set[int]:
    return set(
        Membership.objects.filter(
            role__in=[Role.DISPATCHER],
            is_active=True,
            user__is_active=True,
            jurisdiction__path__in=_prefixes(appeal.path),
        ).values_list("user_id", flat=True)
    )


def _notify_followers(appeal: Appeal, event: AppealEvent, key: str) -> int:
    """Residents who follow the case (``AppealFollow``) hear of its status changes and its closing;
    they see neither its text nor who raised it, only its number, place and status."""
    if not event.public or not (event.to_status != event.from_status or event.action == Action.CLOSE):
        return 0
    from .models import AppealFollow
    from .services import coarse_place

    follower_ids = set(AppealFollow.objects.filter(appeal=appeal).values_list("resident_id", flat=True))
    follower_ids -= {appeal.resident_id, event.actor_id}
    if not follower_ids:
        return 0
    text = (
        _("您关注的诉求 %(ref)s（%(place)s）%(action)s，当前状态：%(status)s")
        % {
            "ref": appeal.reference,
            "place": coarse_place(appeal) or "-",
            "action": event.get_action_display(),
            "status": appeal.get_status_display(),
        }
    )[:120]
    followers = User.objects.filter(pk__in=follower_ids, is_active=True).order_by("pk")
    return len(
        notify(
            recipients=followers,
            kind=NOTICE_KIND,
            title=text,
            url=reverse("appeals:following"),
            obj=appeal,
            dedupe_key=key,
        )
    )


def _text(appeal: Appeal, event: AppealEvent) -> str:
    status = appeal.get_status_display() if event.to_status else ""
    return (
        _("诉求 %(ref)s「%(title)s」%(action)s%(status)s")
        % {
            "ref": appeal.reference,
            "title": appeal.title[:40],
            "action": event.get_action_display(),
            "status": f"，{_('当前状态')}：{status}" if status else "",
        }
    )[:120]


NOTICE_KIND = "appeal"
DEADLINE_KIND = "appeal_deadline"


def event_dedupe_key(event: AppealEvent) -> str:
    return f"appeal-event:{event.pk}"


def _case_url(appeal: Appeal, *, resident: bool) -> str:
    return reverse("appeals:mine_detail" if resident else "appeals:case", args=[appeal.pk])


@task()
def appeal_notify(event_id: int) -> int:
    """In-app notices (and SMS for residents at milestones) for one timeline event, through the
    shared inbox (``linli.core.notifications``). Returns how many notices were new; a second run
    creates none (one dedupe key per event)."""
    event = AppealEvent.objects.select_related("appeal", "appeal__resident").filter(pk=event_id).first()
    if event is None:
        return 0
    appeal = event.appeal
    recipient_ids = _recipient_ids(appeal, event)
    text = _text(appeal, event)
    key = event_dedupe_key(event)
    sms = event.action in SMS_ACTIONS and event.public
    created = 0
    staff = User.objects.filter(pk__in=recipient_ids - {appeal.resident_id}).order_by("pk")
    created += len(
        notify(
            recipients=staff,
            kind=NOTICE_KIND,
            title=text,
            body=event.note[:500],
            url=_case_url(appeal, resident=False),
            obj=appeal,
            dedupe_key=key,
        )
    )
    if appeal.resident_id and appeal.resident_id in recipient_ids:
        created += len(
            notify(
                recipients=[appeal.resident],
                kind=NOTICE_KIND,
                title=text,
                body=event.note[:500] if event.public else "",
                url=_case_url(appeal, resident=True),
                obj=appeal,
                dedupe_key=key,
                sms=sms,
            )
        )
    elif sms and not appeal.resident_id:
        _sms_contact(appeal, text, event=event)
    created += _notify_followers(appeal, event, key)
    return created


def _sms_contact(appeal: Appeal, text: str, *, event: AppealEvent) -> None:
    """A case entered by staff for someone without an account: one text message per milestone,
    remembered on the event so a retried task sends nothing more."""
    phone = appeal.contact_phone
    if not phone:
        return
    claimed = AppealEvent.objects.filter(pk=event.pk).exclude(data__sms_sent=True)
    if not claimed.update(data={**event.data, "sms_sent": True}):
        return
    from linli.core.accounts.sms import send_sms

    try:
        send_sms(phone=phone, text=f"【邻里】{text}")
    except Exception:
        logger.exception("SMS for appeal %s failed", appeal.reference)


# --- intake follow-up ---------------------------------------------------------------------------------


@task()
def appeal_intake_followup(appeal_id: int, auto_dispatch: bool | None = None) -> bool:
    """What a new appeal sets off, off the request path (``services.appeal_intake_complete``): the
    audit row, the ``appeal.created`` webhook, the dispatchers' notices, automatic routing and
    dispatch. Enqueued inside the intake's transaction; runs once per appeal however often it is
    enqueued."""
    from .services import appeal_intake_complete

    return appeal_intake_complete(appeal_id=appeal_id, auto_dispatch=auto_dispatch)


@task()
def appeal_intake_batch() -> int:
    """Finish every intake still pending (``intake.finish_pending``): queued by the intakes
    themselves, at most once a second per server process (``intake.request_followup``)."""
    from .intake import finish_pending

    return finish_pending()


# --- deadline scan -----------------------------------------------------------------------------------


def _case_url_parts() -> tuple[str, str]:
    marker = "9999999999"
    head, tail = reverse("appeals:case", args=[int(marker)]).split(marker)
    return head, tail


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _in(values) -> tuple[str, list]:
    values = [str(v) for v in values]
    return ", ".join(["%s"] * len(values)), values


def _scan_step(
    cursor,
    *,
    where: str,
    params: list,
    new_state_column: str,
    new_state: str,
    trigger: str | None,
    level: str | None,
    notice: str | None,
    now,
) -> int:
    """For the rows matching ``where``: add the supervision notice (once per trigger and deadline
    epoch), tell the lead unit's staff, then change the colour. Three set-based statements."""
    appeal_t, sup_t = _q(Appeal._meta.db_table), _q(Supervision._meta.db_table)
    note_t, member_t = _q(Notification._meta.db_table), _q(Membership._meta.db_table)
    if trigger is not None:
        # Identifiers come from model metadata; every value is a parameter.
        insert = (
            f"INSERT INTO {sup_t} (appeal_id, unit_id, level, {_q('trigger')}, epoch, note, created_at) "  # noqa: S608
            f"SELECT a.id, a.lead_unit_id, %s, %s, a.deadline_epoch, '', %s FROM {appeal_t} a WHERE {where} "
            f"ON CONFLICT DO NOTHING"
        )
        cursor.execute(insert, [level, trigger, now, *params])
    if notice is not None:
        # The shared inbox, one row per unit member; the dedupe key (trigger and deadline epoch)
        # makes a rerun add nothing.
        url_head, url_tail = _case_url_parts()
        insert = (
            f"INSERT INTO {note_t} (recipient_id, created_at, kind, title, body, url, object_type, "  # noqa: S608
            f"object_id, dedupe_key) "
            f"SELECT DISTINCT m.user_id, %s, %s, a.reference || %s, '', "
            f"%s || CAST(a.id AS VARCHAR(20)) || %s, %s, CAST(a.id AS VARCHAR(20)), "
            f"%s || CAST(a.id AS VARCHAR(20)) || %s || CAST(a.deadline_epoch AS VARCHAR(20)) "
            f"FROM {appeal_t} a "
            f"JOIN {member_t} m ON m.organisation_id = a.lead_unit_id AND m.is_active = %s "
            f"WHERE {where} "
            f"ON CONFLICT DO NOTHING"
        )
        cursor.execute(
            insert,
            [
                now,
                DEADLINE_KIND,
                notice,
                url_head,
                url_tail,
                Appeal._meta.label_lower,
                "appeal-deadline:",
                f":{trigger or new_state}:",
                True,
                *params,
            ],
        )
    update = f"UPDATE {appeal_t} SET {new_state_column} = %s WHERE {where.replace('a.', '')}"  # noqa: S608
    cursor.execute(update, [new_state, *params])
    return cursor.rowcount


@task()
def appeal_deadline_scan() -> dict[str, int]:
    """Colour open cases by their deadlines: yellow at 80% of the allowed working time, red when
    overdue; a 催办 at yellow and a 督办 at red go to the lead unit once per deadline. Only the rows
    that change are touched (partial indexes on the ``*_warn_at`` / ``*_due`` columns), in set-based
    statements, so a scan costs little however many cases are open. Running it twice changes
    nothing the second time."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())  # raw SQL: the backend's own format
    handling, handling_params = _in(HANDLING_STATUSES)
    G, Y, R = DeadlineState.GREEN.value, DeadlineState.YELLOW.value, DeadlineState.RED.value
    counts = {}
    with transaction.atomic(), connection.cursor() as cursor:
        counts["handling_red"] = _scan_step(
            cursor,
            where=f"a.deadline_state IN (%s, %s) AND a.handling_due <= %s AND a.status IN ({handling})",
            params=[G, Y, now, *handling_params],
            new_state_column="deadline_state",
            new_state=R,
            trigger=SupervisionTrigger.RED,
            level=SupervisionLevel.SUPERVISION,
            notice=str(_(" 已超过办理时限，督办 / overdue: supervision notice")),
            now=now,
        )
        counts["handling_yellow"] = _scan_step(
            cursor,
            where=f"a.deadline_state = %s AND a.handling_warn_at <= %s AND a.status IN ({handling})",
            params=[G, now, *handling_params],
            new_state_column="deadline_state",
            new_state=Y,
            trigger=SupervisionTrigger.YELLOW,
            level=SupervisionLevel.REMINDER,
            notice=str(_(" 办理时限已过八成，催办 / 80% of the time used: reminder")),
            now=now,
        )
        counts["acceptance_red"] = _scan_step(
            cursor,
            where="a.acceptance_state IN (%s, %s) AND a.acceptance_due <= %s AND a.status = %s",
            params=[G, Y, now, AppealStatus.DISPATCHED.value],
            new_state_column="acceptance_state",
            new_state=R,
            trigger=SupervisionTrigger.ACCEPTANCE_RED,
            level=SupervisionLevel.REMINDER,
            notice=str(_(" 超过签收时限，请尽快签收 / not signed for in time")),
            now=now,
        )
        counts["acceptance_yellow"] = _scan_step(
            cursor,
            where="a.acceptance_state = %s AND a.acceptance_warn_at <= %s AND a.status = %s",
            params=[G, now, AppealStatus.DISPATCHED.value],
            new_state_column="acceptance_state",
            new_state=Y,
            trigger=None,
            level=None,
            notice=None,
            now=now,
        )
    if any(counts.values()):
        logger.info("deadline scan: %s", counts)
    from .services import appeal_intake_sweep

    requeued = appeal_intake_sweep()  # intakes whose follow-up never finished (not part of the counts)
    if requeued:
        logger.warning("deadline scan: re-enqueued the follow-up of %s intakes", requeued)
    return counts
