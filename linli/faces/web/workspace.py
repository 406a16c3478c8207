"""What the home page shows a signed-in staff member or resident."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import pgettext_lazy

from linli.core.orgs.jurisdiction import jurisdiction_of
from linli.core.orgs.models import Membership
from linli.core.people.models import Household, HouseholdMember, Person
from linli.core.places.choices import AreaKind
from linli.core.places.models import Area, Compound


@dataclass(frozen=True)
class Count:
    label: str
    value: int
    icon: str


def staff_memberships(user):
    return list(
        Membership.objects.filter(user=user, is_active=True)
        .select_related("organisation", "jurisdiction")
        .order_by("role", "jurisdiction__path")
    )


def jurisdiction_counts(user) -> list[Count]:
    """Grids, compounds, households and residents inside the user's register jurisdiction; empty for
    staff who may not read the register."""
    j = jurisdiction_of(user)
    if not (j.is_superuser or j.register_paths()):
        return []
    grids = j.filter(Area.objects.filter(kind=AreaKind.GRID)).count()
    compounds = j.filter(Compound.objects.all()).count()
    households = j.filter(Household.objects.filter(moved_out_on__isnull=True)).count()
    residents = j.filter(Person.objects.filter(erased_at__isnull=True)).count()
    return [
        Count(pgettext_lazy("count", "网格"), grids, "grid"),
        Count(pgettext_lazy("count", "小区/院落"), compounds, "building"),
        Count(pgettext_lazy("count", "住户"), households, "home-group"),
        Count(pgettext_lazy("count", "居民"), residents, "person"),
    ]


def resident_household(user):
    """The household the resident's register entry currently belongs to, or None."""
    person_id = getattr(user, "person_id", None)
    if person_id is None:
        return None
    member = (
        HouseholdMember.objects.filter(person_id=person_id, left_on__isnull=True)
        .select_related("household__flat__building__compound", "household__grid")
        .first()
    )
    return member.household if member else None
