"""Who may see and act on which appeal. Every lookup of an appeal a user asked for goes through
``access_appeal_by_id``; services ask the ``can_*`` helpers before each transition."""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet
from django.http import Http404

from linli.core.orgs.choices import Role
from linli.core.orgs.jurisdiction import jurisdiction_of

from .models import Appeal

# Roles that dispatch: triage, route, dispatch, verify, close, supervise.
DISPATCH_ROLES = frozenset({Role.ADMIN, Role.DISPATCHER})
# Roles that see every appeal inside their jurisdiction (read only, unless they also dispatch).
READ_ROLES = frozenset(
    {Role.ADMIN, Role.LEADER, Role.DISPATCHER, Role.STREET_STAFF, Role.COMMUNITY_STAFF, Role.GRID_WORKER}
)


def is_dispatcher_for(user, appeal: Appeal) -> bool:
    """A dispatcher (or administrator) whose jurisdiction covers the appeal's place."""
    j = jurisdiction_of(user)
    return j.covers(appeal.path, roles=DISPATCH_ROLES)


def is_dispatcher(user) -> bool:
    return jurisdiction_of(user).has_role(*DISPATCH_ROLES)


def is_member_of(user, unit_id: int | None) -> bool:
    """Active staff of the unit (any role but volunteer)."""
    if unit_id is None:
        return False
    j = jurisdiction_of(user)
    if j.is_superuser:
        return True
    if not j.roles - {Role.VOLUNTEER}:
        return False
    return unit_id in j.organisation_ids


def is_grid_worker_for(user, path: str) -> bool:
    return jurisdiction_of(user).covers(path, roles={Role.GRID_WORKER})


def is_resident_of(user, appeal: Appeal) -> bool:
    return bool(user and user.is_authenticated and appeal.resident_id == user.pk)


def can_read(user, appeal: Appeal) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if is_resident_of(user, appeal):
        return True
    j = jurisdiction_of(user)
    if j.covers(appeal.path, roles=READ_ROLES):
        return True
    if j.organisation_ids and appeal.assignments.filter(unit_id__in=j.organisation_ids).exists():
        return True
    return False


def appeals_visible_to(user) -> QuerySet[Appeal]:
    """Every appeal the user may read: their own, those inside their jurisdiction, those ever
    assigned to one of their units."""
    qs = Appeal.objects.all()
    if user is None or not user.is_authenticated or not user.is_active:
        return qs.none()
    j = jurisdiction_of(user)
    if j.is_superuser:
        return qs
    conditions = [Q(resident=user)]
    paths = j.paths_for(READ_ROLES)
    if paths:
        conditions.append(reduce(or_, (Q(path__startswith=p) for p in paths)))
    staff_orgs = j.organisation_ids if j.roles - {Role.VOLUNTEER} else frozenset()
    if staff_orgs:
        conditions.append(Q(assignments__unit_id__in=staff_orgs))
    visible = qs.filter(reduce(or_, conditions))
    if staff_orgs:
        # The assignment join can repeat rows; keep the outer query simple for the caller.
        return qs.filter(pk__in=visible.values("pk"))
    return visible


def access_appeal_by_id(user, appeal_id) -> Appeal:
    """The appeal, or 404 when it does not exist or lies outside what the user may read (the two are
    not told apart, so ids cannot be probed)."""
    try:
        appeal = Appeal.objects.select_related(
            "category",
            "category__parent",
            "grid",
            "community",
            "street",
            "compound",
            "lead_unit",
        ).get(pk=appeal_id)
    except (Appeal.DoesNotExist, ValueError, TypeError):
        raise Http404("appeal") from None
    if not can_read(user, appeal):
        raise Http404("appeal")
    return appeal


def access_appeal_by_reference(user, reference: str) -> Appeal:
    appeal_id = Appeal.objects.filter(reference=reference).values_list("pk", flat=True).first()
    if appeal_id is None:
        raise Http404("appeal")
    return access_appeal_by_id(user, appeal_id)
