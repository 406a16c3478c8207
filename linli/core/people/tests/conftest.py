from types import SimpleNamespace

import pytest

from .factories import make_household


@pytest.fixture
def register(small_district):
    """One household of two in the first flat of each of the 8 grids: households[i] lies in grids[i]
    (grids 0-1 community 0, 2-3 community 1 — street 0; 4-7 street 1)."""
    d = small_district
    households = [make_household(d.flats[4 * g], members=2) for g in range(8)]
    return SimpleNamespace(d=d, households=households)
