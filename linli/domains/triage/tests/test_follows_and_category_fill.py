# ruff: noqa: F811 - pytest fixtures imported from other test modules are redefined as arguments
"""Residents who follow a case count as supports in the hot-issue heat; appeals that came without a
category take the classifier's when it is sure enough, so the routing rules can dispatch them."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from linli.domains.appeals import services as svc
from linli.domains.appeals.choices import Action
from linli.domains.appeals.choices import AppealStatus as S
from linli.domains.appeals.tests.conftest import grant, make_user, world  # noqa: F401 - fixture
from linli.domains.triage import suggest
from linli.domains.triage.hotspots import heat_score, hot_issue_groups
from linli.domains.triage.tests.registry_world import fresh_triage, install_model, noise  # noqa: F401
from linli.domains.triage.tests.test_hotspots import NOISE

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_triage")]


@pytest.fixture(autouse=True)
def _setup(settings):
    cache.clear()


def _submit(w, title, body, offset=0.0, **extra):
    lng, lat = w.point()
    return svc.appeal_submit(
        actor=w.resident, title=title, body=body, lng=lng + offset, lat=lat, auto_dispatch=False, **extra
    )


# --- follows as supports ------------------------------------------------------------------------


def test_follows_count_as_supports_in_the_heat(world):
    cases = [
        _submit(world, t, b, offset=k * 0.0003, category=world.rubbish) for k, (t, b) in enumerate(NOISE)
    ]
    before = hot_issue_groups()[0]
    assert before.supports == 0
    followers = [make_user(kind="resident") for _ in range(3)]
    for person in followers:
        svc.appeal_follow(actor=person, appeal=cases[0])
    svc.appeal_follow(actor=followers[0], appeal=cases[1])
    svc.appeal_follow(actor=followers[0], appeal=cases[1])  # a repeat adds nothing
    after = hot_issue_groups()[0]  # a new follow is not hidden by the cache
    assert after.id == before.id and after.supports == 4
    assert after.heat == pytest.approx(heat_score(after.count, 4, after.growth))
    assert after.heat > before.heat

    c = Client()
    c.force_login(world.dispatcher)
    page = c.get(reverse("hot_issues:list")).content.decode()
    assert '<dd class="hot-supports">4</dd>' in page


# --- category from triage ---------------------------------------------------------------------------

RUBBISH = ("小区门口垃圾堆积", "门口的垃圾桶满了，垃圾堆在地上好几天没人清运，天热有异味。")


def _hotline(w, text=RUBBISH):
    lng, lat = w.point()
    return svc.appeal_submit(
        actor=w.dispatcher,
        title=text[0],
        body=text[1],
        channel="hotline",
        contact_name="李阿姨",
        lng=lng,
        lat=lat,
        auto_dispatch=True,
    )


def test_a_case_without_a_category_takes_the_models_when_sure_and_is_dispatched(world, noise, settings):
    settings.LINLI_APPEALS_AUTO_DISPATCH_CONFIDENCE = 0.8
    install_model(world, noise)
    appeal = _hotline(world)
    assert appeal.category == world.rubbish
    assert appeal.status == S.DISPATCHED and appeal.lead_unit == world.city_mgmt
    event = appeal.events.get(action=Action.CATEGORISE)
    assert event.actor is None and not event.public  # internal: the resident sees no triage detail
    assert event.data["source"] == "triage" and event.data["category"] == world.rubbish.code
    assert event.data["confidence"] >= 0.8 and event.data["triage_model"] == 1
    assert "智能分拨" in event.note
    actions = list(appeal.events.order_by("id").values_list("action", flat=True))
    assert actions.index(Action.CATEGORISE) < actions.index(Action.DISPATCH)


def test_the_resident_is_told_when_triage_chose_the_category(world, noise, settings, client):
    """An automated decision about the case is shown as such on the resident's own page, in Chinese
    and in English; a category the resident chose, or a person changed, carries no such line."""
    settings.LINLI_APPEALS_AUTO_DISPATCH_CONFIDENCE = 0.8
    install_model(world, noise)
    lng, lat = world.point()
    chosen_by_triage = svc.appeal_submit(
        actor=world.resident, title=RUBBISH[0], body=RUBBISH[1], lng=lng, lat=lat, auto_dispatch=True
    )
    assert chosen_by_triage.category == world.rubbish
    chosen_by_resident = svc.appeal_submit(
        actor=world.resident, title=RUBBISH[0], body=RUBBISH[1], category=world.rubbish, lng=lng, lat=lat
    )
    client.force_login(world.resident)

    def page(appeal, language="zh-hans"):
        client.cookies["django_language"] = language
        return client.get(reverse("appeals:mine_detail", args=[appeal.pk])).content.decode()

    assert "系统根据您描述的内容自动归类" in page(chosen_by_triage)
    assert "automatically from your description" in page(chosen_by_triage, "en")
    assert 'id="category-by-triage"' not in page(chosen_by_resident)
    chosen_by_triage.category = world.dirty_road  # a person changed it
    chosen_by_triage.save(update_fields=["category"])
    assert 'id="category-by-triage"' not in page(chosen_by_triage)


def test_below_the_threshold_it_waits_for_a_person_without_a_category(world, noise, settings):
    settings.LINLI_APPEALS_AUTO_DISPATCH_CONFIDENCE = 1.01
    install_model(world, noise)
    appeal = _hotline(world)
    assert appeal.category_id is None and appeal.status == S.SUBMITTED
    assert not appeal.events.filter(action=Action.CATEGORISE).exists()


def test_without_a_model_nothing_is_guessed(world, settings):
    settings.LINLI_APPEALS_AUTO_DISPATCH_CONFIDENCE = 0.5
    assert suggest.active() is None
    appeal = _hotline(world)
    assert appeal.category_id is None and appeal.status == S.SUBMITTED


def test_only_an_active_category_without_items_is_filled(world, noise):
    from linli.domains.appeals.models import Appeal, Category

    install_model(world, noise)
    rubbish = Appeal(title=RUBBISH[0], body=RUBBISH[1])
    assert suggest.suggest_category(rubbish)[0] == world.rubbish
    world.rubbish.is_active = False
    world.rubbish.save()
    assert suggest.suggest_category(rubbish) is None  # no longer in use
    housing = Appeal(title="物业服务差", body="物业公司不作为，电梯经常坏，楼道灯不亮，物业费却照收。")
    assert suggest.suggest_category(housing)[0] == world.complaint
    Category.objects.create(parent=world.complaint, code="CXJS-01", name="物业管理")
    assert suggest.suggest_category(housing) is None  # a domain with items: a person picks the item
