"""The appeals loop's small world (a district, units, staff, residents, categories), shared by the
duplicate, hot-issue and result-check tests."""

from linli.domains.appeals.tests.conftest import clock, world  # noqa: F401 — fixtures
