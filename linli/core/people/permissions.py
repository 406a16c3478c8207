"""Who may see which part of the resident register. Every lookup of a person or household a user
asked for goes through ``access_*_by_id``; a record outside the user's scope is a 404, so its
existence does not leak.

- a resident sees their own household(s) and its members;
- staff see what lies inside their jurisdiction for a register role (grid worker: their grid;
  community staff: their community; street staff: their street; leader, dispatcher, admin: the district);
- department staff, mentors, volunteers and everyone else see nothing.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from linli.core.orgs.choices import Role
from linli.core.orgs.jurisdiction import jurisdiction_of

from .models import Household, HouseholdMember, Person

# Roles that may erase a person's data on a PIPL deletion request, inside their jurisdiction.
ERASE_ROLES = frozenset({Role.ADMIN, Role.STREET_STAFF, Role.COMMUNITY_STAFF})


def _is_resident(user) -> bool:
    return getattr(user, "kind", None) == "resident"


def _own_households(user) -> QuerySet[Household]:
    return Household.objects.filter(members__person_id=user.person_id, members__left_on__isnull=True)


def _own_household_member_ids(user):
    return HouseholdMember.objects.filter(
        household__in=_own_households(user).values("pk"), left_on__isnull=True
    ).values("person_id")


def households_visible_to(user) -> QuerySet[Household]:
    if not user.is_authenticated or not user.is_active:
        return Household.objects.none()
    if _is_resident(user) and user.person_id is None:
        return Household.objects.none()
    if _is_resident(user):
        return Household.objects.filter(pk__in=_own_households(user).values("pk"))
    return jurisdiction_of(user).filter(Household.objects.all())


def persons_visible_to(user) -> QuerySet[Person]:
    if not user.is_authenticated or not user.is_active:
        return Person.objects.none()
    if _is_resident(user) and user.person_id is None:
        return Person.objects.none()
    if _is_resident(user):
        return Person.objects.filter(Q(pk__in=_own_household_member_ids(user)) | Q(pk=user.person_id))
    return jurisdiction_of(user).filter(Person.objects.all())


def access_person_by_id(user, person_id) -> Person:
    try:
        return persons_visible_to(user).get(pk=int(person_id))
    except (Person.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def access_household_by_id(user, household_id) -> Household:
    try:
        return households_visible_to(user).get(pk=int(household_id))
    except (Household.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def can_manage_register(user) -> bool:
    """Staff who may import and edit register entries somewhere (any register role)."""
    return not _is_resident(user) and bool(jurisdiction_of(user).register_paths() or user.is_superuser)


def can_export_person(user, person: Person) -> bool:
    """The person themself (a resident's own data), or staff who can see the person."""
    if _is_resident(user):
        return user.person_id == person.pk
    return persons_visible_to(user).filter(pk=person.pk).exists()


def can_erase_person(user, person: Person) -> bool:
    if _is_resident(user):
        return False
    return jurisdiction_of(user).covers(person.path, roles=ERASE_ROLES) if person.path else user.is_superuser
