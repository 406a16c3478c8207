"""After intake: residents' supplements (补充材料), assisting units' results (协办结果), and residents
who follow a case someone else reported (the "already reported — follow it instead?" offer)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from linli.core.notifications.models import Notification
from linli.domains.appeals import services as svc
from linli.domains.appeals.choices import Action, AttachmentKind
from linli.domains.appeals.choices import AppealStatus as S
from linli.domains.appeals.models import Appeal, AppealFollow, Attachment

from .conftest import png_bytes
from .helpers import bring_to, submit

pytestmark = pytest.mark.django_db


def inbox(user):
    return list(Notification.objects.filter(recipient=user).order_by("id").values_list("title", "url"))


def upload(n, name="p.png"):
    return [SimpleUploadedFile(f"{i}{name}", png_bytes(f"p{i}"), content_type="image/png") for i in range(n)]


# --- 补充材料 ---------------------------------------------------------------------------------------


def test_the_resident_adds_a_note_and_photos_that_the_handler_sees(world, on_commit):
    a = bring_to(world, S.IN_PROGRESS)
    event = svc.appeal_supplement(
        actor=world.resident, appeal=a, note="晚上又堆了一车", photos=[png_bytes("a"), png_bytes("b")]
    )
    assert event.action == Action.SUPPLEMENT and event.public and event.note == "晚上又堆了一车"
    assert event.unit == world.city_mgmt and event.to_status == S.IN_PROGRESS  # status unchanged
    assert sorted(event.attachments.values_list("kind", flat=True)) == [AttachmentKind.REPORT] * 2
    assert any("补充材料" in t for t, _ in inbox(world.handler))  # the lead unit is told
    assert any("补充材料" in t for t, _ in inbox(world.other_handler))  # and the assisting one
    # shown on the staff case page and on the resident's own timeline, with the photos
    from django.test import Client

    staff = Client()
    staff.force_login(world.handler)
    page = staff.get(reverse("appeals:case", args=[a.pk])).content.decode()
    assert "晚上又堆了一车" in page
    for att in event.attachments.all():
        assert reverse("appeals:photo", args=[att.pk]) in page
    mine = Client()
    mine.force_login(world.resident)
    page = mine.get(reverse("appeals:mine_detail", args=[a.pk])).content.decode()
    assert "晚上又堆了一车" in page and 'id="supplement"' in page


def test_before_dispatch_the_supplement_reaches_the_dispatchers(world, on_commit):
    a = submit(world)
    Notification.objects.all().delete()
    svc.appeal_supplement(actor=world.resident, appeal=a, note="补充：在东门")
    assert any("补充材料" in t for t, _ in inbox(world.dispatcher))


def test_nine_photos_in_all_counting_those_sent_at_intake(world):
    a = submit(world, photos=[png_bytes(str(i)) for i in range(7)])
    with pytest.raises(svc.AppealError) as exc:
        svc.appeal_supplement(actor=world.resident, appeal=a, photos=[png_bytes(str(i)) for i in range(3)])
    assert exc.value.code == "too_many_photos" and "已有 7 张" in exc.value.messages[0]
    assert not a.events.filter(action=Action.SUPPLEMENT).exists()  # nothing half-written
    svc.appeal_supplement(actor=world.resident, appeal=a, photos=[png_bytes("7"), png_bytes("8")])
    assert a.attachments.filter(kind=AttachmentKind.REPORT).count() == 9
    with pytest.raises(svc.AppealError):
        svc.appeal_supplement(actor=world.resident, appeal=a, photos=[png_bytes("9")])
    svc.appeal_supplement(actor=world.resident, appeal=a, note="文字仍可补充")  # a note still works


def test_photos_are_checked_by_content_and_a_bad_one_leaves_nothing(world):
    a = submit(world)
    with pytest.raises(svc.AppealError) as exc:
        svc.appeal_supplement(
            actor=world.resident, appeal=a, note="x", photos=[png_bytes("ok"), b"GIF89a not really"]
        )
    assert exc.value.code == "photo_rejected"


@pytest.mark.parametrize("status", [S.CLOSED, S.WITHDRAWN, S.REJECTED, S.MERGED])
def test_no_supplement_once_the_case_is_over(world, status):
    a = bring_to(world, status)
    with pytest.raises(svc.TransitionNotAllowed):
        svc.appeal_supplement(actor=world.resident, appeal=a, note="还有")


def test_only_the_resident_and_not_empty(world):
    a = submit(world)
    with pytest.raises(svc.ActorNotAllowed):
        svc.appeal_supplement(actor=world.other_resident, appeal=a, note="我也是")
    with pytest.raises(svc.ActorNotAllowed):
        svc.appeal_supplement(actor=world.dispatcher, appeal=a, note="代补")
    with pytest.raises(svc.AppealError) as exc:
        svc.appeal_supplement(actor=world.resident, appeal=a, note="  ")
    assert exc.value.code == "supplement_empty"


def test_the_supplement_form_on_the_residents_page(client, world):
    a = submit(world)
    client.force_login(world.resident)
    response = client.post(
        reverse("appeals:mine_act", args=[a.pk, "supplement"]),
        {"note": "补充说明", "seen_status": a.status, "photos": upload(1)},
    )
    assert response.status_code == 302
    event = a.events.get(action=Action.SUPPLEMENT)
    assert event.note == "补充说明" and event.attachments.count() == 1
    a = svc.appeal_withdraw(actor=world.resident, appeal=a)
    page = client.get(reverse("appeals:mine_detail", args=[a.pk])).content.decode()
    assert 'id="supplement"' not in page
    response = client.post(
        reverse("appeals:mine_act", args=[a.pk, "supplement"]),
        {"note": "再补充", "seen_status": a.status},
        follow=True,
    )
    assert "不能执行此操作" in response.content.decode()
    assert a.events.filter(action=Action.SUPPLEMENT).count() == 1


# --- 协办结果 ---------------------------------------------------------------------------------------


def test_an_assisting_unit_reports_its_part_and_the_lead_unit_sees_it(world, on_commit):
    a = bring_to(world, S.IN_PROGRESS)  # city_mgmt leads, housing assists
    assignment = svc.appeal_assist_report(
        actor=world.other_handler, appeal=a, result="已协调物业清理楼道", photos=[png_bytes("h")]
    )
    assert assignment.unit == world.housing and assignment.result == "已协调物业清理楼道"
    assert assignment.signed_at is not None and assignment.handled_at is not None
    event = a.events.get(action=Action.ASSIST_REPORT)
    assert event.unit == world.housing and event.data["cycle"] == 0 and event.attachments.count() == 1
    # the assisting unit's photos are evidence for the lead unit, never published as the result
    assert list(event.attachments.values_list("kind", flat=True)) == ["evidence"]
    a.refresh_from_db()
    assert a.status == S.IN_PROGRESS  # the lead unit still handles
    assert any("协办结果" in t for t, _ in inbox(world.handler))
    with pytest.raises(svc.AppealConflict):  # once per handling cycle
        svc.appeal_assist_report(actor=world.other_handler, appeal=a, result="再报一次")


def test_only_staff_of_an_assisting_unit_report_a_part(world):
    a = bring_to(world, S.IN_PROGRESS)
    for someone in (world.handler, world.dispatcher, world.resident, world.street_staff):
        with pytest.raises(svc.ActorNotAllowed):
            svc.appeal_assist_report(actor=someone, appeal=a, result="x")
    with pytest.raises(svc.AppealError):
        svc.appeal_assist_report(actor=world.other_handler, appeal=a, result=" ")


def test_no_assisting_report_outside_handling_but_again_after_a_failed_verification(world):
    a = bring_to(world, S.IN_PROGRESS)
    svc.appeal_assist_report(actor=world.other_handler, appeal=a, result="第一次的协办")
    a = svc.appeal_handle(actor=world.handler, appeal=a, result="已清运")
    with pytest.raises(svc.TransitionNotAllowed):
        svc.appeal_assist_report(actor=world.other_handler, appeal=a, result="晚了")
    a = svc.appeal_verify(actor=world.dispatcher, appeal=a, passed=False, note="仍未解决")
    assert a.status == S.REOPENED and svc.assist_cycle(a) == 1
    svc.appeal_assist_report(actor=world.other_handler, appeal=a, result="第二次的协办")
    with pytest.raises(svc.AppealConflict):
        svc.appeal_assist_report(actor=world.other_handler, appeal=a, result="又一次")
    assert [e.data["cycle"] for e in a.events.filter(action=Action.ASSIST_REPORT).order_by("id")] == [0, 1]


def test_the_case_page_lists_assisting_results_and_who_has_not_reported(client, world):
    a = bring_to(world, S.IN_PROGRESS)
    client.force_login(world.dispatcher)
    page = client.get(reverse("appeals:case", args=[a.pk])).content.decode()
    assert 'id="assist-results"' in page and "1 家未报送" in page and "未报送" in page
    client.force_login(world.handler)
    page = client.get(reverse("appeals:case", args=[a.pk])).content.decode()
    assert 'id="assist-missing-note"' in page and world.housing.name in page
    client.force_login(world.other_handler)
    page = client.get(reverse("appeals:case", args=[a.pk])).content.decode()
    assert 'id="assist-form"' in page
    response = client.post(
        reverse("appeals:case_act", args=[a.pk, "assist_report"]),
        {"result": "已派人到场配合", "seen_status": a.status, "photos": upload(1)},
    )
    assert response.status_code == 302
    page = client.get(reverse("appeals:case", args=[a.pk])).content.decode()
    assert 'id="assist-form"' not in page and "已派人到场配合" in page
    client.force_login(world.handler)
    page = client.get(reverse("appeals:case", args=[a.pk])).content.decode()
    assert "已派人到场配合" in page and 'id="assist-missing-note"' not in page and "已报送" in page


# --- following a case ------------------------------------------------------------------------------


def test_following_is_one_row_per_resident_and_case(world):
    a = submit(world)
    follow, created = svc.appeal_follow(actor=world.other_resident, appeal=a)
    assert created and follow.appeal == a
    again, created = svc.appeal_follow(actor=world.other_resident, appeal=a)
    assert not created and again.pk == follow.pk
    assert AppealFollow.objects.filter(appeal=a).count() == 1


def test_what_cannot_be_followed(world):
    own = submit(world)
    with pytest.raises(svc.AppealError):
        svc.appeal_follow(actor=world.resident, appeal=own)
    with pytest.raises(svc.ActorNotAllowed):
        svc.appeal_follow(actor=world.dispatcher, appeal=own)
    private = submit(world, is_private=True)
    with pytest.raises(svc.ActorNotAllowed):
        svc.appeal_follow(actor=world.other_resident, appeal=private)
    closed = bring_to(world, S.CLOSED)
    with pytest.raises(svc.TransitionNotAllowed):
        svc.appeal_follow(actor=world.other_resident, appeal=closed)
    assert not AppealFollow.objects.exists()


def test_a_merged_case_is_followed_through_its_master(world):
    merged = bring_to(world, S.MERGED)
    follow, _ = svc.appeal_follow(actor=world.other_resident, appeal=merged)
    assert follow.appeal == merged.merged_into


def test_followers_hear_of_status_changes_and_closing_without_the_text(world, on_commit):
    a = submit(world)
    svc.appeal_follow(actor=world.other_resident, appeal=a)
    a = svc.appeal_register(actor=world.dispatcher, appeal=a)
    a = svc.appeal_dispatch(actor=world.dispatcher, appeal=a, lead_unit=world.city_mgmt)
    svc.appeal_supervise(actor=world.dispatcher, appeal=a, note="快办")  # internal: not for followers
    a = svc.appeal_sign(actor=world.handler, appeal=a)
    a = svc.appeal_handle(actor=world.handler, appeal=a, result="已清运")
    a = svc.appeal_verify(actor=world.dispatcher, appeal=a, passed=True)
    notices = inbox(world.other_resident)
    titles = [t for t, _ in notices]
    assert len(titles) == 5, titles  # registered, dispatched, signed, handled, verified (closed)
    assert all(t.startswith("您关注的诉求 " + a.reference) for t in titles)
    assert "已办结" in titles[-1]
    assert all(a.title not in t for t in titles)  # the other resident's text stays private
    assert {u for _, u in notices} == {reverse("appeals:following")}


def test_follow_from_the_form_and_the_followed_list(client, world):
    a = submit(world)
    client.force_login(world.other_resident)
    response = client.post(
        reverse("appeals:follow"), {"reference": a.reference}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 200 and response.json()["ok"] and response.json()["created"]
    response = client.post(
        reverse("appeals:follow"), {"reference": a.reference}, HTTP_ACCEPT="application/json"
    )
    assert response.json()["created"] is False
    bad = client.post(reverse("appeals:follow"), {"reference": "JN-NOPE"}, HTTP_ACCEPT="application/json")
    assert bad.status_code == 400 and "no appeal" in bad.json()["error"]
    page = client.get(reverse("appeals:following")).content.decode()
    assert a.reference in page and "王小明" not in page and "13800001111" not in page
    client.force_login(world.dispatcher)
    page = client.get(reverse("appeals:case", args=[a.pk])).content.decode()
    assert "1 位居民关注此件" in page
    client.force_login(world.dispatcher)
    assert client.post(reverse("appeals:follow"), {"reference": a.reference}).status_code == 403


def test_the_duplicate_offer_posts_to_the_follow_endpoint(client, world):
    client.force_login(world.resident)
    page = client.get(reverse("appeals:submit")).content.decode()
    assert f'data-follow-url="{reverse("appeals:follow")}"' in page


def test_the_dispatch_queue_shows_which_cases_wait_for_an_assisting_unit(client, world):
    waiting = bring_to(world, S.IN_PROGRESS)  # housing assists
    alone = bring_to(world, S.SUBMITTED)
    client.force_login(world.dispatcher)
    page = client.get(reverse("appeals:queue")).content.decode()
    row = page.split(waiting.reference, 1)[1].split("</tr>", 1)[0]
    assert "协办未报 1" in row
    assert "协办未报" not in page.split(alone.reference, 1)[1].split("</tr>", 1)[0]
    svc.appeal_assist_report(actor=world.other_handler, appeal=waiting, result="已配合")
    page = client.get(reverse("appeals:queue")).content.decode()
    assert "协办未报" not in page
    # a new round after a failed verification waits for the assisting unit again
    waiting = svc.appeal_handle(actor=world.handler, appeal=waiting, result="已清运")
    svc.appeal_verify(actor=world.dispatcher, appeal=waiting, passed=False, note="仍有垃圾")
    page = client.get(reverse("appeals:queue")).content.decode()
    assert "协办未报 1" in page  # back to the units: the assisting unit reports again


# --- two people at once ------------------------------------------------------------------------------


def test_a_supplement_on_a_stale_page_after_the_case_was_rejected_conflicts(world):
    a = submit(world)
    stale = Appeal.objects.get(pk=a.pk)
    svc.appeal_reject(actor=world.dispatcher, appeal=a, reason="不属于受理范围")
    with pytest.raises(svc.AppealConflict):
        svc.appeal_supplement(actor=world.resident, appeal=stale, note="还有一张照片", photos=[png_bytes()])
    assert not Attachment.objects.filter(appeal=a).exists()


def _second_housing_member(world):
    from linli.core.orgs.choices import Role

    from .conftest import grant, make_user

    return grant(make_user(), world.housing, Role.DEPARTMENT_STAFF, world.d.district)


def test_two_members_of_the_assisting_unit_report_at_once_one_wins(world):
    a = bring_to(world, S.IN_PROGRESS)
    colleague = _second_housing_member(world)
    first, second = Appeal.objects.get(pk=a.pk), Appeal.objects.get(pk=a.pk)
    svc.appeal_assist_report(actor=world.other_handler, appeal=first, result="甲的结果")
    with pytest.raises(svc.AppealConflict):
        svc.appeal_assist_report(actor=colleague, appeal=second, result="乙的结果")
    assert list(a.events.filter(action=Action.ASSIST_REPORT).values_list("note", flat=True)) == ["甲的结果"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_assisting_reports_threads(world):
    """Real concurrency needs row locks (PostgreSQL); SQLite serialises whole transactions."""
    import threading

    from django.db import connection, connections

    from conftest import require_service

    require_service(connection.vendor == "postgresql", "PostgreSQL needed for row-lock races")
    a = bring_to(world, S.IN_PROGRESS)
    people = [world.other_handler, _second_housing_member(world)]
    barrier = threading.Barrier(2)
    outcomes = []

    def act(person):
        stale = Appeal.objects.get(pk=a.pk)
        barrier.wait()
        try:
            svc.appeal_assist_report(actor=person, appeal=stale, result=f"{person.pk}")
            outcomes.append("won")
        except svc.AppealConflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=act, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "won"]
    assert a.events.filter(action=Action.ASSIST_REPORT).count() == 1
