"""/api/v1/places/*: anyone may read places, but a partner key must carry ``places.read``. Each
branch: no credential, resident and staff tokens, a key with the scope, a key without it, an
unknown or revoked key, a key over its allowance."""

from __future__ import annotations

import pytest

from linli.core.apikeys.services import api_key_create, api_key_revoke

V1 = "/api/v1/places"


@pytest.fixture
def endpoints(world):
    lng, lat = world.point(0)
    return [
        f"{V1}/locate?lng={lng}&lat={lat}",
        f"{V1}/search?q=社区",
        f"{V1}/areas.geojson",
        f"{V1}/compounds.geojson",
    ]


def key_headers(scopes, **extra):
    issued = api_key_create(actor=None, name="地图合作方", scopes=scopes, **extra)
    return issued, {"HTTP_X_API_KEY": issued.secret}


def assert_problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and "/" in body["detail"]  # Chinese / English
    return body


def test_people_keep_access(client, world, endpoints, bearer):
    for headers in ({}, bearer(world.resident), bearer(world.dispatcher)):
        for url in endpoints:
            assert client.get(url, **headers).status_code == 200, url


def test_a_key_with_places_read(client, world, endpoints):
    _, headers = key_headers(["places.read"])
    for url in endpoints:
        assert client.get(url, **headers).status_code == 200, url


def test_a_key_without_places_read_is_403(client, world, endpoints):
    _, headers = key_headers(["open311.post", "appeals.create"])
    for url in endpoints:
        body = assert_problem(client.get(url, **headers), 403)
        assert "places.read" in body["detail"] and body["type"].endswith("/forbidden")


def test_the_scope_is_checked_before_the_input(client, world):
    _, headers = key_headers(["open311.post"])
    assert_problem(client.get(f"{V1}/locate?lng=abc", **headers), 403)  # not 400
    _, allowed = key_headers(["places.read"])
    assert_problem(client.get(f"{V1}/locate?lng=abc", **allowed), 400)


def test_an_unknown_or_revoked_key_is_401(client, world, endpoints):
    assert_problem(client.get(endpoints[1], HTTP_X_API_KEY="lnk_not-a-key"), 401)
    issued, headers = key_headers(["places.read"])
    api_key_revoke(actor=None, key=issued.record)
    assert_problem(client.get(endpoints[1], **headers), 401)


def test_a_key_over_its_allowance_is_429(client, world, endpoints):
    _, headers = key_headers(["places.read"], rate="2/m")
    assert client.get(endpoints[1], **headers).status_code == 200
    assert client.get(endpoints[1], **headers).status_code == 200
    response = client.get(endpoints[1], **headers)
    assert_problem(response, 429)
    assert int(response["Retry-After"]) >= 1
