import json

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.urls import reverse

from linli.core.places.models import Area

LOCATE = "/api/v1/places/locate"


def test_locate_anonymously(client, small_district):
    d = small_district
    lng, lat = d.grid_centre(5)
    r = client.get(LOCATE, {"lng": lng, "lat": lat})
    assert r.status_code == 200
    body = r.json()
    assert body["grid"] == {
        "id": d.grids[5].pk,
        "code": d.grids[5].code,
        "name": d.grids[5].name,
        "kind": "grid",
    }
    assert body["community"]["id"] == d.communities[2].pk and body["street"]["id"] == d.streets[1].pk
    assert body["compound"]["id"] == d.compounds[5].pk and body["distance_m"] == pytest.approx(0, abs=0.01)


def test_locate_outside_and_invalid(client, small_district):
    r = client.get(LOCATE, {"lng": 105.5, "lat": 30.7})
    assert r.status_code == 400
    assert r["Content-Type"].startswith("application/problem+json")
    assert "outside the district" in r.json()["detail"] and "不在本区范围内" in r.json()["detail"]
    assert client.get(LOCATE, {"lng": 400, "lat": 30.7}).status_code == 400
    assert client.get(LOCATE, {"lng": "abc", "lat": 30.7}).status_code in (400, 422)


def test_search_api(client, small_district):
    r = client.get("/api/v1/places/search", {"q": "测试路11号"})
    assert r.status_code == 200
    first = r.json()[0]
    assert first["kind"] == "address" and first["id"] == small_district.compounds[2].pk
    assert set(first) == {"kind", "id", "name", "label", "lng", "lat", "score"}
    assert client.get("/api/v1/places/search", {"q": " "}).status_code == 400


def test_areas_geojson(client, small_district):
    d = small_district
    r = client.get("/api/v1/places/areas.geojson", {"kind": "grid", "under": d.streets[1].code})
    assert r.status_code == 200 and r["Content-Type"] == "application/geo+json"
    data = json.loads(r.content)
    assert data["type"] == "FeatureCollection"
    assert sorted(f["properties"]["code"] for f in data["features"]) == sorted(g.code for g in d.grids[4:])
    assert data["features"][0]["geometry"]["type"] == "Polygon"
    everything = json.loads(client.get("/api/v1/places/areas.geojson").content)
    assert len(everything["features"]) == Area.objects.count()
    assert client.get("/api/v1/places/areas.geojson", {"under": "nope"}).status_code == 404
    assert client.get("/api/v1/places/areas.geojson", {"kind": "planet"}).status_code == 400


def test_compounds_geojson(client, small_district):
    d = small_district
    data = json.loads(
        client.get("/api/v1/places/compounds.geojson", {"under": d.communities[0].code}).content
    )
    assert [f["properties"]["name"] for f in data["features"]] == [d.compounds[0].name, d.compounds[1].name]
    assert data["features"][0]["geometry"]["type"] == "Point"
    assert client.get("/api/v1/places/compounds.geojson", {"under": "nope"}).status_code == 404


def test_map_page_renders_publicly(client, small_district):
    r = client.get(reverse("places:map"))
    assert r.status_code == 200
    html = r.content.decode()
    assert 'data-areas-url="/api/v1/places/areas.geojson"' in html
    assert 'data-locate-url="/api/v1/places/locate"' in html
    assert "vendor/leaflet/leaflet.js" in html and "places/map.js" in html
    assert 'data-tile-url=""' in html
    assert "<script>" not in html and ' style="' not in html  # strict CSP: nothing inline


@override_settings(LINLI_TILE_URL="https://t{s}.tianditu.gov.cn/vec_w/wmts?x={x}&y={y}&l={z}")
def test_map_page_passes_the_tile_url(client, db):
    html = client.get(reverse("places:map")).content.decode()
    assert "tianditu.gov.cn" in html


def test_admin_pages(client, small_district):
    admin = get_user_model().objects.create_superuser("root", "r@example.org", "x-very-long-pw-1")
    client.force_login(admin)
    assert client.get(reverse("admin:places_area_changelist")).status_code == 200
    assert client.get(reverse("admin:places_area_changelist"), {"kind": "grid"}).status_code == 200
    assert client.get(reverse("admin:places_area_import")).status_code == 200
    r = client.post(
        reverse("admin:places_area_changelist"),
        {"action": "export_geojson", "_selected_action": [g.pk for g in small_district.grids[:2]]},
    )
    assert r.status_code == 200 and len(json.loads(r.content)["features"]) == 2
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("b.geojson", b"{not json", content_type="application/json")
    r = client.post(reverse("admin:places_area_import"), {"file": bad})
    assert r.status_code == 200 and "malformed JSON" in r.content.decode()
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"kind": "grid", "code": small_district.grids[0].code, "name": "改名网格"},
                "geometry": small_district.grids[0].boundary,
            }
        ],
    }
    good = SimpleUploadedFile("g.geojson", json.dumps(fc).encode(), content_type="application/json")
    r = client.post(reverse("admin:places_area_import"), {"file": good})
    assert r.status_code == 302
    assert Area.objects.get(pk=small_district.grids[0].pk).name == "改名网格"
    assert client.get(reverse("admin:places_compound_changelist")).status_code == 200
    assert client.get(reverse("admin:places_building_changelist")).status_code == 200
