import datetime as dt
import threading

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from linli.core.notifications.models import Notification
from linli.domains.appeals import services as svc
from linli.domains.appeals.choices import AppealStatus as S
from linli.domains.appeals.models import Appeal, DeadlineScan, Supervision
from linli.domains.appeals.selectors import deadline_q
from linli.domains.appeals.tasks import appeal_deadline_scan

from .conftest import SH
from .helpers import bring_to


def at(*args):
    return dt.datetime(*args, tzinfo=SH)


def test_rubbish_dispatched_before_national_day(world, clock):
    clock.set(2025, 9, 30, 17)
    a = bring_to(world, S.DISPATCHED)  # 暴露垃圾: sign within 1 working hour, handle within 4
    assert a.acceptance_due == at(2025, 9, 30, 18)
    assert a.handling_due == at(2025, 10, 9, 12)  # 1 h on 30 Sept, then 3 h after the holiday
    # 80% of 4 working hours = 3 h 12 min: 1 h on 30 Sept + 2 h 12 min on 9 Oct
    assert a.handling_warn_at == at(2025, 10, 9, 11, 12)
    assert a.deadline_state == "green"


def test_complaint_of_15_working_days_counts_the_adjusted_saturday(world, clock):
    clock.set(2025, 9, 26, 10)  # Friday; 28 Sept (Sun) and 11 Oct (Sat) are working days
    a = bring_to(world, S.DISPATCHED, category=world.complaint, answers={"floor": 2})
    # working days after 26 Sept: 28, 29, 30 Sept, 9, 10, 11, 13, 14, 15, 16, 17, 20, 21, 22, 23 Oct
    assert a.handling_due == at(2025, 10, 23, 18)


def test_urgent_is_same_day(world, clock):
    clock.set(2025, 9, 29, 10)
    a = bring_to(world, S.DISPATCHED, category=world.complaint, priority="urgent", answers={"floor": 1})
    assert a.handling_due == at(2025, 9, 29, 18)


def test_scan_turns_yellow_then_red_and_supervises_once_per_level(world, clock, on_commit):
    clock.set(2025, 9, 30, 17)
    a = bring_to(world, S.IN_PROGRESS)
    assert appeal_deadline_scan.call() == {
        "handling_red": 0,
        "handling_yellow": 0,
        "acceptance_red": 0,
        "acceptance_yellow": 0,
    }
    clock.set(2025, 10, 9, 11, 15)
    assert appeal_deadline_scan.call()["handling_yellow"] == 1
    a.refresh_from_db()
    assert a.deadline_state == "yellow"
    sup = Supervision.objects.get(appeal=a)
    assert (sup.level, sup.trigger, sup.unit) == ("reminder", "yellow", world.city_mgmt)
    unit_staff = {world.handler.pk, world.handler_leader.pk}
    assert (
        set(
            Notification.objects.filter(kind="appeal_deadline", object_id=str(a.pk)).values_list(
                "recipient_id", flat=True
            )
        )
        == unit_staff
    )
    # idempotent
    assert appeal_deadline_scan.call()["handling_yellow"] == 0
    assert Supervision.objects.filter(appeal=a).count() == 1
    clock.set(2025, 10, 9, 12, 1)
    assert appeal_deadline_scan.call()["handling_red"] == 1
    a.refresh_from_db()
    assert a.deadline_state == "red"
    assert list(Supervision.objects.filter(appeal=a).order_by("id").values_list("trigger", "level")) == [
        ("yellow", "reminder"),
        ("red", "supervision"),
    ]
    assert appeal_deadline_scan.call() == {
        "handling_red": 0,
        "handling_yellow": 0,
        "acceptance_red": 0,
        "acceptance_yellow": 0,
    }


def test_scan_flags_unsigned_cases_and_ignores_finished_ones(world, clock):
    clock.set(2025, 9, 29, 9)
    unsigned = bring_to(world, S.DISPATCHED)
    handled = bring_to(world, S.HANDLED)
    clock.set(2025, 9, 29, 9, 50)
    assert appeal_deadline_scan.call()["acceptance_yellow"] == 1
    clock.set(2025, 9, 30, 9)
    counts = appeal_deadline_scan.call()
    assert counts["acceptance_red"] == 1 and counts["handling_red"] == 1
    unsigned.refresh_from_db()
    handled.refresh_from_db()
    assert unsigned.acceptance_state == "red" and unsigned.deadline_state == "red"
    assert handled.deadline_state == "none"
    assert not Supervision.objects.filter(appeal=handled).exists()


