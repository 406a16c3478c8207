import pytest
from django.http import Http404
from django.urls import reverse

from linli.core.audit.registry import access_audited_object, register, registered_types
from linli.core.audit.views import change_rows
from linli.core.orgs.choices import Role
from linli.core.orgs.tests.factories import make_staff
from linli.core.people import services
from linli.core.people.tests.factories import make_household

pytestmark = pytest.mark.django_db


def test_core_types_registered():
    assert {"people.person", "people.household", "orgs.organisation"} <= registered_types()


def test_unknown_type_is_404(small_district):
    user = make_staff(Role.LEADER, small_district.district)
    with pytest.raises(Http404):
        access_audited_object(user, "nothing.here", "1")


def test_permission_denied_becomes_404(small_district):
    from django.core.exceptions import PermissionDenied

    def deny(user, object_id):
        raise PermissionDenied

    register("tests.denied", deny)
    with pytest.raises(Http404):
        access_audited_object(None, "tests.denied", "1")


def test_trail_page_shows_events_without_secrets(client, small_district):
    d = small_district
    household = make_household(d.flats[0], members=1)
    person = household.members.get().person
    services.person_update(actor=None, person=person, phone="13900001234", name="改名后")
    worker = make_staff(Role.GRID_WORKER, d.grids[0])
    services.person_reveal(actor=worker, person=person, field="phone", reason="电话回访")
    client.force_login(worker)
    response = client.get(reverse("audit:trail", args=["people.person", person.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "person.reveal" in html and "电话回访" in html and "person.update" in html
    assert "13900001234" not in html
    assert person.id_number not in html
    actions = [e.action for e in response.context["page"]]
    assert actions[0] == "person.reveal"  # newest first
    # outside the worker's grid: 404 for the trail too
    other = make_household(d.flats[4], members=1)
    assert client.get(reverse("audit:trail", args=["people.household", other.pk])).status_code == 404
    assert client.get(reverse("audit:trail", args=["people.household", "abc"])).status_code == 404


def test_change_rows():
    assert change_rows({"name": ["a", "b"], "field": "phone", "x": [None, 1]}) == [
        ("name", "a → b"),
        ("field", "phone"),
        ("x", "∅ → 1"),
    ]


def test_audit_log_admins_only(client, small_district):
    household = make_household(small_district.flats[0], members=1)
    person = household.members.get().person
    admin = make_staff(Role.ADMIN, small_district.district)
    services.person_reveal(actor=admin, person=person, field="id_number", reason="抽查")
    client.force_login(make_staff(Role.COMMUNITY_STAFF, small_district.communities[0]))
    assert client.get(reverse("audit:log")).status_code == 403
    client.force_login(admin)
    response = client.get(reverse("audit:log"), {"action": "person.reveal"})
    assert response.status_code == 200
    assert [e.action for e in response.context["page"]] == ["person.reveal"]
    assert "抽查" in response.content.decode()
    response = client.get(reverse("audit:log"), {"actor": admin.username, "object_type": "people.household"})
    assert list(response.context["page"]) == []
