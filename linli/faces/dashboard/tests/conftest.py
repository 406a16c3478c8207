"""A small district with appeals in several states across both streets, and one account per
dashboard audience: district leader, dispatcher, street leader, street staff, department staff,
grid worker (who sees nothing)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from linli.core.orgs.choices import OrgKind, Role
from linli.core.orgs.models import Organisation
from linli.domains.appeals import services as svc
from linli.domains.appeals.choices import AppealStatus as S
from linli.domains.appeals.tests.conftest import clock, grant, make_user, on_commit, world  # noqa: F401
from linli.domains.appeals.tests.helpers import bring_to, submit


@dataclass
class Dash:
    w: object
    leader: object
    street_leader: object
    appeals: list


@pytest.fixture
def dash(world, on_commit, settings):  # noqa: F811 - imported fixtures
    settings.LINLI_APPEALS_AUTO_DISPATCH = False
    w = world
    office = Organisation.objects.create(
        kind=OrgKind.DISTRICT_OFFICE, code="T900", name="区委区政府", area=w.d.district
    )
    leader = grant(make_user(), office, Role.LEADER, w.d.district)
    street_leader = grant(make_user(), w.street_office, Role.LEADER, w.d.streets[0])
    appeals = []
    plan = [
        (S.SUBMITTED, 0),
        (S.REGISTERED, 1),
        (S.DISPATCHED, 2),
        (S.IN_PROGRESS, 3),
        (S.HANDLED, 4),
        (S.CLOSED, 5),
        (S.CLOSED, 6),
        (S.REJECTED, 7),
        (S.CLOSED, 0),
        (S.IN_PROGRESS, 5),
    ]
    for status, grid in plan:
        appeals.append(bring_to(w, status, grid_index=grid))
    # one case led by another department, in street 2
    a = submit(w, grid_index=6)
    a = svc.appeal_register(actor=w.dispatcher, appeal=a)
    a = svc.appeal_dispatch(actor=w.dispatcher, appeal=a, lead_unit=w.housing)
    appeals.append(a)
    closed = [x for x in appeals if x.status == S.CLOSED]
    from linli.domains.appeals.choices import RatingValue

    svc.appeal_rate(actor=w.resident, appeal=closed[0], value=RatingValue.SATISFIED)
    svc.appeal_rate(actor=w.resident, appeal=closed[1], value=RatingValue.UNSATISFIED)
    return Dash(w, leader, street_leader, appeals)