def test_approved_extension_turns_red_back_to_green_and_arms_new_notices(world, clock):
    clock.set(2025, 9, 29, 9)
    a = bring_to(world, S.IN_PROGRESS)
    clock.set(2025, 9, 29, 16)
    appeal_deadline_scan.call()
    a.refresh_from_db()
    assert a.deadline_state == "red"
    req = svc.appeal_extension_request(actor=world.handler, appeal=a, days=2, reason="需要机械清运")
    svc.appeal_extension_decide(actor=world.dispatcher, request=req, approve=True)
    a.refresh_from_db()
    assert a.handling_due == at(2025, 10, 9, 14, 30)  # two working days (15 h) after 29 Sept 14:30
    assert a.deadline_state == "green"
    clock.set(2025, 10, 10, 9)
    assert appeal_deadline_scan.call()["handling_red"] == 1
    assert Supervision.objects.filter(appeal=a, trigger="red").count() == 2  # one per deadline epoch


# --- colours derived when read; crossings found by time window --------------------------------------


def deadline_notices(user):
    return list(Notification.objects.filter(kind="appeal_deadline", recipient=user).order_by("id"))


def test_colour_is_exact_between_scans_and_queries_agree(world, clock):
    clock.set(2025, 9, 29, 9)
    a = bring_to(world, S.IN_PROGRESS)  # due 14:30, 80 % at 13:42
    handled = bring_to(world, S.HANDLED)
    for moment, colour in [((13, 41), "green"), ((13, 42), "yellow"), ((14, 30), "red")]:
        now = clock.set(2025, 9, 29, *moment)
        a.refresh_from_db()
        assert a.deadline_state == colour  # no scan ran
        assert set(Appeal.objects.filter(deadline_q(colour, now=now)).values_list("pk", flat=True)) >= {a.pk}
        assert not Appeal.objects.filter(deadline_q(colour, now=now), pk=handled.pk).exists()
    assert Appeal.objects.filter(deadline_q("none"), pk=handled.pk).exists()
    assert handled.deadline_state == "none"


def test_catch_up_after_a_day_records_each_case_once_and_sends_one_digest_per_member(world, clock):
    clock.set(2025, 9, 29, 9)
    cases = [bring_to(world, S.IN_PROGRESS) for _ in range(3)]  # due 14:30 (80 % at 13:42)
    later = bring_to(world, S.IN_PROGRESS, category=world.complaint, answers={"floor": 3})  # 15 days
    clock.set(2025, 9, 29, 9, 5)
    appeal_deadline_scan.call()
    # the worker is down until the next morning: both points of the three cases fell in the gap
    clock.set(2025, 9, 30, 9)
    counts = appeal_deadline_scan.call()
    assert (counts["handling_red"], counts["handling_yellow"]) == (3, 0)
    assert sorted(Supervision.objects.values_list("appeal_id", "trigger")) == sorted(
        (a.pk, "red") for a in cases
    )  # the 督办 only: the 催办 would be stale; nothing for the case still in time
    assert not Supervision.objects.filter(appeal=later).exists()
    for member in (world.handler, world.handler_leader):
        (notice,) = deadline_notices(member)
        assert "（3 件）" in notice.title and all(a.reference in notice.title for a in cases)
        assert notice.title.startswith("已超过办理时限，督办（3 件）")
        assert notice.body == "" and notice.translations["en"]["body"] == ""  # the title names all three
        with translation.override("en"):  # written in every language, in one INSERT … SELECT
            assert notice.shown_title.startswith("Overdue: supervision notice (3 appeals): ")
        assert notice.url == reverse("appeals:inbox")
        assert (notice.object_type, notice.object_id) == ("orgs.organisation", str(world.city_mgmt.pk))
    assert not deadline_notices(world.dispatcher) and not deadline_notices(world.other_handler)
    # a second scan (a retried task, or the next one) records and sends nothing more
    assert sum(appeal_deadline_scan.call().values()) == 0
    clock.set(2025, 9, 30, 9, 5)
    assert sum(appeal_deadline_scan.call().values()) == 0
    assert Supervision.objects.count() == 3
    assert len(deadline_notices(world.handler)) == 1


