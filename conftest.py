"""Suite-wide test setup.

Tests that need a service (PostgreSQL, MQTT, Redis, a browser) call ``require_service`` and skip with
a clear reason when it is absent. Under CI (``LINLI_REQUIRE_SERVICES=1``, set by ``.ci/run``) every
skip becomes a failure, so nothing is silently left out.
"""

import os

import pytest

REQUIRE_SERVICES = os.environ.get("LINLI_REQUIRE_SERVICES") == "1"


def require_service(available: bool, reason: str) -> None:
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing under CI: {reason}")
    pytest.skip(reason)


def _database_is_postgresql() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://", "pgsql://"))


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` (real row-lock races) belong to the PostgreSQL pass of CI (the second
    half of ``.ci/run``, DATABASE_URL=postgres://…), where they run and ``require_service`` makes a
    missing server a failure. On CI's SQLite pass they are deselected rather than failed; outside CI
    they stay and skip with their reason."""
    if not REQUIRE_SERVICES or _database_is_postgresql():
        return
    keep = [item for item in items if item.get_closest_marker("postgres") is None]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in keep])
        items[:] = keep


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_SERVICES and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, which runs everything: {report.longrepr}"


@pytest.fixture
def small_district(db):
    """See ``linli.core.places.tests.factories.make_small_district``."""
    from linli.core.places.tests.factories import make_small_district

    return make_small_district()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language. A test client request activates the language it asks
    for (LocaleMiddleware) in the test's own thread and nothing switches it back, so a test ending on an
    English page would leave the next test on the same worker speaking English."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and cached indexes live in the cache: each test starts with it empty."""
    from django.core.cache import cache, caches

    cache.clear()
    caches["process"].clear()
    yield
