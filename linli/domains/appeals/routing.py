"""Who should handle an appeal. The suggester is pluggable (``LINLI_APPEALS_ROUTE_SUGGESTER``, a
dotted path to a callable ``(appeal) -> list[RouteSuggestion]``, best first); the default reads the
routing rules only. Smart triage can plug in a model and fall back to this one."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.utils.module_loading import import_string

from .models import Appeal, RoutingRule


@dataclass(frozen=True)
class RouteSuggestion:
    lead_unit_id: int
    assisting_unit_ids: tuple[int, ...] = ()
    confidence: float = 1.0  # 0..1; auto-dispatch needs LINLI_APPEALS_AUTO_DISPATCH_CONFIDENCE
    rule_id: int | None = None
    reason: str = ""
    extra: dict = field(default_factory=dict)


def _specificity(rule: RoutingRule, appeal: Appeal) -> tuple[int, int, int]:
    category_level = 2 if rule.category_id == appeal.category_id else 1
    area_depth = rule.area.path.count("/") if rule.area_id else 0
    return (category_level, area_depth, rule.priority)


def matching_rules(appeal: Appeal) -> list[RoutingRule]:
    """Active rules on the appeal's category or its parent, on an area containing the appeal (or on
    the whole district), most specific first."""
    if appeal.category_id is None:
        return []
    categories = [appeal.category_id]
    if appeal.category.parent_id:
        categories.append(appeal.category.parent_id)
    rules = (
        RoutingRule.objects.filter(category_id__in=categories, is_active=True, lead_unit__is_active=True)
        .filter(Q(area__isnull=True) | Q(area__path__in=_ancestor_paths(appeal.path)))
        .select_related("area")
        .prefetch_related("assisting_units")
    )
    return sorted(rules, key=lambda r: (_specificity(r, appeal), -r.pk), reverse=True)


def _ancestor_paths(path: str) -> list[str]:
    """'a/b/c/' → ['a/', 'a/b/', 'a/b/c/']"""
    parts = [p for p in path.split("/") if p]
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def suggest_by_rules(appeal: Appeal) -> list[RouteSuggestion]:
    rules = matching_rules(appeal)
    if not rules:
        return []
    best = _specificity(rules[0], appeal)
    tied_leads = {r.lead_unit_id for r in rules if _specificity(r, appeal) == best}
    confidence = 1.0 if len(tied_leads) == 1 else 0.5
    suggestions, seen = [], set()
    for rule in rules:
        if rule.lead_unit_id in seen:
            continue
        seen.add(rule.lead_unit_id)
        suggestions.append(
            RouteSuggestion(
                lead_unit_id=rule.lead_unit_id,
                assisting_unit_ids=tuple(sorted(u.pk for u in rule.assisting_units.all())),
                confidence=confidence if _specificity(rule, appeal) == best else 0.3,
                rule_id=rule.pk,
                reason=str(rule),
            )
        )
    return suggestions


def suggester():
    path = getattr(
        settings, "LINLI_APPEALS_ROUTE_SUGGESTER", "linli.domains.appeals.routing.suggest_by_rules"
    )
    return import_string(path)


def appeal_suggest_route(appeal: Appeal) -> list[RouteSuggestion]:
    """Suggestions for the dispatcher's route form, best first."""
    return list(suggester()(appeal))
