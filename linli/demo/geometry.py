"""Shapes for the demo map: Voronoi partitions of a region, random points, small compound outlines.

All coordinates are WGS-84 (lng, lat) in degrees. Every polygon handed out is valid, single-part and
snapped to a 1e-6° grid (about 0.1 m), so its GeoJSON stays short; a child may overhang its parent
by at most that snapping step.
"""

from __future__ import annotations

import math
import random

import shapely
from shapely.affinity import rotate
from shapely.geometry import MultiPoint, Point, Polygon, box, mapping

PRECISION = 1e-6


def snap(geom: Polygon) -> Polygon:
    snapped = shapely.set_precision(geom, PRECISION)
    return _largest_polygon(snapped)


def _largest_polygon(geom) -> Polygon:
    if geom.geom_type == "Polygon":
        return geom
    polygons = [g for g in getattr(geom, "geoms", []) if g.geom_type == "Polygon"]
    if not polygons:
        raise ValueError(f"no polygon in {geom.geom_type}")
    return max(polygons, key=lambda g: g.area)


def to_geojson(geom: Polygon) -> dict:
    """A GeoJSON Polygon with plain lists (JSONField-friendly)."""
    data = mapping(geom)
    return {"type": "Polygon", "coordinates": [[[x, y] for x, y in ring] for ring in data["coordinates"]]}


def random_point_in(rng: random.Random, region: Polygon, *, tries: int = 500) -> Point:
    minx, miny, maxx, maxy = region.bounds
    for _ in range(tries):
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if region.contains(p):
            return p
    return region.representative_point()


def spread_points(rng: random.Random, region: Polygon, n: int) -> list[Point]:
    """``n`` random points inside ``region``, kept apart, then relaxed twice (Lloyd) so that the
    Voronoi cells come out roughly even."""
    inner = region.buffer(-math.sqrt(region.area / n) * 0.15)
    if inner.is_empty or inner.area < region.area * 0.2:
        inner = region
    inner = _largest_polygon(inner)
    spacing = math.sqrt(region.area / n) * 0.7
    points: list[Point] = []
    while len(points) < n:
        for _ in range(200):
            p = random_point_in(rng, inner)
            if all(p.distance(q) >= spacing for q in points):
                points.append(p)
                break
        else:
            spacing *= 0.8
    for _ in range(2):
        cells = partition(region, points)
        points = [
            cell.centroid if cell.contains(cell.centroid) else cell.representative_point() for cell in cells
        ]
    return points


def partition(region: Polygon, seeds: list[Point]) -> list[Polygon]:
    """Voronoi cells of ``seeds`` clipped to ``region``, one single polygon per seed in seed order.
    Where a concave region cuts a cell in two, the piece away from the seed joins the neighbouring
    cell that shares the longest border with it, so the cells still cover the region."""
    if len(seeds) == 1:
        return [snap(region)]
    cells = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=region, ordered=True)
    mains: list[Polygon] = []
    orphans: list[Polygon] = []
    for seed, cell in zip(seeds, cells.geoms, strict=True):
        clipped = cell.intersection(region)
        parts = [g for g in getattr(clipped, "geoms", [clipped]) if g.geom_type == "Polygon" and g.area > 0]
        main = next((g for g in parts if g.intersects(seed)), max(parts, key=lambda g: g.area))
        mains.append(main)
        orphans.extend(g for g in parts if g is not main)
    for piece in orphans:
        border = [piece.boundary.intersection(m.boundary).length for m in mains]
        j = max(range(len(mains)), key=border.__getitem__)
        mains[j] = _largest_polygon(shapely.union(mains[j], piece).buffer(0))
    return [snap(m) for m in mains]


def compound_outline(rng: random.Random, grid: Polygon, taken: list[Polygon]) -> Polygon:
    """A small, slightly rotated block (about 80–250 m a side) inside ``grid`` that keeps clear of the
    compounds already ``taken``."""
    scale = 1.0
    shapely.prepare(grid)
    for _round in range(4):
        inner = grid.buffer(-0.002 * scale)  # room for the largest block, rotated
        if inner.is_empty:
            scale *= 0.6
            continue
        inner = _largest_polygon(inner)
        for _ in range(30):
            w = rng.uniform(0.0010, 0.0026) * scale
            h = rng.uniform(0.0008, 0.0020) * scale
            c = random_point_in(rng, inner)
            block = box(c.x - w / 2, c.y - h / 2, c.x + w / 2, c.y + h / 2)
            if rng.random() < 0.5:  # cut a corner off so not every compound is a rectangle
                cut = min(w, h) * rng.uniform(0.2, 0.4)
                x0, y0, x1, y1 = block.bounds
                block = Polygon([(x0, y0), (x1, y0), (x1, y1 - cut), (x1 - cut, y1), (x0, y1)])
            block = snap(rotate(block, rng.uniform(-25, 25), origin="centroid"))
            if grid.contains(block) and not any(block.distance(t) < 0.0002 for t in taken):
                return block
        scale *= 0.6
    # A crowded or thin grid: a tiny block around a point inside it.
    c = random_point_in(rng, grid)
    return snap(box(c.x - 0.0002, c.y - 0.0002, c.x + 0.0002, c.y + 0.0002).intersection(grid))
