"""GeoJSON import (all or nothing, each refusal named) and export round trip."""

import copy
import json

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from linli.core.audit.models import AuditEvent
from linli.core.places.index import VERSION_KEY
from linli.core.places.models import Area, Building, Compound
from linli.core.places.selectors import areas_feature_collection, compounds_feature_collection, place_locate
from linli.core.places.services import boundaries_import
from linli.core.places.tests.factories import square


def feature(kind, code, name, geometry, **props):
    return {
        "type": "Feature",
        "properties": {"kind": kind, "code": code, "name": name, **props},
        "geometry": geometry,
    }


def collection():
    """District 510106 (4×2 cells), streets by column pairs, communities by column, grids by cell; the
    grids carry no parent_code (inferred from the code prefix), one community is found by containment."""
    feats = [feature("district", "510106", "金牛区", square(0, 0, 4, 2))]
    for s in range(2):
        scode = f"510106{s + 1:03d}"
        feats.append(feature("street", scode, f"街道{s + 1}", square(2 * s, 0, 2, 2), parent_code="510106"))
        for c in range(2):
            col = 2 * s + c
            ccode = f"{scode}{c + 1:03d}"
            props = {"population": 5000 + col}
            if col != 3:
                props["parent_code"] = scode
            feats.append(
                feature(
                    "community",
                    ccode if col != 3 else f"X{col}",
                    f"社区{col + 1}",
                    square(col, 0, 1, 2),
                    **props,
                )
            )
            for r in range(2):
                if col == 3:
                    feats.append(
                        feature("grid", f"X{col}{r + 1:03d}", f"网格{col + 1}-{r + 1}", square(col, r))
                    )
                else:
                    feats.append(
                        feature("grid", f"{ccode}{r + 1:03d}", f"网格{col + 1}-{r + 1}", square(col, r))
                    )
    feats.append(
        {
            "type": "Feature",
            "properties": {
                "kind": "compound",
                "code": "XQ1",
                "name": "力作苑小区",
                "aliases": "力作苑",
                "address": "抚琴西路1号",
                "built_year": 1992,
                "has_property_company": False,
            },
            "geometry": {"type": "Point", "coordinates": [104.0151, 30.7051]},
        }
    )
    return {"type": "FeatureCollection", "features": list(reversed(feats))}  # children first: order is free


def snapshot():
    return (
        sorted(Area.objects.values_list("code", "name", "path", "parent__code", "population")),
        sorted(Compound.objects.values_list("name", "path", "centroid_lng")),
    )


@pytest.mark.django_db
def test_happy_path_creates_everything_with_paths_and_bumps_the_version(django_capture_on_commit_callbacks):
    before = cache.get(VERSION_KEY, 0)
    with django_capture_on_commit_callbacks(execute=True):
        summary = boundaries_import(actor=None, data=json.dumps(collection()))
    assert summary.created == {"district": 1, "street": 2, "community": 4, "grid": 8, "compound": 1}
    assert cache.get(VERSION_KEY, 0) != before
    grid = Area.objects.get(code="510106001002001")
    assert grid.path == "510106/510106001/510106001002/510106001002001/"
    assert grid.parent.code == "510106001002"
    inferred = Area.objects.get(code="X3")
    assert inferred.parent.code == "510106002" and inferred.population == 5003
    assert Area.objects.get(code="X3001").parent == inferred
    compound = Compound.objects.get(code="XQ1")
    assert compound.community.code == "510106001002" and compound.grid.code == "510106001002001"
    assert compound.path == compound.grid.path and compound.built_year == 1992
    assert not compound.has_property_company
    assert AuditEvent.objects.filter(action="area.import").count() == 15
    loc = place_locate(104.0151, 30.7051)
    assert loc.grid.code == "510106001002001" and loc.compound.name == "力作苑小区"


@pytest.mark.django_db
def test_reimport_updates_by_code_and_moves_subtrees():
    boundaries_import(actor=None, data=collection())
    fc = collection()
    for f in fc["features"]:
        if f["properties"]["code"] == "510106001001":
            f["properties"]["name"] = "新名字社区"
        if f["properties"]["code"] == "X3":  # move community X3 under street 1 (geometry allows tolerance)
            f["properties"]["parent_code"] = "510106001"
            f["geometry"] = square(1, 0, 1, 2)
        if f["properties"]["code"] in ("X3001", "X3002"):
            f["geometry"] = square(1, int(f["properties"]["code"][-1]) - 1)
        if f["properties"]["code"] in ("510106001002001", "510106001002002", "510106001002"):
            f["geometry"] = square(1, 0, 0.5, 1)  # keep them clear of the moved grids: not checked anyway
    summary = boundaries_import(actor=None, data=fc)
    assert summary.created == {} and summary.updated["grid"] == 8
    assert Area.objects.get(code="510106001001").name == "新名字社区"
    assert Area.objects.get(code="X3001").path == "510106/510106001/X3/X3001/"
    assert Area.objects.count() == 15 and Compound.objects.count() == 1


def refusal(fc, *expected):
    """The import is refused with messages containing ``expected`` and the database is unchanged."""
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        boundaries_import(actor=None, data=fc)
    text = "\n".join(exc.value.messages)
    for part in expected:
        assert part in text, text
    assert snapshot() == before
    return text


def with_feature(code, **changes):
    fc = collection()
    for f in fc["features"]:
        if f["properties"].get("code") == code:
            for key, value in changes.items():
                if key == "geometry":
                    f["geometry"] = value
                else:
                    f["properties"][key] = value
    return fc


def index_of(fc, code):
    return next(i for i, f in enumerate(fc["features"], 1) if f["properties"].get("code") == code)


