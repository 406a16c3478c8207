"""Boundaries carry no personal data: every endpoint here may be read anonymously."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.http import JsonResponse
from ninja import Query, Router
from ninja.errors import HttpError

from linli.core.problems import Input, problem
from linli.core.problems import Problem as ProblemOut

from . import selectors
from .choices import AreaKind
from .schemas import CandidateOut, LocationOut

router = Router(tags=["places"])


def _problem(status: int, title: str, detail: str) -> JsonResponse:
    return problem(status, title, detail, code="places-" + title.replace(" ", "-"))


class LocateIn(Input):
    lng: float
    lat: float


@router.get(
    "/locate",
    url_name="places_locate",
    response={200: LocationOut, 400: ProblemOut},
    auth=None,
    summary="Grid, community, street and nearest compound of a WGS-84 point",
)
def locate(request, params: Query[LocateIn]):
    try:
        return selectors.place_locate(params.lng, params.lat)
    except ValueError as exc:  # OutsideDistrict is a ValueError too
        return _problem(
            400,
            "outside the district" if isinstance(exc, selectors.OutsideDistrict) else "invalid coordinates",
            str(exc),
        )


@router.get(
    "/search",
    url_name="places_search",
    response={200: list[CandidateOut], 400: ProblemOut},
    auth=None,
    summary="Places that a Chinese text may name",
)
def search(request, q: str = "", limit: int = 10):
    if not q.strip():
        return _problem(400, "empty query", "请输入要查找的地点 / enter a place to search for")
    if len(q) > 100:
        return _problem(
            400, "query too long", "查询过长（最多 100 字）/ the query is too long (100 characters at most)"
        )
    return selectors.place_search(q, limit=limit)


def _under(code: str | None):
    if not code:
        return None
    try:
        return selectors.area_by_code(code)
    except ObjectDoesNotExist:
        raise HttpError(404, f"没有编码为 {code} 的区域 / no area with code {code}") from None


@router.get(
    "/areas.geojson",
    url_name="places_areas_geojson",
    auth=None,
    summary="Area boundaries as a GeoJSON FeatureCollection",
    response={200: dict, 400: ProblemOut, 404: ProblemOut},
)
def areas_geojson(request, kind: str | None = None, under: str | None = None):
    if kind and kind not in AreaKind.values:
        return _problem(
            400, "unknown kind", f"未知层级 {kind}（应为 {'/'.join(AreaKind.values)}）/ unknown kind {kind}"
        )
    try:
        area = _under(under)
    except HttpError as exc:
        return _problem(404, "unknown area", str(exc))
    data = selectors.areas_feature_collection(kind=kind or None, under=area)
    return JsonResponse(data, content_type="application/geo+json")


@router.get(
    "/compounds.geojson",
    url_name="places_compounds_geojson",
    auth=None,
    summary="Compounds as a GeoJSON FeatureCollection",
    response={200: dict, 404: ProblemOut},
)
def compounds_geojson(request, under: str | None = None):
    try:
        area = _under(under)
    except HttpError as exc:
        return _problem(404, "unknown area", str(exc))
    return JsonResponse(
        selectors.compounds_feature_collection(under=area), content_type="application/geo+json"
    )
