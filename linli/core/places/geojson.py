"""GeoJSON in and out of the geography.

Reading a file, checking each feature and writing the rows happen here; the one entry point for
writing is ``places.services.boundaries_import``, which wraps ``import_feature_collection`` in a
transaction. The exports (``areas_feature_collection``, ``compounds_feature_collection``) are reads
and are re-exported by ``places.selectors``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

import shapely
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from shapely.geometry import mapping, shape
from shapely.validation import explain_validity

from linli.core.audit.services import audit_record

from .choices import CHILD_KIND, AreaKind
from .models import Area, Building, Compound
from .signals import area_moved

DEPTH = {AreaKind.DISTRICT: 0, AreaKind.STREET: 1, AreaKind.COMMUNITY: 2, AreaKind.GRID: 3}
PARENT_KIND = {child: parent for parent, child in CHILD_KIND.items()}
COMPOUND = "compound"
MAX_ERRORS = 50


class GeometryError(ValueError):
    pass


def parse_geometry(value) -> shapely.Geometry:
    if not isinstance(value, dict) or "type" not in value:
        raise GeometryError(_("缺少几何对象 / the geometry is missing"))
    try:
        geom = shape(value)
    except Exception as exc:  # shapely raises several kinds for malformed coordinates
        raise GeometryError(_("几何对象格式错误 / malformed geometry: %(e)s") % {"e": exc}) from exc
    if geom.is_empty:
        raise GeometryError(_("几何对象为空 / the geometry is empty"))
    return geom


def parse_polygon(value) -> shapely.Geometry:
    """A valid Polygon or MultiPolygon, else ``GeometryError`` saying what is wrong."""
    kind = value.get("type") if isinstance(value, dict) else None
    if kind not in ("Polygon", "MultiPolygon"):
        raise GeometryError(
            _(
                "几何类型须为 Polygon 或 MultiPolygon，而不是 %(t)s / the geometry must be a Polygon or "
                "MultiPolygon, not %(t)s"
            )
            % {"t": kind or "—"}
        )
    geom = parse_geometry(value)
    if not geom.is_valid:
        raise GeometryError(
            _("边界无效（如自相交）：%(why)s / invalid boundary (e.g. self-intersecting): %(why)s")
            % {"why": explain_validity(geom)}
        )
    return geom


def centroid_of(geom) -> tuple[float, float]:
    c = geom.centroid
    if not geom.covers(c):
        c = geom.point_on_surface()
    return round(c.x, 7), round(c.y, 7)


def _plain(geom) -> dict:
    return json.loads(json.dumps(mapping(geom)))


def load_feature_collection(data) -> dict:
    """``data`` is a dict, a str/bytes of JSON or a file object."""
    if hasattr(data, "read"):
        data = data.read()
    if isinstance(data, (bytes, bytearray)):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationError(_("文件不是 UTF-8 文本 / the file is not UTF-8 text")) from exc
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                _(
                    "JSON 格式错误（第 %(line)d 行第 %(col)d 列）：%(msg)s / malformed JSON (line %(line)d, "
                    "column %(col)d): %(msg)s"
                )
                % {"line": exc.lineno, "col": exc.colno, "msg": exc.msg}
            ) from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ValidationError(_("不是 GeoJSON FeatureCollection / not a GeoJSON FeatureCollection"))
    if not isinstance(data.get("features"), list):
        raise ValidationError(
            _("FeatureCollection 缺少 features 数组 / the FeatureCollection has no features array")
        )
    return data


@dataclass
class ImportSummary:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)

    def __str__(self):
        kinds = sorted(set(self.created) | set(self.updated), key=lambda k: DEPTH.get(k, 9))
        parts = [f"{k}: +{self.created[k]} / ~{self.updated[k]}" for k in kinds]
        return _("导入完成 / imported") + " — " + ("; ".join(parts) or "0")


@dataclass
class _Feature:
    index: int
    code: str
    kind: str
    props: dict
    geom: object

    def label(self) -> str:
        return _("第 %(i)d 个要素（编码 %(code)s）/ feature %(i)d (code %(code)s)") % {
            "i": self.index,
            "code": self.code or "—",
        }


class _Errors(list):
    def add(self, feature_or_index, message):
        if isinstance(feature_or_index, _Feature):
            prefix = feature_or_index.label()
        else:
            prefix = _("第 %(i)d 个要素 / feature %(i)d") % {"i": feature_or_index}
        self.append(f"{prefix}: {message}")


def _text(props, key) -> str:
    value = props.get(key)
    return "" if value is None else str(value).strip()


def import_feature_collection(*, actor, data, tolerance_deg: float) -> ImportSummary:
    """Check and write every feature; call only inside ``services.boundaries_import``'s transaction."""
    fc = load_feature_collection(data)
    errors = _Errors()
    areas: list[_Feature] = []
    compounds: list[_Feature] = []
    seen_codes: dict[str, int] = {}
    for i, raw in enumerate(fc["features"], start=1):
        if not isinstance(raw, dict) or raw.get("type") != "Feature":
            errors.add(i, _("不是 GeoJSON Feature / not a GeoJSON Feature"))
            continue
        props = raw.get("properties") or {}
        if not isinstance(props, dict):
            errors.add(i, _("properties 须为对象 / properties must be an object"))
            continue
        code, kind = _text(props, "code"), _text(props, "kind")
        f = _Feature(i, code, kind, props, None)
        if kind not in DEPTH and kind != COMPOUND:
            errors.add(
                f,
                _(
                    "未知层级 “%(k)s”（应为 district/street/community/grid/compound）/ unknown kind "
                    "“%(k)s” (expected district/street/community/grid/compound)"
                )
                % {"k": kind or "—"},
            )
            continue
        if kind != COMPOUND and not code:
            errors.add(f, _("缺少编码 / the code is missing"))
            continue
        if not _text(props, "name"):
            errors.add(f, _("缺少名称 / the name is missing"))
            continue
        if code:
            key = f"{kind == COMPOUND}:{code}"
            if key in seen_codes:
                errors.add(
                    f,
                    _("编码与第 %(j)d 个要素重复 / the code repeats feature %(j)d") % {"j": seen_codes[key]},
                )
                continue
            seen_codes[key] = i
        try:
            if kind == COMPOUND:
                f.geom = parse_geometry(raw.get("geometry"))
                if f.geom.geom_type not in ("Point", "Polygon", "MultiPolygon"):
                    raise GeometryError(
                        _(
                            "小区几何须为 Point、Polygon 或 MultiPolygon / a compound's geometry "
                            "must be a Point, Polygon or MultiPolygon"
                        )
                    )
                if f.geom.geom_type != "Point" and not f.geom.is_valid:
                    raise GeometryError(
                        _("边界无效：%(why)s / invalid boundary: %(why)s") % {"why": explain_validity(f.geom)}
                    )
            else:
                f.geom = parse_polygon(raw.get("geometry"))
        except GeometryError as exc:
            errors.add(f, str(exc))
            continue
        (compounds if kind == COMPOUND else areas).append(f)
    if errors:
        raise ValidationError(errors[:MAX_ERRORS])

    summary = ImportSummary()
    known: dict[str, Area] = {a.code: a for a in Area.objects.all()}
    geoms: dict[str, object] = {}  # code → shapely geometry, of areas already known or imported

    def geometry_of(area: Area):
        if area.code not in geoms and area.boundary:
            try:
                geoms[area.code] = shape(area.boundary)
            except Exception:
                geoms[area.code] = None
        return geoms.get(area.code)

    district_zone = None

    def district_limit():
        nonlocal district_zone
        if district_zone is None:
            districts = [a for a in known.values() if a.kind == AreaKind.DISTRICT and a.boundary]
            own = [a for a in districts if a.code == settings.LINLI_DISTRICT_CODE] or districts
            shapes = [g for g in (geometry_of(a) for a in own) if g is not None]
            district_zone = shapely.union_all(shapes).buffer(tolerance_deg) if shapes else False
        return district_zone

    areas.sort(key=lambda f: (DEPTH[f.kind], f.index))
    for f in areas:
        parent = _resolve_parent(f, known, geometry_of, errors)
        if parent is False:
            continue
        if f.kind != AreaKind.DISTRICT:
            zone = district_limit()
            if zone and not zone.covers(f.geom):
                errors.add(f, _("超出本区边界 / lies outside the district boundary"))
                continue
        existing = known.get(f.code)
        if existing is not None and existing.kind != f.kind:
            errors.add(
                f,
                _("编码 %(code)s 已用于“%(k)s” / code %(code)s already belongs to a %(k)s")
                % {"code": f.code, "k": existing.kind},
            )
            continue
        area = _write_area(actor=actor, f=f, parent=parent, existing=existing, summary=summary)
        known[area.code] = area
        geoms[area.code] = f.geom
        if f.kind == AreaKind.DISTRICT:
            district_zone = None  # recompute from the new boundary

    for f in sorted(compounds, key=lambda f: f.index):
        point = f.geom if f.geom.geom_type == "Point" else None
        centroid = (round(point.x, 7), round(point.y, 7)) if point else centroid_of(f.geom)
        zone = district_limit()
        if zone and not zone.covers(f.geom):
            errors.add(f, _("超出本区边界 / lies outside the district boundary"))
            continue
        community = _resolve_area(
            f, "community_code", AreaKind.COMMUNITY, centroid, known, geometry_of, errors
        )
        if community is False:
            continue
        if community is None:
            errors.add(f, _("找不到所属社区 / no community contains it"))
            continue
        grid = _resolve_area(
            f, "grid_code", AreaKind.GRID, centroid, known, geometry_of, errors, within=community
        )
        if grid is False:
            continue
        _write_compound(actor=actor, f=f, community=community, grid=grid, centroid=centroid, summary=summary)

    if errors:
        raise ValidationError(errors[:MAX_ERRORS])
    return summary


