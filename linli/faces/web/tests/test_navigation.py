import pytest
from django.contrib.auth.models import AnonymousUser

from linli.core.orgs.choices import Role
from linli.core.orgs.tests.factories import make_resident, make_staff, make_user
from linli.faces.web.navigation import (
    ANONYMOUS,
    EVERYONE,
    RESIDENT,
    STAFF,
    NavEntry,
    audience_of,
    entries_for,
)


def names(links):
    return [link.url_name for link in links]


def test_anonymous_visitors_see_public_pages_only(db):
    links = names(entries_for(AnonymousUser(), "/"))
    assert links[0] == "web:home"
    assert "people:household_list" not in links
    assert "audit:log" not in links


def test_entries_whose_page_does_not_exist_are_dropped(db):
    entries = (
        NavEntry("web:home", "home", "home", EVERYONE),
        NavEntry("nowhere:page", "missing", "home", EVERYONE),
    )
    assert names(entries_for(AnonymousUser(), "/", entries)) == ["web:home"]


def test_current_page_is_marked_active(db):
    links = entries_for(AnonymousUser(), "/")
    assert [link.active for link in links if link.url_name == "web:home"] == [True]
    links = entries_for(AnonymousUser(), "/places/map/")
    assert [link.url_name for link in links if link.active] == ["places:map"]


def test_grid_worker_sees_the_register_but_not_the_audit_trail(small_district):
    user = make_staff(Role.GRID_WORKER, small_district.grids[0])
    assert audience_of(user) == {STAFF, Role.GRID_WORKER}
    links = names(entries_for(user))
    assert "people:household_list" in links
    assert "orgs:organisation_list" in links
    assert "audit:log" not in links


def test_department_staff_do_not_see_the_register(small_district):
    user = make_staff(Role.DEPARTMENT_STAFF, small_district.district)
    assert "people:household_list" not in names(entries_for(user))


def test_admin_sees_administration_entries(small_district):
    user = make_staff(Role.ADMIN, small_district.district)
    links = entries_for(user)
    assert "audit:log" in [link.url_name for link in links if link.section == "admin"]


def test_volunteer_alone_is_not_staff(small_district):
    user = make_staff(Role.VOLUNTEER, small_district.grids[0])
    assert STAFF not in audience_of(user)
    assert "orgs:organisation_list" not in names(entries_for(user))


def test_resident_sees_resident_entries(db):
    user = make_resident()
    assert audience_of(user) == {RESIDENT}
    links = names(entries_for(user))
    assert "people:household_list" not in links
    assert "web:home" in links


def test_superuser_sees_everything_that_exists(db):
    user = make_user(is_superuser=True)
    links = names(entries_for(user))
    assert {"people:household_list", "audit:log", "orgs:organisation_list"} <= set(links)
    assert ANONYMOUS not in audience_of(user)


@pytest.mark.parametrize("path", ["/", "/places/map/"])
def test_context_processor_splits_sections(client, path, db):
    response = client.get("/")
    assert response.status_code == 200
    assert "nav_main" in response.context and "nav_admin" in response.context
