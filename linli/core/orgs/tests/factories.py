"""Accounts with roles for tests: ``make_staff(Role.GRID_WORKER, grid)`` gives a user whose jurisdiction
is ``grid``; ``make_resident(person)`` a resident account linked to a register entry."""

from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model

from linli.core.orgs.choices import OrgKind, Role
from linli.core.orgs.models import Membership, Organisation

_seq = itertools.count(1)

ORG_KIND_FOR_ROLE = {
    Role.ADMIN: OrgKind.DISTRICT_OFFICE,
    Role.LEADER: OrgKind.DISTRICT_OFFICE,
    Role.MENTOR: OrgKind.DEPARTMENT,
    Role.DISPATCHER: OrgKind.GRID_CENTRE,
    Role.DEPARTMENT_STAFF: OrgKind.DEPARTMENT,
    Role.STREET_STAFF: OrgKind.STREET_OFFICE,
    Role.COMMUNITY_STAFF: OrgKind.COMMUNITY_STATION,
    Role.GRID_WORKER: OrgKind.COMMUNITY_STATION,
    Role.PARTY_SECRETARY: OrgKind.PARTY_BRANCH,
    Role.GROUP_MEMBER: OrgKind.SELF_GOVERNANCE_GROUP,
    Role.VOLUNTEER: OrgKind.SOCIAL_ORGANISATION,
}


def make_org(kind: str, area, *, name: str | None = None, parent=None) -> Organisation:
    n = next(_seq)
    return Organisation.objects.create(
        kind=kind, code=f"T{n:05d}", name=name or f"测试组织{n}", area=area, parent=parent
    )


def make_user(*, username: str | None = None, kind: str = "staff", person=None, **extra):
    n = next(_seq)
    return get_user_model().objects.create_user(
        username=username or f"user{n}", password="x-test-password-1", kind=kind, person=person, **extra
    )


def make_staff(role: str, area, *, organisation: Organisation | None = None, username: str | None = None):
    user = make_user(username=username)
    org = organisation or make_org(ORG_KIND_FOR_ROLE[role], area)
    Membership.objects.create(user=user, organisation=org, role=role, jurisdiction=area)
    return user


def make_resident(person=None, *, username: str | None = None):
    return make_user(username=username, kind="resident", person=person)
