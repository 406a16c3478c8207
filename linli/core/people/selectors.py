"""Reads of the resident register that several callers need. Each takes the queryset already scoped
by ``permissions`` (``persons_visible_to`` / ``households_visible_to``) and narrows it."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db.models import Case, Count, Prefetch, Q, QuerySet, When

from linli.core.places.models import Area
from linli.core.privacy import idcard
from linli.core.privacy.lookup import id_number_hash, phone_hash

from .choices import Relation, Tag
from .models import Household, HouseholdMember, Person, PersonTag

_ID_LIKE = re.compile(r"^\d{17}[\dXx]$")


def person_search(
    persons: QuerySet[Person],
    *,
    q: str = "",
    tag: str = "",
    area: Area | None = None,
    include_erased: bool = False,
) -> QuerySet[Person]:
    """``q`` is a whole ID number or phone (matched exactly through the keyed hashes) or part of a name."""
    qs = persons.select_related("grid").prefetch_related("tags")
    if not include_erased:
        qs = qs.filter(erased_at__isnull=True)
    q = (q or "").strip()
    if q:
        qs = qs.filter(_query_filter(q))
    if tag:
        qs = qs.filter(tags__tag=tag)
    if area is not None:
        qs = qs.filter(path__startswith=area.path)
    return qs


def _query_filter(q: str) -> Q:
    if _ID_LIKE.match(idcard.normalise(q)):
        return Q(id_number_hash=id_number_hash(q))
    try:
        return Q(phone_hash=phone_hash(q))
    except ValidationError:
        return Q(name__icontains=q)


def person_find_by_id_number(number: str) -> Person | None:
    """Exact lookup for other modules (appeals, eldercare); callers check access themselves."""
    return Person.objects.filter(id_number_hash=id_number_hash(number)).first()


def person_find_by_phone(phone: str) -> QuerySet[Person]:
    try:
        return Person.objects.filter(phone_hash=phone_hash(phone), erased_at__isnull=True)
    except ValidationError:
        return Person.objects.none()


def tag_counts(persons: QuerySet[Person], *, area: Area | None = None) -> dict[str, int]:
    """``{tag: number of (not erased) persons}`` for every tag, inside ``area`` when given."""
    qs = PersonTag.objects.filter(person__in=persons.filter(erased_at__isnull=True).values("pk"))
    if area is not None:
        qs = qs.filter(person__path__startswith=area.path)
    counted = dict(qs.values_list("tag").annotate(n=Count("person", distinct=True)).order_by())
    return {tag: counted.get(tag, 0) for tag in Tag.values}


def _current_members() -> Prefetch:
    return Prefetch(
        "members",
        queryset=HouseholdMember.objects.filter(left_on__isnull=True)
        .select_related("person")
        .prefetch_related("person__tags")
        .order_by(Case(When(relation=Relation.HOUSEHOLDER, then=0), default=1), "joined_on", "pk"),
        to_attr="current_members",
    )


def household_list(
    households: QuerySet[Household], *, grid: Area | None = None, tag: str = "", q: str = ""
) -> QuerySet[Household]:
    """Households with flat, building, compound, grid and current members loaded in a fixed number of
    queries, whatever the page size."""
    qs = (
        households.filter(moved_out_on__isnull=True)
        .select_related("flat__building__compound", "grid")
        .prefetch_related(_current_members())
    )
    if grid is not None:
        qs = qs.filter(path__startswith=grid.path)
    if tag:
        qs = qs.filter(members__left_on__isnull=True, members__person__tags__tag=tag)
    q = (q or "").strip()
    if q:
        matches = person_search(Person.objects.all(), q=q).values("pk")
        qs = qs.filter(
            Q(flat__building__compound__name__icontains=q)
            | Q(members__left_on__isnull=True, members__person__in=matches)
        )
    if tag or q:
        qs = qs.distinct()
    return qs.order_by(
        "path", "flat__building__compound__name", "flat__building__name", "flat__unit", "flat__room"
    )


def household_with_members(households: QuerySet[Household], household_id: int) -> Household:
    """One household with its current members (householder first) and their tags prefetched."""
    household = (
        households.select_related("flat__building__compound", "grid")
        .prefetch_related(_current_members())
        .get(pk=household_id)
    )
    return household


def householder_of(household: Household) -> HouseholdMember | None:
    members = getattr(household, "current_members", None)
    if members is None:
        return (
            household.members.filter(left_on__isnull=True, relation=Relation.HOUSEHOLDER)
            .select_related("person")
            .first()
        )
    return next((m for m in members if m.relation == Relation.HOUSEHOLDER), None)
