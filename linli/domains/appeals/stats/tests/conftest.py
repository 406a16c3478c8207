from linli.domains.appeals.tests.conftest import clock, on_commit, world  # noqa: F401 - shared fixtures
