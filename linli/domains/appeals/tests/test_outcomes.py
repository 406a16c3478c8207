"""Notifications, publication, rates, patrol reports and the category catalogue."""

import datetime as dt

import pytest
from django.core.management import call_command

from linli.core.notifications.models import Notification
from linli.domains.appeals import services as svc
from linli.domains.appeals.choices import AppealStatus as S
from linli.domains.appeals.models import Appeal, Category
from linli.domains.appeals.selectors import (
    appeal_rates,
    appeal_timeline,
    dispatcher_counts,
    dispatcher_queue,
    public_appeal,
    public_appeals,
    resident_appeals,
    unit_inbox,
)
from linli.domains.appeals.tasks import appeal_notify

from .conftest import SH, jpeg_with_exif, png_bytes
from .helpers import bring_to, submit


def inbox(user):
    return list(Notification.objects.filter(recipient=user).order_by("id").values_list("title", flat=True))


def test_whoever_acts_next_is_notified(world, on_commit):
    a = submit(world)
    assert len(inbox(world.dispatcher)) == 1 and "提交" in inbox(world.dispatcher)[0]
    assert inbox(world.street2_dispatcher) == []  # outside their street
    a = svc.appeal_register(actor=world.dispatcher, appeal=a)
    assert any("立案" in t for t in inbox(world.resident))
    svc.appeal_dispatch(
        actor=world.dispatcher, appeal=a, lead_unit=world.city_mgmt, assisting_units=[world.housing]
    )
    for user in (world.handler, world.handler_leader, world.other_handler):
        assert any("派遣" in t for t in inbox(user)), user
    assert inbox(world.street_staff) == []


def test_notify_task_is_idempotent(world, on_commit):
    a = bring_to(world, S.REGISTERED)
    event = a.events.get(action="register")
    before = Notification.objects.count()
    assert appeal_notify.call(event.pk) == 0
    assert Notification.objects.count() == before


def test_a_notice_written_late_says_what_its_step_did(world):
    """The worker may reach an event's notice after the case has moved on: the notice still gives the
    status that step left it in (here 已立案, not the 已派遣 of the dispatch that followed)."""
    a = bring_to(world, S.DISPATCHED)  # no on-commit hooks run: the later events are not notified yet
    register = a.events.get(action="register")
    Notification.objects.all().delete()  # the intake's own notice, written by its follow-up
    assert appeal_notify.call(register.pk) > 0
    (title,) = set(Notification.objects.values_list("title", flat=True))
    assert title.endswith("立案，当前状态：已立案"), title


def test_resident_sms_at_milestones(world, on_commit):
    from linli.core.accounts import sms

    sms.outbox.clear()
    bring_to(world, S.CLOSED)
    texts = [m.text for m in sms.outbox if m.phone == "13800001111"]
    assert len(texts) == 2 and "立案" in texts[0] and "核查" in texts[1] and "已办结" in texts[1]


def test_published_case_has_no_personal_details(world):
    a = submit(world)
    Appeal.objects.filter(pk=a.pk).update(
        body="我是王小明，电话13800001111，住测试路1号3栋2单元301，身份证510106199001011234，门口垃圾没人管",
        address="测试路1号3栋2单元301",
    )
    a.refresh_from_db()
    for step in ("register", "dispatch", "sign", "handle", "verify_pass"):
        from .test_transitions import CALLS

        CALLS[step](world, a)
        a.refresh_from_db()
    rows = list(public_appeals())
    assert len(rows) == 1
    row = rows[0]
    text = " ".join(str(v) for v in row.values())
    for secret in ("13800001111", "王小明", "510106199001011234", "3栋2单元301", "测试路1号3栋"):
        assert secret not in text, secret
    assert "王**" in row["public_body"]
    assert row["public_place"] == world.d.compounds[0].name
    assert "lng" not in row and "address" not in row
    assert public_appeal(a.reference)["timeline"][-1]["to_status"] == "closed"


