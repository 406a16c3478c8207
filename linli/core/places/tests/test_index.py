"""The spatial index against shapely brute force."""

import numpy as np
import pytest
import shapely
from django.core.cache import cache

from linli.core.places import selectors
from linli.core.places.index import (
    VERSION_KEY,
    AreaRecord,
    CompoundRecord,
    OutsideDistrict,
    PlaceIndex,
    get_index,
)
from linli.core.places.services import bump_geography_version

X0, Y0, X1, Y1 = 103.95, 30.62, 104.10, 30.74


def synthetic(n_grids=300, n_compounds=200, seed=3, cells_per_grid=64):
    rng = np.random.default_rng(seed)
    frame = shapely.box(X0, Y0, X1, Y1)
    # An irregular district: the box minus a notch, so some of the bbox lies outside every grid.
    district = frame.difference(shapely.box(X0, Y0, X0 + 0.04, Y0 + 0.03))
    seeds = shapely.multipoints(np.column_stack([rng.uniform(X0, X1, n_grids), rng.uniform(Y0, Y1, n_grids)]))
    cells = shapely.intersection(
        shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=frame)), district
    )
    cells = [c for c in cells if not c.is_empty and c.area > 0]
    areas = [
        AreaRecord(1, "district", "D", "区", None, district),
        AreaRecord(2, "street", "S1", "西街道", 1, shapely.box(X0, Y0, 104.02, Y1).intersection(district)),
        AreaRecord(3, "street", "S2", "东街道", 1, shapely.box(104.02, Y0, X1, Y1)),
        AreaRecord(4, "community", "C1", "西社区", 2, None),
        AreaRecord(5, "community", "C2", "东社区", 3, None),
    ]
    for i, c in enumerate(cells):
        areas.append(AreaRecord(100 + i, "grid", f"G{i}", f"网格{i}", 4 if c.centroid.x < 104.02 else 5, c))
    pts = np.column_stack([rng.uniform(X0 + 0.04, X1, n_compounds), rng.uniform(Y0, Y1, n_compounds)])
    compounds = [CompoundRecord(10_000 + i, f"小区{i}", float(x), float(y)) for i, (x, y) in enumerate(pts)]
    idx = PlaceIndex(areas=areas, compounds=compounds, cells_per_grid=cells_per_grid)
    return idx, cells, compounds, district


@pytest.fixture(scope="module")
def world():
    return synthetic()


def brute_grids(cells, x, y):
    return {100 + i for i, c in enumerate(cells) if c.intersects(shapely.Point(x, y))}


def brute_compound(compounds, kx, x, y):
    d = [((c.lng - x) * kx) ** 2 + (c.lat - y) ** 2 for c in compounds]
    best = min(d)
    return {c.id for c, v in zip(compounds, d, strict=True) if v <= best * (1 + 1e-12)}


def test_random_points_match_brute_force(world):
    idx, cells, compounds, district = world
    rng = np.random.default_rng(11)
    checked = 0
    for x, y in zip(rng.uniform(X0, X1, 3000), rng.uniform(Y0, Y1, 3000), strict=True):
        if not district.covers(shapely.Point(x, y)):
            continue
        grid, community, street, compound, dist = idx.lookup(float(x), float(y))
        assert grid in brute_grids(cells, x, y)
        assert compound in brute_compound(compounds, idx.kx, x, y)
        assert dist >= 0
        checked += 1
    assert checked > 2000


def test_points_on_boundaries_and_vertices_belong_to_a_touching_grid(world):
    idx, cells, compounds, _ = world
    points = []
    for c in cells[:80]:
        for part in shapely.get_parts(c):
            ring = np.asarray(part.exterior.coords)
            points += [tuple(p) for p in ring[:-1]]  # vertices
            points += [tuple(p) for p in (ring[:-1] + ring[1:]) / 2]  # edge midpoints
    assert len(points) > 800
    for x, y in points:
        grid = idx.lookup(float(x), float(y))[0]
        touching = {100 + i for i, c in enumerate(cells) if c.dwithin(shapely.Point(x, y), 1e-12)}
        assert grid in touching, (x, y)


