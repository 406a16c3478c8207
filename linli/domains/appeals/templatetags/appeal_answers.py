"""How a case's answers to its category's extra questions read on a page: the question's label,
and the answer in words — a choice by its name, a multi-value answer (a list) as its names joined,
yes/no for a bool."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

register = template.Library()


def _names(question: dict) -> dict[str, str]:
    return {
        str(c.get("key", "")) if isinstance(c, dict) else str(c): str(c.get("name", c.get("key", "")))
        if isinstance(c, dict)
        else str(c)
        for c in question.get("choices") or []
    }


def answer_text(question: dict, value) -> str:
    names = _names(question)
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, (list, tuple)):
        return "、".join(names.get(str(v), str(v)) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return names.get(str(value), str(value))


@register.filter
def answer_rows(appeal) -> list[tuple[str, str]]:
    """(label, text) for each answer of ``appeal``, in the category's question order first."""
    questions = {q.get("code"): q for q in (appeal.category.questions if appeal.category_id else None) or []}
    answers = appeal.answers or {}
    order = [c for c in questions if c in answers] + [c for c in answers if c not in questions]
    return [
        (questions.get(c, {}).get("label", c), answer_text(questions.get(c, {}), answers[c])) for c in order
    ]
