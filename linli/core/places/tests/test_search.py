import pytest

from linli.core.places.models import Building, Compound, Road
from linli.core.places.search import normalise
from linli.core.places.selectors import place_search
from linli.core.places.services import bump_geography_version


@pytest.fixture
def named(small_district):
    d = small_district
    community = d.communities[0]
    road = Road.objects.create(name="抚琴西路", street=d.streets[0])
    lizuo = Compound.objects.create(
        name="力作苑小区",
        aliases="力作苑、抚琴西路院落",
        community=community,
        grid=d.grids[0],
        path=d.grids[0].path,
        centroid_lng=104.003,
        centroid_lat=30.703,
        address="抚琴西路123号",
        road=road,
        built_year=1992,
    )
    other = Compound.objects.create(
        name="锦绣花园",
        community=community,
        grid=d.grids[1],
        path=d.grids[1].path,
        centroid_lng=104.004,
        centroid_lat=30.714,
        address="抚琴西路131号",
        road=road,
    )
    building = Building.objects.create(
        compound=lizuo, name="3栋", grid=d.grids[0], path=d.grids[0].path, lng=104.0031, lat=30.7031
    )
    bump_geography_version()
    return d, lizuo, other, building, road


def first(results):
    assert results, "no candidates"
    return results[0]


def test_normalise_half_width_and_prefixes():
    assert normalise("四川省成都市金牛区 抚琴西路１２３号", ("成都市", "金牛区")) == "抚琴西路123号"
    assert normalise("ＬＺＹ") == "lzy"
    assert normalise("力作苑3幢") == "力作苑3栋"


def test_compound_by_name_alias_and_label(named):
    d, lizuo, *_ = named
    c = first(place_search("力作苑小区"))
    assert (c.kind, c.id, c.score) == ("compound", lizuo.pk, 100.0)
    assert c.label == "第1街道 › 第1社区 › 力作苑小区"
    assert (c.lng, c.lat) == (104.003, 30.703)
    assert first(place_search("抚琴西路院落")).id == lizuo.pk
    assert first(place_search("力作")).id == lizuo.pk


def test_road_and_house_number_with_prefixes_and_full_width(named):
    _, lizuo, other, *_ = named
    for text in ("抚琴西路123号", "四川省成都市金牛区抚琴西路１２３号", "成都市测试区抚琴西路123号"):
        c = first(place_search(text))
        assert (c.kind, c.id) == ("address", lizuo.pk), text
    # An unknown number on a known road: the nearest numbers on that road come first.
    near = place_search("抚琴西路130号")
    assert near[0].kind == "address" and near[0].id == other.pk


def test_road_alone(named):
    *_, road = named
    results = place_search("抚琴西路")
    assert any(c.kind == "road" and c.id == road.pk for c in results)


def test_building_address(named):
    _, lizuo, _, building, _ = named
    c = first(place_search("力作苑3栋"))
    assert (c.kind, c.id) == ("building", building.pk)
    assert c.label.endswith("力作苑小区 › 3栋")
    assert first(place_search("抚琴西路123号3幢")).id == building.pk


def test_communities_streets_and_grids(small_district):
    d = small_district
    c = first(place_search("第2社区"))
    assert (c.kind, c.id) == ("community", d.communities[1].pk)
    s = first(place_search("第2街道"))
    assert (s.kind, s.id, s.label) == ("street", d.streets[1].pk, "第2街道")
    g = first(place_search(d.grids[2].code))
    assert (g.kind, g.id) == ("grid", d.grids[2].pk)


def test_fuzzy_and_pinyin_fallbacks(named):
    _, lizuo, other, *_ = named
    assert first(place_search("lzy")).id == lizuo.pk  # initials
    assert first(place_search("lizuoyuan")).id == lizuo.pk  # full pinyin
    assert first(place_search("立作苑")).id == lizuo.pk  # a homophone typo
    assert first(place_search("锦秀花园")).id == other.pk  # one wrong character


def test_nothing_and_limits(named):
    assert place_search("   ") == []
    assert place_search("完全不相干的词语xyz") == [] or place_search("完全不相干的词语xyz")[0].score < 80
    assert len(place_search("第", limit=3)) <= 3
