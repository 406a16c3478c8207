"""Who can sign in to the demo, for ``manage.py demo_logins`` and the tests."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, IntegerField, Value, When

from linli.core.accounts.models import User
from linli.core.orgs.choices import Role
from linli.core.orgs.models import Membership

from .data.jinniu import DISTRICT_CODE
from .generator import DEMO_PASSWORD


@dataclass(frozen=True)
class StaffLogin:
    role: str
    role_label: str
    username: str
    password: str  # the demo password, or "" when the account's password has been changed since
    display_name: str
    organisation: str
    jurisdiction: str


@dataclass(frozen=True)
class ResidentLogin:
    phone: str
    username: str
    name: str
    place: str


def staff_logins() -> list[StaffLogin]:
    role_order = Case(
        *[When(role=value, then=Value(i)) for i, value in enumerate(Role.values)], output_field=IntegerField()
    )
    rows = (
        Membership.objects.filter(
            is_active=True, user__is_active=True, organisation__area__path__startswith=f"{DISTRICT_CODE}/"
        )
        .select_related("user", "organisation", "jurisdiction")
        .annotate(role_order=role_order)
        .order_by("role_order", "jurisdiction__path", "user__username")
    )
    verdicts: dict[str, bool] = {}  # demo accounts share one hash: check it once
    logins = []
    for m in rows:
        user = m.user
        if user.password not in verdicts:
            verdicts[user.password] = user.check_password(DEMO_PASSWORD)
        logins.append(
            StaffLogin(
                role=m.role,
                role_label=str(Role(m.role).label),
                username=user.username,
                password=DEMO_PASSWORD if verdicts[user.password] else "",
                display_name=user.display_name,
                organisation=m.organisation.short_name or m.organisation.name,
                jurisdiction=m.jurisdiction.name,
            )
        )
    return logins


def resident_logins() -> list[ResidentLogin]:
    users = (
        User.objects.filter(
            kind=User.Kind.RESIDENT, is_active=True, person__path__startswith=f"{DISTRICT_CODE}/"
        )
        .select_related("person")
        .order_by("username")
    )
    logins = []
    for user in users:
        member = (
            user.person.memberships.filter(left_on__isnull=True)
            .select_related("household__flat__building__compound")
            .first()
        )
        place = str(member.household.flat) if member else ""
        logins.append(
            ResidentLogin(phone=user.phone, username=user.username, name=user.person.name, place=place)
        )
    return logins
