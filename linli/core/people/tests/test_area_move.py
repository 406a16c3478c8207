"""A grid moved to another community by a boundary import takes its households and persons along:
the new street's staff see them, the old street's staff no longer do."""

import pytest

from linli.core.orgs.choices import Role
from linli.core.orgs.tests.factories import make_staff
from linli.core.people.models import Person
from linli.core.people.permissions import households_visible_to, persons_visible_to
from linli.core.people.tests.factories import make_household
from linli.core.places.tests.factories import move_area

pytestmark = pytest.mark.django_db


def test_households_and_persons_follow_a_moved_grid(small_district):
    d = small_district
    moving = make_household(d.flats[0], members=2)  # in grid 0: community 0, street 0
    staying = make_household(d.flats[4], members=1)  # in grid 1 (four flats a grid), which stays
    old_street = make_staff(Role.STREET_STAFF, d.streets[0])
    new_street = make_staff(Role.STREET_STAFF, d.streets[1])
    assert moving in households_visible_to(old_street)

    grid = move_area(d.grids[0], d.communities[2])  # community 2 belongs to street 1

    assert grid.path == d.communities[2].path + grid.code + "/"
    moving.refresh_from_db()
    assert moving.path == grid.path
    persons = set(Person.objects.filter(memberships__household=moving))
    assert len(persons) == 2 and {p.path for p in persons} == {grid.path}
    staying.refresh_from_db()
    assert staying.path == d.grids[1].path
    assert moving in households_visible_to(new_street) and staying not in households_visible_to(new_street)
    assert moving not in households_visible_to(old_street) and staying in households_visible_to(old_street)
    assert set(persons_visible_to(new_street)) == persons
