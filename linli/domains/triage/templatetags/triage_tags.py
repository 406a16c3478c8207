"""Smart triage on the appeals pages, without the appeals views knowing about it:

* ``{% triage_case_panel appeal %}`` — the model's three likeliest categories with their probabilities
  and, for a case the model dispatched by itself, the "auto-dispatched" badge (dispatchers only);
* ``{% triage_auto_dispatched appeals as auto %}`` then ``{{ auto|triage_get:a.pk }}`` — the confidence
  of each automatically dispatched case on a list (one query for the whole page);
* ``{{ probability|triage_percent }}`` — a probability as a percentage for people to read;
* ``{% triage_suggest_box %}`` — the suggestion box of the resident's form (when a model is active);
* ``{{ source|triage_source_name }}`` — a model version's training source in the reader's language."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from linli.domains.appeals import permissions as appeal_permissions

from .. import selectors, suggest

register = template.Library()


@register.simple_tag
def triage_auto_dispatched(appeals) -> dict[int, float]:
    ids = [a.pk for a in appeals]
    return selectors.auto_dispatches(ids) if ids else {}


@register.filter
def triage_percent(probability) -> str:
    """A model's probability as a whole percentage. A softmax is never exactly 0 or 1 (a stored 0.0 or
    1.0 is a rounded one), so it is never shown as a flat 0 % or 100 %: "<1" below half a percent,
    ">99" from 99.5 % up."""
    if probability is None:
        return ""
    p = float(probability)
    if p < 0.005:
        return "<1"
    if p >= 0.995:
        return ">99"
    return str(int(p * 100 + 0.5))  # halves up, as Math.round in suggest.js


@register.filter
def triage_get(mapping, key):
    return (mapping or {}).get(key)


@register.filter
def triage_source_name(source: dict) -> str:
    """The sources a version records (``selectors.training_data``) name the platform's closed appeals
    and the corrections in Chinese; an imported set by the name its importer gave it."""
    names = {"platform": _("已办结诉求"), "corrections": _("调度员纠正")}
    return names.get(source.get("kind"), source.get("name", ""))


@register.inclusion_tag("triage/_case_panel.html", takes_context=True)
def triage_case_panel(context, appeal):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not appeal_permissions.is_dispatcher_for(user, appeal):
        return {"show": False}
    prediction = selectors.latest_predictions([appeal.pk]).get(appeal.pk)
    auto = selectors.auto_dispatches([appeal.pk]).get(appeal.pk)
    top = []
    if prediction is not None:
        names = selectors.category_names(e["category"] for e in prediction.top or [])
        for entry in prediction.top or []:
            category = names.get(entry["category"])
            if category is not None:
                top.append(
                    {
                        "category": category,
                        "p": entry["p"],
                        "percent": round(entry["p"] * 100),
                        "is_current": category.pk
                        in (appeal.category_id, getattr(appeal.category, "parent_id", None)),
                    }
                )
    return {
        "show": prediction is not None,
        "prediction": prediction,
        "top": top,
        "confidence": None if prediction is None else prediction.confidence,
        "auto": auto,
        "appeal": appeal,
    }


@register.inclusion_tag("triage/_suggest_box.html")
def triage_suggest_box():
    return {"enabled": suggest.active() is not None, "url": reverse("triage:suggest")}
