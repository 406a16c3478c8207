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
5. Label = place · problem: the place most often named in the group, and a phrase of 2–8 characters
   that occurs in the group's titles (``_problem_phrase``): titles are cut into words with their parts
   of speech (jieba.posseg's dictionary); runs of nouns, verbs and adjectives, broken by function
   words, pronouns, adverbs, time words, numbers, place names of the group and vague words (请问, 疑惑,
   希望 …), give the candidate spans, scored by (titles in the group containing it × IDF over all
   titles), a little more for two or three words and for a verb or adjective, less for names and for
   what a title asks for after 建议/希望; the best one is extended to a longer span that at least
   half as many titles contain. Without any: the group's category, else the central title shortened.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np
from django.core.cache import cache
from django.db.models import Count, Max
from django.utils import timezone
from sklearn.feature_extraction.text import TfidfVectorizer

from linli.core.places.coords import haversine_m

from .text import dictionary_tag, normalize, pos_segment

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
    sharing one are in the same place); ``place_name``: the readable name of its most specific place;
    ``category``: its category's name, the label's last resort."""

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
    category: str = ""


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
    prefixes of anonymised texts (a letter, optional digits, then 市/区/县) removed. A heuristic: it
    can return pieces that are not places."""
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

# Parts of speech (jieba's tags) a problem phrase is made of: nouns, verbs, verbal nouns, adjectives,
# set phrases (l, i), abbreviations (j), distinguishing words (非法, 公共), state words, Latin words
# (ktv) and words jieba's HMM found outside its dictionary (违停, 改商 — "un"). Everything else breaks
# a phrase: pronouns, adverbs, prepositions, conjunctions, particles, interjections, time words,
# numbers and measure words, directions (附近, 楼下), names of people and places.
_PHRASE_TAGS = frozenset("n nz nl vn v vd vi a an l i j b z eng un ns ng zg".split())
_PREDICATE_TAGS = frozenset({"v", "vn", "vd", "vi", "a", "an", "l", "i", "z"})
_NOUN_TAGS = frozenset({"n", "nz", "nl", "vn", "an", "j", "l", "i"})
# Problem words jieba's dictionary tags as nouns; a word beginning with 太/不/没 is a predicate too.
_PREDICATES = frozenset({"扰民", "动工", "通车", "清运", "漏水", "积水", "渗水", "不合理", "太暗", "乱收费"})
# Words after which a title says what it wants done (the remedy), not what is wrong.
_REQUESTS = frozenset({"建议", "希望", "要求", "请求", "恳请", "呼吁", "强烈建议", "申请"})
# The first character of a word right after a number that belongs to the number: 7号线, 3栋, 二期.
_MEASURE = frozenset("号栋幢期楼层单元室线路米元万千百个条次年月日天岁")
# Adverbs that belong to the phrase when a verb or adjective follows: 路灯不亮, 随意变道, 乱收费.
_BOUND_ADVERBS = frozenset({"不", "未", "没", "乱", "私自", "擅自", "随意", "随地"})
# Words of any part of speech that say how or to whom an appeal is made, not what the problem is.
_VAGUE_WORDS = frozenset(
    """
    问题 反映 反应 关于 投诉 举报 咨询 询问 请求 要求 希望 建议 请问 问问 问下 恳请 呼吁 敦促 督促 求助 盼望
    期望 强烈 坚决 反对 急需 尽快 何时 为何 为什么 什么 怎么 怎么办 如何 是否 能否 能不能 可否 有没有 到底
    多久 一直 长期 至今 迟迟 依然 仍然 公然 还是 已经 不能 可以 能够 应该 需要 必须 想 要 能 会 请 让
    给 找 走 解决 处理 整改 整治 治理 重视 关注 过问 落实 回复 答复 说法 交代 疑惑 疑问 困惑 正式 进一步
    相关 有关 情况 现象 事情 事宜 现状 进展 情怀 心声 些许 几点 两点 一下 一些 几个 多个 很多 各种 这种
    严重 非常 特别 十分 极其 太 很 真的 市民 居民 业主 群众 百姓 老百姓 民众 住户 人民 本人 我家 大家
    部门 有关部门 相关部门 政府 领导 市长 书记 区长 县长 局长 主任 工作人员 您好 你好 谢谢 感谢 小区 社区
    街道 附近 周边 门口 旁边 一个 这个 那个 我们 他们 没有 存在 进行 出现 造成 导致 影响 严重影响 合理吗
    强烈建议 时候 才能 方向 到 去 来 说 看 问 有 是 政府部门 职能部门 有限公司 股份有限公司 股份 集团
    """.split()
)
_AREA_WORD = re.compile(r"[\u4e00-\u9fff]{2}省|经开区|高新区|开发区")
# A word ending in one of these is a name glued to a function word (HMM: "人装", "城到") or a verb
# that only leads to a place (延至, 拖到).
_GLUED = frozenset(_FUNCTION + "何么吗呢吧啊到往至于在")
# Time words that name the problem's time, not the appeal's: 夜间施工, 凌晨噪音, 夜宵摊.
_TIME_CONTENT = frozenset({"夜间", "夜里", "晚上", "深夜", "半夜", "凌晨", "夜宵", "早晚", "白天"})
_PHASE = re.compile(r"^[一二三四五六七八九十\d]+期$")  # 二期 (of a development)
# Words that may be names: jieba's place names and the words its HMM found (伊景园, 星沙 — but also
# 违停, 两证); such a word counts as a name when a place name of the items being grouped begins with
# it (丽发 of 丽发新城) or, found by the HMM, it has three characters or more.
_NAME_TAGS = frozenset({"un", "ns"})
_SEPARATOR = " | "
_CJK = re.compile(r"^[\u4e00-\u9fff]$")
PHRASE_CHARS = (2, 8)


