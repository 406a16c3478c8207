"""Loading, reloading and not loading the demo."""

from __future__ import annotations

import pytest
from django.core.management import CommandError

from linli.core.accounts.models import User
from linli.core.audit.models import AuditEvent
from linli.core.notifications.models import Notification
from linli.core.orgs.choices import OrgKind, Role
from linli.core.orgs.models import Membership, Organisation
from linli.core.people.models import Person
from linli.core.places.choices import AreaKind
from linli.core.places.models import Area, Building, Compound

from .test_load_demo import RESIDENTS, counts, load


def load_core(*args: str) -> str:
    """The core demo only: these tests are about loading semantics, not the modules' demo data."""
    return load("--core-only", *args)


@pytest.fixture
def demo(db):
    load()


def test_reset_twice_gives_the_same_demo_even_after_users_added_data(demo):
    first = counts()
    names = sorted(Compound.objects.values_list("name", flat=True))
    ids = set(Person.objects.values_list("id_number_hash", flat=True))

    # Data added by users on top of the demo: a compound, a person, an organisation with a member.
    grid = Area.objects.filter(kind=AreaKind.GRID).first()
    extra = Compound.objects.create(
        name="新增小区",
        community=grid.parent,
        grid=grid,
        path=grid.path,
        centroid_lng=grid.centroid_lng,
        centroid_lat=grid.centroid_lat,
    )
    Building.objects.create(
        compound=extra, name="1栋", grid=grid, path=grid.path, lng=extra.centroid_lng, lat=extra.centroid_lat
    )
    Person.objects.create(name="新居民", grid=grid, path=grid.path)
    org = Organisation.objects.create(
        kind=OrgKind.SOCIAL_ORGANISATION,
        code="USER-1",
        name="新增社会组织",
        area=grid,
        parent=Organisation.objects.get(kind=OrgKind.GRID_CENTRE),
    )
    outsider = User.objects.create_user("someone-else", password="not-the-demo-1")
    Membership.objects.create(user=outsider, organisation=org, role=Role.VOLUNTEER, jurisdiction=grid)

    notices = Notification.objects.filter(kind__in=["appeal", "appeal_deadline"])
    assert notices.exists()  # the demo's recent events were notified
    assert "rows deleted" in load_core("--reset")
    assert not notices.exists()  # kept accounts keep no notice of a case that is gone
    second = counts()
    assert second == {**first, "User": first["User"] + 1}
    assert not Compound.objects.filter(name="新增小区").exists()
    assert User.objects.filter(username="someone-else").exists()
    assert sorted(Compound.objects.values_list("name", flat=True)) == names
    assert set(Person.objects.values_list("id_number_hash", flat=True)) == ids

    load_core("--reset")
    assert counts() == second
    assert AuditEvent.objects.filter(action="demo.load").count() == 3


def test_if_empty_loads_once(db):
    assert "loaded" in load_core("--if-empty")
    before = counts()
    assert "nothing to do" in load_core("--if-empty")
    assert counts() == before
    with pytest.raises(CommandError):
        load()
    assert counts() == before


def test_another_seed_gives_another_demo(db):
    load_core("--seed", "1")
    first = sorted(Compound.objects.values_list("name", flat=True))
    load_core("--reset", "--seed", "2")
    assert sorted(Compound.objects.values_list("name", flat=True)) != first
    assert Person.objects.count() == RESIDENTS
