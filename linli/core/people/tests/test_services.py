import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from linli.core.audit.models import AuditEvent
from linli.core.orgs.choices import Role
from linli.core.orgs.tests.factories import make_staff
from linli.core.people import services
from linli.core.people.choices import Relation, Tag
from linli.core.people.models import HouseholdMember, Person
from linli.core.people.selectors import household_list, person_search, tag_counts
from linli.core.privacy import idcard
from linli.core.privacy.lookup import id_number_hash, phone_hash

from .factories import make_household, make_person

pytestmark = pytest.mark.django_db

WOMAN_1956 = idcard.make("510106", dt.date(1956, 3, 8), 24)  # sequence 024: even → female


def _events(obj, action):
    return AuditEvent.objects.filter(object_id=str(obj.pk), action=action, object_type=obj._meta.label_lower)


def test_person_create_derives_birth_and_gender_and_hashes():
    p = services.person_create(
        actor=None,
        name=" 王芳 ",
        id_number=WOMAN_1956.lower(),
        phone="+86 139 0000 1234",
        tags=[Tag.ELDERLY, Tag.PARTY_MEMBER],
    )
    p.refresh_from_db()
    assert p.name == "王芳"
    assert p.birth_date == dt.date(1956, 3, 8)
    assert p.gender == "F"
    assert p.id_number == WOMAN_1956
    assert p.id_number_hash == id_number_hash(WOMAN_1956)
    assert p.phone == "13900001234"
    assert p.phone_hash == phone_hash("13900001234")
    assert sorted(p.tags.values_list("tag", flat=True)) == ["elderly", "party_member"]


def test_person_create_is_audited_without_clear_sensitive_values():
    p = services.person_create(actor=None, name="王芳", id_number=WOMAN_1956, phone="13900001234")
    event = _events(p, "person.create").get()
    assert event.changes["id_number"] == ["***", "***"]
    assert event.changes["phone"] == ["***", "***"]
    assert WOMAN_1956 not in str(event.changes)
    assert "13900001234" not in str(event.changes)
    assert event.changes["name"] == [None, "王芳"]


def test_id_number_is_encrypted_in_the_database():
    from django.db import connection

    p = services.person_create(actor=None, name="王芳", id_number=WOMAN_1956)
    with connection.cursor() as cur:
        cur.execute("select id_number from people_person where id = %s", [p.pk])
        stored = cur.fetchone()[0]
    assert WOMAN_1956 not in stored


def test_bad_checksum_refused():
    bad = WOMAN_1956[:-1] + ("0" if WOMAN_1956[-1] != "0" else "1")
    with pytest.raises(ValidationError) as exc:
        services.person_create(actor=None, name="王芳", id_number=bad)
    assert "id_number" in exc.value.message_dict
    assert "校验位" in exc.value.message_dict["id_number"][0]
    assert not Person.objects.exists()


def test_duplicate_id_refused_clearly():
    services.person_create(actor=None, name="王芳", id_number=WOMAN_1956)
    with pytest.raises(ValidationError) as exc:
        services.person_create(actor=None, name="另一个人", id_number=WOMAN_1956)
    assert "已在居民档案中登记" in exc.value.message_dict["id_number"][0]
    assert Person.objects.count() == 1


def test_bad_phone_and_unknown_tag_refused():
    with pytest.raises(ValidationError):
        services.person_create(actor=None, name="王芳", phone="12345")
    with pytest.raises(ValidationError):
        services.person_create(actor=None, name="王芳", tags=["nonsense"])
    assert not Person.objects.exists()


def test_person_update_audits_change_summary():
    p = make_person(name="李四")
    services.person_update(actor=None, person=p, name="李思", phone="13800001111", tags=[Tag.VETERAN])
    p.refresh_from_db()
    assert (p.name, p.phone) == ("李思", "13800001111")
    event = _events(p, "person.update").get()
    assert event.changes["name"] == ["李四", "李思"]
    assert event.changes["phone"] == ["***", "***"]
    assert event.changes["tags"] == ["[]", "['veteran']"]


