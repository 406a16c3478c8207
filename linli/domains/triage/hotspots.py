"""Hot issues (热点): groups of appeals about the same problem in the same place over time (issue 5,
item 4), with a heat score and a readable label. Computed on the fly and cached; nothing is stored.

Method (``cluster_items`` and ``summarise``, pure functions, also used by ``bench/triage_hotspots.py``):

1. Text: character 2–3-gram TF-IDF (sublinear tf) of the normalised title (twice) and the start of the
   body, fitted on the appeals being grouped, so that what every appeal says weighs little.
2. Links: two appeals are linked when they are at most ``window_days`` apart and either
   * they are in the same place — a shared place key (compound, road; in imported text, a place name
     such as "xx小区", "xx路") or points within ``within_m`` metres — and their texts reach
     ``LINK_SAME_PLACE`` cosine similarity, or
   * their texts are nearly the same (``LINK_TEXT_ONLY``) and their points, if both have one, are not
     far apart.
   A merged duplicate is always linked to its master.
3. Groups are the connected components with at least ``min_count`` appeals.
4. Heat = 10·log2(1 + count) + 4·ln(1 + supports) + 5·min(growth, 3)⁺, where growth compares the last
   ``recent_days`` with the ``recent_days`` before them: (recent − previous) / max(previous, 1).
   In the platform the supports of an appeal are the duplicates merged into it plus the residents
   who follow it (``AppealFollow``, the "already reported — follow it instead?" offer).
5. Label = place · problem: the place most often named in the group, and the two or three words of the
   titles with the highest (documents in the group × IDF over all titles), in the order they appear in
   the group's most central title (jieba words, generic words such as 问题/反映/投诉 left out).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from django.core.cache import cache
from django.db.models import Count, Max
from django.utils import timezone
from sklearn.feature_extraction.text import TfidfVectorizer

from linli.core.places.coords import haversine_m

from .text import DATE_TOKEN, NUMBER_TOKEN, normalize, segment

__all__ = [
    "HotIssueGroup",
    "HotItem",
    "cluster_items",
    "hot_issue_groups",
    "place_mentions",
    "summarise",
]

LINK_SAME_PLACE = 0.25
LINK_TEXT_ONLY = 0.60
WINDOW_DAYS = 30
WITHIN_M = 300.0
BODY_CHARS = 200
CACHE_TTL = 300  # seconds
HEAT_WEIGHTS = {"count": 10.0, "supports": 4.0, "growth": 5.0}
MAX_GROWTH = 3.0


@dataclass(frozen=True)
class HotItem:
    """One appeal as the grouping sees it. ``places``: keys of the places it is about (two appeals
    sharing one are in the same place); ``place_name``: the readable name of its most specific place."""

    id: int | str
    title: str
    body: str
    at: dt.datetime
    places: tuple[str, ...] = ()
    place_name: str = ""
    lng: float | None = None
    lat: float | None = None
    supports: int = 0
    link_to: int | str | None = None


@dataclass
class HotIssueGroup:
    id: str
    label: str
    place: str
    problem: str
    lng: float | None
    lat: float | None
    count: int
    recent: int
    previous: int
    growth: float
    supports: int
    heat: float
    first_seen: dt.datetime
    last_seen: dt.datetime
    appeal_ids: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


# --- place names in free text --------------------------------------------------------------------

_SUFFIX = (
    "小区|花园|家园|公寓|大厦|广场|新城|新村|社区|街道|大道|中路|东路|西路|南路|北路|路|街|巷|村|镇|苑|"
    "府|城|湾|学校|小学|中学|大学|学院|医院|公园|市场|车站|高铁站|园"
)
_FUNCTION = "的了在是和与及对把被向从到为有很也都就还要请我你他她它们这那个些不没无让给于将"
_PLACE = re.compile(rf"([^\W\d_a-z{_FUNCTION}][^\W\d_{_FUNCTION}]{{1,6}}?)({_SUFFIX})")
_ADMIN_PREFIX = re.compile(r"[a-z]\d*[市区县]")
_AREA_HEAD = re.compile(r"^[\u4e00-\u9fff]{1,3}?(?:新区|开区|[区县市省镇]|街道)")
_NOT_A_PLACE = ("政府", "相关", "进一步", "加强", "我们", "他们", "没有", "一个", "这个", "那个", "所有")
_GENERIC_PLACE = {
    "道路",
    "马路",
    "线路",
    "出路",
    "公路",
    "铁路",
    "网路",
    "思路",
    "门路",
    "小区",
    "社区",
    "街道",
    "农村",
    "乡村",
    "城市",
    "县城",
    "城区",
    "新城",
    "校园",
    "公园",
    "家园",
    "花园",
    "学校",
    "小学",
    "中学",
    "大学",
    "学院",
    "医院",
    "市场",
    "广场",
    "全市",
    "全村",
    "全镇",
    "本村",
    "该村",
    "该小区",
    "本小区",
    "幼儿园",
    "菜市场",
    "停车场",
    "工业园",
    "产业园",
    "电梯公寓",
    "农贸市场",
    "城管",
    "老城",
    "省城",
}


def place_mentions(text: str) -> list[str]:
    """Place names in ``text`` ("xx小区", "xx路", "xx村" …), most frequent first, administrative
    prefixes of anonymised texts (a letter, optional digits, then 市/区/县) removed. A heuristic: it can return pieces that are not places."""
    if not text:
        return []
    text = _ADMIN_PREFIX.sub(" ", normalize(text, placeholders=False, boilerplate=False))
    found = Counter()
    order = {}
    for match in _PLACE.finditer(text):
        name = _AREA_HEAD.sub("", match.group(0))  # "经开区泉星公园" → "泉星公园"
        if name in _GENERIC_PLACE or len(name) < 3 or any(w in name for w in _NOT_A_PLACE):
            continue
        found[name] += 1
        order.setdefault(name, len(order))
    return sorted(found, key=lambda n: (-found[n], order[n]))


# --- grouping --------------------------------------------------------------------------------------


def _item_text(item: HotItem) -> str:
    title = normalize(item.title)
    return f"{title} {title} {normalize(item.body)[:BODY_CHARS]}".strip()


def _vectors(items: Sequence[HotItem]):
    # On a large set, n-grams in more than half of the appeals say nothing about the problem; on a
    # small one (a quiet area, a short period) that rule would drop the problem's own words.
    vectorizer = TfidfVectorizer(
        analyzer="char",
        ngram_range=(2, 3),
        sublinear_tf=True,
        min_df=1,
        max_df=0.5 if len(items) >= 50 else 1.0,
        dtype=np.float32,
    )
    try:
        return vectorizer.fit_transform([_item_text(i) for i in items])
    except ValueError:  # too few or empty texts
        vectorizer.set_params(max_df=1.0)
        return vectorizer.fit_transform([_item_text(i) or "—" for i in items])


class _Union:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def cluster_items(
    items: Sequence[HotItem],
    *,
    link_same_place: float = LINK_SAME_PLACE,
    link_text_only: float = LINK_TEXT_ONLY,
    window_days: float = WINDOW_DAYS,
    within_m: float = WITHIN_M,
    min_count: int = 2,
    matrix=None,
) -> list[list[int]]:
    """Indices of ``items`` grouped as described in the module's docstring, largest group first."""
    n = len(items)
    if n < 2:
        return [[0]] if n == 1 and min_count <= 1 else []
    x = _vectors(items) if matrix is None else matrix
    uf = _Union(n)
    stamps = np.array([i.at.timestamp() for i in items])
    window = window_days * 86400.0
    places = [set(i.places) for i in items]
    low = min(link_same_place, link_text_only)
    chunk = 512
    for start in range(0, n, chunk):
        sims = (x[start : start + chunk] @ x.T).tocoo()
        keep = sims.data >= low
        for r, c, s in zip(sims.row[keep], sims.col[keep], sims.data[keep], strict=True):
            i = start + int(r)
            j = int(c)
            if j <= i or abs(stamps[i] - stamps[j]) > window:
                continue
            a, b = items[i], items[j]
            distance = None
            if None not in (a.lng, a.lat, b.lng, b.lat):
                distance = haversine_m(a.lng, a.lat, b.lng, b.lat)
            same_place = bool(places[i] & places[j]) or (distance is not None and distance <= within_m)
            if (same_place and s >= link_same_place) or (
                s >= link_text_only and (distance is None or distance <= 3 * within_m)
            ):
                uf.union(i, j)
    index = {item.id: k for k, item in enumerate(items)}
    for k, item in enumerate(items):
        if item.link_to is not None and item.link_to in index:
            uf.union(k, index[item.link_to])
    groups: dict[int, list[int]] = {}
    for k in range(n):
        groups.setdefault(uf.find(k), []).append(k)
    found = [g for g in groups.values() if len(g) >= min_count]
    found.sort(key=lambda g: (-len(g), g[0]))
    return found


