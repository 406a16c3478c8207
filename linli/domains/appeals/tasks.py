"""Background work for the appeals loop: notifications for each timeline event, and the deadline
scan. Tasks take ids and may run twice without harm."""

from __future__ import annotations

import logging

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

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
from .models import Appeal, AppealEvent, Notification, Supervision

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
    ids.discard(event.actor_id)
    return ids


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
    )[:300]


@task()
def appeal_notify(event_id: int) -> int:
    """In-app notices (and SMS for residents at milestones) for one timeline event. Returns how many
    notices were new; a second run creates none."""
    event = AppealEvent.objects.select_related("appeal", "appeal__resident").filter(pk=event_id).first()
    if event is None:
        return 0
    appeal = event.appeal
    recipients = _recipient_ids(appeal, event)
    already = set(Notification.objects.filter(event=event).values_list("user_id", flat=True))
    new = recipients - already
    if not new:
        return 0
    text = _text(appeal, event)
    Notification.objects.bulk_create(
        [Notification(user_id=uid, appeal=appeal, event=event, text=text) for uid in sorted(new)],
        ignore_conflicts=True,
    )
    if event.action in SMS_ACTIONS and event.public:
        _sms_resident(
            appeal, text, first_time=appeal.resident_id in new or not appeal.resident_id, event=event
        )
    return len(new)


def _sms_resident(appeal: Appeal, text: str, *, first_time: bool, event: AppealEvent) -> None:
    if not first_time:
        return
    phone = appeal.contact_phone or (appeal.resident.phone if appeal.resident_id else "")
    if not phone:
        return
    if not appeal.resident_id:  # staff-entered: once per event, remembered on the event
        if event.data.get("sms_sent"):
            return
        AppealEvent.objects.filter(pk=event.pk).update(data={**event.data, "sms_sent": True})
    from linli.core.accounts.sms import send_sms

    try:
        send_sms(phone=phone, text=text)
    except Exception:
        logger.exception("SMS for appeal %s failed", appeal.reference)


# --- deadline scan -----------------------------------------------------------------------------------


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
        insert = (
            f"INSERT INTO {note_t} (user_id, appeal_id, text, created_at) "  # noqa: S608
            f"SELECT DISTINCT m.user_id, a.id, a.reference || %s, %s FROM {appeal_t} a "
            f"JOIN {member_t} m ON m.organisation_id = a.lead_unit_id AND m.is_active = %s "
            f"WHERE {where}"
        )
        cursor.execute(insert, [notice, now, True, *params])
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
    return counts
