"""An in-process spatial index: for a WGS-84 point, its grid, community, street and nearest compound.

How it is fast: a uniform raster of buckets is laid over the grids' bounding box. A bucket that no
grid boundary crosses lies wholly inside one grid (or wholly outside all of them) and answers from an
``array`` lookup in pure Python. Only buckets that a boundary crosses keep a short list of candidate
grids, tested with ``shapely.intersects_xy`` on prepared polygons. The nearest compound works the same
way over the Voronoi diagram of the compounds' centroids: a bucket inside one Voronoi cell names its
compound at once; a bucket on a Voronoi edge compares the distances to its few candidates.

Points on a shared boundary belong to one of the grids touching it (the first candidate tested).

The index is built from the database (``index_from_db``), kept per process and rebuilt when the cache
key ``linli:geography-version`` changes (``places.services.bump_geography_version``). It can also be
built from plain geometry (``PlaceIndex(areas=…, compounds=…)``) without Django, as the benchmark does.
"""

from __future__ import annotations

import math
import threading
import time
from array import array
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape

EARTH_RADIUS_M = 6_371_008.8
M_PER_DEG = EARTH_RADIUS_M * math.pi / 180.0
_EPS = 1e-9  # in bucket units: a boundary this close to a bucket edge marks both neighbours

GRID, COMMUNITY, STREET, DISTRICT = "grid", "community", "street", "district"


class OutsideDistrict(ValueError):
    """The point lies outside every boundary of the district."""

    def __init__(self, lng: float, lat: float):
        self.lng, self.lat = lng, lat
        super().__init__(
            f"坐标 ({lng:.6f}, {lat:.6f}) 不在本区范围内 / the point ({lng:.6f}, {lat:.6f}) "
            f"lies outside the district"
        )


@dataclass(frozen=True, slots=True)
class AreaRecord:
    """An area as the index needs it; ``geometry`` is a shapely geometry, a GeoJSON dict or None."""

    id: int
    kind: str
    code: str
    name: str
    parent_id: int | None
    geometry: Any = None


@dataclass(frozen=True, slots=True)
class CompoundRecord:
    id: int
    name: str
    lng: float
    lat: float


@dataclass(frozen=True, slots=True)
class AreaRef:
    id: int
    kind: str
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class CompoundRef:
    id: int
    name: str
    lng: float
    lat: float


@dataclass(frozen=True, slots=True)
class Location:
    lng: float
    lat: float
    grid: AreaRef | None
    community: AreaRef | None
    street: AreaRef | None
    compound: CompoundRef | None
    distance_m: float | None


def _geometry(value):
    if value is None:
        return None
    if isinstance(value, dict):
        return shape(value)
    return value