def _resolve_parent(f: _Feature, known, geometry_of, errors):
    """The parent Area, None for a district, or False after recording an error."""
    parent_code = _text(f.props, "parent_code")
    if f.kind == AreaKind.DISTRICT:
        if parent_code:
            errors.add(f, _("区不能有上级 / a district has no parent"))
            return False
        return None
    wanted = PARENT_KIND[f.kind]
    if parent_code:
        parent = known.get(parent_code)
        if parent is None:
            errors.add(f, _("上级编码 %(p)s 不存在 / unknown parent code %(p)s") % {"p": parent_code})
            return False
    else:
        parent = None
        for n in range(len(f.code) - 1, 0, -1):  # the longest code prefix of the right kind
            candidate = known.get(f.code[:n])
            if candidate is not None and candidate.kind == wanted:
                parent = candidate
                break
        if parent is None:
            point = f.geom.point_on_surface()
            for area in known.values():
                g = geometry_of(area) if area.kind == wanted else None
                if g is not None and g.covers(point):
                    parent = area
                    break
        if parent is None:
            errors.add(f, _("找不到上级（%(k)s）/ no parent %(k)s found") % {"k": wanted})
            return False
    if parent.kind != wanted:
        errors.add(
            f,
            _("%(child)s 不能设在 %(parent)s 之下 / a %(child)s cannot sit under a %(parent)s")
            % {"child": f.kind, "parent": parent.kind},
        )
        return False
    return parent


