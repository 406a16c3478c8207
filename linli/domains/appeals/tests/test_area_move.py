"""A grid or community moved to another parent by a boundary import takes its appeals along: path,
community and street follow, the new street's staff see them, and the statistics' next incremental
refresh counts them under their new street."""

import pytest

from linli.core.orgs.choices import Role
from linli.core.orgs.tests.factories import make_staff
from linli.core.places.tests.factories import move_area
from linli.domains.appeals.permissions import appeals_visible_to
from linli.domains.appeals.stats import rollup
from linli.domains.appeals.stats.models import AppealFact
from linli.domains.appeals.tests.conftest import world  # noqa: F401 - the fixture
from linli.domains.appeals.tests.helpers import submit

pytestmark = pytest.mark.django_db


def test_appeals_follow_a_moved_grid(world):  # noqa: F811 - the imported fixture
    w, d = world, world.d
    moving = submit(w, grid_index=0)  # grid 0: community 0, street 0
    staying = submit(w, grid_index=1)  # grid 1 of the same community, which stays
    rollup.refresh(full=True)
    new_street = make_staff(Role.STREET_STAFF, d.streets[1])
    assert moving in appeals_visible_to(w.street_staff) and moving not in appeals_visible_to(new_street)
    before = moving.updated_at

    grid = move_area(d.grids[0], d.communities[2])  # community 2 belongs to street 1

    moving.refresh_from_db()
    assert (moving.path, moving.grid_id, moving.community_id, moving.street_id) == (
        grid.path,
        grid.pk,
        d.communities[2].pk,
        d.streets[1].pk,
    )
    assert moving.updated_at > before
    staying.refresh_from_db()
    assert (staying.path, staying.community_id, staying.street_id) == (
        d.grids[1].path,
        d.communities[0].pk,
        d.streets[0].pk,
    )
    assert moving in appeals_visible_to(new_street) and moving not in appeals_visible_to(w.street_staff)
    assert staying in appeals_visible_to(w.street_staff)

    rollup.refresh()  # incremental
    fact = AppealFact.objects.get(pk=moving.pk)
    assert (fact.path, fact.community_id, fact.street_id) == (grid.path, d.communities[2].pk, d.streets[1].pk)
    assert AppealFact.objects.get(pk=staying.pk).street_id == d.streets[0].pk


def test_appeals_follow_a_moved_community(world):  # noqa: F811 - the imported fixture
    w, d = world, world.d
    appeal = submit(w, grid_index=0)
    community = move_area(d.communities[0], d.streets[1])
    appeal.refresh_from_db()
    assert appeal.path.startswith(community.path) and appeal.path == community.path + d.grids[0].code + "/"
    assert (appeal.community_id, appeal.street_id) == (community.pk, d.streets[1].pk)
