import pytest

from linli.core.apikeys.services import api_key_create
from linli.domains.appeals.tests.conftest import clock, on_commit, world  # noqa: F401 - shared fixtures


@pytest.fixture
def partner(db):
    """A partner key allowed to post Open311 requests; ``partner.secret`` is the api_key."""
    return api_key_create(actor=None, name="天府市民云")


@pytest.fixture(autouse=True)
def _fresh_allowances():
    """Request allowances live in the cache; each test starts with full ones."""
    from django.core.cache import cache

    cache.clear()