def _label_text(title: str) -> str:
    """The title as labels see it: normalised, administrative prefixes ("A市", "A7县", "经开区") cut."""
    text = _ADMIN_PREFIX.sub(" ", normalize(title, placeholders=False))
    return _AREA_WORD.sub(" ", text)


def _phrase_runs(text: str) -> list[tuple[list[tuple[str, str]], bool]]:
    """Runs of consecutive words of ``text`` that may belong to a problem phrase, each with whether
    it follows a request word (建议提质改造: a remedy)."""
    words = []
    for word, tag in pos_segment(text):
        if word in _PREDICATES or (len(word) > 1 and word[0] in "太不没"):
            tag = "a"
        previous = words[-1] if words else ("", "")
        if len(word) == 1 and previous[1] == "v" and len(previous[0]) == 1 and _CJK.match(word):
            if not {word, previous[0]} & (_GLUED | _VAGUE_WORDS):  # a verb and its object jieba split: 占|道
                words[-1] = (previous[0] + word, "v")
                continue
        words.append((word, tag))
    runs: list[tuple[list[tuple[str, str]], bool]] = []
    run: list[tuple[str, str]] = []
    remedy = False
    for k, (word, tag) in enumerate(words):
        following = words[k + 1][1] if k + 1 < len(words) else ""
        if word in _VAGUE_WORDS or _PHASE.match(word):
            keep = False
        elif k and words[k - 1][1] == "m" and word[0] in _MEASURE:
            keep = False
        elif word in _TIME_CONTENT:
            keep = True
        elif word in _BOUND_ADVERBS:
            keep = following in _PREDICATE_TAGS
        elif word[-1] in _GLUED and len(word) > 1:
            keep = False
        else:
            keep = tag in _PHRASE_TAGS
        if keep:
            if not run:
                remedy = k > 0 and words[k - 1][0] in _REQUESTS
            run.append((word, tag))
        elif run:
            runs.append((run, remedy))
            run = []
    if run:
        runs.append((run, remedy))
    return runs


@dataclass(frozen=True)
class _Span:
    text: str
    words: int
    predicate: bool  # a verb or an adjective in it: 扰民, 不亮, 拖欠
    name_words: tuple[tuple[str, str], ...]  # words that may be names, with their tags
    remedy: bool = False  # right after a request word: what is wanted, not what is wrong
    names: bool = False  # a name in it (set by ``_problem_phrase``)
    next_word: str = ""  # the word after it in its run ("" at the run's end)
    first_word: str = ""