class _Raster:
    """A uniform raster over a bbox, each bucket naming the polygon that contains it (>= 0), none (-1)
    or a list of candidates (-2 - k, k indexing ``candidates``)."""

    def __init__(self, bounds: tuple[float, float, float, float], target_cells: int):
        x0, y0, x1, y1 = bounds
        w, h = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
        # Square-ish buckets in degrees; enough of them for ``target_cells``.
        size = math.sqrt(w * h / max(target_cells, 1))
        self.nx = max(1, math.ceil(w / size))
        self.ny = max(1, math.ceil(h / size))
        self.x0, self.y0 = x0, y0
        self.cw, self.ch = w / self.nx, h / self.ny
        self.sx, self.sy = 1.0 / self.cw, 1.0 / self.ch

    def touched(self, geoms) -> tuple[np.ndarray, np.ndarray]:
        """(bucket, owner) pairs, unique, for every bucket that an edge of ``geoms[owner]`` touches."""
        bounds = shapely.boundary(np.asarray(geoms, dtype=object))
        parts, owner_of_part = shapely.get_parts(bounds, return_index=True)
        coords, part_of_coord = shapely.get_coordinates(parts, return_index=True)
        u = (coords[:, 0] - self.x0) * self.sx
        v = (coords[:, 1] - self.y0) * self.sy
        owner_of_coord = owner_of_part[part_of_coord]
        same = part_of_coord[1:] == part_of_coord[:-1]
        u0, v0, u1, v1 = u[:-1][same], v[:-1][same], u[1:][same], v[1:][same]
        seg_owner = owner_of_coord[:-1][same]

        us, vs, owners = [u], [v], [owner_of_coord]
        # Crossings of vertical bucket lines u = k and horizontal lines v = k.
        for a0, a1, b0, b1, vertical in ((u0, u1, v0, v1, True), (v0, v1, u0, u1, False)):
            lo, hi = np.minimum(a0, a1), np.maximum(a0, a1)
            k0 = np.ceil(lo).astype(np.int64)
            counts = np.maximum(np.floor(hi).astype(np.int64) - k0 + 1, 0)
            total = int(counts.sum())
            if not total:
                continue
            seg = np.repeat(np.arange(len(a0)), counts)
            starts = np.repeat(np.cumsum(counts) - counts, counts)
            k = (k0[seg] + (np.arange(total) - starts)).astype(np.float64)
            da = a1[seg] - a0[seg]
            t = np.where(da != 0, (k - a0[seg]) / np.where(da != 0, da, 1.0), 0.0)
            b = b0[seg] + t * (b1[seg] - b0[seg])
            if vertical:
                us.append(k), vs.append(b)
            else:
                us.append(b), vs.append(k)
            owners.append(seg_owner[seg])
        u = np.concatenate(us)
        v = np.concatenate(vs)
        owner = np.concatenate(owners)
        cells, who = [], []
        for du in (-_EPS, _EPS):
            for dv in (-_EPS, _EPS):
                ix = np.floor(u + du).astype(np.int64)
                iy = np.floor(v + dv).astype(np.int64)
                ok = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
                cells.append(iy[ok] * self.nx + ix[ok])
                who.append(owner[ok])
        key = np.concatenate(cells) * (len(geoms) + 1) + np.concatenate(who)
        key.sort()
        if len(key):
            key = key[np.concatenate(([True], key[1:] != key[:-1]))]
        return key // (len(geoms) + 1), key % (len(geoms) + 1)

    def fill(self, geoms) -> tuple[np.ndarray, list[tuple[int, ...]], np.ndarray]:
        """Bucket values, candidate lists and the same lists as a -1 padded array, for polygons
        ``geoms`` (which should not overlap)."""
        values = np.full(self.nx * self.ny, -1, dtype=np.int32)
        cells, owners = self.touched(geoms)  # sorted by cell
        starts = np.nonzero(np.concatenate(([True], cells[1:] != cells[:-1])))[0] if len(cells) else cells
        boundary_cells = cells[starts]
        ends = np.append(starts[1:], len(cells))
        owner_list = owners.tolist()
        candidates = [tuple(owner_list[a:b]) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
        width = int((ends - starts).max()) if len(starts) else 1
        padded = np.full((max(len(starts), 1), width), -1, dtype=np.int64)
        group = np.repeat(np.arange(len(starts)), ends - starts)
        padded[group, np.arange(len(cells)) - starts[group]] = owners
        boundary = np.zeros(self.nx * self.ny, dtype=bool)
        boundary[boundary_cells] = True
        # Buckets no edge touches lie wholly inside one polygon or outside all: test their centres.
        for i, g in enumerate(geoms):
            gx0, gy0, gx1, gy1 = g.bounds
            i0 = max(int((gx0 - self.x0) * self.sx), 0)
            i1 = min(int((gx1 - self.x0) * self.sx) + 1, self.nx)
            j0 = max(int((gy0 - self.y0) * self.sy), 0)
            j1 = min(int((gy1 - self.y0) * self.sy) + 1, self.ny)
            if i0 >= i1 or j0 >= j1:
                continue
            jj, ii = np.mgrid[j0:j1, i0:i1]
            idx = (jj * self.nx + ii).ravel()
            free = ~boundary[idx] & (values[idx] == -1)
            idx = idx[free]
            if not len(idx):
                continue
            cx = self.x0 + (idx % self.nx + 0.5) * self.cw
            cy = self.y0 + (idx // self.nx + 0.5) * self.ch
            inside = shapely.intersects_xy(g, cx, cy)
            values[idx[inside]] = i
        values[boundary_cells] = -2 - np.arange(len(boundary_cells), dtype=np.int32)
        return values, candidates, padded


class PlaceIndex:
    """Built once from areas and compounds; answers ``locate`` and the faster ``lookup``.

    ``cells_per_grid`` sets the raster resolution: more buckets, fewer boundary tests, more memory
    (4 bytes a bucket per layer; at most ``max_cells`` buckets).
    """

    def __init__(
        self,
        *,
        areas: list[AreaRecord],
        compounds: list[CompoundRecord],
        cells_per_grid: int = 256,
        max_cells: int = 1 << 22,
        version: Any = None,
    ):
        self.version = version
        self.refs: dict[int, AreaRef] = {}
        parent: dict[int, int | None] = {}
        kind: dict[int, str] = {}
        geom: dict[int, Any] = {}
        for a in areas:
            self.refs[a.id] = AreaRef(a.id, a.kind, a.code, a.name)
            parent[a.id], kind[a.id] = a.parent_id, a.kind
            g = _geometry(a.geometry)
            if g is not None and not g.is_empty:
                shapely.prepare(g)
                geom[a.id] = g

        def ancestor(area_id, wanted):
            seen = 0
            while area_id is not None and seen < 8:
                if kind.get(area_id) == wanted:
                    return area_id
                area_id, seen = parent.get(area_id), seen + 1
            return None

        grid_ids = [i for i in geom if kind[i] == GRID]
        self.grid_ids = grid_ids
        self.grid_geoms = [geom[i] for i in grid_ids]
        # One tuple per grid: the answer of ``lookup`` apart from the compound.
        self._grid_answer = [(i, ancestor(i, COMMUNITY), ancestor(i, STREET)) for i in grid_ids]
        self._grid_refs = [
            (self.refs[g], self.refs.get(c) if c else None, self.refs.get(s) if s else None)
            for g, c, s in self._grid_answer
        ]
        # Slow path: points in no grid fall back to communities, streets and the district.
        self._fallback = {
            k: [(i, geom[i]) for i in geom if kind[i] == k] for k in (COMMUNITY, STREET, DISTRICT)
        }
        self._ancestor = ancestor

        self.compound_refs = [CompoundRef(c.id, c.name, c.lng, c.lat) for c in compounds]
        self._cx = np.array([c.lng for c in compounds], dtype=np.float64)
        self._cy = np.array([c.lat for c in compounds], dtype=np.float64)

        if self.grid_geoms:
            b = shapely.total_bounds(np.asarray(self.grid_geoms, dtype=object))
            bounds = (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
        elif compounds:
            bounds = (
                float(self._cx.min()),
                float(self._cy.min()),
                float(self._cx.max()),
                float(self._cy.max()),
            )
        else:
            bounds = (0.0, 0.0, 1.0, 1.0)
        self.bounds = bounds
        lat0 = (bounds[1] + bounds[3]) / 2
        self.kx = math.cos(math.radians(lat0))  # east-west degrees shrink with latitude
        self._grid_geoms_np = np.asarray(self.grid_geoms + [None], dtype=object)  # index -1 → None
        target = min(max(len(self.grid_geoms), len(compounds), 1) * cells_per_grid, max_cells)
        self.raster = r = _Raster(bounds, max(target, 4096))

        if self.grid_geoms:
            gvalues, self._gcand, self._gcand_np = r.fill(self.grid_geoms)
        else:
            gvalues, self._gcand = np.full(r.nx * r.ny, -1, dtype=np.int32), []
            self._gcand_np = np.full((1, 1), -1, dtype=np.int64)
        self._gtest, self._gdefault = self._boundary_tests(gvalues)
        cvalues, self._ccand, self._ccand_np = self._compound_raster()
        self._gvalues_np, self._cvalues_np = gvalues, cvalues
        self._grid_tree = shapely.STRtree(self.grid_geoms)
        # Pure-Python structures for the single-point hot path.
        self._gvalues = array("i", gvalues.tobytes())
        self._cvalues = array("i", cvalues.tobytes())
        self._cxy = [(c.lng, c.lat) for c in compounds]

    # -- building -------------------------------------------------------------------------------

    def _boundary_tests(self, gvalues):
        """For each boundary bucket: the candidates to test, most likely first (the one holding the
        bucket centre), and the answer when none of them holds the point. A bucket that the outline
        of all grids together does not cross is covered by its candidates, so the last one need not
        be tested: it is the answer by elimination. Halves the shapely calls on boundary buckets."""
        r = self.raster
        n = len(self._gcand)
        if not n:
            return [], []
        cells = np.nonzero(gvalues < -1)[0]
        cells = cells[np.argsort(-2 - gvalues[cells])]  # bucket of candidate list k at position k
        cx = self.raster.x0 + (cells % r.nx + 0.5) * r.cw
        cy = self.raster.y0 + (cells // r.nx + 0.5) * r.ch
        hit = shapely.intersects_xy(self._grid_geoms_np[self._gcand_np], cx[:, None], cy[:, None])
        first = np.where(hit.any(axis=1), hit.argmax(axis=1), -1).tolist()
        outline = shapely.union_all(np.asarray(self.grid_geoms, dtype=object))
        outer_cells, _ = r.touched([outline])
        outer = np.zeros(r.nx * r.ny, dtype=bool)
        outer[outer_cells] = True
        covered = (~outer[cells]).tolist()
        tests, defaults = [], []
        for k, cand in enumerate(self._gcand):
            f = first[k]
            if f > 0:
                cand = (cand[f], *cand[:f], *cand[f + 1 :])
            if covered[k] and len(cand) > 1:
                tests.append(cand[:-1])
                defaults.append(cand[-1])
            else:
                tests.append(cand)
                defaults.append(-1)
        return tests, defaults

    def _compound_raster(self):
        r = self.raster
        n = len(self.compound_refs)
        none = np.full((1, 1), -1, dtype=np.int64)
        if n == 0:
            return np.full(r.nx * r.ny, -1, dtype=np.int32), [], none
        if n == 1:
            return np.zeros(r.nx * r.ny, dtype=np.int32), [], none
        # Voronoi in a plane where a degree of longitude is as long as a degree of latitude.
        pts = np.column_stack([self._cx * self.kx, self._cy])
        uniq, first = np.unique(pts, axis=0, return_index=True)
        x0, y0 = r.x0, r.y0
        x1, y1 = x0 + r.nx * r.cw, y0 + r.ny * r.ch
        frame = shapely.box(x0 * self.kx, y0, x1 * self.kx, y1)
        try:
            if len(uniq) < 2:
                raise ValueError("one distinct point")
            cells = shapely.voronoi_polygons(shapely.multipoints(uniq), extend_to=frame, ordered=True)
            polys = list(shapely.get_parts(cells))
            if len(polys) != len(uniq):
                raise ValueError("voronoi lost points")
        except Exception:  # degenerate layouts (all collinear, one point): every bucket tests all
            values = np.full(r.nx * r.ny, -2, dtype=np.int32)
            return values, [tuple(int(i) for i in first)], first.astype(np.int64)[None, :]
        polys = shapely.intersection(np.asarray(polys, dtype=object), frame)
        polys = shapely.transform(polys, lambda xy: xy / np.array([self.kx, 1.0]))
        for p in polys:
            shapely.prepare(p)
        values, cand, padded = r.fill(list(polys))
        # Voronoi cells follow the distinct points, which np.unique sorted: map back to compounds.
        first = first.astype(np.int32)
        inside = values >= 0
        values[inside] = first[values[inside]]
        fl = first.tolist()
        cand = [tuple(fl[i] for i in c) for c in cand]
        padded = np.where(padded >= 0, first[np.maximum(padded, 0)], -1)
        return values, cand, padded

    # -- answering ------------------------------------------------------------------------------

    def lookup(self, lng: float, lat: float) -> tuple:
        """``(grid_id, community_id, street_id, compound_id, distance_m)``; the hot path.

        Raises ``OutsideDistrict`` for a point outside the district."""
        r = self.raster
        u = (lng - r.x0) * r.sx
        v = (lat - r.y0) * r.sy
        cell_ok = 0.0 <= u < r.nx and 0.0 <= v < r.ny
        if cell_ok:
            cell = int(v) * r.nx + int(u)
            g = self._gvalues[cell]
            if g < -1:
                k = -2 - g
                g = self._gdefault[k]
                for c in self._gtest[k]:
                    if shapely.intersects_xy(self.grid_geoms[c], lng, lat):
                        g = c
                        break
            c = self._cvalues[cell]
            if c < -1:
                best = None
                kx = self.kx
                for k in self._ccand[-2 - c]:
                    cx, cy = self._cxy[k]
                    d = ((cx - lng) * kx) ** 2 + (cy - lat) ** 2
                    if best is None or d < best:
                        best, c = d, k
        else:
            g, c = -1, self._nearest_compound_slow(lng, lat)
        if g >= 0:
            grid_id, community_id, street_id = self._grid_answer[g]
        else:
            grid_id, community_id, street_id = self._slow_areas(lng, lat, on_edge=cell_ok is False)
        if c < 0:
            return grid_id, community_id, street_id, None, None
        cx, cy = self._cxy[c]
        dx = (cx - lng) * math.cos(math.radians((cy + lat) * 0.5)) * M_PER_DEG
        dy = (cy - lat) * M_PER_DEG
        return grid_id, community_id, street_id, self.compound_refs[c].id, math.sqrt(dx * dx + dy * dy)

    def locate(self, lng: float, lat: float) -> Location:
        """The full answer with codes and names."""
        _check_coordinates(lng, lat)
        grid_id, community_id, street_id, compound_id, distance = self.lookup(lng, lat)
        compound = self.compound_ref(compound_id) if compound_id is not None else None
        return Location(
            lng=lng,
            lat=lat,
            grid=self.refs.get(grid_id) if grid_id is not None else None,
            community=self.refs.get(community_id) if community_id is not None else None,
            street=self.refs.get(street_id) if street_id is not None else None,
            compound=compound,
            distance_m=round(distance, 2) if distance is not None else None,
        )

    def compound_ref(self, compound_id: int) -> CompoundRef | None:
        by_id = getattr(self, "_compound_by_id", None)
        if by_id is None:
            by_id = self._compound_by_id = {c.id: c for c in self.compound_refs}
        return by_id.get(compound_id)

    def _slow_areas(self, lng, lat, on_edge=True):
        """For a point outside the raster (``on_edge``: it may still touch a grid's outer edge) or in
        no grid: its grid, community and street if any boundary holds it, else ``OutsideDistrict``."""
        if on_edge and self.grid_geoms:
            hits = self._grid_tree.query(shapely.Point(lng, lat), predicate="intersects")
            if len(hits):
                return self._grid_answer[int(min(hits))]
        found = {}
        for kind in (COMMUNITY, STREET, DISTRICT):
            for area_id, g in self._fallback[kind]:
                if shapely.intersects_xy(g, lng, lat):
                    found[kind] = area_id
                    break
        if not found:
            raise OutsideDistrict(lng, lat)
        community = found.get(COMMUNITY)
        street = found.get(STREET) or (self._ancestor(community, STREET) if community else None)
        return None, community, street

    def _nearest_compound_slow(self, lng, lat) -> int:
        if not len(self._cx):
            return -1
        d = ((self._cx - lng) * self.kx) ** 2 + (self._cy - lat) ** 2
        return int(np.argmin(d))

    def lookup_many(self, lngs, lats) -> dict[str, np.ndarray]:
        """Vectorised ``lookup`` for arrays of points: ids as int64 arrays (-1 = none), distances in
        metres (NaN = none) and ``outside`` (True where the point lies outside the district)."""
        x = np.asarray(lngs, dtype=np.float64)
        y = np.asarray(lats, dtype=np.float64)
        n = len(x)
        r = self.raster
        u = (x - r.x0) * r.sx
        v = (y - r.y0) * r.sy
        inr = (u >= 0) & (u < r.nx) & (v >= 0) & (v < r.ny)
        cell = np.where(
            inr,
            np.floor(v).clip(0, r.ny - 1).astype(np.int64) * r.nx
            + np.floor(u).clip(0, r.nx - 1).astype(np.int64),
            0,
        )
        g = np.where(inr, self._gvalues_np[cell], -1).astype(np.int64)
        bnd = np.nonzero(g < -1)[0]
        if len(bnd):
            cand = self._gcand_np[-2 - g[bnd]]  # (m, width), -1 padded
            hit = shapely.intersects_xy(self._grid_geoms_np[cand], x[bnd, None], y[bnd, None])
            anyhit = hit.any(axis=1)
            g[bnd] = np.where(anyhit, cand[np.arange(len(bnd)), hit.argmax(axis=1)], -1)
        c = np.where(inr, self._cvalues_np[cell], -1).astype(np.int64)
        cb = np.nonzero(c < -1)[0]
        if len(cb):
            cand = self._ccand_np[-2 - c[cb]]
            valid = cand >= 0
            safe = np.where(valid, cand, 0)
            d = ((self._cx[safe] - x[cb, None]) * self.kx) ** 2 + (self._cy[safe] - y[cb, None]) ** 2
            d = np.where(valid, d, np.inf)
            c[cb] = cand[np.arange(len(cb)), d.argmin(axis=1)]
        for i in np.nonzero(~inr)[0]:
            c[i] = self._nearest_compound_slow(x[i], y[i])
        answers = np.array(
            [(gid, cid or -1, sid or -1) for gid, cid, sid in self._grid_answer] + [(-1, -1, -1)],
            dtype=np.int64,
        )
        out = answers[g]  # g == -1 picks the last row
        outside = np.zeros(n, dtype=bool)
        for i in np.nonzero(g < 0)[0]:
            try:
                gr, com, st = self._slow_areas(float(x[i]), float(y[i]), on_edge=not inr[i])
                out[i] = tuple(-1 if v is None else v for v in (gr, com, st))
            except OutsideDistrict:
                outside[i] = True
        compound_ids = np.array([cr.id for cr in self.compound_refs] + [-1], dtype=np.int64)
        has = c >= 0
        cc = np.where(has, c, 0)
        if len(self._cx):
            dx = (self._cx[cc] - x) * np.cos(np.radians((self._cy[cc] + y) * 0.5)) * M_PER_DEG
            dy = (self._cy[cc] - y) * M_PER_DEG
            dist = np.where(has, np.hypot(dx, dy), np.nan)
        else:
            dist = np.full(n, np.nan)
        return {
            "grid": out[:, 0],
            "community": out[:, 1],
            "street": out[:, 2],
            "compound": np.where(has, compound_ids[c], -1),
            "distance_m": dist,
            "outside": outside,
        }

    def stats(self) -> dict:
        r = self.raster
        return {
            "grids": len(self.grid_geoms),
            "compounds": len(self.compound_refs),
            "buckets": r.nx * r.ny,
            "raster": f"{r.nx}×{r.ny}",
            "boundary_buckets": len(self._gcand),
            "tests_per_boundary_bucket": round(sum(map(len, self._gtest)) / max(len(self._gtest), 1), 2),
            "boundary_share": round(len(self._gcand) / (r.nx * r.ny), 4),
        }


def _check_coordinates(lng, lat):
    if not (isinstance(lng, (int, float)) and isinstance(lat, (int, float))) or not (
        math.isfinite(lng) and math.isfinite(lat) and -180 <= lng <= 180 and -90 <= lat <= 90
    ):
        raise ValueError(f"坐标无效：({lng}, {lat}) / invalid coordinates: ({lng}, {lat})")


# -- the per-process copy -------------------------------------------------------------------------

_lock = threading.Lock()
_current: PlaceIndex | None = None
VERSION_KEY = "linli:geography-version"


_seen_version: list = [None, 0.0]  # (version, monotonic time it was read from the shared cache)


def geography_version():
    """The shared geography version, read from the shared cache at most once every
    ``LINLI_GEOGRAPHY_CHECK_SECONDS`` (default 2) per process: an intake locates its point on every
    request, and a boundary edit reaches the other processes within that time (at once in the
    process that made it, see ``forget_version``)."""
    from django.conf import settings
    from django.core.cache import cache

    every = float(getattr(settings, "LINLI_GEOGRAPHY_CHECK_SECONDS", 2.0))
    version, read_at = _seen_version
    now = time.monotonic()
    if version is not None and now - read_at < every:
        return version
    version = cache.get(VERSION_KEY, 0)
    _seen_version[:] = [version, now]
    return version


def forget_version() -> None:
    """The next ``geography_version`` reads the shared cache (after this process changed it)."""
    _seen_version[:] = [None, 0.0]


def index_from_db(version=None) -> PlaceIndex:
    from .models import Area, Compound

    areas = [
        AreaRecord(a["id"], a["kind"], a["code"], a["name"], a["parent_id"], a["boundary"])
        for a in Area.objects.values("id", "kind", "code", "name", "parent_id", "boundary")
    ]
    compounds = [
        CompoundRecord(c["id"], c["name"], c["centroid_lng"], c["centroid_lat"])
        for c in Compound.objects.values("id", "name", "centroid_lng", "centroid_lat")
    ]
    return PlaceIndex(areas=areas, compounds=compounds, version=version)


def get_index() -> PlaceIndex:
    """This process's index, rebuilt from the database when the geography version has moved."""
    global _current
    version = geography_version()
    current = _current
    if current is not None and current.version == version:
        return current
    with _lock:
        if _current is None or _current.version != version:
            _current = index_from_db(version)
        return _current


def invalidate() -> None:
    """Drop this process's index (other processes follow the cache key)."""
    global _current
    forget_version()
    with _lock:
        _current = None
