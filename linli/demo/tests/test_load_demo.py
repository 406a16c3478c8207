"""The Jinniu demo, loaded small (200 residents; the geography is always full size): what it contains."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.management import call_command
from shapely.geometry import Point, shape

from linli.core.accounts.models import User
from linli.core.audit.models import AuditEvent
from linli.core.orgs.choices import OrgKind, Role
from linli.core.orgs.models import Membership, Organisation
from linli.core.people.choices import Relation, Tag
from linli.core.people.models import Household, HouseholdMember, Person, PersonTag
from linli.core.places.choices import AreaKind
from linli.core.places.models import Area, Building, Compound, Flat, Road
from linli.core.privacy import idcard
from linli.core.privacy.lookup import id_number_hash, phone_hash
from linli.demo.data.jinniu import STREETS
from linli.demo.generator import DEMO_PASSWORD
from linli.demo.purge import remove_demo
from linli.domains.appeals.models import DeadlineScan

RESIDENTS = 200
TOLERANCE = 1e-5  # degrees (~1 m): children are snapped to a 1e-6° grid inside their parent

MODELS = (
    Area,
    Road,
    Compound,
    Building,
    Flat,
    Household,
    HouseholdMember,
    Person,
    PersonTag,
    Organisation,
    Membership,
    User,
)


def load(*args: str) -> str:
    out = io.StringIO()
    call_command("load_demo", "--residents", str(RESIDENTS), *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    """One load shared by the read-only tests of this module, removed again afterwards."""
    with django_db_blocker.unblock():
        users = set(User.objects.values_list("pk", flat=True))
        events = set(AuditEvent.objects.values_list("pk", flat=True))
        load()
    yield
    with django_db_blocker.unblock():
        remove_demo("510106")  # as load_demo --reset: the modules' demo data outside the district too
        AuditEvent.objects.exclude(pk__in=events).delete()  # before the accounts they name
        User.objects.exclude(pk__in=users).delete()
        # The load's deadline scan leaves where it got to (real time): a later test in this process
        # that scans on a clock of its own would find nothing after it.
        DeadlineScan.objects.all().delete()


@pytest.fixture
def demo(loaded, db):
    return loaded


def test_counts_and_hierarchy(demo):
    district = Area.objects.get(kind=AreaKind.DISTRICT)
    assert (district.code, district.name, district.path) == ("510106", "金牛区", "510106/")
    streets = Area.objects.filter(kind=AreaKind.STREET)
    assert sorted(s.name for s in streets) == sorted(s[0] for s in STREETS)
    assert len(streets) == 13
    for street in streets:
        assert re.fullmatch(r"510106\d{3}", street.code) and street.parent_id == district.pk
        communities = street.children.all()
        assert 3 <= len(communities) <= 6, street.name
        for community in communities:
            assert re.fullmatch(re.escape(street.code) + r"\d{3}", community.code)
            grids = community.children.all()
            assert 2 <= len(grids) <= 5, community.name
            for k, grid in enumerate(sorted(grids, key=lambda g: g.code), 1):
                assert grid.code == f"{community.code}{k:03d}"
                assert grid.name == f"{community.name}第{k}网格"
                assert grid.path == f"{community.path}{grid.code}/"
    assert Person.objects.count() == RESIDENTS
    assert Household.objects.count() > RESIDENTS // 5
    assert AuditEvent.objects.filter(action="demo.load", object_id=str(district.pk)).count() == 1
    for grid_count in Compound.objects.values_list("grid", flat=True).order_by().distinct():
        assert grid_count is not None
    per_grid = {g.pk: g.grid_compounds.count() for g in Area.objects.filter(kind=AreaKind.GRID)}
    assert min(per_grid.values()) >= 2 and max(per_grid.values()) <= 4


def test_named_communities_compounds_and_organisations(demo):
    xibeijie = Area.objects.get(name="西北街社区")
    assert xibeijie.parent.name == "抚琴街道" and "力作苑" in xibeijie.note
    lizuo = Compound.objects.get(name="力作苑小区")
    assert lizuo.community == xibeijie
    assert (lizuo.built_year, lizuo.has_property_company) == (1992, False)
    assert "少数民族" in lizuo.note

    minorities = {}
    for compound_id, ethnic in HouseholdMember.objects.values_list(
        "household__flat__building__compound", "person__ethnic_group"
    ):
        minorities[compound_id] = minorities.get(compound_id, 0) + (ethnic != "汉族")
    assert max(minorities, key=minorities.get) == lizuo.pk

    xinqiao = Area.objects.get(name="新桥社区")
    assert xinqiao.parent.name == "沙河源街道"
    assert all(word in xinqiao.note for word in ("党群服务中心", "摄影", "警务室"))
    assert Organisation.objects.filter(area=xinqiao, name="新桥社区警务室").exists()
    assert Organisation.objects.filter(
        area=xinqiao, kind=OrgKind.SOCIAL_ORGANISATION, name__contains="摄影"
    ).exists()
    assert "党群服务中心" in Organisation.objects.get(area=xinqiao, kind=OrgKind.COMMUNITY_STATION).address

    zaozixiang = Area.objects.get(name="枣子巷社区")
    assert zaozixiang.parent.name == "西安路街道" and "中医药" in zaozixiang.note

    assert Organisation.objects.filter(kind=OrgKind.DISTRICT_OFFICE).count() == 1
    assert Organisation.objects.filter(kind=OrgKind.GRID_CENTRE).count() == 1
    assert Organisation.objects.filter(kind=OrgKind.STREET_OFFICE).count() == 13
    assert (
        Organisation.objects.filter(kind=OrgKind.COMMUNITY_STATION).count()
        == Area.objects.filter(kind=AreaKind.COMMUNITY).count()
    )
    assert Organisation.objects.filter(kind=OrgKind.DEPARTMENT, name__contains="住房和城乡建设局").exists()
    branch = Organisation.objects.get(kind=OrgKind.PARTY_BRANCH, compound=lizuo)
    assert branch.parent.kind == OrgKind.PARTY_COMMITTEE and branch.parent.area == xibeijie
    assert branch.parent.parent.parent.name == "中共成都市金牛区委员会"
    assert Organisation.objects.filter(kind=OrgKind.SELF_GOVERNANCE_GROUP, compound=lizuo).exists()
    with_company = Compound.objects.filter(has_property_company=True)
    assert (
        Organisation.objects.filter(kind=OrgKind.PROPERTY_COMPANY, compound__in=with_company).count()
        == with_company.count()
    )
    assert not Organisation.objects.filter(kind=OrgKind.PROPERTY_COMPANY, compound=lizuo).exists()


def test_geometry_is_valid_and_nested(demo):
    areas = {a.pk: a for a in Area.objects.all()}
    shapes = {pk: shape(a.boundary) for pk, a in areas.items()}
    for pk, area in areas.items():
        poly = shapes[pk]
        assert area.boundary["type"] == "Polygon" and poly.is_valid, area.name
        assert poly.contains(Point(area.centroid_lng, area.centroid_lat)), area.name
        if area.parent_id:
            assert shapes[area.parent_id].buffer(TOLERANCE).contains(poly), area.name
    district = next(s for pk, s in shapes.items() if areas[pk].kind == AreaKind.DISTRICT)
    minx, miny, maxx, maxy = district.bounds
    assert 103.97 < minx and maxx < 104.12 and 30.65 < miny and maxy < 30.81
    assert district.area < 0.9 * (maxx - minx) * (maxy - miny)  # an outline, not a rectangle

    for compound in Compound.objects.all():
        grid = shapes[compound.grid_id]
        outline = shape(compound.boundary)
        assert outline.is_valid and grid.buffer(TOLERANCE).contains(outline), compound.name
        assert grid.contains(Point(compound.centroid_lng, compound.centroid_lat)), compound.name
        assert areas[compound.grid_id].parent_id == compound.community_id
        assert re.fullmatch(re.escape(areas[compound.grid_id].code) + r"\d{2}", compound.code)
        assert compound.road.street_id == areas[compound.community_id].parent_id
    for building in Building.objects.select_related("compound"):
        assert shape(building.compound.boundary).buffer(TOLERANCE).contains(Point(building.lng, building.lat))
        assert building.grid_id == building.compound.grid_id and building.path == building.compound.path


def test_every_grid_has_exactly_one_active_grid_worker(demo):
    grids = Area.objects.filter(kind=AreaKind.GRID)
    workers = Membership.objects.filter(role=Role.GRID_WORKER, is_active=True)
    assert sorted(workers.values_list("jurisdiction", flat=True)) == sorted(
        grids.values_list("pk", flat=True)
    )
    assert Membership.objects.get(user__username="grid_xibeijie_1").jurisdiction.name == "西北街社区第1网格"
    for role in Role.values:
        assert Membership.objects.filter(role=role).exists(), role


def test_residents_are_valid_and_tagged(demo):
    as_of = dt.date(dt.date.today().year, 1, 1)
    tags: dict[int, set[str]] = {}
    for person_id, tag in PersonTag.objects.values_list("person", "tag"):
        tags.setdefault(person_id, set()).add(tag)
    rental = set(
        HouseholdMember.objects.filter(household__flat__is_rental=True).values_list("person", flat=True)
    )
    for person in Person.objects.select_related("grid"):
        card = idcard.parse(person.id_number)
        assert card.gender == person.gender and card.birth_date == person.birth_date
        assert card.region_code.startswith("51")
        assert person.id_number_hash == id_number_hash(person.id_number)
        if person.phone:
            assert person.phone.startswith("1390") and person.phone_hash == phone_hash(person.phone)
        assert person.grid.kind == AreaKind.GRID and person.path == person.grid.path
        age = (
            as_of.year
            - person.birth_date.year
            - ((as_of.month, as_of.day) < (person.birth_date.month, person.birth_date.day))
        )
        mine = tags.get(person.pk, set())
        assert (Tag.ELDERLY in mine) == (age >= 60), person.name
        assert (Tag.ETHNIC_MINORITY in mine) == (person.ethnic_group != "汉族")
        assert (Tag.TENANT in mine) == (person.pk in rental)
    assert Person.objects.values("id_number_hash").distinct().count() == RESIDENTS
    for household in Household.objects.prefetch_related("members"):
        relations = [m.relation for m in household.members.all()]
        assert relations.count(Relation.HOUSEHOLDER) == 1
        assert (
            household.path == household.flat.building.path
            and household.grid_id == household.flat.building.grid_id
        )


def test_demo_logins_name_working_accounts(demo):
    out = io.StringIO()
    call_command("demo_logins", "--all", stdout=out)
    text = out.getvalue()
    usernames = re.findall(r"^\s+\S+ \(\w+\)\s+(\S+)\s+" + re.escape(DEMO_PASSWORD), text, re.M)
    assert {
        "admin",
        "leader",
        "mentor",
        "dispatcher",
        "dept_zjj",
        "street_fuqin",
        "community_xibeijie",
        "grid_xibeijie_1",
        "party_lizuoyuan",
        "group_lizuoyuan",
        "volunteer",
    } <= set(usernames)
    assert len(usernames) == Membership.objects.count()
    users = {u.username: u for u in User.objects.filter(username__in=usernames)}
    assert set(users) == set(usernames)
    assert all(u.check_password(DEMO_PASSWORD) and u.kind == User.Kind.STAFF for u in users.values())
    assert users["admin"].is_superuser and not users["leader"].is_superuser

    phones = re.findall(r"^\s+(1390000000\d)\s", text, re.M)
    assert phones == [f"1390000000{i}" for i in range(1, 6)]
    for phone in phones:
        user = User.objects.get(phone_hash=phone_hash(phone))
        assert user.kind == User.Kind.RESIDENT and user.phone == phone and user.person.phone == phone
    assert "力作苑" in text


def test_demo_appeals_are_finished_at_their_own_time_and_only_recent_events_are_notified(demo):
    """Each demo intake is finished as it is submitted (not by the worker after the load, which would
    tell the dispatchers today of cases closed weeks ago), and the notices are those of the last three
    days' events, dated when each happened."""
    import datetime as dt

    from django.utils import timezone

    from linli.core.notifications.models import Notification
    from linli.domains.appeals.models import Appeal, AppealEvent

    appeals = Appeal.objects.all()
    assert appeals.count() > 50
    assert not appeals.filter(intake_done_at__isnull=True).exists()
    late = [a.reference for a in appeals if a.intake_done_at - a.created_at > dt.timedelta(hours=1)]
    assert not late
    notices = Notification.objects.filter(dedupe_key__startswith="appeal-event:")
    assert notices.exists()
    events = {
        pk: (at, key)
        for pk, at, key in AppealEvent.objects.values_list("pk", "at", "appeal__idempotency_key")
    }
    cutoff = timezone.now() - dt.timedelta(days=3, hours=1)
    for notice in notices:
        at, key = events[int(notice.dedupe_key.split(":")[1])]
        assert at >= cutoff
        # the residents' messages after the model went live (triage's demo) are notified as they happen
        assert notice.created_at >= at if key.startswith("demo-triage-") else notice.created_at == at


