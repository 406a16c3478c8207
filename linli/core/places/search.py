"""Finding places from Chinese text: compounds and their aliases, road + house number, buildings,
communities, streets and grids.

The text is normalised (full-width → half-width, spaces and punctuation dropped, "四川省成都市金牛区"
prefixes stripped, 幢/号楼 → 栋), then matched exactly, by prefix or containment, then fuzzily with
rapidfuzz; pinyin (initials such as ``lzy`` or full ``lizuoyuan``) is the fallback for Latin input and
for Chinese input that matched nothing well (a homophone typo such as 立作苑 still finds 力作苑).
The entries are built from the database once per process and geography version, like the spatial
index.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from pypinyin import Style, lazy_pinyin
from rapidfuzz import fuzz, process

SEPARATOR = " › "
KIND_ORDER = {"compound": 0, "building": 1, "address": 2, "community": 3, "street": 4, "grid": 5, "road": 6}
_PUNCT = re.compile(r"[\s,，。.、;；:：'\"“”‘’()（）\[\]【】<>《》·\-—_/\\|]+")
_ROAD_NUMBER = re.compile(
    r"^(?P<road>.+?(?:大道|大街|路|街|巷|道|段|弄|胡同))(?P<num>\d+)(?:号|#)?(?P<rest>.*)$"
)
_PROVINCE = re.compile(r"^(?:中国)?[\u4e00-\u9fff]{2,3}省")
_SUFFIXES = ("小区", "院落", "社区", "街道", "网格", "苑区")
DEFAULT_PREFIXES = ("四川省", "四川", "成都市")


@dataclass(frozen=True, slots=True)
class Candidate:
    kind: str
    id: int
    name: str
    label: str
    lng: float | None
    lat: float | None
    score: float


@dataclass(slots=True)
class _Entry:
    kind: str
    id: int
    name: str
    label: str
    lng: float | None
    lat: float | None


def normalise(text: str, prefixes: tuple[str, ...] = ()) -> str:
    """Half-width, lower-case, no spaces or punctuation, administrative prefixes stripped."""
    s = unicodedata.normalize("NFKC", text or "").lower()
    s = _PUNCT.sub("", s)
    s = s.replace("號", "号").replace("#", "号").replace("幢", "栋").replace("号楼", "栋")
    changed = True
    while changed and s:
        changed = False
        stripped = _PROVINCE.sub("", s, count=1)
        if stripped != s and stripped:
            s, changed = stripped, True
        for prefix in prefixes:
            if s.startswith(prefix) and len(s) > len(prefix):
                s, changed = s[len(prefix) :], True
    return s


def _short(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _pinyin(text: str) -> tuple[str, str]:
    full = "".join(lazy_pinyin(text, errors="ignore"))
    initials = "".join(lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore"))
    return full.lower(), initials.lower()


def _is_latin(text: str) -> bool:
    return bool(text) and all(c.isascii() and c.isalpha() for c in text)


class SearchIndex:
    def __init__(self, entries: list[_Entry], prefixes: tuple[str, ...], version=None):
        self.version = version
        self.entries = entries
        self.prefixes = prefixes
        self.keys: list[str] = []
        self.key_entry: list[int] = []
        self.pinyin_full: list[str] = []
        self.pinyin_initials: list[str] = []
        self.pinyin_entry: list[int] = []
        # address entries by normalised road: [(number, entry index)]
        self.addresses: dict[str, list[tuple[int, int]]] = {}
        self.roads: dict[str, int] = {}
        for i, e in enumerate(entries):
            names = {normalise(n, prefixes) for n in e.name.split("\x1f") if n.strip()}
            for n in list(names):
                names.add(_short(n))
            for n in names:
                if n:
                    self.keys.append(n)
                    self.key_entry.append(i)
                    if e.kind != "address":
                        full, initials = _pinyin(n)
                        if full:
                            self.pinyin_full.append(full)
                            self.pinyin_initials.append(initials)
                            self.pinyin_entry.append(i)
            if e.kind == "address":
                m = _ROAD_NUMBER.match(normalise(e.name.split("\x1f")[0], prefixes))
                if m:
                    self.addresses.setdefault(m["road"], []).append((int(m["num"]), i))
            elif e.kind == "road":
                self.roads[normalise(e.name, prefixes)] = i
        # The displayed name is the first alternative.
        for e in entries:
            e.name = e.name.split("\x1f")[0]

    def search(self, text: str, limit: int = 10) -> list[Candidate]:
        q = normalise(text, self.prefixes)
        if not q:
            return []
        scores: dict[int, float] = {}

        def offer(i: int, score: float):
            if score > scores.get(i, 0):
                scores[i] = score

        m = _ROAD_NUMBER.match(q)
        if m:
            self._road_number(m["road"], int(m["num"]), offer)
        if _is_latin(q):
            self._pinyin(q, offer)
        else:
            for key, i in zip(self.keys, self.key_entry, strict=True):
                if key == q:
                    offer(i, 100.0)
                elif key.startswith(q):
                    offer(i, 95.0 - min(len(key) - len(q), 10) * 0.5)
                elif q in key:
                    offer(i, 90.0 - min(len(key) - len(q), 10) * 0.5)
                elif len(key) >= 2 and key in q:
                    offer(i, 70.0 + 20.0 * len(key) / len(q))
            if not scores or max(scores.values()) < 90:
                for _key, score, k in process.extract(
                    q, self.keys, scorer=fuzz.WRatio, limit=limit * 3, score_cutoff=60
                ):
                    offer(self.key_entry[k], score * 0.85)
            if not scores or max(scores.values()) < 80:
                self._pinyin(_pinyin(q)[0], offer, homophone=True)
        ranked = sorted(
            scores.items(),
            key=lambda item: (
                -item[1],
                KIND_ORDER.get(self.entries[item[0]].kind, 9),
                len(self.entries[item[0]].name),
            ),
        )
        out = []
        for i, score in ranked[:limit]:
            e = self.entries[i]
            out.append(Candidate(e.kind, e.id, e.name, e.label, e.lng, e.lat, round(score, 1)))
        return out

    def _road_number(self, road: str, number: int, offer):
        numbers = self.addresses.get(road)
        if numbers:
            for n, i in numbers:
                if n == number:
                    offer(i, 100.0)
                else:  # the same road, a nearby number
                    offer(i, max(60.0, 85.0 - abs(n - number) * 0.2))
        if road in self.roads:
            offer(self.roads[road], 80.0)

    def _pinyin(self, q: str, offer, homophone: bool = False):
        if not q:
            return
        top = 80.0 if homophone else 88.0
        for full, initials, i in zip(self.pinyin_full, self.pinyin_initials, self.pinyin_entry, strict=True):
            if full == q or (not homophone and initials == q):
                offer(i, top)
            elif full.startswith(q) or (not homophone and initials.startswith(q)):
                offer(i, top - 5)
        for _key, score, k in process.extract(
            q, self.pinyin_full, scorer=fuzz.ratio, limit=10, score_cutoff=75
        ):
            offer(self.pinyin_entry[k], score * 0.75)


def _point(geometry) -> tuple[float | None, float | None]:
    if not geometry:
        return None, None
    try:
        from shapely.geometry import shape

        g = shape(geometry)
        c = g.centroid if g.geom_type != "LineString" else g.interpolate(0.5, normalized=True)
        return round(c.x, 7), round(c.y, 7)
    except Exception:
        return None, None


def index_from_db(version=None) -> SearchIndex:
    from .choices import AreaKind
    from .models import Area, Building, Compound, Road

    areas = {
        a["id"]: a
        for a in Area.objects.values(
            "id", "kind", "code", "name", "parent_id", "centroid_lng", "centroid_lat"
        )
    }

    def chain(area_id) -> list[str]:
        names = []
        while area_id is not None and area_id in areas:
            a = areas[area_id]
            if a["kind"] != AreaKind.DISTRICT:
                names.append(a["name"])
            area_id = a["parent_id"]
        return names[::-1]

    entries: list[_Entry] = []
    prefixes = list(getattr(settings, "LINLI_ADDRESS_PREFIXES", DEFAULT_PREFIXES))
    for a in areas.values():
        if a["kind"] == AreaKind.DISTRICT:
            prefixes.append(normalise(a["name"]))
            continue
        names = a["name"] + ("\x1f" + a["code"] if a["kind"] == AreaKind.GRID else "")
        entries.append(
            _Entry(
                a["kind"],
                a["id"],
                names,
                SEPARATOR.join(chain(a["id"])),
                a["centroid_lng"],
                a["centroid_lat"],
            )
        )
    compounds = {}
    for c in Compound.objects.values(
        "id", "name", "aliases", "address", "community_id", "centroid_lng", "centroid_lat"
    ):
        compounds[c["id"]] = c
        label = SEPARATOR.join([*chain(c["community_id"]), c["name"]])
        aliases = [x.strip() for x in re.split(r"[、,，;；/]", c["aliases"] or "") if x.strip()]
        entries.append(
            _Entry(
                "compound",
                c["id"],
                "\x1f".join([c["name"], *aliases]),
                label,
                c["centroid_lng"],
                c["centroid_lat"],
            )
        )
        if c["address"]:
            entries.append(
                _Entry("address", c["id"], c["address"], label, c["centroid_lng"], c["centroid_lat"])
            )
    for b in Building.objects.values("id", "name", "compound_id", "lng", "lat"):
        c = compounds.get(b["compound_id"])
        if c is None:
            continue
        label = SEPARATOR.join([*chain(c["community_id"]), c["name"], b["name"]])
        names = [c["name"] + b["name"]]
        names += [_short(c["name"]) + b["name"]]
        if c["address"]:
            names.append(c["address"] + b["name"])
        entries.append(_Entry("building", b["id"], "\x1f".join(names), label, b["lng"], b["lat"]))
    road_points: dict[int, list[tuple[float, float]]] = {}
    for rid, lng, lat in Compound.objects.filter(road__isnull=False).values_list(
        "road_id", "centroid_lng", "centroid_lat"
    ):
        road_points.setdefault(rid, []).append((lng, lat))
    for r in Road.objects.values("id", "name", "street_id", "geometry"):
        lng, lat = _point(r["geometry"])
        if lng is None and road_points.get(r["id"]):
            pts = road_points[r["id"]]
            lng, lat = sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)
        if lng is None and r["street_id"] in areas:
            lng, lat = areas[r["street_id"]]["centroid_lng"], areas[r["street_id"]]["centroid_lat"]
        entries.append(_Entry("road", r["id"], r["name"], SEPARATOR.join(chain(r["street_id"])), lng, lat))
    ordered = tuple(sorted({p for p in prefixes if p}, key=len, reverse=True))
    return SearchIndex(entries, ordered, version)


_lock = threading.Lock()
_current: SearchIndex | None = None


def get_search_index() -> SearchIndex:
    global _current
    from .index import geography_version

    version = geography_version()
    current = _current
    if current is not None and current.version == version:
        return current
    with _lock:
        if _current is None or _current.version != version:
            _current = index_from_db(version)
        return _current


def invalidate() -> None:
    global _current
    with _lock:
        _current = None