# --- labels and heat ------------------------------------------------------------------------------

_GENERIC_WORDS = {
    "问题",
    "反映",
    "关于",
    "投诉",
    "举报",
    "咨询",
    "请求",
    "希望",
    "建议",
    "何时",
    "什么",
    "为什么",
    "如何",
    "是否",
    "能否",
    "怎么",
    "一下",
    "现在",
    "市民",
    "居民",
    "业主",
    "相关",
    "部门",
    "领导",
    "政府",
    "严重",
    "情况",
    "请问",
    "还是",
    "没有",
    "一个",
    "我们",
    "他们",
    "进行",
    "存在",
    "要求",
    "解决",
    "处理",
    "有关",
    "强烈",
    "呼吁",
    "恳请",
    "尽快",
    "市长",
    "书记",
    "区长",
    "你好",
    "您好",
    "谢谢",
    "已经",
    "不能",
    "可以",
    "这个",
    "那个",
    "为何",
    "到底",
    "多久",
    "一直",
    "长期",
    "问下",
    "请",
    "能",
    "的",
    "了",
}
_WORD = re.compile(r"^[\u4e00-\u9fffa-z]{2,}$")


def _title_words(title: str) -> list[str]:
    text = _ADMIN_PREFIX.sub(" ", normalize(title, placeholders=False))
    return [
        w
        for w in segment(text)
        if w not in (DATE_TOKEN, NUMBER_TOKEN) and w not in _GENERIC_WORDS and _WORD.match(w)
    ]


