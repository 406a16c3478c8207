"""A small, fully formed district for tests: 1 district, 2 streets, 2 communities each, 2 grids per
community (squares), one compound with one building and four flats per grid.

Layout (lng, lat), each grid 0.01° × 0.01°, starting at (104.00, 30.70):
    street S1 = columns 0-1, street S2 = columns 2-3; community = a column; grid = a row (0 or 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from linli.core.places.choices import AreaKind
from linli.core.places.models import Area, Building, Compound, Flat
from linli.core.places.services import area_path

ORIGIN = (104.00, 30.70)
STEP = 0.01


def square(col0: float, row0: float, cols: float = 1, rows: float = 1) -> dict:
    x0, y0 = ORIGIN[0] + col0 * STEP, ORIGIN[1] + row0 * STEP
    x1, y1 = x0 + cols * STEP, y0 + rows * STEP
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def _area(kind, code, name, parent, boundary):
    ring = boundary["coordinates"][0]
    xs, ys = [p[0] for p in ring[:-1]], [p[1] for p in ring[:-1]]
    return Area.objects.create(
        kind=kind,
        code=code,
        name=name,
        parent=parent,
        path=area_path(code=code, parent=parent),
        boundary=boundary,
        centroid_lng=sum(xs) / len(xs),
        centroid_lat=sum(ys) / len(ys),
    )


@dataclass
class SmallDistrict:
    district: Area
    streets: list[Area] = field(default_factory=list)
    communities: list[Area] = field(default_factory=list)
    grids: list[Area] = field(default_factory=list)  # grids[2*c + r] = community c, row r
    compounds: list[Compound] = field(default_factory=list)
    buildings: list[Building] = field(default_factory=list)
    flats: list[Flat] = field(default_factory=list)

    def grid_centre(self, index: int) -> tuple[float, float]:
        g = self.grids[index]
        return g.centroid_lng, g.centroid_lat


def make_small_district() -> SmallDistrict:
    d = SmallDistrict(district=_area(AreaKind.DISTRICT, "510106", "测试区", None, square(0, 0, 4, 2)))
    for s in range(2):
        street = _area(
            AreaKind.STREET, f"510106{s + 1:03d}", f"第{s + 1}街道", d.district, square(2 * s, 0, 2, 2)
        )
        d.streets.append(street)
        for c in range(2):
            col = 2 * s + c
            community = _area(
                AreaKind.COMMUNITY,
                f"{street.code}{c + 1:03d}",
                f"第{col + 1}社区",
                street,
                square(col, 0, 1, 2),
            )
            d.communities.append(community)
            for r in range(2):
                grid = _area(
                    AreaKind.GRID,
                    f"{community.code}{r + 1:03d}",
                    f"第{col + 1}社区{r + 1}网格",
                    community,
                    square(col, r),
                )
                d.grids.append(grid)
                lng, lat = grid.centroid_lng, grid.centroid_lat
                compound = Compound.objects.create(
                    name=f"测试{col + 1}{r + 1}小区",
                    community=community,
                    grid=grid,
                    path=grid.path,
                    centroid_lng=lng,
                    centroid_lat=lat,
                    address=f"测试路{col * 10 + r + 1}号",
                )
                d.compounds.append(compound)
                building = Building.objects.create(
                    compound=compound,
                    name="1栋",
                    grid=grid,
                    path=grid.path,
                    lng=lng,
                    lat=lat,
                    floors=6,
                    units=2,
                )
                d.buildings.append(building)
                for unit in ("1单元", "2单元"):
                    for room in ("101", "102"):
                        d.flats.append(
                            Flat.objects.create(
                                building=building, unit=unit, room=room, floor=1, floor_area="88.50"
                            )
                        )
    # Rows were written directly: tell the in-process indexes (spatial, search) to rebuild.
    from linli.core.places.services import bump_geography_version

    bump_geography_version()
    return d


def move_area(area: Area, parent: Area) -> Area:
    """Move ``area`` under ``parent`` the way a district does it: a boundary import naming the new
    parent (same code, name and boundary). Returns the area as stored afterwards."""
    from linli.core.places.services import boundaries_import

    feature = {
        "type": "Feature",
        "properties": {"kind": area.kind, "code": area.code, "name": area.name, "parent_code": parent.code},
        "geometry": area.boundary,
    }
    boundaries_import(actor=None, data={"type": "FeatureCollection", "features": [feature]})
    return Area.objects.get(pk=area.pk)
