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


# Labels: groups written by hand, labelled as given (no grouping), among a few unrelated titles so
# that the IDF means something.
UNRELATED = [
    "金沙路公交站台破损",
    "新桥社区图书室开放时间",
    "学校门口早晚交通拥堵",
    "小区电梯经常故障",
    "楼道里的灯坏了",
    "小区停车位不足",
    "希望增加公交线路",
    "噪音",
]
FUNCTION_AND_VAGUE = (
    "的",
    "了",
    "吗",
    "呢",
    "请问",
    "关于",
    "疑惑",
    "希望",
    "为什么",
    "怎么办",
    "能否",
    "相关",
    "情况",
    "问题",
)


def _labels(groups: dict[str, list[str]], categories: dict[str, str] | None = None) -> dict[str, object]:
    items, members = [], []
    for k, (place, titles) in enumerate(groups.items()):
        members.append(list(range(len(items), len(items) + len(titles))))
        for j, title in enumerate(titles):
            items.append(
                HotItem(
                    id=f"g{k}-{j}",
                    title=title,
                    body="",
                    at=T0 + dt.timedelta(days=j),
                    places=(place,),
                    place_name=place,
                    category=(categories or {}).get(place, ""),
                )
            )
    for j, title in enumerate(UNRELATED):
        items.append(HotItem(id=f"u{j}", title=title, body="", at=T0, places=(f"u{j}",), place_name=f"u{j}"))
    return {g.place: g for g in summarise(items, members, until=T0 + dt.timedelta(days=7))}


def _natural(group, titles):
    problem = group.problem
    assert group.label == f"{group.place} · {problem}"
    assert 2 <= len(problem) <= 8
    assert any(problem in t for t in titles)  # real text of the titles, not words stitched together
    assert group.place not in problem
    assert not any(w in problem for w in FUNCTION_AND_VAGUE), problem
    return problem


def test_label_of_night_construction_noise_names_the_noise():
    titles = [
        "请问幸福路工地晚上施工噪音太大怎么办",
        "幸福路工地夜间施工噪音扰民",
        "关于幸福路工地夜间噪音的疑惑",
        "幸福路夜间施工噪音严重影响休息",
    ]
    group = _labels({"幸福路": titles})["幸福路"]
    assert "噪音" in _natural(group, titles)


def test_label_leaves_out_questions_wishes_and_doubts():
    titles = [
        "请问锦绣花园的垃圾为什么没人清运",
        "锦绣花园垃圾清运不及时，希望尽快处理",
        "关于锦绣花园垃圾清运的疑惑",
        "锦绣花园小区垃圾清运太慢",
    ]
    group = _labels({"锦绣花园": titles})["锦绣花园"]
    assert _natural(group, titles) == "垃圾清运"


def test_label_keeps_negations_and_verb_object_phrases():
    groups = {
        "力作苑": ["力作苑小区路灯不亮", "力作苑路灯坏了很久", "力作苑小区路灯不亮没人修"],
        "和平街": ["和平街早市占道经营，建议取缔", "和平街商贩占道经营", "投诉和平街占道经营问题"],
        "东湖小区": [
            "东湖小区门口违章停车堵塞消防通道",
            "东湖小区违章停车无人管理",
            "请问东湖小区违章停车能否处理",
        ],
    }
    labels = _labels(groups)
    assert _natural(labels["力作苑"], groups["力作苑"]) == "路灯不亮"
    assert _natural(labels["和平街"], groups["和平街"]) == "占道经营"
    assert _natural(labels["东湖小区"], groups["东湖小区"]) == "违章停车"


def test_a_place_the_titles_name_is_not_the_problem_when_the_group_is_keyed_by_ids():
    """Platform appeals carry their places as ids ("compound:7") and the compound's registered name;
    a name the residents write ("力作苑小区") is still a name, not the problem."""
    items = [
        HotItem(id=f"a{k}", title=t, body=b, at=T0, places=("compound:7",), place_name="测试11小区")
        for k, (t, b) in enumerate(LAMP)
    ]
    (group,) = summarise(items, [[0, 1]], until=T0)
    assert group.label == "测试11小区 · 路灯"


def test_label_prefers_what_is_wrong_to_what_is_asked_for():
    titles = ["清水路路灯太暗，建议更换节能灯", "清水路晚上路灯太暗，建议更换节能灯", "清水路路灯太暗"]
    group = _labels({"清水路": titles})["清水路"]
    assert _natural(group, titles) == "路灯太暗"


def test_label_does_not_repeat_the_place():
    titles = ["洪山公园建设何时启动", "洪山公园什么时候动工建设", "洪山公园的建设计划何时启动"]
    group = _labels({"洪山公园": titles})["洪山公园"]
    problem = _natural(group, titles)
    assert "公园" not in problem and "建设" in problem


def test_label_without_a_problem_phrase_falls_back_to_the_category_then_the_title():
    vague = ["请问红星村的问题能否正式答复", "关于红星村的疑惑", "请问红星村相关情况"]
    labels = _labels(
        {"红星村": vague, "白云村": [t.replace("红星村", "白云村") for t in vague]}, {"红星村": "村务公开"}
    )
    assert labels["红星村"].label == "红星村 · 村务公开"
    fallback = labels["白云村"].problem
    assert fallback and "白云村" not in fallback and len(fallback) <= 11


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
    assert reverse("dashboard:map") in page.content.decode()  # the same groups on the command map
    assert c.get(reverse("dashboard:map")).status_code == 200
    c.force_login(world.resident)
    assert c.get(reverse("hot_issues:list")).status_code == 403


def test_whoever_sees_hot_issues_may_open_the_command_map_it_links_to():
    from linli.domains.triage.hot_views import HOT_ISSUE_ROLES
    from linli.faces.dashboard.scope import AREA_ROLES

    assert HOT_ISSUE_ROLES <= AREA_ROLES
