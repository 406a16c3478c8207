"""An item category moved under another domain: the statistics' next incremental refresh counts its
appeals under the new domain (no full refresh needed)."""

import pytest

from linli.core.orgs.choices import OrgKind
from linli.domains.appeals.models import Category
from linli.domains.appeals.stats import rollup
from linli.domains.appeals.stats.models import AppealFact
from linli.domains.appeals.tests.conftest import world  # noqa: F401 - the fixture
from linli.domains.appeals.tests.helpers import submit

pytestmark = pytest.mark.django_db


def test_a_category_moved_to_another_domain_is_counted_there_after_an_incremental_refresh(world):  # noqa: F811
    w = world
    moved = submit(w, category=w.rubbish)
    other = submit(w, category=w.dirty_road)  # same domain, stays
    rollup.refresh(full=True)
    assert AppealFact.objects.get(pk=moved.pk).domain_id == w.rubbish.parent_id
    new_domain = Category.objects.create(code="HJBH", name="环境保护", default_unit_kind=OrgKind.DEPARTMENT)
    before = moved.updated_at

    w.rubbish.name = "垃圾堆放"  # a save that does not move the category leaves its appeals alone
    w.rubbish.save()
    moved.refresh_from_db()
    assert moved.updated_at == before
    w.rubbish.parent = new_domain
    w.rubbish.save()

    moved.refresh_from_db()
    assert moved.updated_at > before
    rollup.refresh()  # incremental
    fact = AppealFact.objects.get(pk=moved.pk)
    assert (fact.category_parent_id, fact.domain_id) == (new_domain.pk, new_domain.pk)
    assert AppealFact.objects.get(pk=other.pk).domain_id == w.dirty_road.parent_id
