"""Removing the demo: everything inside the demo district, plus whatever other modules have since
hung on it (cases, bookings, visits …), deleted children first so no PROTECT link is left dangling.

Accounts are kept: the audit trail points at them (and is never deleted); ``load_demo`` reuses them
by username and gives them fresh memberships.
"""

from __future__ import annotations

from django.db import models
from django.db.models import CASCADE, PROTECT, RESTRICT, QuerySet

from linli.core.places.models import Area

_DEPENDENT = (CASCADE, PROTECT, RESTRICT)


def _reverse_relations(model: type[models.Model]):
    """Every FK or one-to-one from another model to this one, hidden ones (related_name='+') too."""
    return [
        f
        for f in model._meta.get_fields(include_hidden=True)
        if (f.one_to_many or f.one_to_one) and f.auto_created and not f.concrete
    ]


def purge(queryset: QuerySet, *, _stack: tuple = ()) -> int:
    """Delete ``queryset`` after first deleting, recursively, every row that depends on it.
    Self-references (trees such as Area.parent) are cut by setting the link to NULL. Returns the
    number of rows deleted, dependents included."""
    model = queryset.model
    deleted = 0
    for rel in _reverse_relations(model):
        if rel.on_delete not in _DEPENDENT:
            continue  # SET_NULL and friends are done by Django's delete below
        related = rel.related_model
        name = rel.field.name
        dependants = related._base_manager.filter(**{f"{name}__in": queryset.values("pk")})
        if related is model:
            if rel.field.null:
                dependants.update(**{name: None})
            continue
        if related in _stack:
            continue
        deleted += purge(dependants, _stack=(*_stack, model))
    count, _ = queryset.delete()
    return deleted + count


def demo_areas(district_code: str) -> QuerySet:
    return Area._base_manager.filter(path__startswith=f"{district_code}/")


def purge_district(district_code: str) -> int:
    return purge(demo_areas(district_code))


def remove_demo(district_code: str) -> int:
    """The demo as ``load_demo --reset`` removes it: first what each module loaded outside the
    district (``demo_unload``: the triage model versions, for one), then the district itself."""
    from .generator import demo_modules

    removed = sum(
        module.demo_unload() or 0 for _label, module in demo_modules() if hasattr(module, "demo_unload")
    )
    return removed + purge_district(district_code)
