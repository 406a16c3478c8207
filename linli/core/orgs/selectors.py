"""Reads of organisations and memberships that several modules need."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet

from linli.core.places.models import Area

from .choices import Role
from .models import Membership, Organisation


def grid_workers_of(grid: Area) -> QuerySet:
    """Accounts serving as grid worker of exactly this grid."""
    return (
        get_user_model()
        .objects.filter(
            memberships__role=Role.GRID_WORKER,
            memberships__jurisdiction=grid,
            memberships__is_active=True,
            is_active=True,
        )
        .distinct()
    )


def staff_of(organisation: Organisation) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organisation=organisation, is_active=True)
        .select_related("user", "jurisdiction")
        .order_by("-is_unit_leader", "role", "user__username")
    )


def units_by_kind(kind: str, *, within: Area | None = None) -> QuerySet[Organisation]:
    """Active organisations of ``kind``, optionally those whose area lies inside ``within``."""
    qs = Organisation.objects.filter(kind=kind, is_active=True).select_related("area")
    if within is not None:
        qs = qs.filter(area__path__startswith=within.path)
    return qs


def organisation_list(*, kind: str = "", q: str = "") -> QuerySet[Organisation]:
    qs = (
        Organisation.objects.select_related("area", "parent")
        .annotate(staff_count=Count("memberships", filter=Q(memberships__is_active=True)))
        .order_by("kind", "code")
    )
    if kind:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(short_name__icontains=q) | Q(code__icontains=q))
    return qs
