import datetime as dt

from linli.core.notifications.models import Notification
from linli.domains.appeals import services as svc
from linli.domains.appeals.choices import AppealStatus as S
from linli.domains.appeals.models import Supervision
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