@pytest.mark.django_db
def test_refuses_malformed_json():
    refusal('{"type": "FeatureCollection", "features": [', "JSON 格式错误", "malformed JSON")
    refusal({"type": "Feature"}, "FeatureCollection")
    refusal(b"\xff\xfe", "UTF-8")


@pytest.mark.django_db
def test_refuses_malformed_geometry():
    fc = with_feature("510106001001001", geometry={"type": "Polygon", "coordinates": [[1, 2]]})
    refusal(fc, f"第 {index_of(fc, '510106001001001')} 个要素（编码 510106001001001）", "malformed geometry")


@pytest.mark.django_db
def test_refuses_wrong_geometry_type():
    fc = with_feature("510106001001002", geometry={"type": "Point", "coordinates": [104.0, 30.7]})
    refusal(
        fc, f"feature {index_of(fc, '510106001001002')} (code 510106001001002)", "Polygon 或 MultiPolygon"
    )


@pytest.mark.django_db
def test_refuses_self_intersecting_polygon():
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[104.0, 30.7], [104.01, 30.71], [104.01, 30.7], [104.0, 30.71], [104.0, 30.7]]],
    }
    fc = with_feature("510106001001001", geometry=bowtie)
    refusal(fc, "编码 510106001001001", "Self-intersection", "invalid boundary")


@pytest.mark.django_db
def test_refuses_feature_outside_the_district_but_allows_a_tiny_overhang():
    fc = with_feature("X3002", geometry=square(3, 1, 1.5, 1))  # half a cell beyond the east edge
    refusal(fc, "编码 X3002", "outside the district")
    ok = with_feature("X3002", geometry=square(3, 1, 1.00001, 1))  # ~0.1 m overhang
    boundaries_import(actor=None, data=ok)
    assert Area.objects.get(code="X3002").boundary == square(3, 1, 1.00001, 1)


@pytest.mark.django_db
def test_refuses_unknown_parent():
    refusal(
        with_feature("510106001001001", parent_code="999"), "编码 510106001001001", "unknown parent code 999"
    )


@pytest.mark.django_db
def test_refuses_wrong_kind_nesting():
    # A grid placed directly under a street.
    refusal(with_feature("510106001001001", parent_code="510106001"), "a grid cannot sit under a street")
    # A district with a parent, an unknown kind, a duplicate code.
    refusal(with_feature("510106", parent_code="510106001"), "a district has no parent")
    refusal(with_feature("510106001", kind="town"), "unknown kind")
    fc = collection()
    fc["features"].append(copy.deepcopy(fc["features"][0]))
    refusal(fc, "the code repeats feature")


@pytest.mark.django_db
def test_a_refusal_leaves_existing_rows_untouched():
    boundaries_import(actor=None, data=collection())
    fc = with_feature("510106001001", name="改名")
    fc["features"][0]["geometry"] = {"type": "LineString", "coordinates": [[104, 30.7], [104.01, 30.7]]}
    refusal(fc, "feature 1")
    assert Area.objects.get(code="510106001001").name == "社区1"


@pytest.mark.django_db
def test_export_round_trip():
    boundaries_import(actor=None, data=collection())
    before = snapshot()
    exported = areas_feature_collection()
    exported["features"] += compounds_feature_collection()["features"]
    assert {f["properties"]["kind"] for f in exported["features"]} == {
        "district",
        "street",
        "community",
        "grid",
        "compound",
    }
    text = json.dumps(exported, ensure_ascii=False)
    Compound.objects.all().delete()
    for kind in ("grid", "community", "street", "district"):
        Area.objects.filter(kind=kind).delete()
    boundaries_import(actor=None, data=text)
    assert snapshot() == before
    grids = areas_feature_collection(kind="grid", under=Area.objects.get(code="510106002"))
    assert sorted(f["properties"]["code"] for f in grids["features"]) == [
        "510106002001001",
        "510106002001002",
        "X3001",
        "X3002",
    ]


@pytest.mark.django_db
def test_commands(tmp_path, capsys):
    good = tmp_path / "good.geojson"
    good.write_text(json.dumps(collection(), ensure_ascii=False), encoding="utf-8")
    call_command("import_boundaries", str(good))
    assert "imported" in capsys.readouterr().out
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps(with_feature("510106001001001", parent_code="999")), encoding="utf-8")
    with pytest.raises(CommandError, match="unknown parent code 999"):
        call_command("import_boundaries", str(bad))
    out = tmp_path / "grids.geojson"
    call_command("export_boundaries", "--kind", "grid", "--under", "510106001", "--compounds", "-o", str(out))
    data = json.loads(out.read_text(encoding="utf-8"))
    kinds = [f["properties"]["kind"] for f in data["features"]]
    assert kinds.count("grid") == 4 and kinds.count("compound") == 1
    with pytest.raises(CommandError, match="no area with code"):
        call_command("export_boundaries", "--under", "nope")


@pytest.mark.django_db
def test_building_paths_follow_a_moved_grid(small_district):
    d = small_district
    fc = {
        "type": "FeatureCollection",
        "features": [
            feature(
                "grid", d.grids[0].code, "搬家网格", d.grids[0].boundary, parent_code=d.communities[1].code
            )
        ],
    }
    boundaries_import(actor=None, data=fc)
    moved = Area.objects.get(pk=d.grids[0].pk)
    assert moved.path == d.communities[1].path + moved.code + "/"
    assert Building.objects.get(pk=d.buildings[0].pk).path == moved.path
    assert Compound.objects.get(pk=d.compounds[0].pk).path == moved.path