def _problem_phrase(
    titles: Sequence[str], medoid: str, df: Counter, n_docs: int, places: Iterable[str]
) -> str:
    places = [p for p in places if p]
    counts = Counter()
    for title in titles:
        counts.update(set(_title_words(title)))
    scored = []
    for word, in_group in counts.items():
        if any(word in p or p in word for p in places):
            continue
        idf = math.log((n_docs + 1) / (df.get(word, 0) + 1)) + 1.0
        scored.append((in_group * idf, word))
    scored.sort(key=lambda t: (-t[0], t[1]))
    top = [w for _, w in scored[:3]]
    if len(titles) >= 3:  # in bigger groups keep only words more than one title uses
        top = [w for w in top if counts[w] >= 2] or top[:2]
    medoid_text = normalize(medoid, placeholders=False)
    top.sort(key=lambda w: medoid_text.find(w) if w in medoid_text else len(medoid_text) + 1)
    return "".join(top) if top else medoid_text[:16]


def heat_score(count: int, supports: int, growth: float) -> float:
    return round(
        HEAT_WEIGHTS["count"] * math.log2(1 + count)
        + HEAT_WEIGHTS["supports"] * math.log1p(max(supports, 0))
        + HEAT_WEIGHTS["growth"] * min(max(growth, 0.0), MAX_GROWTH),
        2,
    )


def summarise(
    items: Sequence[HotItem],
    groups: Iterable[list[int]],
    *,
    until: dt.datetime | None = None,
    recent_days: int = 7,
    matrix=None,
    title_df: Counter | None = None,
) -> list[HotIssueGroup]:
    """One ``HotIssueGroup`` per group of indices, hottest first."""
    items = list(items)
    groups = list(groups)
    if not groups:
        return []
    until = until or max(i.at for i in items)
    x = _vectors(items) if matrix is None else matrix
    if title_df is None:
        title_df = Counter()
        for item in items:
            title_df.update(set(_title_words(item.title)))
    recent_start = until - dt.timedelta(days=recent_days)
    previous_start = recent_start - dt.timedelta(days=recent_days)
    result = []
    for members in groups:
        group = [items[k] for k in members]
        sub = x[members]
        centrality = np.asarray((sub @ sub.T).mean(axis=1)).ravel()
        medoid = group[int(np.argmax(centrality))]
        names = Counter()
        names.update(i.place_name for i in group if i.place_name)
        place = names.most_common(1)[0][0] if names else ""
        mentioned = {p for i in group for p in (*i.places, i.place_name)} | {place}
        problem = _problem_phrase([i.title for i in group], medoid.title, title_df, len(items), mentioned)
        recent = sum(1 for i in group if recent_start < i.at <= until)
        previous = sum(1 for i in group if previous_start < i.at <= recent_start)
        growth = (recent - previous) / max(previous, 1)
        supports = sum(i.supports for i in group)
        points = [(i.lng, i.lat) for i in group if i.lng is not None and i.lat is not None]
        first = min(group, key=lambda i: (i.at, str(i.id)))
        result.append(
            HotIssueGroup(
                id=hashlib.sha1(f"{place}|{first.id}".encode()).hexdigest()[:12],  # noqa: S324 — an id
                label=f"{place} · {problem}" if place else problem,
                place=place,
                problem=problem,
                lng=round(sum(p[0] for p in points) / len(points), 6) if points else None,
                lat=round(sum(p[1] for p in points) / len(points), 6) if points else None,
                count=len(group),
                recent=recent,
                previous=previous,
                growth=round(growth, 3),
                supports=supports,
                heat=heat_score(len(group), supports, growth),
                first_seen=first.at,
                last_seen=max(i.at for i in group),
                appeal_ids=[i.id for i in sorted(group, key=lambda i: (i.at, str(i.id)))],
            )
        )
    result.sort(key=lambda g: (-g.heat, -g.count, g.id))
    return result


