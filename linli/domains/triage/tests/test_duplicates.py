"""Duplicates: scored open appeals nearby, on the resident's form (JSON) and the dispatcher's page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from linli.domains.appeals import services as svc
from linli.domains.triage import duplicates
from linli.domains.triage.duplicates import similar_open_appeals, text_similarities

LAMP = ("幸福小区东门路灯不亮", "幸福小区东门口的路灯坏了一个星期，晚上很黑，老人出门容易摔倒。")
LAMP_AGAIN = ("东门路灯坏了", "小区东门路灯一直不亮，晚上黑漆漆的，请尽快修好。")
RUBBISH = ("幸福小区门口垃圾堆积", "门口的垃圾桶满了好几天没人清运，气味很大。")


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.LINLI_APPEALS_AUTO_DISPATCH = False
    duplicates.reset_background()


def _submit(w, title, body, *, offset_m=0.0, grid_index=0, category=None, resident=None, **extra):
    lng, lat = w.point(grid_index)
    return svc.appeal_submit(
        actor=resident or w.other_resident,
        title=title,
        body=body,
        category=category or w.rubbish,
        lng=lng + offset_m / 96_000,  # about a metre per 1/96000 degree of longitude at 30.7°N
        lat=lat,
        auto_dispatch=False,
        **extra,
    )


def test_text_similarity_ranks_the_same_problem_above_another_one():
    sims = text_similarities(
        duplicates.appeal_text(*LAMP), [duplicates.appeal_text(*LAMP_AGAIN), duplicates.appeal_text(*RUBBISH)]
    )
    assert sims[0] > sims[1]
    assert sims[0] >= duplicates.MIN_TEXT


def test_the_same_problem_nearby_is_offered_first(world):
    lamp = _submit(world, *LAMP, offset_m=50)
    rubbish = _submit(world, *RUBBISH, offset_m=20)
    lng, lat = world.point(0)
    found = similar_open_appeals(*LAMP_AGAIN, lng, lat, world.rubbish)
    assert [c.appeal for c in found][:1] == [lamp]
    assert 30 < found[0].distance_m < 70
    assert all(c.appeal != rubbish or c.score < found[0].score for c in found)


def test_far_away_closed_private_or_other_domain_cases_are_not_offered(world):
    far = _submit(world, *LAMP, grid_index=1)  # another grid, about a kilometre away
    other_domain = _submit(world, *LAMP, category=world.complaint, answers={"floor": 3})
    private = _submit(world, *LAMP, is_private=True)
    rejected = svc.appeal_reject(actor=world.dispatcher, appeal=_submit(world, *LAMP), reason="重复")
    lng, lat = world.point(0)
    found = {c.appeal for c in similar_open_appeals(*LAMP_AGAIN, lng, lat, world.rubbish, public_only=True)}
    assert not found & {far, other_domain, private, rejected}
    with_private = {c.appeal for c in similar_open_appeals(*LAMP_AGAIN, lng, lat, world.rubbish)}
    assert private in with_private


def test_old_cases_fall_outside_the_time_window(world, clock):
    clock.set(2025, 3, 3, 10)
    old = _submit(world, *LAMP)
    clock.advance(days=45)
    lng, lat = world.point(0)
    assert old not in [c.appeal for c in similar_open_appeals(*LAMP_AGAIN, lng, lat, world.rubbish)]
    assert old in [c.appeal for c in similar_open_appeals(*LAMP_AGAIN, lng, lat, world.rubbish, days=60)]


def test_the_resident_form_endpoint_shows_no_personal_data(world):
    _submit(world, LAMP[0] + " 联系13800001111", LAMP[1], resident=world.resident)
    c = Client()
    c.force_login(world.other_resident)
    lng, lat = world.point(0)
    r = c.get(
        reverse("appeals:similar"),
        {"title": LAMP_AGAIN[0], "body": LAMP_AGAIN[1], "lng": lng, "lat": lat, "category": world.rubbish.pk},
    )
    assert r.status_code == 200
    results = r.json()["results"]
    assert len(results) == 1
    text = r.content.decode()
    assert "13800001111" not in text and "王小明" not in text
    assert results[0]["status"] == "submitted" and results[0]["distance_m"] is not None
    empty = c.get(reverse("appeals:similar"), {"title": "路灯", "lng": "", "lat": ""})
    assert empty.json() == {"results": []}


def test_the_resident_form_endpoint_dates_a_case_by_the_local_day(world, clock):
    clock.set(2025, 3, 4, 0, 30)  # 00:30 in Chengdu is still 3 March in UTC
    _submit(world, *LAMP)
    c = Client()
    c.force_login(world.other_resident)
    lng, lat = world.point(0)
    r = c.get(
        reverse("appeals:similar"), {"title": LAMP_AGAIN[0], "body": LAMP_AGAIN[1], "lng": lng, "lat": lat}
    )
    assert [x["submitted"] for x in r.json()["results"]] == ["2025-03-04"]


def test_the_dispatcher_sees_merge_suggestions_ranked_by_score(world):
    rubbish = _submit(world, *RUBBISH, offset_m=10)
    lamp = _submit(world, *LAMP, offset_m=100)
    new = _submit(world, *LAMP_AGAIN)
    c = Client()
    c.force_login(world.dispatcher)
    page = c.get(reverse("appeals:case", args=[new.pk]))
    similar = page.context["similar"]
    assert similar[0] == lamp and similar[0].dup_score > 0
    assert rubbish in similar  # the area-based list still follows, unscored
    assert "相似" in page.content.decode()
