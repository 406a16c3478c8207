"""The appeals pages through HTTP, the way people use them: each page, each action, who may open
what, the idempotent form and the conflict message."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from linli.core.notifications.models import Notification
from linli.domains.appeals import services as svc
from linli.domains.appeals.choices import AppealStatus as S
from linli.domains.appeals.models import Appeal, Attachment

from .conftest import jpeg_with_exif, png_bytes
from .helpers import bring_to, submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _manual_dispatch(settings):
    settings.LINLI_APPEALS_AUTO_DISPATCH = False


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def case_url(a, action=None):
    if action:
        return reverse("appeals:case_act", args=[a.pk, action])
    return reverse("appeals:case", args=[a.pk])


def refreshed(a) -> Appeal:
    return Appeal.objects.get(pk=a.pk)


# --- resident: the form -----------------------------------------------------------------------------


def _submit_data(w, **extra):
    lng, lat = w.point(0)
    data = {
        "category": w.rubbish.pk,
        "title": "楼下垃圾没人清",
        "body": "垃圾桶满了三天",
        "lng": lng,
        "lat": lat,
        "address": "",
        "anonymous_to_public": "on",
        "idempotency_key": "k-123",
    }
    data.update(extra)
    return data


def test_submit_form_renders_with_a_fresh_key_and_the_map(world):
    c = client_for(world.resident)
    r1 = c.get(reverse("appeals:submit"))
    r2 = c.get(reverse("appeals:submit"))
    assert r1.status_code == 200
    key1 = r1.context["form"].initial["idempotency_key"]
    assert key1 and key1 != r2.context["form"].initial["idempotency_key"]
    html = r1.content.decode()
    assert 'id="appeal-map"' in html and "暴露垃圾" in html and "<optgroup" in html
    assert "style=" not in html and "<script>" not in html  # strict CSP


def test_submit_creates_one_case_even_when_sent_twice(world):
    c = client_for(world.resident)
    data = _submit_data(world)
    first = c.post(reverse("appeals:submit"), data)
    appeal = Appeal.objects.get()
    assert first.status_code == 302 and first.url == reverse("appeals:mine_detail", args=[appeal.pk])
    assert appeal.resident == world.resident and appeal.grid == world.d.grids[0]
    second = c.post(reverse("appeals:submit"), data, follow=True)
    assert Appeal.objects.count() == 1
    assert second.redirect_chain[-1][0] == reverse("appeals:mine_detail", args=[appeal.pk])
    assert any("已经提交过" in m for m in messages_of(second))


def test_submit_with_photos_and_extra_question(world):
    c = client_for(world.resident)
    data = _submit_data(world, category=world.complaint.pk, q_floor="3", idempotency_key="k-photos")
    from django.core.files.uploadedfile import SimpleUploadedFile

    data["photos"] = [
        SimpleUploadedFile("a.jpg", jpeg_with_exif(), "image/jpeg"),
        SimpleUploadedFile("b.png", png_bytes(), "image/png"),
    ]
    r = c.post(reverse("appeals:submit"), data)
    assert r.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.answers == {"floor": 3.0}
    assert appeal.attachments.count() == 2


def test_submit_refuses_a_missing_answer_and_a_fake_photo(world):
    c = client_for(world.resident)
    r = c.post(reverse("appeals:submit"), _submit_data(world, category=world.complaint.pk))
    assert r.status_code == 400 and "楼层" in r.content.decode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = _submit_data(world, idempotency_key="k2")
    data["photos"] = [SimpleUploadedFile("x.jpg", b"<html>not a photo</html>", "image/jpeg")]
    r = c.post(reverse("appeals:submit"), data)
    assert r.status_code == 400 and "JPEG" in r.content.decode()
    assert Appeal.objects.count() == 0


def test_submit_needs_a_place(world):
    c = client_for(world.resident)
    r = c.post(reverse("appeals:submit"), _submit_data(world, lng="", lat="", address=""))
    assert r.status_code == 400 and Appeal.objects.count() == 0


def test_staff_cannot_use_the_resident_form(world):
    assert client_for(world.dispatcher).get(reverse("appeals:submit")).status_code == 403


# --- resident: my cases ---------------------------------------------------------------------------


def test_my_appeals_list_and_detail_show_the_public_timeline_only(world):
    a = bring_to(world, S.DISPATCHED)
    svc.appeal_supervise(actor=world.dispatcher, appeal=a, note="内部督办意见")
    c = client_for(world.resident)
    r = c.get(reverse("appeals:mine"))
    assert r.status_code == 200 and a.title in r.content.decode()
    r = c.get(reverse("appeals:mine_detail", args=[a.pk]))
    html = r.content.decode()
    assert r.status_code == 200 and "已派遣" in html and "立案" in html
    assert "内部督办意见" not in html and "区综合执法局" not in html.split('class="case-timeline"')[1]


def test_a_resident_cannot_open_another_residents_case(world):
    a = submit(world)
    other = client_for(world.other_resident)
    assert other.get(reverse("appeals:mine_detail", args=[a.pk])).status_code == 404
    assert other.get(case_url(a)).status_code == 404
    assert other.post(reverse("appeals:mine_act", args=[a.pk, "withdraw"])).status_code == 404
    assert refreshed(a).status == S.SUBMITTED
    # nor the staff page of their own case
    assert client_for(world.resident).get(case_url(a)).status_code == 404


def test_resident_withdraws_before_handling(world):
    a = bring_to(world, S.REGISTERED)
    r = client_for(world.resident).post(
        reverse("appeals:mine_act", args=[a.pk, "withdraw"]),
        {"seen_status": "registered", "reason": "已解决"},
    )
    assert r.status_code == 302 and refreshed(a).status == S.WITHDRAWN


def test_withdraw_is_refused_once_the_unit_works_on_it(world):
    a = bring_to(world, S.IN_PROGRESS)
    r = client_for(world.resident).post(
        reverse("appeals:mine_act", args=[a.pk, "withdraw"]), {"seen_status": "in_progress"}, follow=True
    )
    assert refreshed(a).status == S.IN_PROGRESS
    assert any("不能执行" in m for m in messages_of(r))


def test_resident_rates_then_reopens_when_unsatisfied(world):
    a = bring_to(world, S.CLOSED)
    c = client_for(world.resident)
    page = c.get(reverse("appeals:mine_detail", args=[a.pk])).content.decode()
    assert 'id="rate"' in page and 'id="reopen"' not in page
    c.post(
        reverse("appeals:mine_act", args=[a.pk, "rate"]),
        {"seen_status": "closed", "value": "unsatisfied", "comment": "还有垃圾"},
    )
    assert a.ratings.get().value == "unsatisfied"
    page = c.get(reverse("appeals:mine_detail", args=[a.pk])).content.decode()
    assert 'id="reopen"' in page and 'id="rate"' not in page
    c.post(
        reverse("appeals:mine_act", args=[a.pk, "reopen"]), {"seen_status": "closed", "reason": "没清干净"}
    )
    assert refreshed(a).status == S.REOPENED and refreshed(a).round == 2


# --- dispatcher --------------------------------------------------------------------------------------


def test_queue_filters_and_counts(world):
    a = submit(world)
    b = bring_to(world, S.DISPATCHED, grid_index=len(world.d.grids) - 1)
    c = client_for(world.dispatcher)
    r = c.get(reverse("appeals:queue"))
    html = r.content.decode()
    assert r.status_code == 200 and a.reference in html and b.reference in html
    counts = {value: n for value, _label, n in r.context["counts"]}
    assert counts["submitted"] == 1 and counts["dispatched"] == 1
    r = c.get(reverse("appeals:queue"), {"status": "dispatched"})
    assert b.reference in r.content.decode() and a.reference not in r.content.decode()
    r = c.get(reverse("appeals:queue"), {"q": a.reference})
    assert list(r.context["page"]) == [a]
    r = c.get(reverse("appeals:queue"), {"channel": "hotline"})
    assert list(r.context["page"]) == []


def test_queue_is_for_dispatchers_only(world):
    assert client_for(world.handler).get(reverse("appeals:queue")).status_code == 403
    assert client_for(world.resident).get(reverse("appeals:queue")).status_code == 403


def test_queue_of_a_street_dispatcher_holds_their_street_only(world):
    a = submit(world)  # grid 0 lies in street 0
    r = client_for(world.street2_dispatcher).get(reverse("appeals:queue"))
    assert a.reference not in r.content.decode()
    assert client_for(world.street2_dispatcher).get(case_url(a)).status_code == 404


def test_dispatcher_registers_and_dispatches_with_the_suggested_route(world):
    a = submit(world)
    c = client_for(world.dispatcher)
    page = c.get(case_url(a))
    assert page.status_code == 200 and "按派遣规则建议" in page.content.decode()
    assert page.context["suggestions"][0]["lead"] == world.city_mgmt
    r = c.post(
        case_url(a, "register"),
        {"seen_status": "submitted", "category": world.rubbish.pk, "priority": "normal"},
    )
    assert r.status_code == 302 and refreshed(a).status == S.REGISTERED
    c.post(
        case_url(a, "dispatch"),
        {"seen_status": "registered", "lead_unit": world.city_mgmt.pk, "assisting_units": [world.housing.pk]},
    )
    a = refreshed(a)
    assert a.status == S.DISPATCHED and a.lead_unit == world.city_mgmt
    assert set(a.assisting_units.all()) == {world.housing}


def test_two_dispatchers_at_once_the_second_is_told(world):
    a = submit(world)
    c = client_for(world.dispatcher)
    data = {"seen_status": "submitted", "category": world.rubbish.pk, "priority": "normal"}
    c.post(case_url(a, "register"), data)
    r = c.post(case_url(a, "reject"), {"seen_status": "submitted", "reason": "重复"}, follow=True)
    assert r.status_code == 200
    assert refreshed(a).status == S.REGISTERED
    assert any("已被他人处理" in m for m in messages_of(r))
    assert "已被他人处理" in r.content.decode()


def test_reject_needs_a_reason_then_rejects(world):
    a = submit(world)
    c = client_for(world.dispatcher)
    r = c.post(case_url(a, "reject"), {"seen_status": "submitted", "reason": ""}, follow=True)
    assert refreshed(a).status == S.SUBMITTED and messages_of(r)
    c.post(case_url(a, "reject"), {"seen_status": "submitted", "reason": "不属于受理范围"})
    assert refreshed(a).status == S.REJECTED


def test_merge_into_a_similar_case_nearby(world):
    master = submit(world)
    dup = submit(world)
    c = client_for(world.dispatcher)
    page = c.get(case_url(dup))
    assert master in page.context["similar"]
    c.post(case_url(dup, "merge"), {"seen_status": "submitted", "master": master.reference})
    dup = refreshed(dup)
    assert dup.status == S.MERGED and dup.merged_into == master
    r = c.post(case_url(master, "merge"), {"seen_status": "submitted", "master": "JN-NOPE"}, follow=True)
    assert refreshed(master).status == S.SUBMITTED and any("没有找到" in m for m in messages_of(r))


def test_supervise_verify_and_close(world):
    a = bring_to(world, S.IN_PROGRESS)
    c = client_for(world.dispatcher)
    c.post(case_url(a, "supervise"), {"seen_status": "in_progress", "level": "supervision", "note": "加快"})
    assert a.supervisions.get().level == "supervision"
    svc.appeal_handle(actor=world.handler, appeal=refreshed(a), result="已清运")
    r = c.post(case_url(a, "verify"), {"seen_status": "handled", "passed": "0", "note": "还有垃圾"})
    assert r.status_code == 302 and refreshed(a).status == S.REOPENED
    c.post(case_url(a, "close"), {"seen_status": "reopened", "note": "经核实已清理"})
    assert refreshed(a).status == S.CLOSED


def test_verify_pass_closes_and_publishes(world):
    a = bring_to(world, S.HANDLED)
    client_for(world.dispatcher).post(case_url(a, "verify"), {"seen_status": "handled", "passed": "1"})
    a = refreshed(a)
    assert a.status == S.CLOSED and a.published


def test_redact_the_published_text(world):
    a = bring_to(world, S.CLOSED)
    client_for(world.dispatcher).post(
        case_url(a, "redact"),
        {
            "seen_status": "closed",
            "public_title": "某小区垃圾",
            "public_body": "已隐去",
            "public_result": "已清运",
        },
    )
    a = refreshed(a)
    assert a.public_title == "某小区垃圾" and not a.published


def test_callback_rating_for_a_phone_resident(world):
    lng, lat = world.point(0)
    a = svc.appeal_submit(
        actor=world.dispatcher,
        title="路灯不亮",
        body="晚上很黑",
        category=world.rubbish,
        channel="hotline",
        contact_name="李四",
        contact_phone="13900002222",
        lng=lng,
        lat=lat,
        auto_dispatch=False,
    )
    a = svc.appeal_register(actor=world.dispatcher, appeal=a)
    a = svc.appeal_dispatch(actor=world.dispatcher, appeal=a, lead_unit=world.city_mgmt)
    a = svc.appeal_sign(actor=world.handler, appeal=a)
    a = svc.appeal_handle(actor=world.handler, appeal=a, result="已修复")
    a = svc.appeal_verify(actor=world.dispatcher, appeal=a, passed=True)
    c = client_for(world.dispatcher)
    assert c.get(case_url(a)).context["can_callback"]
    c.post(
        case_url(a, "callback"),
        {"seen_status": "closed", "value": "basically_satisfied", "comment": "电话回访"},
    )
    rating = a.ratings.get()
    assert (rating.value, rating.source) == ("basically_satisfied", "callback")
    # a resident with an account rates for themselves: no call-back form on their case
    own = bring_to(world, S.CLOSED)
    assert not c.get(case_url(own)).context["can_callback"]


def test_extension_requested_by_the_unit_and_approved_by_the_dispatcher(world):
    a = bring_to(world, S.IN_PROGRESS)
    due = a.handling_due
    client_for(world.handler).post(
        case_url(a, "extend"), {"seen_status": "in_progress", "days": 2, "reason": "需采购"}
    )
    req = a.extension_requests.get()
    c = client_for(world.dispatcher)
    assert c.get(case_url(a)).context["pending"] == req
    c.post(
        case_url(a, "extension_decide"), {"seen_status": "in_progress", "request_id": req.pk, "approve": "1"}
    )
    a = refreshed(a)
    assert a.handling_due > due and a.extended_days == 2


# --- handling unit ------------------------------------------------------------------------------------


def test_handler_inbox_sign_and_handle_with_photos(world):
    a = bring_to(world, S.DISPATCHED)
    c = client_for(world.handler)
    r = c.get(reverse("appeals:inbox"))
    assert r.status_code == 200 and a.reference in r.content.decode() and "待签收" in r.content.decode()
    assert c.get(case_url(a)).context["can_sign"]
    c.post(case_url(a, "sign"), {"seen_status": "dispatched"})
    assert refreshed(a).status == S.IN_PROGRESS
    from django.core.files.uploadedfile import SimpleUploadedFile

    c.post(
        case_url(a, "handle"),
        {
            "seen_status": "in_progress",
            "result": "已清运完毕",
            "photos": [SimpleUploadedFile("r.png", png_bytes())],
        },
    )
    a = refreshed(a)
    assert a.status == S.HANDLED and a.result == "已清运完毕"
    assert a.attachments.filter(kind="result").count() == 1


def test_handler_returns_a_case_that_is_not_theirs(world):
    a = bring_to(world, S.DISPATCHED)
    r = client_for(world.handler).post(
        case_url(a, "return"), {"seen_status": "dispatched", "reason": "属住建局职责"}
    )
    assert r.url == reverse("appeals:inbox")
    assert refreshed(a).status == S.RETURNED


def test_a_department_cannot_act_on_a_case_not_assigned_to_it(world):
    a = svc.appeal_dispatch(
        actor=world.dispatcher,
        appeal=svc.appeal_register(actor=world.dispatcher, appeal=submit(world)),
        lead_unit=world.city_mgmt,
    )
    other = client_for(world.other_handler)  # 区住建局, not assigned
    assert other.get(case_url(a)).status_code == 404
    assert other.post(case_url(a, "sign"), {"seen_status": "dispatched"}).status_code == 404
    assert refreshed(a).status == S.DISPATCHED
    assert a.reference not in other.get(reverse("appeals:inbox")).content.decode()


def test_an_assisting_unit_signs_its_part_but_cannot_handle(world):
    a = bring_to(world, S.IN_PROGRESS)  # 区住建局 assists
    c = client_for(world.other_handler)
    page = c.get(case_url(a))
    assert page.status_code == 200 and page.context["can_sign"] and not page.context["can_handle"]
    c.post(case_url(a, "sign"), {"seen_status": "in_progress"})
    assert a.assignments.get(unit=world.housing).signed_at is not None
    r = c.post(case_url(a, "handle"), {"seen_status": "in_progress", "result": "我来办"})
    assert r.status_code == 403 and refreshed(a).status == S.IN_PROGRESS


def test_inbox_is_for_handling_units(world):
    assert client_for(world.resident).get(reverse("appeals:inbox")).status_code == 403


# --- staff intake and patrol ---------------------------------------------------------------------------


def test_staff_intake_for_a_hotline_call(world):
    lng, lat = world.point(0)
    c = client_for(world.dispatcher)
    assert c.get(reverse("appeals:intake")).status_code == 200
    data = {
        "channel": "hotline",
        "contact_name": "赵大爷",
        "contact_phone": "13900003333",
        "category": world.rubbish.pk,
        "priority": "urgent",
        "title": "电话反映垃圾",
        "body": "小区门口垃圾",
        "lng": lng,
        "lat": lat,
        "idempotency_key": "hot-1",
    }
    r = c.post(reverse("appeals:intake"), data)
    a = Appeal.objects.get()
    assert r.url == case_url(a)
    assert (a.channel, a.contact_name, a.priority, a.resident) == ("hotline", "赵大爷", "urgent", None)
    c.post(reverse("appeals:intake"), data)
    assert Appeal.objects.count() == 1
    r = c.post(
        reverse("appeals:intake"), {**data, "contact_name": "", "contact_phone": "", "idempotency_key": "h2"}
    )
    assert r.status_code == 400 and Appeal.objects.count() == 1


def test_intake_is_for_staff(world):
    assert client_for(world.resident).get(reverse("appeals:intake")).status_code == 403


def test_grid_worker_handles_on_the_spot(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    lng, lat = world.point(0)
    c = client_for(world.grid_worker)
    assert c.get(reverse("appeals:patrol")).status_code == 200
    data = {
        "category": world.rubbish.pk,
        "title": "路边暴露垃圾",
        "body": "巡查发现",
        "lng": lng,
        "lat": lat,
        "handled_on_spot": "on",
        "result": "已现场清理",
        "idempotency_key": "p-1",
        "photos": [SimpleUploadedFile("before.png", png_bytes())],
        "after_photos": [SimpleUploadedFile("after.png", png_bytes("after"))],
    }
    r = c.post(reverse("appeals:patrol"), data)
    a = Appeal.objects.get()
    assert r.url == case_url(a)
    assert a.status == S.CLOSED and a.channel == "patrol"
    assert sorted(a.attachments.values_list("kind", flat=True)) == ["after", "before"]


def test_on_the_spot_needs_photos(world):
    lng, lat = world.point(0)
    data = {
        "category": world.rubbish.pk,
        "title": "x",
        "body": "y",
        "lng": lng,
        "lat": lat,
        "handled_on_spot": "on",
        "result": "done",
        "idempotency_key": "p-2",
    }
    r = client_for(world.grid_worker).post(reverse("appeals:patrol"), data)
    assert r.status_code == 400 and "照片" in r.content.decode()
    assert not Appeal.objects.exists()


def test_patrol_is_for_grid_workers(world):
    assert client_for(world.handler).get(reverse("appeals:patrol")).status_code == 403


# --- public ------------------------------------------------------------------------------------------


def test_public_page_without_sign_in_hides_personal_details_and_private_cases(world):
    shown = bring_to(world, S.CLOSED)
    Appeal.objects.filter(pk=shown.pk).update(public_body="王** 反映门口垃圾")
    hidden = bring_to(world, S.CLOSED, is_private=True)
    r = Client().get(reverse("appeals:public"))
    html = r.content.decode()
    assert r.status_code == 200
    assert shown.reference in html and hidden.reference not in html
    for secret in ("王小明", "13800001111"):
        assert secret not in html
    for word in ("响应率", "解决率", "满意率", "指标口径"):
        assert word in html
    assert "<progress" in html
    detail = Client().get(reverse("appeals:public_detail", args=[shown.reference]))
    assert detail.status_code == 200 and "王小明" not in detail.content.decode()
    assert Client().get(reverse("appeals:public_detail", args=[hidden.reference])).status_code == 404


def test_public_rates_by_each_grouping(world):
    bring_to(world, S.CLOSED)
    for by in ("street", "community", "department", "domain", "month"):
        r = Client().get(reverse("appeals:public"), {"by": by})
        assert r.status_code == 200 and r.context["rates"], by
    r = Client().get(reverse("appeals:public"), {"by": "department"})
    assert r.context["rates"][0]["label"] == "区综合执法局"
    assert r.context["rates"][0]["resolution_rate"] == 1.0


def test_public_search_by_area_and_period(world):
    a = bring_to(world, S.CLOSED)
    street = world.d.streets[0]
    r = Client().get(reverse("appeals:public"), {"area": street.pk})
    assert a.reference in r.content.decode()
    r = Client().get(reverse("appeals:public"), {"area": world.d.streets[1].pk})
    assert a.reference not in r.content.decode()
    r = Client().get(reverse("appeals:public"), {"until": "2000-01-01"})
    assert a.reference not in r.content.decode()


# --- photos and notices --------------------------------------------------------------------------------


def test_photos_go_to_those_who_may_see_them_without_exif_for_the_resident(world):
    a = submit(world, photos=[jpeg_with_exif("GPS-SECRET")])
    att = Attachment.objects.get(appeal=a)
    url = reverse("appeals:photo", args=[att.pk])
    mine = b"".join(client_for(world.resident).get(url).streaming_content)
    assert mine[:3] == b"\xff\xd8\xff" and b"GPS-SECRET" not in mine
    staff = b"".join(client_for(world.dispatcher).get(url).streaming_content)
    assert b"GPS-SECRET" in staff
    assert client_for(world.other_resident).get(url).status_code == 404
    assert Client().get(reverse("appeals:public_photo", args=[att.pk])).status_code == 404


def test_notices_land_in_the_shared_inbox_with_a_link_to_the_case(world, on_commit):
    a = bring_to(world, S.REGISTERED)
    n = Notification.objects.get(recipient=world.resident)
    assert n.kind == "appeal" and n.url == reverse("appeals:mine_detail", args=[a.pk])
    assert n.dedupe_key.startswith("appeal-event:")
    staff_notice = Notification.objects.filter(recipient=world.dispatcher).first()
    assert staff_notice.url == case_url(a)
    page = client_for(world.resident).get("/inbox/")
    assert a.reference in page.content.decode()


def test_landing_sends_each_person_to_their_workspace(world):
    assert client_for(world.resident).get(reverse("appeals:list")).url == reverse("appeals:mine")
    assert client_for(world.dispatcher).get(reverse("appeals:list")).url == reverse("appeals:queue")
    assert client_for(world.handler).get(reverse("appeals:list")).url == reverse("appeals:inbox")
