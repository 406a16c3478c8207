"""Hot issues: grouping by place, text and time; heat; labels; the page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from linli.domains.appeals import services as svc
from linli.domains.triage.hotspots import (
    HotItem,
    cluster_items,
    heat_score,
    hot_issue_groups,
    place_mentions,
    summarise,
)

T0 = dt.datetime(2025, 5, 1, 9, 0, tzinfo=dt.UTC)

NOISE = [
    ("抚琴西路工地夜间施工噪音扰民", "抚琴西路的工地每天晚上十一点以后还在施工，噪音很大，吵得睡不着。"),
    ("抚琴西路夜间施工噪音太大", "抚琴西路工地夜间施工，机器轰鸣，噪音扰民严重，希望管一管。"),
    ("投诉抚琴西路工地夜间施工噪音", "半夜还在抚琴西路施工，噪音扰民，孩子无法休息。"),
    ("抚琴西路夜间施工扰民", "抚琴西路工地夜里施工的噪音吵得整栋楼都睡不好。"),
]
LAMP = [
    ("力作苑小区路灯不亮", "力作苑小区里面的路灯坏了好几盏，晚上很黑。"),
    ("力作苑小区路灯坏了", "力作苑小区路灯不亮已经一周，老人晚上出门不方便。"),
]
OTHER = [
    ("金沙路公交站台破损", "金沙路公交站的雨棚破了，下雨没地方躲。"),
    ("新桥社区图书室开放时间", "新桥社区图书室周末能不能开放，孩子想去看书。"),
]


def _items(rows, place, start, *, days_apart=1, supports=0, prefix="x"):
    return [
        HotItem(
            id=f"{prefix}{k}",
            title=t,
            body=b,
            at=start + dt.timedelta(days=k * days_apart),
            places=(place,),
            place_name=place,
            supports=supports,
        )
        for k, (t, b) in enumerate(rows)
    ]


def test_place_mentions_finds_compounds_and_roads():
    found = place_mentions("B市B2区力作苑小区门口，抚琴西路上的工地")
    assert "抚琴西路" in found and any("力作苑" in f for f in found)
    assert place_mentions("") == []


def test_groups_same_problem_same_place_and_labels_them():
    items = (
        _items(NOISE, "抚琴西路", T0, prefix="n")
        + _items(LAMP, "力作苑", T0, prefix="l", supports=3)
        + [
            HotItem(id=f"o{k}", title=t, body=b, at=T0, places=(f"p{k}",), place_name=f"p{k}")
            for k, (t, b) in enumerate(OTHER)
        ]
    )
    groups = cluster_items(items)
    members = [{items[k].id for k in g} for g in groups]
    assert {"n0", "n1", "n2", "n3"} in members
    assert {"l0", "l1"} in members
    assert not any(m & {"o0", "o1"} for m in members)
    summary = summarise(items, groups, until=T0 + dt.timedelta(days=4))
    noise = next(g for g in summary if g.count == 4)
    assert noise.place == "抚琴西路" and noise.label.startswith("抚琴西路 · ")
    assert "施工" in noise.problem or "噪音" in noise.problem
    assert noise.first_seen == T0 and noise.appeal_ids[0] == "n0"
    lamp = next(g for g in summary if g.count == 2)
    assert lamp.supports == 6 and "路灯" in lamp.problem


def test_the_same_text_in_another_place_or_long_after_is_another_group():
    here = _items(LAMP, "力作苑", T0, prefix="a")
    elsewhere = _items(LAMP, "幸福小区", T0, prefix="b")
    for item in here:  # points two kilometres apart: the same words, another place
        object.__setattr__(item, "lng", 104.0)
        object.__setattr__(item, "lat", 30.7)
    for item in elsewhere:
        object.__setattr__(item, "lng", 104.02)
        object.__setattr__(item, "lat", 30.7)
    later = _items(LAMP, "力作苑", T0 + dt.timedelta(days=200), prefix="c")
    groups = cluster_items(here + elsewhere + later)
    items = here + elsewhere + later
    members = sorted(sorted(items[k].id for k in g) for g in groups)
    assert members == [["a0", "a1"], ["b0", "b1"], ["c0", "c1"]]


def test_heat_grows_with_count_supports_and_growth():
    assert heat_score(4, 0, 0) > heat_score(2, 0, 0)
    assert heat_score(2, 10, 0) > heat_score(2, 0, 0)
    assert heat_score(2, 0, 2) > heat_score(2, 0, 0)
    assert heat_score(2, 0, 50) == heat_score(2, 0, 3)  # growth is capped


def test_growth_compares_the_last_week_with_the_week_before():
    items = _items(NOISE, "抚琴西路", T0, days_apart=3)  # days 0, 3, 6, 9
    groups = cluster_items(items)
    [g] = summarise(items, groups, until=T0 + dt.timedelta(days=10))
    assert (g.recent, g.previous) == (2, 2) and g.growth == 0.0  # (3, 10] vs (-4, 3]


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.LINLI_APPEALS_AUTO_DISPATCH = False
    cache.clear()


def _submit(w, title, body, offset=0.0, grid_index=0):
    lng, lat = w.point(grid_index)
    return svc.appeal_submit(
        actor=w.resident,
        title=title,
        body=body,
        category=w.rubbish,
        lng=lng + offset,
        lat=lat,
        auto_dispatch=False,
    )


def test_hot_issue_groups_from_appeals_with_a_page(world):
    noise = [_submit(world, t, b, offset=k * 0.0003) for k, (t, b) in enumerate(NOISE)]
    far = _submit(world, *NOISE[0], grid_index=1)
    _submit(world, *OTHER[0])
    dup = _submit(world, *LAMP[0])
    svc.appeal_merge(actor=world.dispatcher, appeal=dup, master=noise[0])
    groups = hot_issue_groups()
    top = groups[0]
    assert set(top.appeal_ids) >= {a.pk for a in noise} and far.pk not in top.appeal_ids
    assert dup.pk in top.appeal_ids and top.supports == 1
    assert top.lng is not None and top.count == 5 and len(top.id) == 12
    assert hot_issue_groups()[0].id == top.id  # stable (and cached)
    assert hot_issue_groups(area=world.d.streets[1]) == []

    c = Client()
    c.force_login(world.dispatcher)
    page = c.get(reverse("hot_issues:list"), {"period": "7"})
    assert page.status_code == 200 and top.label in page.content.decode()
    assert reverse("appeals:case", args=[noise[0].pk]) in page.content.decode()
    c.force_login(world.resident)
    assert c.get(reverse("hot_issues:list")).status_code == 403
