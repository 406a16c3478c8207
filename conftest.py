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
def _fresh_cache():
    """Rate-limit counters and cached indexes live in the cache: each test starts with it empty."""
    from django.core.cache import cache

    cache.clear()
    yield
