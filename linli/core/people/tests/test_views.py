import json

import pytest
from django.urls import reverse

from linli.core.audit.models import AuditEvent
from linli.core.orgs.choices import Role
from linli.core.orgs.tests.factories import make_resident, make_staff
from linli.core.people import services
from linli.core.people.choices import Tag
from linli.core.privacy.masking import mask_id_number, mask_phone

from .factories import make_household


def _person(household, index=0):
    return [m.person for m in household.members.order_by("pk")][index]


@pytest.fixture
def leader(register):
    return make_staff(Role.LEADER, register.d.district)


def test_household_list_query_count_is_constant(client, small_district, django_assert_max_num_queries):
    d = small_district
    leader = make_staff(Role.LEADER, d.district)
    client.force_login(leader)
    make_household(d.flats[0], members=3, tags=[Tag.ELDERLY])
    client.get(reverse("people:household_list"))  # warm up (session, content types)
    with django_assert_max_num_queries(12) as few:
        response = client.get(reverse("people:household_list"))
    assert response.status_code == 200
    for flat in d.flats[1:30]:
        make_household(flat, members=3, tags=[Tag.ELDERLY, Tag.TENANT])
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = client.get(reverse("people:household_list"))
    assert len(response.context["page"]) == 30
    assert len(many.captured_queries) == len(few.captured_queries)


def test_household_list_filters_and_shows_householder(client, register, leader):
    client.force_login(leader)
    target = register.households[3]
    response = client.get(reverse("people:household_list"), {"grid": register.d.grids[3].pk})
    assert [h.pk for h in response.context["page"]] == [target.pk]
    assert _person(target).name in response.content.decode()
    name = _person(register.households[6], 1).name
    response = client.get(reverse("people:household_list"), {"q": name})
    assert [h.pk for h in response.context["page"]] == [register.households[6].pk]


def test_grid_filter_cannot_widen_scope(client, register):
    client.force_login(make_staff(Role.GRID_WORKER, register.d.grids[0]))
    response = client.get(reverse("people:household_list"), {"grid": register.d.grids[5].pk})
    assert [h.pk for h in response.context["page"]] == [register.households[0].pk]


def test_person_detail_masks_sensitive_fields(client, register, leader):
    person = _person(register.households[0])
    services.person_update(actor=None, person=person, phone="13900001234")
    client.force_login(leader)
    response = client.get(reverse("people:person_detail", args=[person.pk]))
    html = response.content.decode()
    assert person.id_number not in html
    assert "13900001234" not in html
    assert mask_id_number(person.id_number) in html
    assert mask_phone("13900001234") in html
    assert reverse("audit:trail", args=["people.person", person.pk]) in html
    assert response["Cache-Control"].startswith("max-age=0")


def test_reveal_shows_once_and_logs(client, register, leader):
    person = _person(register.households[0])
    client.force_login(leader)
    url = reverse("people:person_reveal", args=[person.pk])
    response = client.post(url, {"field": "id_number", "reason": ""})
    assert response.status_code == 400
    assert person.id_number not in response.content.decode()
    assert not AuditEvent.objects.filter(action="person.reveal").exists()
    response = client.post(url, {"field": "id_number", "reason": "核实高龄补贴"})
    assert response.status_code == 200
    assert person.id_number in response.content.decode()
    event = AuditEvent.objects.get(action="person.reveal")
    assert (event.actor, event.reason, event.changes["field"], event.ip_address) == (
        leader,
        "核实高龄补贴",
        "id_number",
        "127.0.0.1",
    )
    # the next plain view is masked again
    assert (
        person.id_number not in client.get(reverse("people:person_detail", args=[person.pk])).content.decode()
    )
    assert client.get(url).status_code == 405


def test_export_by_resident_for_self_only(client, register):
    me, relative = _person(register.households[1], 0), _person(register.households[1], 1)
    client.force_login(make_resident(me))
    response = client.post(reverse("people:person_export", args=[me.pk]))
    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["person"]["id_number"] == me.id_number
    assert AuditEvent.objects.filter(action="person.export", object_id=str(me.pk)).exists()
    assert client.post(reverse("people:person_export", args=[relative.pk])).status_code == 403