def _resolve_area(f, key, kind, centroid, known, geometry_of, errors, within=None):
    code = _text(f.props, key) or (_text(f.props, "parent_code") if kind == AreaKind.COMMUNITY else "")
    if code:
        area = known.get(code)
        if area is None or area.kind != kind:
            errors.add(
                f,
                _("%(key)s %(code)s 不是已知的%(kind)s / %(key)s %(code)s is not a known %(kind)s")
                % {"key": key, "code": code, "kind": kind},
            )
            return False
        if within is not None and not area.is_within(within):
            errors.add(
                f,
                _("网格 %(code)s 不在社区 %(c)s 内 / grid %(code)s is not inside community %(c)s")
                % {"code": code, "c": within.code},
            )
            return False
        return area
    point = shapely.Point(centroid)
    for area in known.values():
        if area.kind != kind or (within is not None and not area.is_within(within)):
            continue
        g = geometry_of(area)
        if g is not None and g.covers(point):
            return area
    return None


def _move_subtree(old: str, new: str) -> None:
    """Rewrite the path prefix of the places under an area that moved to another parent (the rows of
    other apps follow through the ``area_moved`` signal)."""
    from .services import moved_path

    for model in (Area, Compound, Building):
        model.objects.filter(path__startswith=old).update(path=moved_path(old, new))


def _write_area(*, actor, f: _Feature, parent, existing, summary) -> Area:
    from .services import area_path

    props = f.props
    population = props.get("population")
    try:
        population = int(population) if population not in (None, "") else None
    except (TypeError, ValueError):
        population = None
    lng, lat = centroid_of(f.geom)
    values = {
        "name": _text(props, "name"),
        "parent": parent,
        "boundary": _plain(f.geom),
        "centroid_lng": lng,
        "centroid_lat": lat,
    }
    if population is not None:
        values["population"] = population
    path = area_path(code=f.code, parent=parent)
    if existing is None:
        area = Area(kind=f.kind, code=f.code, path=path, **values)
        area.full_clean()
        area.save()
        summary.created[f.kind] += 1
        audit_record(
            actor=actor,
            action="area.import",
            obj=area,
            changes={"code": f.code, "name": area.name, "kind": f.kind, "created": True},
        )
        return area
    before = {"name": existing.name, "parent": existing.parent_id, "population": existing.population}
    old_path = existing.path
    for key, value in values.items():
        setattr(existing, key, value)
    existing.path = path
    existing.full_clean()
    existing.save()
    if old_path != path:
        _move_subtree(old_path, path)
        area_moved.send(sender=Area, area=existing, old_path=old_path, new_path=path)
    summary.updated[f.kind] += 1
    after = {"name": existing.name, "parent": existing.parent_id, "population": existing.population}
    audit_record(
        actor=actor,
        action="area.import",
        obj=existing,
        changes={k: [before[k], after[k]] for k in before if before[k] != after[k]} | {"boundary": "…"},
    )
    return existing


