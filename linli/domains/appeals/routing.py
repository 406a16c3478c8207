"""Who should handle an appeal. The suggester is pluggable (``LINLI_APPEALS_ROUTE_SUGGESTER``, a
dotted path to a callable ``(appeal) -> list[RouteSuggestion]``, best first); the default reads the
routing rules only. Smart triage can plug in a model and fall back to this one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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
    ancestors = _ancestor_paths(appeal.path)
    loaded = _rules_loaded.get()
    if loaded is not None:
        within = set(ancestors)
        rules = [
            r for r in loaded if r.category_id in categories and (r.area_id is None or r.area.path in within)
        ]
    else:
        rules = (
            _active_rules()
            .filter(category_id__in=categories)
            .filter(Q(area__isnull=True) | Q(area__path__in=ancestors))
        )
    return sorted(rules, key=lambda r: (_specificity(r, appeal), -r.pk), reverse=True)


def _active_rules():
    return (
        RoutingRule.objects.filter(is_active=True, lead_unit__is_active=True)
        .select_related("area", "category", "lead_unit")  # what str(rule) names
        .prefetch_related("assisting_units")
    )


_rules_loaded: ContextVar[list[RoutingRule] | None] = ContextVar("linli_routing_rules", default=None)


@contextmanager
def rules_read_once() -> Iterator[None]:
    """Inside the block ``matching_rules`` reads the active rules loaded once (a batch of intakes
    routed together) instead of querying for each appeal."""
    token = _rules_loaded.set(list(_active_rules()))
    try:
        yield
    finally:
        _rules_loaded.reset(token)


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