# --- from the platform's appeals ------------------------------------------------------------------


def _area_path(area) -> str:
    if area is None:
        return ""
    return area if isinstance(area, str) else area.path


def _appeal_items(qs) -> list[HotItem]:
    from linli.domains.appeals.choices import AppealStatus as S

    rows = qs.exclude(status__in=[S.REJECTED, S.WITHDRAWN]).select_related(
        "compound", "road", "community", "grid"
    )
    items = []
    # Supports: the duplicates merged into the case and the residents who follow it (AppealFollow).
    counted = rows.annotate(
        n_duplicates=Count("duplicates", distinct=True), n_follows=Count("follows", distinct=True)
    )
    for a in counted:
        keys = []
        if a.compound_id:
            keys.append(f"compound:{a.compound_id}")
        if a.road_id:
            keys.append(f"road:{a.road_id}")
        # The label names the compound, else the road, else the grid or community (never the exact
        # address); grids and communities are too big to count as "the same place" for linking.
        place = a.compound or a.road or a.grid or a.community
        items.append(
            HotItem(
                id=a.pk,
                title=a.title,
                body=a.body,
                at=a.created_at,
                places=tuple(keys),
                place_name=place.name if place is not None else "",
                lng=a.lng,
                lat=a.lat,
                supports=a.n_duplicates + a.n_follows,
                link_to=a.merged_into_id,
            )
        )
    return items


def hot_issue_groups(
    area=None,
    since: dt.date | dt.datetime | None = None,
    until: dt.date | dt.datetime | None = None,
    limit: int = 50,
    *,
    queryset=None,
    min_count: int = 2,
    recent_days: int = 7,
) -> list[HotIssueGroup]:
    """Hot-issue groups among the appeals submitted between ``since`` and ``until`` (default: the last
    30 days) inside ``area`` (an ``Area`` or an area path), hottest first; at most ``limit``.

    ``queryset`` narrows the appeals further (a page passes the user's jurisdiction). Results are
    cached for ``CACHE_TTL`` seconds under a key that changes whenever an appeal changes."""
    from linli.domains.appeals.models import Appeal, AppealFollow

    now = timezone.now()
    until_dt = _as_datetime(until, end=True) if until else now
    since_dt = _as_datetime(since, end=False) if since else until_dt - dt.timedelta(days=30)
    qs = (queryset if queryset is not None else Appeal.objects.all()).filter(
        created_at__gte=since_dt, created_at__lte=until_dt
    )
    path = _area_path(area)
    if path:
        qs = qs.filter(path__startswith=path)
    stamp = qs.aggregate(n=Count("id"), last=Max("updated_at"))
    follows = AppealFollow.objects.filter(appeal__in=qs.values("pk")).aggregate(n=Count("id"), last=Max("id"))
    key_source = "|".join(
        str(v)
        for v in (
            path,
            since_dt.isoformat(),
            until_dt.isoformat(),
            limit,
            min_count,
            recent_days,
            stamp["n"],
            stamp["last"],
            follows["n"],
            follows["last"],
            str(qs.query),
        )
    )
    key = "triage:hot:" + hashlib.sha1(key_source.encode()).hexdigest()  # noqa: S324 — a cache key
    cached = cache.get(key)
    if cached is not None:
        return cached
    items = _appeal_items(qs)
    groups = cluster_items(items, min_count=min_count)
    result = summarise(items, groups, until=min(until_dt, now), recent_days=recent_days)[:limit]
    cache.set(key, result, CACHE_TTL)
    return result


def _as_datetime(value, *, end: bool) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    moment = dt.datetime.combine(value, dt.time.max if end else dt.time.min)
    return timezone.make_aware(moment)