def test_fresh_demo_appeals_show_triage_dispatching_the_clear_ones_and_leaving_the_mixed_ones(demo):
    """After the demo's model goes live, residents' new messages take the real path: the three that
    say plainly what is wrong are filed and dispatched by triage; the three that mix two departments'
    business, filed by the resident under the category the model finds less likely, wait for a person."""
    from linli.domains.appeals.models import Appeal
    from linli.domains.triage import selectors
    from linli.domains.triage.demo import FRESH

    fresh = list(
        Appeal.objects.filter(idempotency_key__startswith="demo-triage-").order_by("idempotency_key")
    )
    assert len(fresh) == len(FRESH) == 6
    auto = selectors.auto_dispatches(a.pk for a in fresh)
    for appeal, (_title, _body, code) in zip(fresh, FRESH, strict=True):
        if code is None:  # came without a category: triage filed it and sent it on
            assert appeal.status == "dispatched" and appeal.lead_unit_id is not None
            assert auto[appeal.pk] >= 0.9
        else:
            assert appeal.status == "submitted" and appeal.category.code == code
            assert appeal.pk not in auto
    waiting = {a.pk for a in selectors.waiting_appeals(User.objects.get(username="dispatcher"))}
    assert {a.pk for a in fresh if a.status == "submitted"} <= waiting