def test_same_crossings_whatever_the_gap_between_scans(world, clock):
    """Scanning every 20 minutes or once at the end: every overdue case gets exactly one 督办, and no
    case gets a record twice."""
    start = clock.set(2025, 9, 29, 9)
    for minutes in range(0, 240, 40):
        clock.set(2025, 9, 29, 9 + minutes // 60, minutes % 60)
        bring_to(world, S.IN_PROGRESS)
    clock.set(2025, 9, 29, 13)
    tail = [bring_to(world, S.DISPATCHED) for _ in range(2)]
    clock.now = start
    for _ in range(30):  # 9:00 to 19:00 every 20 minutes
        clock.advance(minutes=20)
        appeal_deadline_scan.call()
    overdue = Appeal.objects.filter(deadline_q("red", now=clock.now))
    assert overdue.count() == 8
    red = list(Supervision.objects.filter(trigger="red").values_list("appeal_id", flat=True))
    assert sorted(red) == sorted(overdue.values_list("pk", flat=True))
    keys = list(Supervision.objects.values_list("appeal_id", "trigger", "epoch"))
    assert len(keys) == len(set(keys))
    assert Supervision.objects.filter(appeal__in=tail, trigger="acceptance_red").count() == 2


def test_a_clock_committed_after_a_scan_read_is_still_seen(world, clock):
    """A case whose deadline fell just before the last scan's end but whose transaction committed
    after that scan read is picked up by the next one (the scans' windows overlap)."""
    clock.set(2025, 9, 29, 9)
    a = bring_to(world, S.IN_PROGRESS)
    clock.set(2025, 9, 29, 12)
    appeal_deadline_scan.call()
    # as if committed late: due at 11:55, before the 12:00 scan's end, and never seen by it
    Appeal.objects.filter(pk=a.pk).update(
        handling_due=at(2025, 9, 29, 11, 55), handling_warn_at=at(2025, 9, 29, 11, 30)
    )
    clock.set(2025, 9, 29, 12, 5)
    assert appeal_deadline_scan.call()["handling_red"] == 1
    assert Supervision.objects.filter(appeal=a, trigger="red").count() == 1


def test_overlapping_windows_add_nothing_twice(world, clock):
    """A scan whose window overlaps one already done (two scans that started together, a task
    retried with an old view of ``DeadlineScan``) records and sends only what is new."""
    clock.set(2025, 9, 29, 9)
    first = [bring_to(world, S.IN_PROGRESS) for _ in range(2)]
    clock.set(2025, 9, 29, 15)
    assert appeal_deadline_scan.call()["handling_red"] == 2
    DeadlineScan.objects.update(scanned_until=at(2025, 9, 29, 9))  # the other scan's view
    assert appeal_deadline_scan.call()["handling_red"] == 0
    assert Supervision.objects.filter(appeal__in=first).count() == 2
    assert len(deadline_notices(world.handler)) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_scans_at_once_record_and_notify_once(world):
    from conftest import require_service

    require_service(connection.vendor == "postgresql", "PostgreSQL needed for concurrent scans")
    cases = [bring_to(world, S.IN_PROGRESS) for _ in range(5)]
    past = timezone.now() - dt.timedelta(minutes=1)
    Appeal.objects.filter(pk__in=[a.pk for a in cases]).update(handling_due=past, handling_warn_at=past)
    barrier = threading.Barrier(2)
    results = []

    def scan():
        from django.db import connections

        try:
            barrier.wait()
            results.append(appeal_deadline_scan.call())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r["handling_red"] for r in results) == [0, 5]
    assert Supervision.objects.filter(appeal__in=cases, trigger="red").count() == 5
    assert len(deadline_notices(world.handler)) == 1
    assert DeadlineScan.objects.get().scans == 2


def test_digests_reach_active_staff_of_the_lead_unit_only(world, clock):
    from linli.core.orgs.choices import Role

    from .conftest import grant, make_user

    volunteer = grant(make_user(), world.city_mgmt, Role.VOLUNTEER, world.d.district)
    gone = grant(make_user(), world.city_mgmt, Role.DEPARTMENT_STAFF, world.d.district)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    clock.set(2025, 9, 29, 9)
    a = bring_to(world, S.IN_PROGRESS)
    clock.set(2025, 9, 29, 15)
    appeal_deadline_scan.call()
    assert [n.object_id for n in deadline_notices(world.handler_leader)] == [str(a.pk)]
    assert not deadline_notices(volunteer) and not deadline_notices(gone)


def test_a_digest_lists_its_cases_in_the_body_when_the_title_cannot_hold_them(world, clock, monkeypatch):
    from linli.domains.appeals import tasks

    monkeypatch.setattr(tasks, "DIGEST_REFERENCES", 2)  # name two, count all
    clock.set(2025, 9, 29, 9)
    cases = [bring_to(world, S.IN_PROGRESS) for _ in range(3)]
    clock.set(2025, 9, 29, 9, 5)
    appeal_deadline_scan.call()
    clock.set(2025, 9, 30, 9)
    appeal_deadline_scan.call()
    (notice,) = deadline_notices(world.handler)
    named = sorted(a.reference for a in cases)[:2]
    assert notice.body.split("\n") == [*named, "等共 3 件"]
    with translation.override("en"):
        assert notice.shown_body.endswith("3 appeals in all")
