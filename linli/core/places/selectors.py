"""Reads of the geography that other modules use: where a point is, what a text names, boundaries."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist

from .geojson import areas_feature_collection, compounds_feature_collection
from .index import Location, OutsideDistrict, get_index
from .models import Area
from .search import Candidate, get_search_index

__all__ = [
    "Candidate",
    "Location",
    "OutsideDistrict",
    "area_by_code",
    "areas_feature_collection",
    "compounds_feature_collection",
    "place_locate",
    "place_search",
]


def place_locate(lng: float, lat: float) -> Location:
    """Grid, community, street and nearest compound (with its distance in metres) of a WGS-84 point.

    Raises ``OutsideDistrict`` (a ``ValueError`` with a bilingual message) for a point outside the
    district and ``ValueError`` for coordinates that are not numbers in range."""
    return get_index().locate(float(lng), float(lat))


def place_search(text: str, limit: int = 10) -> list[Candidate]:
    """Places a Chinese text may name, best first (compound, building, address, community, street,
    grid, road), each with a label 街道 › 社区 › 小区 and a point to show."""
    return get_search_index().search(text, limit=max(1, min(int(limit), 50)))


def area_by_code(code: str) -> Area:
    """The area with ``code``; ``Area.DoesNotExist`` if there is none."""
    return Area.objects.get(code=code)


def area_or_none(code: str | None) -> Area | None:
    if not code:
        return None
    try:
        return area_by_code(code)
    except ObjectDoesNotExist:
        return None