def test_person_update_duplicate_id_refused():
    make_person(id_number=WOMAN_1956)
    other = make_person()
    with pytest.raises(ValidationError):
        services.person_update(actor=None, person=other, id_number=WOMAN_1956)


def test_person_update_without_change_writes_nothing():
    p = make_person(name="李四")
    services.person_update(actor=None, person=p, name="李四")
    assert not _events(p, "person.update").exists()


def test_person_tags_set_replaces_and_audits():
    p = make_person(tags=[Tag.ELDERLY, Tag.TENANT])
    services.person_tags_set(actor=None, person=p, tags=[Tag.ELDERLY, Tag.LIVING_ALONE])
    assert sorted(p.tags.values_list("tag", flat=True)) == ["elderly", "living_alone"]
    assert _events(p, "person.tags_set").get().changes["tags"] == [
        ["elderly", "tenant"],
        ["elderly", "living_alone"],
    ]


def test_household_create_copies_grid_and_path(small_district):
    flat = small_district.flats[9]
    h = services.household_create(actor=None, flat=flat)
    assert h.grid == flat.building.grid
    assert h.path == flat.building.path
    assert _events(h, "household.create").exists()


def test_household_exactly_one_householder(small_district):
    h = services.household_create(actor=None, flat=small_district.flats[0])
    a, b, c = make_person(), make_person(), make_person()
    with pytest.raises(ValidationError) as exc:
        services.household_member_add(actor=None, household=h, person=a, relation=Relation.CHILD)
    assert "请先登记户主" in str(exc.value)
    services.household_member_add(actor=None, household=h, person=a, relation=Relation.HOUSEHOLDER)
    with pytest.raises(ValidationError, match="已有户主"):
        services.household_member_add(actor=None, household=h, person=b, relation=Relation.HOUSEHOLDER)
    services.household_member_add(actor=None, household=h, person=b, relation=Relation.SPOUSE)
    with pytest.raises(ValidationError, match="已是该户成员"):
        services.household_member_add(actor=None, household=h, person=b, relation=Relation.CHILD)
    # The householder cannot leave before the others.
    with pytest.raises(ValidationError, match="变更户主"):
        services.household_member_remove(actor=None, household=h, person=a)
    services.household_householder_change(
        actor=None, household=h, person=b, previous_relation=Relation.SPOUSE
    )
    services.household_member_remove(actor=None, household=h, person=a)
    current = HouseholdMember.objects.filter(household=h, left_on__isnull=True)
    assert [(m.person, m.relation) for m in current] == [(b, Relation.HOUSEHOLDER)]
    assert c.memberships.count() == 0


def test_person_follows_current_household(small_district):
    d = small_district
    p = make_person()
    first = services.household_create(actor=None, flat=d.flats[0])
    services.household_member_add(actor=None, household=first, person=p, relation=Relation.HOUSEHOLDER)
    p.refresh_from_db()
    assert (p.grid, p.path) == (d.grids[0], d.grids[0].path)
    second = services.household_create(actor=None, flat=d.flats[20])  # grid 5
    services.household_member_add(
        actor=None,
        household=second,
        person=p,
        relation=Relation.HOUSEHOLDER,
        joined_on=dt.date.today() + dt.timedelta(days=1),
    )
    p.refresh_from_db()
    assert p.grid == d.grids[5]
    services.household_member_remove(actor=None, household=second, person=p)
    p.refresh_from_db()
    assert p.grid == d.grids[0]
    assert _events(p, "person.household_leave").exists()


def test_reveal_requires_reason_and_is_logged(small_district):
    actor = make_staff(Role.COMMUNITY_STAFF, small_district.communities[0])
    p = make_person(id_number=WOMAN_1956, phone="13900001234")
    with pytest.raises(ValidationError):
        services.person_reveal(actor=actor, person=p, field="id_number", reason="   ")
    assert not _events(p, "person.reveal").exists()
    with pytest.raises(ValidationError):
        services.person_reveal(actor=actor, person=p, field="name", reason="好奇")
    value = services.person_reveal(actor=actor, person=p, field="id_number", reason="核实低保材料")
    assert value == WOMAN_1956
    event = _events(p, "person.reveal").get()
    assert (event.actor, event.changes, event.reason) == (actor, {"field": "id_number"}, "核实低保材料")