def _spans(run: list[tuple[str, str]]) -> Iterable[_Span]:
    """Contiguous spans of a run that can stand as a phrase: 2–8 characters; not beginning with a
    single character unless it is a bound adverb (乱收费), a verb before a noun (建搅拌站) or the
    start of a word jieba cut the other way (路|灯不亮: 路灯); not ending with a single character
    unless it is a verb or adjective (路灯坏) or closes a longer word (夜宵摊, 搅拌厂); not made of
    single characters or Latin letters only."""
    low, high = PHRASE_CHARS
    for i in range(len(run)):
        first, first_tag = run[i]
        if len(first) == 1 and first not in _BOUND_ADVERBS:
            if i + 1 == len(run):
                continue
            following, following_tag = run[i + 1]
            verb_object = first_tag == "v" and following_tag in _NOUN_TAGS
            if not verb_object and dictionary_tag(first + following[0]) is None:
                continue
        size = 0
        for j in range(i, len(run)):
            last, last_tag = run[j]
            size += len(last)
            if size > high:
                break
            part = run[i : j + 1]
            if size < low or last in _BOUND_ADVERBS:
                continue
            if len(last) == 1 and last_tag not in ("v", "a") and not (j > i and len(run[j - 1][0]) >= 2):
                continue
            if all(len(w) == 1 for w, _ in part) or all(t == "eng" for _, t in part):
                continue
            yield _Span(
                text="".join(w for w, _ in part),
                words=j - i + 1,
                predicate=any(t in _PREDICATE_TAGS for _, t in part),
                name_words=tuple((w, t) for w, t in part if t in _NAME_TAGS),
                next_word=run[j + 1][0] if j + 1 < len(run) else "",
                first_word=first,
            )


def _mask(text: str, places: Sequence[str]) -> str:
    for place in places:
        text = text.replace(place, _SEPARATOR)
    return text