def test_erase_by_community_staff_not_by_grid_worker(client, register):
    person = _person(register.households[0], 1)
    client.force_login(make_staff(Role.GRID_WORKER, register.d.grids[0]))
    assert client.get(reverse("people:person_erase", args=[person.pk])).status_code == 403
    client.force_login(make_staff(Role.COMMUNITY_STAFF, register.d.communities[0]))
    url = reverse("people:person_erase", args=[person.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200
    response = client.post(url, {"reason": "本人书面申请", "confirm": "on"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.erased_at is not None and person.id_number == ""


def test_person_list_search_and_tag_counts(client, register, leader):
    target = _person(register.households[2])
    services.person_tags_set(actor=None, person=target, tags=[Tag.DISABLED])
    client.force_login(leader)
    response = client.get(reverse("people:person_list"), {"q": target.id_number})
    assert list(response.context["page"]) == [target]
    counts = {code: n for code, _label, n in response.context["tag_counts"]}
    assert counts[Tag.DISABLED] == 1


def test_anonymous_is_sent_to_sign_in(client, register, settings):
    settings.LOGIN_URL = "/accounts/login/"
    response = client.get(reverse("people:household_list"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_api_person_is_masked(client, register, leader):
    person = _person(register.households[0])
    client.force_login(leader)
    data = client.get(f"/api/v1/register/persons/{person.pk}").json()
    assert data["id_number_masked"] == mask_id_number(person.id_number)
    assert person.id_number not in json.dumps(data)
    household = client.get(f"/api/v1/register/households/{register.households[0].pk}").json()
    assert [m["relation"] for m in household["members"]] == ["householder", "child"]


def test_api_household_list_query_count(client, register, leader, django_assert_max_num_queries):
    client.force_login(leader)
    with django_assert_max_num_queries(10):
        data = client.get("/api/v1/register/households").json()
    assert data["count"] == 8
    assert all(len(item["members"]) == 2 for item in data["items"])


def test_staff_adds_member_edits_and_removes(client, register):
    household = register.households[0]
    client.force_login(make_staff(Role.GRID_WORKER, register.d.grids[0]))
    url = reverse("people:household_member_new", args=[household.pk])
    assert client.get(url).status_code == 200
    from linli.core.people.tests.factories import make_id_number

    number = make_id_number(sequence=901)
    # a second householder is refused, with the message on the form
    response = client.post(
        url, {"name": "新成员", "id_number": number, "ethnic_group": "汉族", "relation": "householder"}
    )
    assert response.status_code == 200
    assert "已有户主" in response.content.decode()
    assert not household.members.filter(person__name="新成员").exists()
    response = client.post(
        url,
        {
            "name": "新成员",
            "id_number": number,
            "ethnic_group": "汉族",
            "relation": "grandchild",
            "tags": ["tenant"],
        },
    )
    assert response.status_code == 302
    member = household.members.get(person__name="新成员")
    person = member.person
    assert person.grid == register.d.grids[0]

    edit = reverse("people:person_edit", args=[person.pk])
    response = client.post(
        edit,
        {
            "name": "新名字",
            "id_number": "",
            "phone": "13900002222",
            "ethnic_group": "汉族",
            "tags": ["tenant", "veteran"],
        },
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.name, person.phone, person.id_number) == ("新名字", "13900002222", number)
    response = client.post(edit, {"name": "新名字", "phone": "123", "ethnic_group": "汉族"})
    assert "电话号码格式不正确" in response.content.decode()

    leave = reverse("people:household_member_leave", args=[household.pk, person.pk])
    assert client.post(leave).status_code == 302
    assert not household.members.filter(person=person, left_on__isnull=True).exists()


def test_resident_cannot_edit_or_add(client, register):
    household = register.households[0]
    me = _person(household)
    client.force_login(make_resident(me))
    assert client.get(reverse("people:person_edit", args=[me.pk])).status_code == 403
    assert client.get(reverse("people:household_member_new", args=[household.pk])).status_code == 403
    assert (
        client.post(reverse("people:household_member_leave", args=[household.pk, me.pk])).status_code == 403
    )
    # outside scope is 404 before any permission question
    other = register.households[1]
    assert client.get(reverse("people:household_member_new", args=[other.pk])).status_code == 404
