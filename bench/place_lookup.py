"""Place lookup benchmark: point → grid, community, street and nearest compound.

Run: ``.venv/bin/python bench/place_lookup.py [--runs 5] [--points 100000] [--no-write]``

Measures ``PlaceIndex.lookup`` (the single-point hot path), ``PlaceIndex.locate`` (the same with codes
and names, what the selector returns) and ``PlaceIndex.lookup_many`` (vectorised), each the median of
``--runs`` runs over fresh random points inside the grids, for:

* the demo-sized set: the grids in the database (config.settings.dev) if there are any, else ~120
  synthetic grids;
* 10,000 synthetic irregular grids: Voronoi cells of random points in a central-Chengdu-sized box
  (about 29 km × 28 km), clipped to an irregular district outline, with 10,000 compounds.

Writes the table with the machine and date into docs/benchmarks.md under "## Place lookup".
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from linli.core.places.index import AreaRecord, CompoundRecord, OutsideDistrict, PlaceIndex  # noqa: E402

BOX = (103.90, 30.55, 104.20, 30.80)  # central Chengdu, roughly
LOAD_AT_START = " / ".join(f"{v:.1f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def synthetic(n_grids: int, seed: int = 1, box=BOX):
    """District → 4 streets → 4 communities each → Voronoi grids; one compound per grid."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = box
    frame = shapely.box(*box)
    # An irregular outline: the box with two corners cut, like a real district.
    w, h = x1 - x0, y1 - y0
    district = frame.difference(shapely.Polygon([(x0, y0), (x0 + 0.27 * w, y0), (x0, y0 + 0.24 * h)]))
    district = district.difference(shapely.Polygon([(x1, y1), (x1 - 0.17 * w, y1), (x1, y1 - 0.36 * h)]))
    seeds = points_inside(district, n_grids, rng)  # every cell keeps a part inside the district
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame))
    # The outline is convex, so each clipped cell stays one polygon.
    cells = [c for c in shapely.intersection(cells, district) if not c.is_empty and c.area > 0]
    areas = [AreaRecord(1, "district", "D", "district", None, district)]
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    for s in range(4):
        areas.append(AreaRecord(10 + s, "street", f"S{s}", f"street{s}", 1, None))
        for c in range(4):
            areas.append(
                AreaRecord(100 + 4 * s + c, "community", f"C{s}{c}", f"community{s}{c}", 10 + s, None)
            )
    compounds = []
    for i, cell in enumerate(cells):
        p = cell.representative_point()
        s = (p.x > mx) * 2 + (p.y > my)
        c = int(p.x * 1000 + p.y * 1000) % 4
        areas.append(AreaRecord(1000 + i, "grid", f"G{i}", f"grid{i}", 100 + 4 * s + c, cell))
        compounds.append(CompoundRecord(100_000 + i, f"compound{i}", p.x, p.y))
    return areas, compounds, district


