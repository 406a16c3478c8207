"""Result quality check (issue 5, item 5): before a handler sends a result, say what is missing.

``check_result(appeal, result_text, photos)`` returns findings, each a warning, never a refusal:

* ``too_short`` — fewer than ``MIN_CHARS`` characters once greetings are removed;
* ``off_topic`` — the result shares too little with the appeal: ``relevance`` (cosine of character
  bigram counts, greetings and reply formulas removed) below ``MIN_RELEVANCE``;
* ``no_explanation`` — no word saying what was done or why not (已…, 经核实, 处理, 整改, 答复, 因为,
  由于, 依据, 建议 …);
* ``no_photo`` — the appeal asks for a physical fix (路灯, 井盖, 垃圾, 破损, 漏水 … in its category or
  text) and the result has no photo.

The two numbers were calibrated on 2,816 real replies (``bench/triage_replies.py``, see
docs/result-quality.md): each flags roughly the worst tenth of those replies.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import asdict, dataclass

from django.utils.translation import gettext as _

from .text import normalize

__all__ = ["Finding", "check_result", "needs_photo", "relevance"]

MIN_CHARS = 50
MIN_RELEVANCE = 0.04

# Formulas that every reply carries whatever it says.
_REPLY_FORMULAS = re.compile(
    r"网友[“\"「]?[^”\"」\s]{0,20}[”\"」]?|您的留言已收悉|留言已收悉|已收悉|现(将有关情况)?回复如下|现答复如下"
    r"|感谢您?对[^。！!]{0,20}(工作|事业)的?(关心|支持|理解)(和|与)?(支持|理解|关心)?|特此(回复|答复)"
    r"|如有疑问[^。]{0,40}|联系电话[:：]?[\d\-－]+|(您好|你好)[!！,，。]?"
)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_ACTION_CUES = (
    "经核实",
    "经核查",
    "经调查",
    "经查",
    "经了解",
    "经现场",
    "已安排",
    "已派",
    "已完成",
    "已处理",
    "已整改",
    "已修复",
    "已维修",
    "已清理",
    "已清运",
    "已更换",
    "已督促",
    "已责令",
    "已协调",
    "已联系",
    "已通知",
    "已要求",
    "已拆除",
    "已恢复",
    "已对",
    "已于",
    "已将",
    "已经",
    "处理",
    "整改",
    "修复",
    "维修",
    "更换",
    "清运",
    "清理",
    "答复",
    "回复",
    "解释",
    "因为",
    "由于",
    "原因",
    "依据",
    "根据",
    "按照",
    "规定",
    "建议",
    "将于",
    "计划",
    "下一步",
    "目前",
    "暂不",
    "无法",
    "不符合",
    "不属于",
    "转交",
    "移交",
    "督促",
    "责令",
    "协调",
    "安排",
    "落实",
    "处罚",
    "查处",
    "立案",
    "约谈",
)
_PHYSICAL_CUES = (
    "路灯",
    "井盖",
    "垃圾",
    "破损",
    "损坏",
    "漏水",
    "渗水",
    "积水",
    "坑洼",
    "坑",
    "塌陷",
    "堵塞",
    "污水",
    "下水道",
    "化粪池",
    "护栏",
    "栏杆",
    "围墙",
    "树木",
    "倒伏",
    "枯枝",
    "占道",
    "乱堆",
    "杂物",
    "广告牌",
    "电线",
    "线缆",
    "飞线",
    "管道",
    "水管",
    "路面",
    "人行道",
    "盲道",
    "台阶",
    "电梯",
    "门禁",
    "垃圾桶",
    "公厕",
    "清扫",
    "维修",
    "修复",
    "更换",
)


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    severity: str = "warning"

    def as_dict(self) -> dict:
        return asdict(self)


def _content(text: str) -> str:
    """Only the Chinese characters of ``text`` that carry content (reply formulas removed)."""
    text = normalize(_REPLY_FORMULAS.sub(" ", text or ""), placeholders=False)
    return "".join(_CJK.findall(text))


def _bigrams(text: str) -> Counter:
    return Counter(text[i : i + 2] for i in range(len(text) - 1))


def relevance(appeal_text: str, result_text: str) -> float:
    """How much the result talks about what the appeal said: cosine of the character-bigram counts
    (sublinear) of the two texts' Chinese content, 0 … 1."""
    a, b = _bigrams(_content(appeal_text)), _bigrams(_content(result_text))
    if not a or not b:
        return 0.0
    wa = {k: 1 + math.log(v) for k, v in a.items()}
    wb = {k: 1 + math.log(v) for k, v in b.items()}
    dot = sum(w * wb[k] for k, w in wa.items() if k in wb)
    norm = math.sqrt(sum(w * w for w in wa.values())) * math.sqrt(sum(w * w for w in wb.values()))
    return dot / norm if norm else 0.0


def content_length(result_text: str) -> int:
    """Characters of the result once reply formulas and spaces are removed."""
    text = normalize(_REPLY_FORMULAS.sub(" ", result_text or ""), placeholders=False)
    return len(re.sub(r"\s+", "", text))


def has_explanation(result_text: str) -> bool:
    text = normalize(result_text or "", placeholders=False, boilerplate=False)
    return any(cue in text for cue in _ACTION_CUES)


def needs_photo(category_name: str, appeal_text: str) -> bool:
    text = f"{category_name or ''} {appeal_text or ''}"
    return any(cue in text for cue in _PHYSICAL_CUES)


def _category_names(appeal) -> str:
    category = getattr(appeal, "category", None)
    if category is None:
        return ""
    parent = getattr(category, "parent", None)
    return f"{category.name} {parent.name if parent is not None else ''}"


def check_result(appeal, result_text: str, photos=0, *, existing_photos: int = 0) -> list[Finding]:
    """Findings about ``result_text`` as the answer to ``appeal`` (any object with ``title``,
    ``body`` and ``category``). ``photos``: the photos sent with it (a count or a sequence);
    ``existing_photos``: result photos already on the case."""
    n_photos = photos if isinstance(photos, int) else len(list(photos or ()))
    appeal_text = f"{getattr(appeal, 'title', '')} {getattr(appeal, 'body', '')}"
    findings: list[Finding] = []
    length = content_length(result_text)
    if length < MIN_CHARS:
        findings.append(
            Finding(
                "too_short",
                _("办理结果过短（%(n)d 字）：请写明做了什么、结果如何。") % {"n": length},
            )
        )
    # Relevance of a very short text says little (it is flagged as too short already).
    if length >= MIN_CHARS and relevance(appeal_text, result_text) < MIN_RELEVANCE:
        findings.append(Finding("off_topic", _("办理结果与诉求内容关联度低：请针对诉求人反映的问题作答。")))
    if not has_explanation(result_text):
        findings.append(
            Finding(
                "no_explanation",
                _("没有说明采取了什么措施，或不能办理的原因和依据（如“经核实…已…”“因…暂无法…”）。"),
            )
        )
    if n_photos + existing_photos == 0 and needs_photo(_category_names(appeal), appeal_text):
        findings.append(Finding("no_photo", _("该诉求涉及现场整改，请上传处置后的照片。")))
    return findings
