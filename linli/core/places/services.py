"""Every write to the geography goes through here, so area paths and denormalised grid links stay
right and each change lands in the audit trail."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from linli.core.audit.services import audit_record

from .choices import CHILD_KIND, AreaKind
from .models import Area, Building, Compound


def area_path(*, code: str, parent: Area | None) -> str:
    return (parent.path if parent else "") + code + "/"


def moved_path(old: str, new: str) -> Concat:
    """An update expression for rows under an area that moved: ``path`` with the prefix ``old``
    replaced by ``new`` (``Model.objects.filter(path__startswith=old).update(path=moved_path(…))``)."""
    return Concat(Value(new), Substr("path", len(old) + 1))


@transaction.atomic
def area_create(
    *,
    actor,
    kind: str,
    code: str,
    name: str,
    parent: Area | None,
    boundary: dict | None = None,
    centroid: tuple[float, float] | None = None,
    population: int | None = None,
) -> Area:
    if parent is None and kind != AreaKind.DISTRICT:
        raise ValidationError(
            _("只有区可以没有上级 / only a district may have no parent"), code="parent_missing"
        )
    if parent is not None and CHILD_KIND.get(parent.kind) != kind:
        raise ValidationError(
            _("%(child)s 不能设在 %(parent)s 之下 / a %(child)s cannot sit under a %(parent)s")
            % {"child": kind, "parent": parent.kind},
            code="parent_kind",
        )
    area = Area(
        kind=kind,
        code=code,
        name=name,
        parent=parent,
        path=area_path(code=code, parent=parent),
        boundary=boundary,
        population=population,
    )
    if centroid:
        area.centroid_lng, area.centroid_lat = centroid
    area.full_clean()
    area.save()
    audit_record(
        actor=actor, action="area.create", obj=area, changes={"code": code, "name": name, "kind": kind}
    )
    transaction.on_commit(bump_geography_version)
    return area


@transaction.atomic
def compound_create(
    *, actor, community: Area, name: str, centroid: tuple[float, float], grid: Area | None = None, **fields
) -> Compound:
    if community.kind != AreaKind.COMMUNITY:
        raise ValidationError(
            _("小区必须属于社区 / a compound belongs to a community"), code="community_kind"
        )
    if grid is not None and not grid.is_within(community):
        raise ValidationError(
            _("网格不在该社区内 / the grid is not inside the community"), code="grid_outside"
        )
    compound = Compound(
        community=community,
        grid=grid,
        name=name,
        centroid_lng=centroid[0],
        centroid_lat=centroid[1],
        path=(grid or community).path,
        **fields,
    )
    compound.full_clean()
    compound.save()
    audit_record(actor=actor, action="compound.create", obj=compound, changes={"name": name})
    transaction.on_commit(bump_geography_version)
    return compound


@transaction.atomic
def building_create(
    *, actor, compound: Compound, name: str, grid: Area, lng: float, lat: float, **fields
) -> Building:
    if grid.kind != AreaKind.GRID or not grid.is_within(compound.community):
        raise ValidationError(
            _("楼栋的网格须在小区所属社区内 / the building's grid must lie in its community"),
            code="grid_outside",
        )
    building = Building(compound=compound, name=name, grid=grid, path=grid.path, lng=lng, lat=lat, **fields)
    building.full_clean()
    building.save()
    audit_record(actor=actor, action="building.create", obj=building, changes={"name": name})
    transaction.on_commit(bump_geography_version)  # the search index lists buildings
    return building


def bump_geography_version() -> None:
    """Tell every process that boundaries changed, so in-memory indexes rebuild on next use."""
    from django.core.cache import cache

    from . import index, search

    try:
        cache.incr(index.VERSION_KEY)
    except ValueError:
        cache.set(index.VERSION_KEY, 1, None)
    index.invalidate()
    search.invalidate()


@transaction.atomic
def area_update(
    *,
    actor,
    area: Area,
    name: str | None = None,
    population: int | None = None,
    note: str | None = None,
    boundary: dict | None = None,
) -> Area:
    """Change an area's name, population, note or boundary (code, kind and parent come by import)."""
    before = {"name": area.name, "population": area.population, "note": area.note}
    if name is not None:
        area.name = name
    if population is not None:
        area.population = population
    if note is not None:
        area.note = note
    if boundary is not None:
        from .geojson import centroid_of, parse_polygon

        geom = parse_polygon(boundary)
        area.boundary = boundary
        area.centroid_lng, area.centroid_lat = centroid_of(geom)
    area.full_clean()
    area.save()
    from linli.core.audit.services import changes_between

    changes = changes_between(before, {"name": area.name, "population": area.population, "note": area.note})
    if boundary is not None:
        changes["boundary"] = ["…", "…"]
    audit_record(actor=actor, action="area.update", obj=area, changes=changes)
    transaction.on_commit(bump_geography_version)
    return area


@transaction.atomic
def compound_update(*, actor, compound: Compound, **fields) -> Compound:
    """Change a compound's descriptive fields (name, aliases, address, built year, …) or centroid."""
    allowed = {
        "name",
        "code",
        "aliases",
        "address",
        "road",
        "built_year",
        "has_property_company",
        "note",
        "centroid_lng",
        "centroid_lat",
        "boundary",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(
            _("不能修改这些字段 / these fields cannot be changed: %(f)s") % {"f": ", ".join(sorted(unknown))}
        )
    before = {k: getattr(compound, k) for k in fields}
    for key, value in fields.items():
        setattr(compound, key, value)
    compound.full_clean()
    compound.save()
    from linli.core.audit.services import changes_between

    audit_record(actor=actor, action="compound.update", obj=compound, changes=changes_between(before, fields))
    transaction.on_commit(bump_geography_version)
    return compound


def boundaries_import(*, actor, data, tolerance_deg: float = 1e-5):
    """Import a GeoJSON FeatureCollection of areas and compounds, all or nothing.

    Areas carry ``code``, ``name``, ``kind`` (district/street/community/grid), optionally
    ``parent_code`` (else inferred from the code prefix, else from the containing area) and
    ``population``; compounds carry ``kind: "compound"``, ``name``, optionally ``code``,
    ``community_code``, ``grid_code``, ``aliases``, ``address``, ``built_year``,
    ``has_property_company``. Rows with a known code are updated. Any problem refuses the whole file
    with a ``ValidationError`` whose messages name each feature (index and code). Returns an
    ``ImportSummary``."""
    from .geojson import import_feature_collection

    with transaction.atomic():
        summary = import_feature_collection(actor=actor, data=data, tolerance_deg=tolerance_deg)
        transaction.on_commit(bump_geography_version)
    return summary
