"""Which cases a dashboard user sees. Every dashboard endpoint starts from ``scope_of(request.user)``
and filters through ``Scope.appeals``; nothing reads appeals around it.

- the district (leader, dispatcher, administrator with the district as jurisdiction, superusers): all;
- a street or community (leader, street staff, community staff, dispatcher of a street): the cases
  placed inside it;
- a department (department staff, its leader included): the cases it leads (主办).
A user with several memberships sees the union. Grid workers, volunteers and residents see nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from linli.core.orgs.choices import Role
from linli.core.orgs.jurisdiction import jurisdiction_of

# Roles whose jurisdiction (an area) is what they see on the dashboard.
AREA_ROLES = frozenset(
    {Role.ADMIN, Role.LEADER, Role.DISPATCHER, Role.STREET_STAFF, Role.COMMUNITY_STAFF, Role.MENTOR}
)
# Roles that see the cases their organisation leads, wherever they are.
UNIT_ROLES = frozenset({Role.DEPARTMENT_STAFF})


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    paths: tuple[str, ...] = ()
    unit_ids: frozenset[int] = frozenset()

    @property
    def allowed(self) -> bool:
        return self.everything or bool(self.paths) or bool(self.unit_ids)

    @property
    def is_district(self) -> bool:
        return self.everything

    def q(self, *, path_field: str = "path", unit_field: str = "lead_unit_id") -> Q | None:
        """The condition on appeal rows, or None for everything."""
        if self.everything:
            return None
        conditions = [Q(**{f"{path_field}__startswith": p}) for p in self.paths]
        if self.unit_ids:
            conditions.append(Q(**{f"{unit_field}__in": sorted(self.unit_ids)}))
        if not conditions:
            return Q(pk__in=[])
        return reduce(or_, conditions)

    def appeals(self, queryset: QuerySet, **fields) -> QuerySet:
        condition = self.q(**fields)
        return queryset if condition is None else queryset.filter(condition)

    def covers_path(self, path: str) -> bool:
        return self.everything or any(path.startswith(p) for p in self.paths)

    def areas(self, queryset: QuerySet) -> QuerySet:
        """Areas to draw: inside the user's areas; a department sees the whole district's map."""
        if self.everything or self.unit_ids:
            return queryset
        return queryset.filter(reduce(or_, (Q(path__startswith=p) for p in self.paths)))


NOTHING = Scope()


def _district_path() -> str:
    return f"{settings.LINLI_DISTRICT_CODE}/"


def scope_of(user) -> Scope:
    j = jurisdiction_of(user)
    if j.is_superuser:
        return Scope(everything=True)
    paths = j.paths_for(AREA_ROLES)
    if any(p == _district_path() or p.count("/") <= 1 for p in paths):
        return Scope(everything=True)
    unit_ids: frozenset[int] = frozenset()
    if j.roles & UNIT_ROLES:
        from linli.core.orgs.models import Membership

        unit_ids = frozenset(
            Membership.objects.filter(user=user, is_active=True, role__in=UNIT_ROLES).values_list(
                "organisation_id", flat=True
            )
        )
    return Scope(paths=paths, unit_ids=unit_ids)


def require_scope(user) -> Scope:
    """The user's scope, or 403 when the dashboard shows them nothing."""
    scope = scope_of(user)
    if not scope.allowed:
        raise PermissionDenied("dashboard")
    return scope
