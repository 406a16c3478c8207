import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from linli.core.audit.models import AuditEvent
from linli.core.orgs import selectors, services
from linli.core.orgs.choices import OrgKind, Role
from linli.core.orgs.jurisdiction import jurisdiction_of
from linli.core.orgs.models import Membership

from .factories import make_org, make_resident, make_staff, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def station(small_district):
    return services.organisation_create(
        actor=None,
        kind=OrgKind.COMMUNITY_STATION,
        code="CS1",
        name="第1社区工作站",
        area=small_district.communities[0],
    )


def test_organisation_create_audited_and_code_unique(station, small_district):
    assert AuditEvent.objects.filter(action="organisation.create", object_id=str(station.pk)).exists()
    with pytest.raises(ValidationError):
        services.organisation_create(
            actor=None,
            kind=OrgKind.COMMUNITY_STATION,
            code="CS1",
            name="x",
            area=small_district.communities[0],
        )
    with pytest.raises(ValidationError):
        services.organisation_create(
            actor=None, kind="bogus", code="X2", name="x", area=small_district.district
        )


def test_membership_grant_changes_jurisdiction(station, small_district):
    d = small_district
    user = make_user()
    assert not jurisdiction_of(user).roles  # cached empty …
    services.membership_grant(
        actor=None, user=user, organisation=station, role=Role.GRID_WORKER, jurisdiction=d.grids[1]
    )
    assert jurisdiction_of(user).covers(d.grids[1].path)  # … and forgotten after the grant
    assert list(selectors.grid_workers_of(d.grids[1])) == [user]
    assert list(selectors.grid_workers_of(d.grids[0])) == []
    event = AuditEvent.objects.get(action="membership.grant")
    assert event.changes["role"] == Role.GRID_WORKER


def test_membership_grant_refusals(station, small_district):
    d = small_district
    user = make_user()
    with pytest.raises(ValidationError, match="服务区域"):
        services.membership_grant(
            actor=None, user=user, organisation=station, role=Role.GRID_WORKER, jurisdiction=d.grids[2]
        )  # another community
    services.membership_grant(
        actor=None, user=user, organisation=station, role=Role.GRID_WORKER, jurisdiction=d.grids[0]
    )
    with pytest.raises(ValidationError, match="已存在"):
        services.membership_grant(
            actor=None, user=user, organisation=station, role=Role.GRID_WORKER, jurisdiction=d.grids[0]
        )
    with pytest.raises(ValidationError, match="志愿者"):
        services.membership_grant(
            actor=None,
            user=make_resident(),
            organisation=station,
            role=Role.COMMUNITY_STAFF,
            jurisdiction=d.communities[0],
        )


def test_membership_revoke(station, small_district):
    user = make_user()
    m = services.membership_grant(
        actor=None,
        user=user,
        organisation=station,
        role=Role.COMMUNITY_STAFF,
        jurisdiction=small_district.communities[0],
    )
    assert jurisdiction_of(user).register_paths()
    services.membership_revoke(actor=None, membership=m, reason="调岗")
    m.refresh_from_db()
    assert not m.is_active
    assert not jurisdiction_of(user).register_paths()
    assert AuditEvent.objects.get(action="membership.revoke").reason == "调岗"
    with pytest.raises(ValidationError):
        services.membership_revoke(actor=None, membership=m)


def test_staff_of_and_units_by_kind(station, small_district):
    make_staff(Role.COMMUNITY_STAFF, small_district.communities[0], organisation=station)
    make_org(OrgKind.COMMUNITY_STATION, small_district.communities[3])
    assert selectors.staff_of(station).count() == 1
    assert selectors.units_by_kind(OrgKind.COMMUNITY_STATION).count() == 2
    assert list(selectors.units_by_kind(OrgKind.COMMUNITY_STATION, within=small_district.streets[0])) == [
        station
    ]


def test_pages_staff_only(client, station, small_district):
    staff = make_staff(Role.COMMUNITY_STAFF, small_district.communities[0], organisation=station)
    client.force_login(staff)
    response = client.get(reverse("orgs:organisation_list"))
    assert response.status_code == 200
    assert station.name in response.content.decode()
    response = client.get(reverse("orgs:organisation_detail", args=[station.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert str(staff) in html and small_district.communities[0].name in html
    assert client.get(reverse("audit:trail", args=["orgs.organisation", station.pk])).status_code == 200

    for outsider in (make_resident(), make_staff(Role.VOLUNTEER, small_district.communities[0])):
        client.force_login(outsider)
        assert client.get(reverse("orgs:organisation_list")).status_code == 403
        assert client.get(reverse("orgs:organisation_detail", args=[station.pk])).status_code == 404
        assert client.get(reverse("audit:trail", args=["orgs.organisation", station.pk])).status_code == 404


def test_api(client, station, small_district):
    assert client.get("/api/v1/orgs/organisations").status_code == 401
    client.force_login(make_resident())
    assert client.get("/api/v1/orgs/organisations").status_code == 403
    client.force_login(make_staff(Role.DEPARTMENT_STAFF, small_district.district))
    data = client.get("/api/v1/orgs/organisations", {"kind": OrgKind.COMMUNITY_STATION}).json()
    assert [o["code"] for o in data["items"]] == ["CS1"]
    assert data["items"][0]["kind_label"] == "社区工作站"


def test_admin_grant_goes_through_service(client, station, small_district):
    admin_user = make_user(is_superuser=True, is_staff=True)
    client.force_login(admin_user)
    target = make_user()
    response = client.post(
        reverse("admin:orgs_membership_add"),
        {
            "user": target.pk,
            "organisation": station.pk,
            "role": Role.GRID_WORKER,
            "jurisdiction": small_district.grids[0].pk,
            "title": "",
            "since": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Membership.objects.filter(user=target, role=Role.GRID_WORKER).exists()
    assert AuditEvent.objects.filter(action="membership.grant", actor=admin_user).exists()