def from_database():
    """The grids of the configured database, or None if it has none (or cannot be read)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    try:
        import django

        django.setup()
        from linli.core.places.models import Area, Compound

        if not Area.objects.filter(kind="grid", boundary__isnull=False).exists():
            return None
        areas = [
            AreaRecord(a["id"], a["kind"], a["code"], a["name"], a["parent_id"], a["boundary"])
            for a in Area.objects.values("id", "kind", "code", "name", "parent_id", "boundary")
        ]
        compounds = [
            CompoundRecord(c["id"], c["name"], c["centroid_lng"], c["centroid_lat"])
            for c in Compound.objects.values("id", "name", "centroid_lng", "centroid_lat")
        ]
        grids = [shapely.geometry.shape(a.geometry) for a in areas if a.kind == "grid" and a.geometry]
        return areas, compounds, shapely.union_all(grids)
    except Exception as exc:  # no database yet, not migrated…
        print(f"(database not used: {exc.__class__.__name__}: {exc})", file=sys.stderr)
        return None


def points_inside(region, n: int, rng) -> np.ndarray:
    x0, y0, x1, y1 = region.bounds
    out = []
    shapely.prepare(region)
    while sum(len(o) for o in out) < n:
        xs, ys = rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)
        keep = shapely.contains_xy(region, xs, ys)
        out.append(np.column_stack([xs[keep], ys[keep]]))
    return np.concatenate(out)[:n]


def measure(name, areas, compounds, region, runs, n_points):
    t = time.perf_counter()
    index = PlaceIndex(areas=areas, compounds=compounds)
    build_s = time.perf_counter() - t
    rng = np.random.default_rng(42)
    single, full, batch = [], [], []
    for _ in range(runs):
        pts = points_inside(region, n_points, rng)
        xs, ys = pts[:, 0].copy(), pts[:, 1].copy()
        plist = pts.tolist()
        lookup = index.lookup
        t = time.perf_counter()
        for x, y in plist:
            lookup(x, y)
        single.append(n_points / (time.perf_counter() - t))
        locate = index.locate
        sub = plist[: n_points // 5]
        t = time.perf_counter()
        for x, y in sub:
            locate(x, y)
        full.append(len(sub) / (time.perf_counter() - t))
        t = time.perf_counter()
        res = index.lookup_many(xs, ys)
        batch.append(n_points / (time.perf_counter() - t))
        assert not res["outside"].any()
    try:
        index.lookup(0.0, 0.0)
        raise AssertionError("a point far away should be outside")
    except OutsideDistrict:
        pass
    st = index.stats()
    return {
        "set": name,
        "grids": st["grids"],
        "compounds": st["compounds"],
        "raster": st["raster"],
        "boundary_share": st["boundary_share"],
        "tests": st["tests_per_boundary_bucket"],
        "build_s": build_s,
        "single": statistics.median(single),
        "locate": statistics.median(full),
        "batch": statistics.median(batch),
        "runs": runs,
        "points": n_points,
    }


def cpu_model() -> str:
    try:
        # lscpu from PATH: a benchmark helper, no untrusted input.
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout  # noqa: S607
        model = re.search(r"Model name:\s*(.+)", out)
        return model.group(1).strip() if model else platform.processor()
    except OSError:
        return platform.processor() or "unknown CPU"


def table(rows) -> str:
    head = (
        "| grid set | grids | compounds | raster | boundary buckets (shapely tests each) | build (s) "
        "| lookup /s (single) | locate /s (single, with names) | lookup /s (batch) |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [head]
    for r in rows:
        lines.append(
            f"| {r['set']} | {r['grids']:,} | {r['compounds']:,} | {r['raster']} "
            f"| {r['boundary_share']:.1%} ({r['tests']:.2f}) | {r['build_s']:.2f} "
            f"| {r['single']:,.0f} | {r['locate']:,.0f} | {r['batch']:,.0f} |"
        )
    return "\n".join(lines)


def write_doc(rows, path: Path):
    cores = os.cpu_count()
    section = (
        "## Place lookup\n\n"
        "`bench/place_lookup.py`: WGS-84 point → grid, community, street and nearest compound with its\n"
        "distance, with `linli.core.places.index.PlaceIndex` in one Python process. *lookup* is the\n"
        "hot path returning ids; *locate* returns codes and names (what `place_locate` and the API use);\n"
        "*batch* is `lookup_many` over numpy arrays. Points are uniform random inside the grids; each\n"
        f"figure is the median of {rows[0]['runs']} runs of {rows[0]['points']:,} points (locate: a fifth "
        "of them).\n\n"
        f"Machine: {cpu_model()}, {cores} cores, Python {platform.python_version()}, "
        f"shapely {shapely.__version__}, numpy {np.__version__}. Date: {dt.date.today().isoformat()}. "
        f"Load average when it started: {LOAD_AT_START} (other processes share the machine, so single-point\n"
        "figures vary by a factor of two or more between runs on a busy machine).\n\n"
        f"{table(rows)}\n\n"
        "Goal: at least 100,000 single-point lookups per second at 10,000 grids.\n"
    )
    text = (
        path.read_text(encoding="utf-8")
        if path.exists()
        else "# Benchmarks\n\nFigures measured with the scripts in `bench/`.\n"
    )
    pattern = re.compile(r"## Place lookup\n.*?(?=\n## |\Z)", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section.rstrip("\n") + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--no-write", action="store_true", help="print only, leave docs/benchmarks.md alone")
    args = ap.parse_args(argv)
    rows = []
    db = from_database()
    if db:
        rows.append(measure("demo (database)", *db, args.runs, args.points))
    else:
        areas, compounds, district = synthetic(120, seed=7, box=(104.00, 30.66, 104.12, 30.74))
        rows.append(measure("demo-sized (synthetic)", areas, compounds, district, args.runs, args.points))
    areas, compounds, district = synthetic(10_000)
    rows.append(measure("10,000 synthetic Voronoi grids", areas, compounds, district, args.runs, args.points))
    print(table(rows))
    if not args.no_write:
        write_doc(rows, ROOT / "docs" / "benchmarks.md")
        print("→ docs/benchmarks.md")


if __name__ == "__main__":
    main()
