"""Who sees which household and person — each role inside and outside its jurisdiction, through the
helpers, the pages and the API."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.urls import reverse

from linli.core.orgs.choices import Role
from linli.core.orgs.tests.factories import make_resident, make_staff, make_user
from linli.core.people.permissions import (
    access_household_by_id,
    access_person_by_id,
    households_visible_to,
    persons_visible_to,
)

ALL = set(range(8))

# (role, where the membership is: attribute of small_district and index, households it sees)
STAFF_CASES = [
    (Role.GRID_WORKER, ("grids", 0), {0}),
    (Role.GRID_WORKER, ("grids", 5), {5}),
    (Role.COMMUNITY_STAFF, ("communities", 0), {0, 1}),
    (Role.COMMUNITY_STAFF, ("communities", 3), {6, 7}),
    (Role.STREET_STAFF, ("streets", 0), {0, 1, 2, 3}),
    (Role.STREET_STAFF, ("streets", 1), {4, 5, 6, 7}),
    (Role.LEADER, ("district", None), ALL),
    (Role.DISPATCHER, ("district", None), ALL),
    (Role.ADMIN, ("district", None), ALL),
    (Role.DEPARTMENT_STAFF, ("district", None), set()),
    (Role.MENTOR, ("district", None), set()),
    (Role.VOLUNTEER, ("communities", 0), set()),
    (Role.PARTY_SECRETARY, ("communities", 0), set()),
]


def _area(d, where):
    attr, index = where
    value = getattr(d, attr)
    return value if index is None else value[index]


def _visible_indices(register, qs):
    ids = set(qs.values_list("pk", flat=True))
    return {i for i, h in enumerate(register.households) if h.pk in ids}


def _people_of(household):
    return [m.person for m in household.members.all()]


@pytest.mark.parametrize(("role", "where", "expected"), STAFF_CASES)
def test_staff_scope_through_helpers(register, role, where, expected):
    user = make_staff(role, _area(register.d, where))
    assert _visible_indices(register, households_visible_to(user)) == expected
    visible_people = set(persons_visible_to(user).values_list("pk", flat=True))
    for i, household in enumerate(register.households):
        people = _people_of(household)
        if i in expected:
            assert access_household_by_id(user, household.pk) == household
            assert {p.pk for p in people} <= visible_people
            assert access_person_by_id(user, people[0].pk) == people[0]
        else:
            with pytest.raises(Http404):
                access_household_by_id(user, household.pk)
            with pytest.raises(Http404):
                access_person_by_id(user, people[1].pk)
            assert not ({p.pk for p in people} & visible_people)


def test_grid_worker_with_two_grids_sees_both(register):
    user = make_staff(Role.GRID_WORKER, register.d.grids[0])
    make_staff(Role.GRID_WORKER, register.d.grids[3])  # someone else
    from linli.core.orgs.models import Membership

    first = Membership.objects.get(user=user)
    Membership.objects.create(
        user=user, organisation=first.organisation, role=Role.GRID_WORKER, jurisdiction=register.d.grids[1]
    )
    assert _visible_indices(register, households_visible_to(user)) == {0, 1}


def test_inactive_membership_gives_nothing(register):
    user = make_staff(Role.COMMUNITY_STAFF, register.d.communities[0])
    user.memberships.update(is_active=False)
    assert not households_visible_to(user).exists()


def test_resident_sees_only_own_household(register):
    household = register.households[2]
    me, relative = _people_of(household)
    user = make_resident(me)
    assert _visible_indices(register, households_visible_to(user)) == {2}
    assert set(persons_visible_to(user).values_list("pk", flat=True)) == {me.pk, relative.pk}
    assert access_person_by_id(user, relative.pk) == relative
    with pytest.raises(Http404):
        access_person_by_id(user, _people_of(register.households[3])[0].pk)
    with pytest.raises(Http404):
        access_household_by_id(user, register.households[3].pk)


def test_resident_who_left_loses_the_household(register):
    from linli.core.people.services import household_member_remove

    household = register.households[2]
    me, householder = _people_of(household)[1], _people_of(household)[0]
    user = make_resident(me)
    household_member_remove(actor=None, household=household, person=me)
    assert not households_visible_to(user).exists()
    assert list(persons_visible_to(user)) == [me]  # still their own entry
    assert householder not in persons_visible_to(user)


def test_resident_without_register_entry_sees_nothing(register):
    user = make_resident(None)
    assert not households_visible_to(user).exists()
    assert not persons_visible_to(user).exists()


def test_anonymous_sees_nothing(register):
    assert not households_visible_to(AnonymousUser()).exists()
    assert not persons_visible_to(AnonymousUser()).exists()
    with pytest.raises(Http404):
        access_household_by_id(AnonymousUser(), register.households[0].pk)


def test_superuser_sees_everything(register):
    user = make_user(is_superuser=True)
    assert _visible_indices(register, households_visible_to(user)) == ALL


def test_inactive_account_sees_nothing(register):
    user = make_staff(Role.LEADER, register.d.district)
    user.is_active = False
    assert not households_visible_to(user).exists()


def test_garbage_ids_are_404(register):
    user = make_staff(Role.LEADER, register.d.district)
    for bad in ("abc", None, "999999"):
        with pytest.raises(Http404):
            access_person_by_id(user, bad)


# --- through the pages and the API -------------------------------------------------------------------


PAGE_CASES = [
    (Role.GRID_WORKER, ("grids", 1), 1, 2),
    (Role.COMMUNITY_STAFF, ("communities", 1), 2, 0),
    (Role.STREET_STAFF, ("streets", 1), 7, 3),
    (Role.DISPATCHER, ("district", None), 0, None),
    (Role.DEPARTMENT_STAFF, ("district", None), None, 0),
    (Role.VOLUNTEER, ("communities", 0), None, 0),
]


@pytest.mark.parametrize(("role", "where", "inside", "outside"), PAGE_CASES)
def test_pages_and_api_inside_and_outside(client, register, role, where, inside, outside):
    client.force_login(make_staff(role, _area(register.d, where)))
    checks = []
    if inside is not None:
        checks.append((register.households[inside], 200))
    if outside is not None:
        checks.append((register.households[outside], 404))
    for household, status in checks:
        person = _people_of(household)[0]
        assert client.get(reverse("people:household_detail", args=[household.pk])).status_code == status
        assert client.get(reverse("people:person_detail", args=[person.pk])).status_code == status
        assert client.get(f"/api/v1/register/households/{household.pk}").status_code == status
        assert client.get(f"/api/v1/register/persons/{person.pk}").status_code == status
        assert client.get(reverse("audit:trail", args=["people.person", person.pk])).status_code == status
        assert (
            client.get(reverse("audit:trail", args=["people.household", household.pk])).status_code == status
        )
        reveal = client.post(
            reverse("people:person_reveal", args=[person.pk]), {"field": "id_number", "reason": "核实"}
        )
        assert reveal.status_code == status


def test_api_list_is_scoped(client, register):
    client.force_login(make_staff(Role.COMMUNITY_STAFF, register.d.communities[2]))
    data = client.get("/api/v1/register/households").json()
    assert data["count"] == 2
    assert {item["id"] for item in data["items"]} == {register.households[4].pk, register.households[5].pk}


def test_api_resident_sees_own_household_only(client, register):
    me = _people_of(register.households[6])[0]
    client.force_login(make_resident(me))
    data = client.get("/api/v1/register/households").json()
    assert [item["id"] for item in data["items"]] == [register.households[6].pk]
    assert client.get(f"/api/v1/register/households/{register.households[5].pk}").status_code == 404


def test_api_requires_session(client, register):
    assert client.get("/api/v1/register/households").status_code == 401
    assert (
        client.get(f"/api/v1/register/persons/{_people_of(register.households[0])[0].pk}").status_code == 401
    )


def test_page_list_is_scoped(client, register):
    client.force_login(make_staff(Role.GRID_WORKER, register.d.grids[4]))
    response = client.get(reverse("people:household_list"))
    assert response.status_code == 200
    assert [h.pk for h in response.context["page"]] == [register.households[4].pk]