def test_private_cases_and_private_categories_are_not_published(world):
    private = bring_to(world, S.CLOSED, is_private=True)
    world.rubbish.is_public = False
    world.rubbish.save()
    hidden_category = bring_to(world, S.CLOSED)
    assert not private.published and not hidden_category.published
    assert list(public_appeals()) == []
    with pytest.raises(svc.AppealError):
        svc.appeal_redact(actor=world.dispatcher, appeal=private, published=True)


def test_staff_redact_the_published_text(world):
    a = bring_to(world, S.CLOSED)
    svc.appeal_redact(actor=world.dispatcher, appeal=a, public_body="（已编辑）门口垃圾")
    assert public_appeal(a.reference)["public_body"] == "（已编辑）门口垃圾"
    svc.appeal_redact(actor=world.dispatcher, appeal=a, published=False)
    assert public_appeal(a.reference) is None


def test_timeline_hides_internal_events_from_residents(world):
    a = bring_to(world, S.IN_PROGRESS)
    svc.appeal_supervise(actor=world.dispatcher, appeal=a, note="内部督办")
    staff = list(appeal_timeline(a, staff=True).values_list("action", flat=True))
    resident = list(appeal_timeline(a, staff=False).values_list("action", flat=True))
    assert "supervise" in staff and "supervise" not in resident
    assert resident == ["submit", "register", "dispatch", "sign"]


def test_queues(world):
    a = bring_to(world, S.SUBMITTED)
    b = bring_to(world, S.DISPATCHED)
    c = bring_to(world, S.SUBMITTED, grid_index=4)
    assert set(dispatcher_queue(world.dispatcher)) == {a, b, c}
    assert set(dispatcher_queue(world.street2_dispatcher)) == {c}
    assert set(dispatcher_queue(world.dispatcher, status="submitted")) == {a, c}
    assert set(dispatcher_queue(world.dispatcher, area_path=world.d.streets[1].path)) == {c}
    counts = dispatcher_counts(world.dispatcher)
    assert counts["submitted"] == 2 and counts["dispatched"] == 1 and counts["closed"] == 0
    assert list(unit_inbox(world.handler)) == [b]
    assert list(unit_inbox(world.street_staff)) == []
    assert set(resident_appeals(world.resident)) == {a, b, c}
    assert list(resident_appeals(world.other_resident)) == []


def test_the_three_rates(world, clock):
    clock.set(2025, 9, 29, 9)
    # signed in time, closed, satisfied
    a = bring_to(world, S.CLOSED)
    svc.appeal_rate(actor=world.resident, appeal=a, value="satisfied")
    # signed late (acceptance: 1 working hour), closed, unsatisfied
    b = bring_to(world, S.DISPATCHED)
    clock.set(2025, 9, 29, 11)
    b = svc.appeal_sign(actor=world.handler, appeal=b)
    b = svc.appeal_handle(actor=world.handler, appeal=b, result="处理")
    b = svc.appeal_close(actor=world.dispatcher, appeal=b)
    svc.appeal_rate(actor=world.resident, appeal=b, value="unsatisfied")
    # basically satisfied by call-back, in street 2
    clock.set(2025, 9, 29, 9)
    c = bring_to(world, S.CLOSED, grid_index=4)
    svc.appeal_rate(actor=world.dispatcher, appeal=c, value="basically_satisfied")
    # still in progress; rejected (not counted as accepted)
    bring_to(world, S.IN_PROGRESS)
    bring_to(world, S.REJECTED)
    clock.set(2025, 9, 30, 9)
    rows = {r["label"]: r for r in appeal_rates(group_by="street")}
    s1, s2 = rows["第1街道"], rows["第2街道"]
    assert (s1["total"], s1["dispatched"], s1["responded"]) == (4, 3, 2)
    assert s1["response_rate"] == round(2 / 3, 4)
    assert (s1["accepted"], s1["resolved"]) == (3, 2) and s1["resolution_rate"] == round(2 / 3, 4)
    assert (s1["rated"], s1["satisfied"], s1["satisfaction_rate"]) == (2, 1, 0.5)
    assert s2["satisfaction_rate"] == 1.0 and s2["resolution_rate"] == 1.0
    by_unit = {r["label"]: r for r in appeal_rates(group_by="department")}
    assert by_unit["区综合执法局"]["resolved"] == 3
    months = appeal_rates(group_by="month")
    assert len(months) == 1 and months[0]["total"] == 5 and months[0]["satisfaction_rate"] == round(2 / 3, 4)
    assert appeal_rates(group_by="street", since=dt.date(2025, 10, 1)) == []
    with pytest.raises(ValueError):
        appeal_rates(group_by="weather")