class _TitleIndex:
    """All the titles being grouped, for the IDF of a phrase: in how many of them it occurs. Beyond
    a few titles rarity adds nothing (a name in two titles is not a better label than a problem in
    eight), so the IDF is capped at that of a phrase in ``RARE`` titles."""

    RARE = 8

    def __init__(self, texts: Sequence[str], places: Iterable[str] = ()):
        self.n = len(texts)
        self.joined = "\n".join(texts)
        self.places = "\n" + "\n".join(sorted({p for p in places if p}))
        self.df: dict[str, int] = {}
        self.cap = self._idf(min(self.RARE, max(self.n // 20, 1)))

    def _idf(self, df: int) -> float:
        return math.log((self.n + 1) / (df + 1)) + 1.0

    def idf(self, phrase: str) -> float:
        df = self.df.get(phrase)
        if df is None:
            df = self.df[phrase] = self.joined.count(phrase)
        return min(self._idf(df), self.cap)

    def is_name(self, word: str, tag: str) -> bool:
        return (tag == "un" and len(word) >= 3) or "\n" + word in self.places


def _shape(span: _Span) -> float:
    """How much a span looks like a problem phrase: two or three words, a verb or adjective in it,
    more than three characters; a name in it, or being the remedy asked for, counts against it."""
    factor = 1.0 + 0.25 * (min(span.words, 3) - 1)
    if span.predicate:
        factor *= 1.2
    if len(span.text) <= 3:
        factor *= 0.9
    if span.names:
        factor *= 0.5
    if span.remedy:
        factor *= 0.8
    return factor


def _problem_phrase(
    texts: Sequence[str],
    medoid: str,
    index: _TitleIndex,
    places: Iterable[str],
    *,
    other_places: Iterable[str] = (),
    category: str = "",
) -> str:
    """The problem part of a label, from the group's titles (``texts``, as ``_label_text`` gives
    them) with the group's ``places`` cut out:

    1. the span with the highest (titles in the group containing it × IDF over all titles ×
       ``_shape`` × 0.85 if it is always followed by the same word, a piece of a longer phrase),
       among the spans at least two titles contain if the group has two titles and there are such
       spans; a span inside one of ``other_places`` (other place names the members mention) counts
       as a name;
    2. extended to the longest span containing it that at least half as many titles contain, with
       no name if it had none, preferably not a piece of a longer phrase (搅拌 → 搅拌站噪音,
       捆绑销售 → 捆绑销售车位, 路灯 → 路灯不亮).

    Without any span: ``category``, else the longest piece of the most central title."""
    places = sorted({p for p in places if p and len(p) >= 2}, key=len, reverse=True)
    other_places = [p for p in other_places if p and len(p) >= 2 and p not in places]
    spans: dict[str, _Span] = {}
    following: dict[str, set[str]] = {}
    for text in set(texts):
        for run, remedy in _phrase_runs(_mask(text, places)):
            for span in _spans(run):
                if any(span.text in p for p in places):
                    continue  # the place is not repeated: "洪山公园 · 公园"
                following.setdefault(span.text, set()).add(span.next_word)
                if span.text in spans:
                    continue
                names = any(index.is_name(w, t) for w, t in span.name_words)
                spans[span.text] = replace(
                    span, names=names or any(span.text in p for p in other_places), remedy=remedy
                )
    counted = {phrase: sum(1 for t in texts if phrase in t) for phrase in spans}
    usable = list(spans)
    if len(texts) >= 2 and any(n >= 2 for n in counted.values()):
        usable = [p for p in usable if counted[p] >= 2]
    if not usable:
        if category:
            return category
        pieces = [p for p in re.split(r"[\W_]+", _mask(medoid, places)) if p]
        short = max(pieces, key=len, default="")
        return short if len(short) <= 10 else short[:10] + "…"

    def cut(phrase: str) -> float:  # always followed by the same word of its run: 门面烧烤夜宵|摊
        return 0.85 if len(following[phrase]) == 1 and "" not in following[phrase] else 1.0

    def score(phrase: str) -> float:
        return counted[phrase] * _shape(spans[phrase]) * cut(phrase) * index.idf(phrase)

    # Best first by an upper bound of the score, so that few IDFs need counting.
    bounds = sorted(
        ((counted[p] * _shape(spans[p]) * index.cap, p) for p in usable), key=lambda b: (-b[0], b[1])
    )
    best, best_score = "", -1.0
    for bound, phrase in bounds:
        if bound < best_score:
            break
        value = score(phrase)
        if value > best_score or (value == best_score and (-len(phrase), phrase) < (-len(best), best)):
            best, best_score = phrase, value
    longer = [
        p
        for p in usable
        if best in p
        and 2 * counted[p] >= counted[best]
        and spans[p].names <= spans[best].names
        and (p.startswith(best) or len(spans[p].first_word) > 1)  # not 搅拌站 → 建搅拌站
    ]
    whole = [p for p in longer if cut(p) == 1.0] or longer
    return max(whole, key=lambda p: (len(p), score(p), p))


def _centrality(sub) -> np.ndarray:
    """Each row's mean similarity to the rows of ``sub`` (a sparse matrix), that is its dot product
    with their mean, in time proportional to the non-zero entries."""
    sub = sub.tocsr()
    _, column = np.unique(sub.indices, return_inverse=True)
    totals = np.bincount(column, weights=sub.data)
    rows = np.repeat(np.arange(sub.shape[0]), np.diff(sub.indptr))
    return np.bincount(rows, weights=sub.data * totals[column], minlength=sub.shape[0]) / sub.shape[0]


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
) -> list[HotIssueGroup]:
    """One ``HotIssueGroup`` per group of indices, hottest first."""
    items = list(items)
    groups = list(groups)
    if not groups:
        return []
    until = until or max(i.at for i in items)
    x = _vectors(items) if matrix is None else matrix
    texts = [_label_text(i.title) for i in items]
    index = _TitleIndex(texts, (p for i in items for p in (*i.places, i.place_name)))
    recent_start = until - dt.timedelta(days=recent_days)
    previous_start = recent_start - dt.timedelta(days=recent_days)
    result = []
    for members in groups:
        group = [items[k] for k in members]
        sub = x[members]
        centrality = _centrality(sub)
        medoid_at = int(np.argmax(centrality))
        names = Counter()
        names.update(i.place_name for i in group if i.place_name)
        place = names.most_common(1)[0][0] if names else ""
        # The names of the members' places, not every place key: in imported text those are any
        # "xx园", "xx路" found, some of them pieces of the problem ("配套幼儿园").
        mentioned = {i.place_name for i in group} | {place}
        # Place names in the titles count as names too: a platform appeal's place keys are ids, and
        # "力作苑小区路灯不亮" must not be labelled "力作".
        others = {p for i in group for p in (*i.places, *place_mentions(i.title)) if ":" not in p}
        categories = Counter(i.category for i in group if i.category)
        problem = _problem_phrase(
            [texts[k] for k in members],
            texts[members[medoid_at]],
            index,
            mentioned,
            other_places=others,
            category=categories.most_common(1)[0][0] if categories else "",
        )
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
        "compound", "road", "community", "grid", "category"
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
                category=a.category.name if a.category_id else "",
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
