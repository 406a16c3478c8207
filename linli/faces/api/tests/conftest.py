import pytest

from linli.core.apikeys.services import api_token_issue
from linli.domains.appeals.tests.conftest import clock, on_commit, world  # noqa: F401 - shared fixtures


@pytest.fixture(autouse=True)
def _fresh_allowances():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def bearer():
    """``bearer(user)`` → headers with a fresh token for that account."""

    def make(user):
        issued = api_token_issue(actor=user, user=user, method="test")
        return {"HTTP_AUTHORIZATION": f"Bearer {issued.secret}"}

    return make