def test_grid_worker_handles_on_the_spot(world):
    lng, lat = world.point(0)
    a = svc.appeal_patrol_report(
        actor=world.grid_worker,
        title="楼道堆放杂物",
        body="消防通道堆物",
        category=world.dirty_road,
        lng=lng,
        lat=lat,
        handled_on_spot=True,
        result="已督促清理",
        photos=[jpeg_with_exif()],
        after_photos=[png_bytes()],
    )
    assert a.status == S.CLOSED and a.channel == "patrol" and a.lead_unit == world.station
    assert sorted(a.attachments.values_list("kind", flat=True)) == ["after", "before"]
    assert a.published
    with pytest.raises(svc.AppealError):
        svc.appeal_patrol_report(
            actor=world.grid_worker,
            title="t",
            body="b",
            category=world.dirty_road,
            lng=lng,
            lat=lat,
            handled_on_spot=True,
            result="x",
            photos=[png_bytes()],
        )
    other_lng, other_lat = world.point(1)
    with pytest.raises(svc.ActorNotAllowed):
        svc.appeal_patrol_report(
            actor=world.grid_worker,
            title="t",
            body="b",
            category=world.dirty_road,
            lng=other_lng,
            lat=other_lat,
        )
    with pytest.raises(svc.ActorNotAllowed):
        svc.appeal_patrol_report(
            actor=world.handler, title="t", body="b", category=world.dirty_road, lng=lng, lat=lat
        )


def test_patrol_report_without_handling_joins_the_queue(world, settings):
    lng, lat = world.point(0)
    a = svc.appeal_patrol_report(
        actor=world.grid_worker,
        title="路面脏",
        body="路口有油污",
        category=world.dirty_road,
        lng=lng,
        lat=lat,
    )
    assert a.status == S.DISPATCHED and a.lead_unit == world.city_mgmt  # the rule routes it at once
    settings.LINLI_APPEALS_AUTO_DISPATCH = False
    b = svc.appeal_patrol_report(
        actor=world.grid_worker,
        title="路面脏",
        body="路口有油污",
        category=world.dirty_road,
        lng=lng,
        lat=lat,
    )
    assert b.status == S.SUBMITTED and b in dispatcher_queue(world.dispatcher)


def test_load_categories_command(db):
    call_command("load_appeal_categories")
    assert Category.objects.filter(parent=None).count() >= 14
    rubbish = Category.objects.get(name="暴露垃圾")
    assert (float(rubbish.normal_limit), rubbish.normal_unit) == (4.0, "hours")
    assert (float(Category.objects.get(name="道路不洁").normal_limit)) == 2.0
    complaint = Category.objects.get(code="RX0103")
    assert (float(complaint.normal_limit), complaint.normal_unit, float(complaint.urgent_limit)) == (
        15,
        "days",
        0,
    )
    assert Category.objects.get(code="RX0101").parent.name == "城乡建设"
    assert not Category.objects.get(code="RX0501").is_public  # inherited from 劳动和社会保障
    count = Category.objects.count()
    call_command("load_appeal_categories")
    assert Category.objects.count() == count
    for name in (
        "市容环境",
        "街面秩序",
        "施工管理",
        "突发事件",
        "公用设施",
        "道路交通",
        "园林绿化",
        "城乡建设",
        "环境保护",
        "交通运输",
        "教育文体",
        "劳动和社会保障",
        "商贸旅游",
        "卫生计生",
    ):
        assert Category.objects.filter(name=name, parent=None).exists(), name


def test_scan_command(world, capsys):
    call_command("appeals_scan_deadlines")
    assert "handling_red" in capsys.readouterr().out


_ = SH