def test_export_contains_everything_and_is_logged(small_district):
    h = make_household(small_district.flats[0], members=1)
    p = h.members.get().person
    services.person_update(actor=None, person=p, phone="13900001234")
    data = services.person_export(actor=None, person=p, reason="本人申请")
    assert data["person"]["id_number"] == p.id_number
    assert data["person"]["phone"] == "13900001234"
    assert data["households"][0]["household_id"] == h.pk
    assert data["households"][0]["relation"] == Relation.HOUSEHOLDER
    assert {e["action"] for e in data["audit_trail"]} >= {"person.create", "person.update"}
    assert _events(p, "person.export").get().reason == "本人申请"


def test_erase_clears_personal_data_keeps_trail(small_district):
    h = make_household(small_district.flats[0], members=1, tags=[Tag.ELDERLY])
    p = h.members.get().person
    services.person_update(actor=None, person=p, phone="13900001234", note="行动不便")
    number = p.id_number
    with pytest.raises(ValidationError):
        services.person_erase(actor=None, person=p, reason="")
    services.person_erase(actor=None, person=p, reason="本人书面申请删除")
    p.refresh_from_db()
    assert p.name == services.ERASED_NAME
    assert (p.id_number, p.id_number_hash, p.phone, p.phone_hash, p.note) == ("", None, "", "", "")
    assert p.erased_at is not None
    assert p.birth_date.month == 1 and p.birth_date.day == 1
    assert not p.tags.exists()
    assert HouseholdMember.objects.filter(person=p).exists()
    event = _events(p, "person.erase").get()
    assert "name" in event.changes["erased_fields"]
    assert number not in str(event.changes)
    assert AuditEvent.objects.filter(object_id=str(p.pk), action="person.create").exists()
    # the number is free to be registered again (e.g. the person returns)
    services.person_create(actor=None, name="回来了", id_number=number)
    with pytest.raises(ValidationError):
        services.person_update(actor=None, person=p, name="x")


def test_search_by_name_id_and_phone(small_district):
    a = make_person(name="张三丰", id_number=WOMAN_1956, phone="13900001234", tags=[Tag.ELDERLY])
    b = make_person(name="张无忌")
    everyone = Person.objects.all()
    assert set(person_search(everyone, q="张")) == {a, b}
    assert list(person_search(everyone, q=WOMAN_1956.lower())) == [a]
    assert list(person_search(everyone, q="139 0000 1234")) == [a]
    assert list(person_search(everyone, q="13900009999")) == []
    assert list(person_search(everyone, tag=Tag.ELDERLY)) == [a]


def test_tag_counts_in_area(small_district):
    d = small_district
    make_household(d.flats[0], members=2, tags=[Tag.ELDERLY])  # grid 0
    make_household(d.flats[4], members=1, tags=[Tag.ELDERLY, Tag.TENANT])  # grid 1
    make_household(d.flats[16], members=3, tags=[Tag.TENANT])  # grid 4, other street
    everyone = Person.objects.all()
    counts = tag_counts(everyone, area=d.communities[0])
    assert counts[Tag.ELDERLY] == 3
    assert counts[Tag.TENANT] == 1
    assert counts[Tag.DISABLED] == 0
    assert tag_counts(everyone, area=d.district)[Tag.TENANT] == 4


def test_household_list_filters(small_district):
    d = small_district
    h0 = make_household(d.flats[0], members=2, tags=[Tag.ELDERLY])
    h1 = make_household(d.flats[4], members=1)
    from linli.core.people.models import Household

    allh = Household.objects.all()
    assert list(household_list(allh, grid=d.grids[0])) == [h0]
    assert list(household_list(allh, tag=Tag.ELDERLY)) == [h0]
    name = h1.members.get().person.name
    assert list(household_list(allh, q=name)) == [h1]
    assert list(household_list(allh, q=d.compounds[1].name)) == [h1]
