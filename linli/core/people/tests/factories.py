"""Register entries for tests, made through the services (so hashes and paths are right)."""

from __future__ import annotations

import datetime as dt
import itertools

from linli.core.people import services
from linli.core.people.choices import Relation
from linli.core.privacy import idcard

_seq = itertools.count(1)


def make_id_number(*, birth: dt.date = dt.date(1980, 5, 17), sequence: int | None = None) -> str:
    return idcard.make("510106", birth, sequence if sequence is not None else next(_seq) % 1000)


def make_person(
    *, name: str | None = None, id_number: str | None = None, phone: str = "", tags=(), actor=None
):
    n = next(_seq)
    return services.person_create(
        actor=actor,
        name=name or f"居民{n}",
        id_number=id_number if id_number is not None else make_id_number(sequence=n % 1000),
        phone=phone,
        tags=tags,
    )


def make_household(flat, *, members: int = 1, actor=None, tags=()):
    """A household in ``flat`` with a householder and ``members - 1`` children."""
    household = services.household_create(actor=actor, flat=flat)
    for i in range(members):
        person = make_person(tags=tags, actor=actor)
        services.household_member_add(
            actor=actor,
            household=household,
            person=person,
            relation=Relation.HOUSEHOLDER if i == 0 else Relation.CHILD,
        )
    return household
