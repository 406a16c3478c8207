"""Background work for the appeals loop: notifications for each timeline event, and the deadline
scan. Tasks take ids and may run twice without harm."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks import task

from linli.core.accounts.models import User
from linli.core.notifications.models import Notification
from linli.core.notifications.services import TITLE_CHARS, localised, notify
from linli.core.orgs.choices import Role
from linli.core.orgs.models import Membership

from .choices import (
    HANDLING_STATUSES,
    Action,
    AppealStatus,
    SupervisionLevel,
    SupervisionTrigger,
)
from .models import Appeal, AppealEvent, AppealFollow, DeadlineScan, Supervision

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
    from .services import coarse_place

    follower_ids = set(AppealFollow.objects.filter(appeal=appeal).values_list("resident_id", flat=True))
    follower_ids -= {appeal.resident_id, event.actor_id}
    if not follower_ids:
        return 0
    place = coarse_place(appeal) or "-"

    def text():
        return _("您关注的诉求 %(ref)s（%(place)s）%(action)s，当前状态：%(status)s") % {
            "ref": appeal.reference,
            "place": place,
            "action": event.get_action_display(),
            "status": _status_after(event),
        }

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
    """The notice for one event, in the active language (``notify`` runs it once per language)."""
    args = {"ref": appeal.reference, "title": appeal.title[:40], "action": event.get_action_display()}
    if not event.to_status:
        return _("诉求 %(ref)s「%(title)s」%(action)s") % args
    return _("诉求 %(ref)s「%(title)s」%(action)s，当前状态：%(status)s") % {
        **args,
        "status": _status_after(event),
    }


def _status_after(event: AppealEvent) -> str:
    """The status the event left the case in: a notice written late (a busy worker, the demo's
    recent events) still says what that step did, not where the case has got to since."""
    return str(AppealStatus(event.to_status).label) if event.to_status else ""


def _event_note(event: AppealEvent) -> str:
    return event.shown_note[:500]


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

    def text():
        return _text(appeal, event)

    def note():
        return _event_note(event)

    key = event_dedupe_key(event)
    sms = event.action in SMS_ACTIONS and event.public
    created = 0
    staff = User.objects.filter(pk__in=recipient_ids - {appeal.resident_id}).order_by("pk")
    created += len(
        notify(
            recipients=staff,
            kind=NOTICE_KIND,
            title=text,
            body=note,
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
                body=note if event.public else "",
                url=_case_url(appeal, resident=True),
                obj=appeal,
                dedupe_key=key,
                sms=sms,
            )
        )
    elif sms and not appeal.resident_id:
        _sms_contact(appeal, localised(text)[0], event=event)
    created += _notify_followers(appeal, event, key)
    return created


def notify_new_intakes(submitted: list[tuple[Appeal, AppealEvent]]) -> int:
    """The dispatchers' notices for a batch of new appeals (``services.appeal_intake_complete_many``):
    a dispatcher with one new case in their area gets the notice ``appeal_notify`` gives for its
    submission (same dedupe key); one with several gets one notice naming them (up to
    ``DIGEST_REFERENCES``), linking to the queue. Followers, if a case has any yet, as
    ``appeal_notify``. One read of the dispatchers, one INSERT. Returns how many notices were written
    (a notice whose dedupe key its recipient has already is skipped, but counted)."""
    if not submitted:
        return 0
    dispatchers = list(
        Membership.objects.filter(role__in=[Role.DISPATCHER], is_active=True, user__is_active=True)
        .exclude(jurisdiction__isnull=True)
        .values_list("user_id", "jurisdiction__path")
    )
    cases: dict[int, list[tuple[Appeal, AppealEvent]]] = defaultdict(list)
    for appeal, event in submitted:
        within = set(_prefixes(appeal.path))
        for user_id in sorted({u for u, path in dispatchers if path in within} - {event.actor_id}):
            cases[user_id].append((appeal, event))
    rows = []
    for user_id, mine in cases.items():
        appeal, event = mine[0]
        if len(mine) == 1:
            title, body, translations = localised(
                lambda a=appeal, e=event: _text(a, e), lambda e=event: _event_note(e)
            )
            url = _case_url(appeal, resident=False)
            obj_type, obj_id, key = appeal._meta.label_lower, str(appeal.pk), event_dedupe_key(event)
        else:
            refs = "、".join(a.reference for a, _e in mine[:DIGEST_REFERENCES])
            n, more = len(mine), len(mine) - DIGEST_REFERENCES
            title, body, translations = localised(
                lambda n=n: _("%(n)s 件新诉求待受理") % {"n": n},
                lambda refs=refs, more=more: refs + (_(" 等") if more > 0 else ""),
            )
            url, obj_type, obj_id = reverse("appeals:queue"), "", ""
            key = f"appeal-intakes:{mine[0][1].pk}-{mine[-1][1].pk}"
        rows.append(
            Notification(
                recipient_id=user_id,
                kind=NOTICE_KIND,
                title=title,
                body=body,
                translations=translations,
                url=url,
                dedupe_key=key,
                object_type=obj_type,
                object_id=obj_id,
            )
        )
    created = len(Notification.objects.bulk_create(rows, ignore_conflicts=True))
    following = set(
        AppealFollow.objects.filter(appeal_id__in=[a.pk for a, _e in submitted]).values_list(
            "appeal_id", flat=True
        )
    )
    for appeal, event in submitted:
        if appeal.pk in following:
            created += _notify_followers(appeal, event, event_dedupe_key(event))
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
#
# The colours are derived when read (``Appeal.deadline_state``), so the scan changes nothing on the
# appeals table. It finds the cases whose 80% point or deadline fell since the last scan by a range on
# the stored instants, writes one 催办/督办 record per case (``Supervision``, once per trigger and
# deadline epoch), and sends each member of the lead unit one digest notice per kind per scan.

# Instants this far before where the last scan stopped are looked at again: a clock set by a
# transaction that committed after that scan had read is still seen. Looking twice is harmless (the
# records' unique constraint ``supervision_auto_once``; a digest lists only newly recorded cases).
SCAN_OVERLAP = dt.timedelta(minutes=10)
DIGEST_REFERENCES = 30  # case numbers named in one digest notice


@dataclass(frozen=True)
class _Crossing:
    count_key: str
    trigger: str
    level: str
    text: object  # a lazy translation: the digest is written in every language
    where: str  # over ``a`` (the appeals table); parameters: now, [since,] *extra


def _crossings() -> list[_Crossing]:
    handling = ", ".join(["%s"] * len(HANDLING_STATUSES))
    return [
        # Red first: a case that passed both points while no scan ran gets the 督办 only.
        _Crossing(
            "handling_red",
            SupervisionTrigger.RED,
            SupervisionLevel.SUPERVISION,
            gettext_lazy("已超过办理时限，督办"),
            f"a.status IN ({handling}) AND a.handling_due <= %s{{since:a.handling_due}}",
        ),
        _Crossing(
            "handling_yellow",
            SupervisionTrigger.YELLOW,
            SupervisionLevel.REMINDER,
            gettext_lazy("办理时限已过八成，催办"),
            f"a.status IN ({handling}) AND a.handling_warn_at <= %s{{since:a.handling_warn_at}} "
            "AND a.handling_due > %s",
        ),
        _Crossing(
            "acceptance_red",
            SupervisionTrigger.ACCEPTANCE_RED,
            SupervisionLevel.REMINDER,
            gettext_lazy("超过签收时限，请尽快签收"),
            "a.status = %s AND a.acceptance_due <= %s{since:a.acceptance_due}",
        ),
    ]


def _window(where: str, since) -> str:
    """Fill ``{since:<column>}``: ``AND <column> > %s`` when there is a lower bound."""
    head, _sep, rest = where.partition("{since:")
    column, _sep, tail = rest.partition("}")
    return head + (f" AND {column} > %s" if since is not None else "") + tail


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _record(cursor, crossing: _Crossing, *, now, since) -> list[tuple[int, int | None]]:
    """One INSERT … SELECT: a 催办/督办 record for every case whose instant fell in (since, now];
    returns (case id, unit id) of the records that are new."""
    appeal_t, sup_t = _q(Appeal._meta.db_table), _q(Supervision._meta.db_table)
    statuses = (
        [AppealStatus.DISPATCHED.value]
        if crossing.trigger == SupervisionTrigger.ACCEPTANCE_RED
        else [s.value for s in HANDLING_STATUSES]
    )
    params = [*statuses, now, *([since] if since is not None else [])]
    if crossing.trigger == SupervisionTrigger.YELLOW:
        params.append(now)  # not yet overdue
    # Identifiers come from model metadata; every value is a parameter.
    sql = (
        f"INSERT INTO {sup_t} (appeal_id, unit_id, level, {_q('trigger')}, epoch, note, created_at) "  # noqa: S608
        f"SELECT a.id, a.lead_unit_id, %s, %s, a.deadline_epoch, '', %s FROM {appeal_t} a "
        f"WHERE {_window(crossing.where, since)} "
        "ON CONFLICT DO NOTHING RETURNING appeal_id, unit_id"
    )
    cursor.execute(sql, [crossing.level, crossing.trigger, now, *params])
    return cursor.fetchall()


def _count_acceptance_yellow(cursor, *, now, since) -> int:
    """Cases whose acceptance clock passed 80% in (since, now]: shown yellow, nothing is sent."""
    where = (
        "a.status = %s AND a.acceptance_warn_at <= %s{since:a.acceptance_warn_at} AND a.acceptance_due > %s"
    )
    params = [AppealStatus.DISPATCHED.value, now, *([since] if since is not None else []), now]
    sql = f"SELECT COUNT(*) FROM {_q(Appeal._meta.db_table)} a WHERE {_window(where, since)}"  # noqa: S608
    cursor.execute(sql, params)
    return cursor.fetchone()[0]


def _digests(crossing: _Crossing, recorded, *, scan_no: int) -> list[tuple]:
    """One digest per lead unit for the cases of this kind recorded by this scan: the case itself
    when there is one, else a list ("…（12 件）：JN…、JN…"). Rows of (unit id, title, body, url,
    object type, object id, dedupe key, other languages as JSON) for ``_send_digests``."""
    by_unit: dict[int, list[int]] = defaultdict(list)
    for appeal_id, unit_id in recorded:
        if unit_id is not None:
            by_unit[unit_id].append(appeal_id)
    if not by_unit:
        return []
    for ids in by_unit.values():
        ids.sort()
    named = [pk for ids in by_unit.values() for pk in ids[:DIGEST_REFERENCES]]
    refs = dict(Appeal.objects.filter(pk__in=named).values_list("pk", "reference"))
    case_head, case_tail = _case_url_parts()
    inbox = reverse("appeals:inbox")
    rows = []
    for unit_id, ids in by_unit.items():
        names = [refs.get(pk, str(pk)) for pk in ids[:DIGEST_REFERENCES]]
        if len(ids) == 1:
            title, body, translations = localised(lambda name=names[0]: f"{name} {crossing.text}")
            url, obj_type, obj_id = f"{case_head}{ids[0]}{case_tail}", Appeal._meta.label_lower, str(ids[0])
        else:
            n, more = len(ids), len(ids) - len(names)

            def digest_title(names=names, n=n) -> str:
                refs = "、".join(names)
                return _("%(what)s（%(n)s 件）：%(refs)s") % {"what": crossing.text, "n": n, "refs": refs}

            def digest_body(names=names, n=n, more=more) -> str:
                if not more and len(digest_title()) <= TITLE_CHARS:
                    return ""  # the title names every case
                return "\n".join(names) + (("\n" + _("等共 %(n)s 件") % {"n": n}) if more else "")

            title, body, translations = localised(digest_title, digest_body)
            url, obj_type, obj_id = inbox, "orgs.organisation", str(unit_id)
        key = f"appeal-deadline:scan{scan_no}:{crossing.trigger}:{unit_id}"
        rows.append((unit_id, title, body, url, obj_type, obj_id, key, json.dumps(translations)))
    return rows


def _send_digests(cursor, digests: list[tuple], *, now) -> int:
    """Each digest to every active member of its unit (its staff and its leader; not volunteers), in
    one INSERT … SELECT; the dedupe key makes a rerun add nothing. Returns how many notices."""
    if not digests:
        return 0
    note_t, member_t, user_t = (
        _q(Notification._meta.db_table),
        _q(Membership._meta.db_table),
        _q(User._meta.db_table),
    )
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(digests))
    # VALUES columns are column1 … column8 on PostgreSQL and SQLite alike; the JSON is text in them.
    translations = "CAST(d.column8 AS jsonb)" if connection.vendor == "postgresql" else "d.column8"
    sql = (
        f"INSERT INTO {note_t} (recipient_id, created_at, kind, title, body, url, object_type, "  # noqa: S608
        "object_id, dedupe_key, translations) "
        "SELECT m.user_id, %s, %s, d.column2, d.column3, d.column4, d.column5, d.column6, d.column7, "
        f"{translations} "
        f"FROM (VALUES {values}) AS d "
        f"JOIN {member_t} m ON m.organisation_id = d.column1 AND m.is_active = %s AND m.role <> %s "
        f"JOIN {user_t} u ON u.id = m.user_id AND u.is_active = %s "
        "WHERE m.user_id IS NOT NULL ON CONFLICT DO NOTHING"  # SQLite wants a WHERE before ON CONFLICT
    )
    params = [now, DEADLINE_KIND, *(v for row in digests for v in row), True, Role.VOLUNTEER.value, True]
    cursor.execute(sql, params)
    return cursor.rowcount


def _case_url_parts() -> tuple[str, str]:
    marker = "9999999999"
    head, tail = reverse("appeals:case", args=[int(marker)]).split(marker)
    return head, tail


@task()
def appeal_deadline_scan() -> dict[str, int]:
    """催办 at 80% of the allowed working time, 督办 when overdue, a reminder when a dispatched case is
    not signed for in time: for every case whose point fell since the last scan (``DeadlineScan``),
    however long ago that was. Scans take the ``DeadlineScan`` row's lock, so two never overlap; a
    second run finds nothing new. Returns how many cases crossed each point."""
    started = time.monotonic()
    DeadlineScan.objects.get_or_create(pk=1)
    counts: dict[str, int] = {}
    with transaction.atomic():
        state = DeadlineScan.objects.select_for_update().get(pk=1)
        now = timezone.now()  # after the lock: a scan that waited starts where the other stopped
        last = state.scanned_until
        db_now = connection.ops.adapt_datetimefield_value(now)  # raw SQL: the backend's own format
        since = connection.ops.adapt_datetimefield_value(last - SCAN_OVERLAP) if last else None
        digests: list[tuple] = []
        with connection.cursor() as cursor:
            for crossing in _crossings():
                recorded = _record(cursor, crossing, now=db_now, since=since)
                counts[crossing.count_key] = len(recorded)
                digests += _digests(crossing, recorded, scan_no=state.scans + 1)
            counts["acceptance_yellow"] = _count_acceptance_yellow(
                cursor, now=db_now, since=connection.ops.adapt_datetimefield_value(last) if last else None
            )
            counts["notices"] = _send_digests(cursor, digests, now=db_now)
        state.scanned_until, state.scans = now, state.scans + 1
        state.last_counts, state.last_seconds = counts, round(time.monotonic() - started, 3)
        state.save()
    counts.pop("notices")
    if any(counts.values()):
        logger.info("deadline scan: %s", state.last_counts)
    from .services import appeal_intake_sweep

    requeued = appeal_intake_sweep()  # intakes whose follow-up never finished (not part of the counts)
    if requeued:
        logger.warning("deadline scan: re-enqueued the follow-up of %s intakes", requeued)
    return counts
