"""The appeals loop in a real browser, across four accounts: a resident reports a problem on her
phone, a dispatcher registers and dispatches it, the department's handler signs for it and handles
it on his phone, the dispatcher verifies and closes it, the resident rates the result. Then a grid
worker reports a small problem on patrol and closes it on the spot with before and after photos.
Every step is checked on screen, with screenshots."""

from __future__ import annotations

import pytest
from django.test import Client
from playwright.sync_api import expect

from linli.domains.appeals.models import Appeal
from linli.domains.appeals.tests.conftest import png_bytes, world  # noqa: F401 - the fixture

from .conftest import STAFF_PASSWORD, screenshot, sign_in_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


@pytest.fixture
def people(world, settings):  # noqa: F811 - the imported fixture
    settings.LINLI_APPEALS_AUTO_DISPATCH = False  # the dispatcher decides in this story
    for user in (world.dispatcher, world.handler, world.grid_worker):
        user.set_password(STAFF_PASSWORD)
        user.save()
    return world


def sign_in_resident(page, live_server, user) -> None:
    """The SMS sign-in has its own test (test_flows); here the resident's session is simply handed over."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def photo(name: str, text: str = "") -> dict:
    return {"name": name, "mimeType": "image/png", "buffer": png_bytes(text)}


def choose_place(page, text: str) -> None:
    page.locator("#id_address").fill(text)
    suggestion = page.locator("#appeal-suggestions button").first
    expect(suggestion).to_be_visible()
    suggestion.click()
    expect(page.locator("#appeal-place-status")).to_contain_text("网格")


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_one_case_through_the_whole_loop(people, new_page, live_server):
    w = people
    compound = w.d.compounds[0]

    # 1. The resident reports the problem on her phone.
    resident = new_page(**PHONE)
    sign_in_resident(resident, live_server, w.resident)
    resident.goto("/appeals/submit/")
    expect(resident.locator("h1")).to_have_text("反映问题")
    resident.locator("#id_category").select_option(label="暴露垃圾")
    resident.locator("#id_title").fill("小区门口垃圾三天没人清")
    resident.locator("#id_body").fill("门口的垃圾桶满了，垃圾堆在地上，天热有异味。")
    choose_place(resident, compound.name)
    expect(resident.locator("#appeal-place-status")).to_contain_text(w.d.communities[0].name)
    resident.locator("#id_photos").set_input_files([photo("rubbish.png")])
    expect(resident.locator("#preview-photos img")).to_have_count(1)
    no_sideways_scroll(resident)
    screenshot(resident, "appeals-1-resident-form-phone")
    resident.get_by_role("button", name="提交").click()
    expect(resident.locator(".alert-success")).to_contain_text("已收到您的诉求")
    expect(resident.locator("#case-status")).to_have_text("待受理")
    appeal = Appeal.objects.get()
    assert appeal.grid == w.d.grids[0] and appeal.attachments.count() == 1
    screenshot(resident, "appeals-2-resident-submitted-phone")

    # 2. The dispatcher registers it and dispatches it to the suggested department.
    dispatcher = new_page()
    sign_in_staff(dispatcher, w.dispatcher.username)
    dispatcher.goto("/appeals/queue/")
    expect(dispatcher.locator("h1")).to_have_text("诉求调度")
    row = dispatcher.locator("tr", has_text=appeal.reference)
    expect(row).to_contain_text("待受理")
    screenshot(dispatcher, "appeals-3-dispatcher-queue")
    row.get_by_role("link", name=appeal.title).click()
    expect(dispatcher.locator(".suggestions").first).to_contain_text("区综合执法局")
    dispatcher.get_by_role("button", name="立案").click()
    expect(dispatcher.locator("#case-status")).to_have_text("已立案")
    expect(dispatcher.locator("#id_lead_unit")).to_have_value(str(w.city_mgmt.pk))
    screenshot(dispatcher, "appeals-4-dispatcher-case")
    dispatcher.locator("#dispatch-form").get_by_role("button", name="派遣").click()
    expect(dispatcher.locator(".alert-success")).to_contain_text("已派遣至 区综合执法局")
    expect(dispatcher.locator("#case-status")).to_have_text("已派遣")
    expect(dispatcher.locator(".case-badges .badge-green")).to_have_text("正常")

    # 3. The department's handler signs for it and handles it, on his phone.
    handler = new_page(**PHONE)
    sign_in_staff(handler, w.handler.username)
    handler.goto("/appeals/inbox/")
    card = handler.locator(".case-card", has_text=appeal.title)
    expect(card).to_contain_text("待签收")
    no_sideways_scroll(handler)
    screenshot(handler, "appeals-5-handler-inbox-phone")
    # his messages say it in the language of his page: Chinese here, English on a phone set to English
    bell = handler.locator(".messages-link")
    expect(bell.locator(".count-badge")).to_have_text("1")  # the dispatch, unread
    bell.click()
    expect(handler.locator("h1")).to_have_text("消息")
    expect(handler.locator(".notification-title").first).to_contain_text(f"诉求 {appeal.reference}")
    english = new_page(**PHONE)
    sign_in_staff(english, w.handler.username)
    english.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    english.goto("/inbox/")
    expect(english.locator("html")).to_have_attribute("lang", "en")
    notice = english.locator(".notification-title").first
    expect(notice).to_contain_text(f"Appeal {appeal.reference}")
    expect(notice).not_to_contain_text("当前状态")
    no_sideways_scroll(english)
    screenshot(english, "appeals-5b-handler-messages-english-phone")
    # the notice leads to the case and is read from then on
    handler.locator(".notification-title a").first.click()
    expect(handler.locator("#case-status")).to_have_text("已派遣")
    expect(handler.locator(".messages-link .count-badge")).to_have_count(0)
    handler.locator(".case-actions").get_by_role("button", name="签收").click()
    expect(handler.locator("#case-status")).to_have_text("处置中")
    handler.locator("#id_result").fill("已安排环卫人员清运，现场已清理干净。")
    handler.locator(".case-actions input[name=photos]").set_input_files([photo("done.png", "done")])
    no_sideways_scroll(handler)
    screenshot(handler, "appeals-6-handler-case-phone")
    # the page has checked the result (as the handler would see it) before it is sent; sent earlier,
    # the server shows its findings and asks again, by design
    expect(handler.locator("#handle-form input[name=quality_ack]")).to_have_value("1")
    handler.get_by_role("button", name="提交办理结果").click()
    expect(handler.locator("#case-status")).to_have_text("待核查")
    expect(handler.locator(".case-result")).to_contain_text("已安排环卫人员清运")

    # 4. The dispatcher verifies the result and closes the case.
    dispatcher.reload()
    expect(dispatcher.locator("#case-status")).to_have_text("待核查")
    dispatcher.get_by_label("通过，办结").check()
    dispatcher.get_by_role("button", name="提交核查结果").click()
    expect(dispatcher.locator("#case-status")).to_have_text("已办结")
    screenshot(dispatcher, "appeals-7-dispatcher-closed")

    # 5. The resident sees the whole public timeline and rates the result.
    resident.reload()
    expect(resident.locator("#case-status")).to_have_text("已办结")
    timeline = resident.locator(".timeline")
    for step in ("提交", "立案", "派遣", "签收", "办理", "核查"):
        expect(timeline).to_contain_text(step)
    expect(resident.locator(".case-result")).to_contain_text("现场已清理干净")
    resident.get_by_label("满意", exact=True).check()
    resident.locator("#id_comment").fill("处理很及时，谢谢！")
    resident.get_by_role("button", name="提交评价").click()
    expect(resident.locator(".alert-success")).to_contain_text("感谢您的评价")
    expect(resident.locator(".case-actions")).to_contain_text("满意")
    no_sideways_scroll(resident)
    screenshot(resident, "appeals-8-resident-rated-phone")
    assert appeal.ratings.get().value == "satisfied"

    # The published result, seen by anyone: no name, no phone.
    dispatcher.goto("/appeals/public/")
    expect(dispatcher.locator(".case-list")).to_contain_text("垃圾")
    expect(dispatcher.locator(".rates-table")).to_contain_text("100%")
    assert "王小明" not in dispatcher.content() and "13800001111" not in dispatcher.content()
    screenshot(dispatcher, "appeals-9-public-results")
    for page in (resident, dispatcher, handler):
        page.problems.assert_none()


def test_grid_worker_closes_a_small_case_on_the_spot(people, new_page):
    w = people
    page = new_page(**PHONE)
    sign_in_staff(page, w.grid_worker.username)
    page.goto("/appeals/patrol/")
    expect(page.locator("h1")).to_have_text("巡查上报")
    page.locator("#id_category").select_option(label="暴露垃圾")
    page.locator("#id_title").fill("路口有一袋暴露垃圾")
    page.locator("#id_body").fill("巡查时发现路口有一袋垃圾。")
    choose_place(page, w.d.compounds[0].name)
    page.locator("#id_photos").set_input_files([photo("before.png", "before")])
    expect(page.locator("#on-spot-fields")).to_be_hidden()
    page.get_by_label("已现场处置并办结").check()
    expect(page.locator("#on-spot-fields")).to_be_visible()
    page.locator("#id_result").fill("已现场清理并装袋清运。")
    page.locator("#id_after_photos").set_input_files([photo("after.png", "after")])
    expect(page.locator("#preview-after_photos img")).to_have_count(1)
    no_sideways_scroll(page)
    screenshot(page, "appeals-10-patrol-form-phone")
    page.get_by_role("button", name="上报").click()
    expect(page.locator(".alert-success")).to_contain_text("已现场处置并办结")
    expect(page.locator("#case-status")).to_have_text("已办结")
    expect(page.locator(".photo-grid img")).to_have_count(2)
    screenshot(page, "appeals-11-patrol-closed-phone")
    appeal = Appeal.objects.get()
    assert appeal.channel == "patrol" and appeal.status == "closed"
    page.problems.assert_none()


def test_two_dispatchers_at_once_the_second_is_told(people, new_page):
    w = people
    from linli.domains.appeals.tests.helpers import submit

    appeal = submit(w)
    first, second = new_page(), new_page()
    for page in (first, second):
        sign_in_staff(page, w.dispatcher.username)
        page.goto(f"/appeals/case/{appeal.pk}/")
    first.get_by_role("button", name="立案").click()
    expect(first.locator("#case-status")).to_have_text("已立案")
    second.locator("summary", has_text="不予受理").click()
    second.locator("#reject-reason").fill("重复反映")
    second.locator(".case-actions").get_by_role("button", name="不予受理").click()
    expect(second.locator(".alert-warning")).to_contain_text("已被他人处理")
    expect(second.locator("#case-status")).to_have_text("已立案")
    screenshot(second, "appeals-12-conflict")


def test_supplements_and_an_assisting_units_result_before_handling(people, new_page, live_server):
    """The resident adds a note and a photo to her open case on her phone; the assisting department
    reports its part with a photo; the dispatcher sees who has not reported, the lead unit's handler
    reads both before handling."""
    from linli.domains.appeals import services as svc

    w = people
    w.other_handler.set_password(STAFF_PASSWORD)
    w.other_handler.save()
    lng, lat = w.point()
    appeal = svc.appeal_submit(
        actor=w.resident,
        title="小区门口垃圾堆积",
        body="门口垃圾堆了三天",
        category=w.rubbish,
        lng=lng,
        lat=lat,
        photos=[png_bytes("intake")],
        auto_dispatch=False,
    )
    appeal = svc.appeal_register(actor=w.dispatcher, appeal=appeal)
    appeal = svc.appeal_dispatch(
        actor=w.dispatcher, appeal=appeal, lead_unit=w.city_mgmt, assisting_units=[w.housing]
    )

    # 1. The resident adds material on her phone.
    resident = new_page(**PHONE)
    sign_in_resident(resident, live_server, w.resident)
    resident.goto(f"/appeals/mine/{appeal.pk}/")
    box = resident.locator("#supplement")
    expect(box.locator("h2")).to_have_text("补充材料")
    expect(box).to_contain_text("最多 8 张")  # 9 in all, one sent at intake
    box.locator("textarea[name=note]").fill("晚上又有人往这里倒了建筑垃圾。")
    box.locator("input[name=photos]").set_input_files([photo("more.png", "more")])
    expect(box.locator(".photo-previews img")).to_have_count(1)
    no_sideways_scroll(resident)
    box.scroll_into_view_if_needed()
    screenshot(resident, "supplement-1-form-phone", full_page=False)
    box.get_by_role("button", name="提交补充材料").click()
    expect(resident.locator(".alert-success")).to_contain_text("补充材料已提交")
    item = resident.locator(".timeline-supplement")
    expect(item).to_contain_text("晚上又有人往这里倒了建筑垃圾。")
    expect(item.locator("img")).to_have_count(1)
    item.scroll_into_view_if_needed()
    screenshot(resident, "supplement-2-timeline-phone")

    # 2. The dispatcher sees that the assisting unit has not reported yet.
    dispatcher = new_page()
    sign_in_staff(dispatcher, w.dispatcher.username)
    dispatcher.goto(f"/appeals/case/{appeal.pk}/")
    results = dispatcher.locator("#assist-results")
    expect(results).to_contain_text("1 家未报送")
    expect(results.locator(".assist-item.is-missing")).to_contain_text(w.housing.name)
    expect(dispatcher.locator(".timeline-supplement")).to_contain_text("建筑垃圾")
    screenshot(dispatcher, "assist-1-dispatcher-missing")

    # 3. The assisting department reports its part.
    assisting = new_page()
    sign_in_staff(assisting, w.other_handler.username)
    assisting.goto(f"/appeals/case/{appeal.pk}/")
    form = assisting.locator("#assist-form")
    form.locator("textarea[name=result]").fill("已通知物业加派保洁，并在门口张贴禁止倾倒告示。")
    form.locator("input[name=photos]").set_input_files([photo("notice.png", "notice")])
    screenshot(assisting, "assist-2-assisting-form")
    form.get_by_role("button", name="报送协办结果").click()
    expect(assisting.locator(".alert-success")).to_contain_text("协办结果已报送")
    expect(assisting.locator("#assist-form")).to_have_count(0)
    expect(assisting.locator("#assist-results")).to_contain_text("已报送")

    # 4. The lead unit's handler reads both before handling, on his phone.
    handler = new_page(**PHONE)
    sign_in_staff(handler, w.handler.username)
    handler.goto(f"/appeals/case/{appeal.pk}/")
    expect(handler.locator("#assist-results")).to_contain_text("张贴禁止倾倒告示")
    expect(handler.locator("#assist-results img")).to_have_count(1)
    expect(handler.locator("#assist-results")).not_to_contain_text("未报送")
    expect(handler.locator(".timeline")).to_contain_text("协办结果")
    no_sideways_scroll(handler)
    screenshot(handler, "assist-3-lead-handler-phone")
    dispatcher.reload()
    expect(dispatcher.locator("#assist-results .badge-warning")).to_have_count(0)
    for page in (resident, dispatcher, assisting, handler):
        page.problems.assert_none()