def test_community_and_street_follow_the_grid(world):
    idx, cells, _, _ = world
    for i in (0, 5, 17):
        p = cells[i].representative_point()
        grid, community, street, *_ = idx.lookup(p.x, p.y)
        assert grid == 100 + i
        west = cells[i].centroid.x < 104.02
        assert community == (4 if west else 5)
        assert street == (2 if west else 3)


def test_batch_agrees_with_single_lookups(world):
    idx, *_ = world
    rng = np.random.default_rng(5)
    xs, ys = rng.uniform(X0 - 0.01, X1 + 0.01, 4000), rng.uniform(Y0 - 0.01, Y1 + 0.01, 4000)
    batch = idx.lookup_many(xs, ys)
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        try:
            single = idx.lookup(float(x), float(y))
        except OutsideDistrict:
            assert batch["outside"][i]
            continue
        assert not batch["outside"][i]
        assert batch["grid"][i] == (single[0] if single[0] is not None else -1)
        assert batch["community"][i] == (single[1] if single[1] is not None else -1)
        assert batch["compound"][i] == single[3]
        assert batch["distance_m"][i] == pytest.approx(single[4], rel=1e-9)
    assert batch["outside"].any() and not batch["outside"].all()


def test_outside_the_district_raises_a_bilingual_error(world):
    idx, *_ = world
    with pytest.raises(OutsideDistrict) as exc:
        idx.locate(X0 + 0.01, Y0 + 0.01)  # inside the notch cut out of the district
    assert "不在本区范围内" in str(exc.value) and "outside the district" in str(exc.value)
    with pytest.raises(OutsideDistrict):
        idx.locate(116.4, 39.9)  # Beijing


def test_invalid_coordinates_are_refused(world):
    idx, *_ = world
    with pytest.raises(ValueError, match="invalid coordinates"):
        idx.locate(float("nan"), 30.7)
    with pytest.raises(ValueError, match="invalid coordinates"):
        idx.locate(200.0, 30.7)


def test_distance_is_in_metres(world):
    idx, _, compounds, _ = world
    c = compounds[0]
    loc = idx.locate(c.lng + 0.001, c.lat)  # ~96 m east at 30.7°N, if no other compound is nearer
    assert loc.compound is not None
    if loc.compound.id == c.id:
        assert loc.distance_m == pytest.approx(0.001 * 111_195 * np.cos(np.radians(c.lat)), rel=1e-3)


def test_few_or_no_compounds():
    areas = [AreaRecord(1, "grid", "G", "网格", None, shapely.box(0, 0, 1, 1))]
    none = PlaceIndex(areas=areas, compounds=[])
    assert none.lookup(0.5, 0.5) == (1, None, None, None, None)
    one = PlaceIndex(areas=areas, compounds=[CompoundRecord(9, "a", 0.2, 0.2)])
    assert one.lookup(0.9, 0.9)[3] == 9
    same = PlaceIndex(
        areas=areas,
        compounds=[
            CompoundRecord(1, "a", 0.2, 0.2),
            CompoundRecord(2, "b", 0.2, 0.2),
            CompoundRecord(3, "c", 0.8, 0.8),
        ],
    )
    assert same.lookup(0.1, 0.1)[3] in (1, 2)
    assert same.lookup(0.9, 0.7)[3] == 3


def test_place_locate_from_the_database(small_district):
    d = small_district
    lng, lat = d.grid_centre(3)
    loc = selectors.place_locate(lng, lat)
    assert loc.grid.id == d.grids[3].pk and loc.grid.code == d.grids[3].code
    assert loc.community.id == d.communities[1].pk
    assert loc.street.id == d.streets[0].pk
    assert loc.compound.id == d.compounds[3].pk
    assert loc.distance_m == pytest.approx(0.0, abs=0.01)
    with pytest.raises(OutsideDistrict):
        selectors.place_locate(103.99, 30.70)


def test_index_rebuilds_when_the_geography_version_moves(small_district):
    first = get_index()
    assert get_index() is first
    cache.set(VERSION_KEY, (cache.get(VERSION_KEY) or 0) + 100, None)  # another process bumped it
    assert get_index() is not first
    second = get_index()
    bump_geography_version()
    assert get_index() is not second
