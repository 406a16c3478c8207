# ruff: noqa: F811 - pytest fixtures imported from other test modules are redefined as arguments
"""Smart triage in a real browser: category suggestions appear on the resident's form as she types
and one click chooses a category; the case is clear enough to be dispatched by itself, and the
dispatcher sees it in the queue with the "auto-dispatched" badge, next to a case that waits for a
person in the triage queue; the administrator sees the model's quality. Screenshots of each step."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from linli.domains.appeals import services as appeal_services
from linli.domains.appeals.models import Appeal
from linli.domains.appeals.tests.conftest import world  # noqa: F401 - the fixture
from linli.domains.triage.models import TriageModel
from linli.domains.triage.tests.registry_world import fresh_triage, install_model, make_admin, noise  # noqa: F401

from .conftest import STAFF_PASSWORD, screenshot, sign_in_staff
from .test_appeals_loop import PHONE, choose_place, no_sideways_scroll, sign_in_resident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def triage_world(world, noise, fresh_triage, settings):  # noqa: F811 - the imported fixtures
    settings.LINLI_APPEALS_AUTO_DISPATCH = True
    settings.LINLI_APPEALS_AUTO_DISPATCH_CONFIDENCE = 0.8
    admin = make_admin(world)
    for user in (world.dispatcher, admin):
        user.set_password(STAFF_PASSWORD)
        user.save()
    install_model(world, noise, actor=admin)
    world.admin = admin
    world.noise = noise
    return world


def test_suggestions_on_the_form_and_an_automatic_dispatch_in_the_queue(triage_world, new_page, live_server):
    w = triage_world

    # 1. The resident types; the likeliest categories appear; she taps the first one.
    resident = new_page(**PHONE)
    sign_in_resident(resident, live_server, w.resident)
    resident.goto("/appeals/submit/")
    expect(resident.locator("#triage-suggest")).to_be_hidden()
    resident.locator("#id_title").fill("小区门口垃圾堆积")
    resident.locator("#id_body").fill("门口的垃圾桶满了，垃圾堆在地上好几天没人清运，天热有异味。")
    chips = resident.locator("#triage-suggest-list .triage-chip")
    expect(chips).to_have_count(3)
    expect(chips.first).to_contain_text("暴露垃圾")
    expect(resident.locator("#id_category")).to_have_value("")
    chips.first.click()
    expect(resident.locator("#id_category")).to_have_value(str(w.rubbish.pk))
    expect(chips.first).to_have_class("triage-chip is-chosen")
    choose_place(resident, w.d.compounds[0].name)
    no_sideways_scroll(resident)
    resident.locator("#triage-suggest").scroll_into_view_if_needed()
    screenshot(resident, "triage-1-resident-suggestions-phone")
    resident.get_by_role("button", name="提交").click()
    expect(resident.locator(".alert-success")).to_contain_text("已收到您的诉求")
    auto = Appeal.objects.get()
    assert auto.status == "dispatched" and auto.lead_unit == w.city_mgmt

    # A second case whose text does not fit the chosen category waits for a person.
    lng, lat = w.point()
    waiting = appeal_services.appeal_submit(
        actor=w.resident,
        title="楼下酒吧夜间噪声扰民",
        body="每天夜里音响声音很大，老人孩子睡不着觉。",
        category=w.rubbish,
        lng=lng,
        lat=lat,
    )
    assert waiting.status == "submitted"

    # 2. The dispatcher's queue: the automatic dispatch carries its badge.
    dispatcher = new_page()
    sign_in_staff(dispatcher, w.dispatcher.username)
    dispatcher.goto("/appeals/queue/")
    row = dispatcher.locator("tr", has_text=auto.reference)
    expect(row.locator(".triage-badge")).to_contain_text("智能分拨自动派遣（置信度")
    expect(row).to_contain_text("已派遣")
    screenshot(dispatcher, "triage-2-dispatcher-queue-badge")

    # 3. The triage queue: the waiting case with the model's top three; the dispatched one below.
    dispatcher.goto("/triage/queue/")
    expect(dispatcher.locator("h1")).to_have_text("分拨队列")
    waiting_row = dispatcher.locator("#triage-queue tr", has_text=waiting.reference)
    expect(waiting_row.locator(".triage-top li").first).to_contain_text("噪声扰民")
    expect(dispatcher.locator("#triage-auto")).to_contain_text(auto.reference)
    screenshot(dispatcher, "triage-3-triage-queue")

    # 4. The case page: top three with probabilities.
    waiting_row.get_by_role("link", name=waiting.title).click()
    expect(dispatcher.locator("#triage-panel .triage-bars li")).to_have_count(3)
    expect(dispatcher.locator("#triage-panel")).to_contain_text("噪声扰民")
    screenshot(dispatcher, "triage-4-case-panel")
    # the dispatcher takes the model's first suggestion for the registration
    dispatcher.locator("#triage-panel li", has_text="噪声扰民").get_by_role("button", name="选用").click()
    expect(dispatcher.locator("#id_category")).to_have_value(str(w.noise.pk))
    dispatcher.get_by_role("button", name="立案").click()
    expect(dispatcher.locator("#case-status")).to_have_text("已立案")
    waiting.refresh_from_db()
    assert waiting.category == w.noise
    dispatcher.goto(f"/appeals/case/{auto.pk}/")
    expect(dispatcher.locator("#triage-auto-badge")).to_be_visible()

    # 5. The administrator's registry and one version's quality.
    admin = new_page()
    sign_in_staff(admin, w.admin.username)
    admin.goto("/triage/models/")
    expect(admin.locator("#triage-models")).to_contain_text("使用中")
    screenshot(admin, "triage-5-models")
    admin.goto("/triage/models/1/")
    expect(admin.locator("#triage-per-class")).to_contain_text("噪声扰民")
    if admin.locator("#triage-confusion-chart").count():
        expect(admin.locator("#triage-confusion-chart canvas")).to_have_count(1)
    screenshot(admin, "triage-6-model-quality")

    # A retraining in progress: the bar follows the task, and the page shows the result when it ends.
    running = TriageModel.objects.create(
        version=2, status="training", progress=40, progress_message="交叉验证：第 2 / 5 折"
    )
    admin.goto("/triage/models/")
    bar = admin.locator('.triage-progress[data-version="2"]')
    expect(bar.locator("progress")).to_have_attribute("value", "40")
    TriageModel.objects.filter(pk=running.pk).update(progress=75, progress_message="用全部样本训练最终模型")
    expect(bar.locator(".triage-progress-msg")).to_have_text("用全部样本训练最终模型")
    expect(bar.locator(".triage-progress-pct")).to_have_text("75%")
    screenshot(admin, "triage-6b-models-training")
    TriageModel.objects.filter(pk=running.pk).update(
        status="failed", progress_message="训练失败", error="MemoryError"
    )
    expect(admin.locator('#triage-models tr[data-version="2"]')).to_contain_text("训练失败")
    phone_admin = new_page(**PHONE)
    sign_in_staff(phone_admin, w.admin.username)
    phone_admin.goto("/triage/models/")
    no_sideways_scroll(phone_admin)
    screenshot(phone_admin, "triage-7-models-phone")

    # A case sent without a category (through an app): the resident's own page says triage chose it.
    lng, lat = w.point()
    guessed = appeal_services.appeal_submit(
        actor=w.resident,
        title="小区门口垃圾堆积",
        body="垃圾桶满了，垃圾堆在地上好几天没人清运。",
        lng=lng,
        lat=lat,
    )
    assert guessed.category == w.rubbish
    resident.goto(f"/appeals/mine/{guessed.pk}/")
    expect(resident.locator("#category-by-triage")).to_contain_text("系统根据您描述的内容自动归类")
    no_sideways_scroll(resident)
    screenshot(resident, "triage-8-resident-category-by-triage-phone")
    # The platform's own timeline notes are in the reader's language, not in both at once.
    notes = resident.locator(".timeline-note")
    expect(notes.filter(has_text="系统按派遣规则自动派遣")).not_to_have_count(0)
    resident.locator(".phone-menu > summary").click()
    resident.locator(".phone-menu .dropdown-panel").get_by_role("button", name="English").click()
    expect(resident.locator("html")).to_have_attribute("lang", "en")
    expect(resident.locator("#category-by-triage")).to_contain_text("automatically from your description")
    expect(notes.filter(has_text="Dispatched automatically by routing rule")).not_to_have_count(0)
    expect(notes.filter(has_text="系统按派遣规则")).to_have_count(0)
    no_sideways_scroll(resident)
    screenshot(resident, "triage-9-resident-timeline-en-phone")
    for page in (resident, dispatcher, admin, phone_admin):
        page.problems.assert_none()


# --- the duplicate offer and following a case --------------------------------------------------------

RUBBISH_TEXT = ("小区东门口垃圾堆积没人清运", "东门口的垃圾桶满了，垃圾堆在地上好几天没人清运，天热有异味。")


@pytest.fixture
def follow_world(world, settings):  # noqa: F811 - the imported fixture
    settings.LINLI_APPEALS_AUTO_DISPATCH = False  # the reported case waits for the dispatcher
    world.dispatcher.set_password(STAFF_PASSWORD)
    world.dispatcher.save()
    lng, lat = world.point()
    world.reported = appeal_services.appeal_submit(
        actor=world.other_resident,
        title="测试11小区门口垃圾堆积",
        body="小区门口垃圾堆了好几天没人清运，有异味，苍蝇很多。",
        category=world.rubbish,
        lng=lng,
        lat=lat,
    )
    return world


def test_the_resident_follows_a_case_already_reported_instead_of_a_new_one(
    follow_world, new_page, live_server
):
    from linli.core.notifications.models import Notification
    from linli.domains.appeals.models import AppealFollow

    w = follow_world
    reported = w.reported

    # 1. On her phone the resident describes the same problem at the same compound: the form offers
    #    the open case (its title without personal details, place, status) instead of a new one.
    resident = new_page(**PHONE)
    sign_in_resident(resident, live_server, w.resident)
    resident.goto("/appeals/submit/")
    offer = resident.locator("#duplicate-offer")
    expect(offer).to_be_hidden()
    resident.locator("#id_title").fill(RUBBISH_TEXT[0])
    resident.locator("#id_body").fill(RUBBISH_TEXT[1])
    choose_place(resident, w.d.compounds[0].name)
    expect(offer).to_be_visible()
    expect(offer.locator("h2")).to_have_text("已有人反映过 — 关注它即可？")
    item = offer.locator(".duplicate-item", has_text=reported.title)
    expect(item).to_have_count(1)
    expect(item.locator(".duplicate-meta")).to_contain_text("测试11小区")
    expect(item.locator(".duplicate-meta")).to_contain_text("待受理")
    no_sideways_scroll(resident)
    offer.scroll_into_view_if_needed()
    screenshot(resident, "follow-1-duplicate-offer-phone", full_page=False)

    # 2. "是同一问题，关注它": recorded at once, once, and said so.
    item.get_by_role("button", name="是同一问题，关注它").click()
    expect(item.locator(".duplicate-follow")).to_have_text("已关注")
    expect(item.locator(".duplicate-follow")).to_be_disabled()
    expect(offer.locator(".duplicate-chosen")).to_be_visible()
    follow = AppealFollow.objects.get()
    assert (follow.appeal_id, follow.resident_id) == (reported.pk, w.resident.pk)
    screenshot(resident, "follow-2-followed-phone", full_page=False)
    assert Appeal.objects.count() == 1  # no second case

    # 3. Her list of followed cases shows the case's number, place and status, not who raised it.
    offer.get_by_role("link", name="我关注的诉求").click()
    expect(resident.locator("h1")).to_have_text("我关注的诉求")
    row = resident.locator(f'.following-item[data-reference="{reported.reference}"]')
    expect(row).to_contain_text("待受理")
    expect(row).to_contain_text("测试11小区")
    assert reported.contact_phone == "" and w.other_resident.username not in resident.content()
    no_sideways_scroll(resident)
    screenshot(resident, "follow-3-following-list-phone")

    # 4. The dispatcher sees how many residents follow the case, and registers it.
    dispatcher = new_page()
    sign_in_staff(dispatcher, w.dispatcher.username)
    dispatcher.goto(f"/appeals/case/{reported.pk}/")
    expect(dispatcher.locator("#case-followers")).to_have_text("1 位居民关注此件")
    screenshot(dispatcher, "follow-4-dispatcher-case-followers")
    dispatcher.get_by_role("button", name="立案").click()
    expect(dispatcher.locator("#case-status")).to_have_text("已立案")

    # 5. The follower hears of it (inbox) and her list shows the new status.
    expect(resident.locator("body")).to_be_visible()
    notice = Notification.objects.filter(recipient=w.resident).order_by("-id").first()
    assert notice is not None and notice.title.startswith(f"您关注的诉求 {reported.reference}")
    resident.goto("/appeals/following/")
    expect(row).to_contain_text("已立案")
    resident.goto("/inbox/")
    expect(resident.locator("main")).to_contain_text(f"您关注的诉求 {reported.reference}")
    screenshot(resident, "follow-5-follower-inbox-phone")
    for page in (resident, dispatcher):
        page.problems.assert_none()


# --- hot issues ---------------------------------------------------------------------------------------


@pytest.fixture
def hot_world(world, settings):  # noqa: F811 - the imported fixture
    from linli.core.orgs.choices import Role
    from linli.domains.appeals.tests.conftest import grant, make_user
    from linli.domains.triage.tests.test_hotspots import LAMP, NOISE, OTHER

    settings.LINLI_APPEALS_AUTO_DISPATCH = False
    world.leader = grant(make_user(), world.centre, Role.LEADER, world.d.district)
    for user in (world.dispatcher, world.leader):
        user.set_password(STAFF_PASSWORD)
        user.save()
    lng, lat = world.point()

    def submit(title, body, offset, **extra):
        return appeal_services.appeal_submit(
            actor=world.resident,
            title=title,
            body=body,
            category=world.rubbish,
            lng=lng + offset,
            lat=lat,
            **extra,
        )

    world.noise_cases = [submit(t, b, k * 0.0003) for k, (t, b) in enumerate(NOISE)]
    world.lamp_cases = [submit(t, b, 0.0001) for t, b in LAMP]
    for t, b in OTHER:
        submit(t, b, 0.0002)
    for _ in range(2):
        appeal_services.appeal_follow(actor=make_user(kind="resident"), appeal=world.noise_cases[0])
    return world


def test_hot_issues_for_a_dispatcher_and_a_leader(hot_world, new_page):
    w = hot_world
    from django.core.cache import cache

    cache.clear()
    dispatcher = new_page()
    sign_in_staff(dispatcher, w.dispatcher.username)
    dispatcher.goto("/hot-issues/")
    expect(dispatcher.locator("h1")).to_have_text("热点问题")
    cards = dispatcher.locator(".hot-card")
    expect(cards).to_have_count(2)  # the noise group and the street-lamp group; the others stand alone
    top = cards.first
    expect(top.locator(".hot-label")).to_contain_text("施工")
    expect(top.locator(".hot-supports")).to_have_text("2")  # the two residents following a case
    expect(top.locator(".hot-facts")).to_contain_text("4")
    expect(top.locator(".hot-appeals")).to_be_hidden()
    screenshot(dispatcher, "hot-1-dispatcher-list")
    top.locator("summary").click()
    links = top.locator(".hot-appeals a")
    expect(links).to_have_count(4)
    for case in w.noise_cases:
        expect(top.locator(".hot-appeals")).to_contain_text(case.reference)
    screenshot(dispatcher, "hot-2-dispatcher-group-open")
    links.first.click()
    expect(dispatcher.locator("#case-status")).to_be_visible()
    assert "/appeals/case/" in dispatcher.url
    # the period filter
    dispatcher.goto("/hot-issues/")
    dispatcher.locator("select[name=period]").select_option("7")
    dispatcher.get_by_role("button", name="筛选").click()
    expect(dispatcher.locator(".hot-card")).to_have_count(2)

    leader = new_page(**PHONE)
    sign_in_staff(leader, w.leader.username)
    leader.goto("/hot-issues/")
    expect(leader.locator(".hot-card")).to_have_count(2)
    no_sideways_scroll(leader)
    screenshot(leader, "hot-3-leader-phone")
    lamp = leader.locator(".hot-card", has_text="路灯")
    expect(lamp.locator(".hot-label")).to_contain_text("· 路灯")  # not 力作, from the compound's name
    lamp.locator("summary").click()
    expect(lamp.locator(".hot-appeals a")).to_have_count(2)
    no_sideways_scroll(leader)
    screenshot(leader, "hot-4-leader-phone-group-open")
    lamp.locator(".hot-appeals a").first.click()
    expect(leader.locator("#case-status")).to_be_visible()
    for page in (dispatcher, leader):
        page.problems.assert_none()
