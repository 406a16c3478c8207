import pytest

from linli.core.places import index, search


@pytest.fixture(autouse=True)
def fresh_indexes():
    """Each test sees the indexes of its own database (rolled back rows keep their ids otherwise)."""
    index.invalidate()
    search.invalidate()
    yield
    index.invalidate()
    search.invalidate()
