"""What part of the district a signed-in account may see and act in.

Every lookup of a record a user asked for goes through an ``access_*`` helper in the owning app's
``permissions.py``; those helpers ask this module for the user's jurisdiction and filter by area path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

from .choices import REGISTER_ROLES, Role


@dataclass(frozen=True)
class Jurisdiction:
    roles: frozenset[str] = frozenset()
    # Area paths per role: {"grid_worker": ("510106/…/510106001001003/",), …}
    paths_by_role: dict[str, tuple[str, ...]] = field(default_factory=dict)
    organisation_ids: frozenset[int] = frozenset()
    is_superuser: bool = False

    def has_role(self, *roles: str) -> bool:
        return self.is_superuser or bool(self.roles.intersection(roles))

    def paths_for(self, roles) -> tuple[str, ...]:
        """The area paths where the user holds any of ``roles``, with nested ones dropped."""
        paths = sorted({p for r in roles for p in self.paths_by_role.get(r, ())})
        kept: list[str] = []
        for p in paths:
            if not any(p.startswith(k) for k in kept):
                kept.append(p)
        return tuple(kept)

    def register_paths(self) -> tuple[str, ...]:
        return self.paths_for(REGISTER_ROLES)

    def covers(self, path: str, roles=REGISTER_ROLES) -> bool:
        if self.is_superuser:
            return True
        return any(path.startswith(p) for p in self.paths_for(roles))

    def filter(self, queryset: QuerySet, *, path_field: str = "path", roles=REGISTER_ROLES) -> QuerySet:
        """Rows whose area path lies inside the user's jurisdiction for ``roles``; none if it has none."""
        if self.is_superuser:
            return queryset
        paths = self.paths_for(roles)
        if not paths:
            return queryset.none()
        return queryset.filter(reduce(or_, (Q(**{f"{path_field}__startswith": p}) for p in paths)))


NOBODY = Jurisdiction()


def jurisdiction_of(user) -> Jurisdiction:
    """Computed once per request and kept on the user object."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NOBODY
    cached = getattr(user, "_linli_jurisdiction", None)
    if cached is not None:
        return cached
    from .models import Membership

    paths: dict[str, list[str]] = {}
    orgs: set[int] = set()
    for role, path, org_id in Membership.objects.filter(user=user, is_active=True).values_list(
        "role", "jurisdiction__path", "organisation_id"
    ):
        paths.setdefault(role, []).append(path)
        orgs.add(org_id)
    result = Jurisdiction(
        roles=frozenset(paths),
        paths_by_role={role: tuple(p) for role, p in paths.items()},
        organisation_ids=frozenset(orgs),
        is_superuser=user.is_superuser,
    )
    user._linli_jurisdiction = result
    return result


def is_staff_member(user) -> bool:
    j = jurisdiction_of(user)
    return j.is_superuser or bool(j.roles - {Role.VOLUNTEER})