def _write_compound(*, actor, f: _Feature, community: Area, grid: Area | None, centroid, summary) -> Compound:
    props = f.props
    name = _text(props, "name")
    existing = None
    if f.code:
        existing = Compound.objects.filter(code=f.code).first()
    if existing is None:
        existing = Compound.objects.filter(community=community, name=name).first()
    values = {
        "name": name,
        "community": community,
        "grid": grid,
        "path": (grid or community).path,
        "centroid_lng": centroid[0],
        "centroid_lat": centroid[1],
        "boundary": None if f.geom.geom_type == "Point" else _plain(f.geom),
    }
    if f.code:
        values["code"] = f.code
    for key in ("aliases", "address"):
        if key in props:
            values[key] = _text(props, key)
    if props.get("built_year") not in (None, ""):
        try:
            values["built_year"] = int(props["built_year"])
        except (TypeError, ValueError):
            pass
    if "has_property_company" in props:
        values["has_property_company"] = bool(props["has_property_company"])
    compound = existing or Compound()
    for key, value in values.items():
        setattr(compound, key, value)
    compound.full_clean()
    compound.save()
    (summary.updated if existing else summary.created)[COMPOUND] += 1
    audit_record(
        actor=actor,
        action="compound.import",
        obj=compound,
        changes={"name": name, "created": existing is None},
    )
    return compound


# -- export -------------------------------------------------------------------------------------


def _parent_codes() -> dict[int, str]:
    return dict(Area.objects.values_list("id", "code"))


def areas_feature_collection(*, kind: str | None = None, under: Area | None = None, queryset=None) -> dict:
    """Areas with a boundary as a FeatureCollection (what ``boundaries_import`` reads back)."""
    qs = queryset if queryset is not None else Area.objects.all()
    qs = qs.exclude(boundary__isnull=True).order_by("path")
    if kind:
        qs = qs.filter(kind=kind)
    if under is not None:
        qs = qs.filter(path__startswith=under.path)
    codes = _parent_codes()
    features = []
    for a in qs.values(
        "id", "kind", "code", "name", "parent_id", "population", "boundary", "centroid_lng", "centroid_lat"
    ):
        props = {
            "id": a["id"],
            "code": a["code"],
            "name": a["name"],
            "kind": a["kind"],
            "parent_code": codes.get(a["parent_id"]),
        }
        if a["population"] is not None:
            props["population"] = a["population"]
        if a["centroid_lng"] is not None:
            props["label_point"] = [a["centroid_lng"], a["centroid_lat"]]
        features.append({"type": "Feature", "id": a["code"], "properties": props, "geometry": a["boundary"]})
    return {"type": "FeatureCollection", "features": features}


def compounds_feature_collection(*, under: Area | None = None, queryset=None) -> dict:
    qs = queryset if queryset is not None else Compound.objects.all()
    if under is not None:
        qs = qs.filter(path__startswith=under.path)
    codes = _parent_codes()
    features = []
    for c in qs.order_by("path", "name").values(
        "id",
        "code",
        "name",
        "aliases",
        "address",
        "community_id",
        "grid_id",
        "boundary",
        "centroid_lng",
        "centroid_lat",
        "built_year",
        "has_property_company",
    ):
        props = {
            "id": c["id"],
            "kind": COMPOUND,
            "name": c["name"],
            "community_code": codes.get(c["community_id"]),
            "grid_code": codes.get(c["grid_id"]),
            "aliases": c["aliases"],
            "address": c["address"],
            "has_property_company": c["has_property_company"],
        }
        if c["code"]:
            props["code"] = c["code"]
        if c["built_year"]:
            props["built_year"] = c["built_year"]
        geometry = c["boundary"] or {"type": "Point", "coordinates": [c["centroid_lng"], c["centroid_lat"]]}
        if c["boundary"]:
            props["label_point"] = [c["centroid_lng"], c["centroid_lat"]]
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    return {"type": "FeatureCollection", "features": features}
