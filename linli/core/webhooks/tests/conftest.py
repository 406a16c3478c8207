import pytest

from linli.core.orgs.choices import Role
from linli.domains.appeals.tests.conftest import clock, grant, make_user, on_commit, world  # noqa: F401 - shared fixtures

from .receiver import Receiver


@pytest.fixture
def admin(world):  # noqa: F811 - the shared fixture
    return grant(make_user(), world.centre, Role.ADMIN, world.d.district)


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def subscribe(admin, receiver):
    """A subscription to ``receiver``; the receiver learns the secret."""
    from linli.core.webhooks.choices import EventType
    from linli.core.webhooks.services import subscription_create

    def make(event_types=(EventType.APPEAL_CREATED,), **extra):
        sub, secret = subscription_create(
            actor=admin, partner="融媒体中心", target_url=receiver.url, event_types=list(event_types), **extra
        )
        receiver.secret = secret
        return sub

    return make
