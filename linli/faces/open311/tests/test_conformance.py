"""GeoReport v2 conformance, written from the specification (wiki.open311.org/GeoReport_v2): every
endpoint in both formats, every field, every error."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET

import pytest

from linli.domains.appeals import selectors as appeal_selectors
from linli.domains.appeals.choices import AppealStatus, Channel
from linli.domains.appeals.models import Appeal, Category
from linli.domains.appeals.tests.helpers import bring_to

BASE = "/open311/v2/"
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]


def get(client, path, fmt, **params):
    response = client.get(f"{BASE}{path}.{fmt}", params)
    if fmt == "json":
        assert response["Content-Type"] == "application/json; charset=utf-8"
        return response, json.loads(response.content.decode("utf-8"))
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return response, ET.fromstring(response.content)  # noqa: S314 - our own response


def post(client, fmt, **data):
    response = client.post(f"{BASE}requests.{fmt}", data)
    body = json.loads(response.content) if fmt == "json" else ET.fromstring(response.content)  # noqa: S314 - our own response
    return response, body


def errors_of(body, fmt) -> list[dict]:
    if fmt == "json":
        return body
    assert body.tag == "errors"
    return [{"code": int(e.findtext("code")), "description": e.findtext("description")} for e in body]


def assert_error(response, body, fmt, status):
    assert response.status_code == status
    errors = errors_of(body, fmt)
    assert len(errors) == 1 and errors[0]["code"] == status and errors[0]["description"]


def requests_of(body, fmt) -> list[dict]:
    if fmt == "json":
        return body
    assert body.tag == "service_requests"
    return [{child.tag: child.text for child in item} for item in body.findall("request")]


def assert_iso_with_zone(value: str):
    parsed = dt.datetime.fromisoformat(value)
    assert parsed.tzinfo is not None and value.endswith("+08:00")


@pytest.fixture
def poster(world, partner):
    lng, lat = world.point(0)
    base = {
        "api_key": partner.secret,
        "service_code": world.rubbish.code,
        "lat": lat,
        "long": lng,
        "description": "小区门口有暴露垃圾，已经三天了",
    }
    return base


FORMATS = ["json", "xml"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery(client, world, fmt):
    response, body = get(client, "discovery", fmt)
    assert response.status_code == 200
    if fmt == "json":
        endpoint = body["endpoints"][0]
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["url"].endswith("/open311/v2")
        assert set(endpoint["formats"]) == {"text/xml", "application/json"}
        assert body["contact"] and body["key_service"] and body["changeset"]
    else:
        assert body.tag == "discovery"
        assert body.find("endpoints/endpoint/specification").text == "http://wiki.open311.org/GeoReport_v2"
        assert [f.text for f in body.findall("endpoints/endpoint/formats/format")] == [
            "text/xml",
            "application/json",
        ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_lists_leaf_categories_with_every_field(client, world, fmt):
    response, body = get(client, "services", fmt)
    assert response.status_code == 200
    rows = body if fmt == "json" else [{c.tag: c.text for c in s} for s in body.findall("service")]
    codes = [r["service_code"] for r in rows]
    assert world.rubbish.code in codes and world.complaint.code in codes
    assert world.domain.code not in codes  # a domain with items is a group, not a service
    row = next(r for r in rows if r["service_code"] == world.rubbish.code)
    assert set(row) == {
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    }
    assert row["service_name"] == "暴露垃圾" and row["group"] == "市容环境" and row["type"] == "realtime"
    complaint = next(r for r in rows if r["service_code"] == world.complaint.code)
    assert complaint["metadata"] in (True, "true") and row["metadata"] in (False, "false")


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition_from_extra_questions(client, world, fmt):
    world.complaint.questions = [
        {"code": "floor", "label": "楼层", "datatype": "number", "required": True},
        {"code": "kind", "label": "类型", "datatype": "choice", "choices": ["噪声", "漏水"]},
        {"code": "when", "label": "发生时间", "datatype": "date"},
        {"code": "night", "label": "夜间", "datatype": "bool"},
        {"code": "parts", "label": "部位", "datatype": "multichoice", "choices": ["屋顶", "外墙"]},
        {"code": "more", "label": "补充", "datatype": "longtext"},
    ]
    world.complaint.save()
    response, body = get(client, f"services/{world.complaint.code}", fmt)
    assert response.status_code == 200
    if fmt == "xml":
        assert body.tag == "service_definition"
        attrs = []
        for a in body.findall("attributes/attribute"):
            item = {c.tag: c.text for c in a if c.tag != "values"}
            item["values"] = [
                {"key": v.findtext("key"), "name": v.findtext("name")} for v in a.findall("values/value")
            ]
            attrs.append(item)
        assert body.findtext("service_code") == world.complaint.code
    else:
        attrs = body["attributes"]
        assert body["service_code"] == world.complaint.code
    by_code = {a["code"]: a for a in attrs}
    expected = {
        "floor": "number",
        "kind": "singlevaluelist",
        "when": "datetime",
        "night": "singlevaluelist",
        "parts": "multivaluelist",
        "more": "text",
    }
    assert {c: a["datatype"] for c, a in by_code.items()} == expected
    floor = by_code["floor"]
    for field in ("variable", "code", "datatype", "required", "datatype_description", "order", "description"):
        assert field in floor
    assert floor["required"] in (True, "true") and floor["description"] == "楼层"
    assert str(floor["order"]) == "1" and str(by_code["more"]["order"]) == "6"
    assert [v["key"] for v in by_code["kind"]["values"]] == ["噪声", "漏水"]
    assert [v["key"] for v in by_code["night"]["values"]] == ["true", "false"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_service_is_404(client, world, fmt):
    response, body = get(client, "services/NOPE", fmt)
    assert_error(response, body, fmt, 404)


@pytest.mark.parametrize("fmt", FORMATS)
def test_jurisdiction_id(client, world, fmt):
    ok, _ = get(client, "services", fmt, jurisdiction_id="510106")
    assert ok.status_code == 200
    response, body = get(client, "services", fmt, jurisdiction_id="other-city")
    assert_error(response, body, fmt, 404)


# --- POST requests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_creates_an_appeal_in_the_dispatchers_queue(client, world, poster, partner, fmt, settings):
    settings.LINLI_APPEALS_AUTO_DISPATCH = False
    response, body = post(
        client,
        fmt,
        **poster,
        first_name="小明",
        last_name="王",
        phone="13800002222",
        email="a@example.org",
        device_id="dev-1",
        account_id="acct-9",
    )
    assert response.status_code == 201, response.content
    row = requests_of(body, fmt)[0]
    assert row["service_request_id"].startswith("JN") and row["token"] and row["service_notice"]
    assert row["account_id"] == "acct-9"
    appeal = Appeal.objects.get(reference=row["service_request_id"])
    assert appeal.channel == Channel.API and appeal.category == world.rubbish
    assert appeal.submitted_by == partner.record.account
    assert appeal.contact_name == "王小明" and appeal.contact_phone == "13800002222"
    assert appeal.grid == world.d.grids[0]
    assert appeal in appeal_selectors.dispatcher_queue(world.dispatcher)
    # the token leads to the request
    r2, b2 = get(client, f"tokens/{row['token']}", fmt)
    assert r2.status_code == 200
    assert requests_of(b2, fmt)[0]["service_request_id"] == appeal.reference


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_needs_a_valid_api_key(client, world, poster, partner, fmt):
    data = dict(poster)
    data.pop("api_key")
    assert_error(*post(client, fmt, **data), fmt, 403)
    assert_error(*post(client, fmt, **data, api_key="lnk_wrong"), fmt, 403)
    from linli.core.apikeys.services import api_key_revoke

    api_key_revoke(actor=None, key=partner.record)
    assert_error(*post(client, fmt, **poster), fmt, 403)
    assert not Appeal.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "change",
    [
        {"service_code": ""},
        {"service_code": "NOPE"},
        {"lat": "", "long": ""},
        {"lat": "abc"},
        {"long": ""},
        {"lat": "95"},
        {"description": "很" * 4001},
        {"email": "not-an-email"},
        {"media_url": "javascript:alert(1)"},
        {"address_id": "999999", "lat": "", "long": ""},
    ],
)
def test_post_bad_input_is_400(client, world, poster, fmt, change):
    assert_error(*post(client, fmt, **{**poster, **change}), fmt, 400)
    assert not Appeal.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_outside_the_district_is_400(client, world, poster, fmt):
    assert_error(*post(client, fmt, **{**poster, "lat": "10", "long": "10"}), fmt, 400)


def test_post_description_of_4000_characters_is_accepted(client, world, poster):
    response, body = post(client, "json", **{**poster, "description": "很" * 4000})
    assert response.status_code == 201


def test_post_by_address_string_and_address_id(client, world, poster):
    compound = world.d.compounds[0] if getattr(world.d, "compounds", None) else None
    data = {**poster, "lat": "", "long": ""}
    response, body = post(client, "json", **{**data, "address_string": "第1社区 某路 12 号"})
    assert response.status_code == 201
    assert Appeal.objects.get(reference=body[0]["service_request_id"]).address == "第1社区 某路 12 号"
    if compound is not None:
        response, body = post(client, "json", **{**data, "address_id": f"compound:{compound.pk}"})
        assert response.status_code == 201
        assert Appeal.objects.get(reference=body[0]["service_request_id"]).compound == compound


def test_post_attributes_single_and_multi_value(client, world, poster):
    Category.objects.filter(pk=world.complaint.pk).update(
        questions=[
            {"code": "floor", "label": "楼层", "datatype": "number", "required": True},
            {
                "code": "parts",
                "label": "部位",
                "datatype": "multichoice",
                "choices": ["屋顶", "外墙", "楼道"],
            },
        ]
    )
    data = {**poster, "service_code": world.complaint.code}
    assert_error(*post(client, "json", **data), "json", 400)  # required attribute missing
    assert_error(*post(client, "json", **data, **{"attribute[floor]": "三"}), "json", 400)
    assert_error(
        *post(client, "json", **data, **{"attribute[floor]": "3", "attribute[nope]": "x"}), "json", 400
    )
    assert_error(
        *post(client, "json", **data, **{"attribute[floor]": "3", "attribute[parts][]": ["屋顶", "地下室"]}),
        "json",
        400,
    )
    response, body = post(
        client, "json", **data, **{"attribute[floor]": "3", "attribute[parts][]": ["屋顶", "外墙"]}
    )
    assert response.status_code == 201
    appeal = Appeal.objects.get(reference=body[0]["service_request_id"])
    assert appeal.answers["floor"] == 3.0 and appeal.answers["parts"] == ["屋顶", "外墙"]


def test_post_retry_with_idempotency_key_returns_the_same_request(client, world, poster):
    first = client.post(f"{BASE}requests.json", poster, HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(f"{BASE}requests.json", poster, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.json()[0]["service_request_id"] == again.json()[0]["service_request_id"]
    assert Appeal.objects.count() == 1


def test_post_rate_limit_is_429_with_retry_after(client, world, poster, partner):
    partner.record.rate = "2/m"
    partner.record.save()
    assert post(client, "json", **poster)[0].status_code == 201
    assert post(client, "json", **poster)[0].status_code == 201
    response, body = post(client, "json", **poster)
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert body[0]["code"] == 429


# --- GET requests -----------------------------------------------------------------------------------


@pytest.fixture
def cases(world, on_commit):
    closed = bring_to(world, AppealStatus.CLOSED)
    private = bring_to(world, AppealStatus.CLOSED, is_private=True)
    open_case = bring_to(world, AppealStatus.DISPATCHED)
    return closed, private, open_case


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_requests_shows_only_what_publication_allows(client, world, cases, fmt):
    closed, private, open_case = cases
    assert closed.published
    response, body = get(client, "requests", fmt)
    assert response.status_code == 200
    rows = {r["service_request_id"]: r for r in requests_of(body, fmt)}
    assert private.reference not in rows
    assert set(rows) == {closed.reference, open_case.reference}
    for row in rows.values():
        assert set(row) == set(REQUEST_FIELDS)
        assert_iso_with_zone(row["requested_datetime"])
        assert_iso_with_zone(row["updated_datetime"])
        assert row["lat"] in (None, "") and row["long"] in (None, "")
    c = rows[closed.reference]
    assert (
        c["status"] == "closed"
        and c["service_code"] == world.rubbish.code
        and c["service_name"] == "暴露垃圾"
    )
    assert c["description"].startswith(closed.public_title) and c["address"] == closed.public_place
    assert c["agency_responsible"] == world.city_mgmt.name
    o = rows[open_case.reference]
    assert o["status"] == "open" and o["description"] in (None, "")
    assert_iso_with_zone(o["expected_datetime"])
    raw = json.dumps(rows, ensure_ascii=False)
    for secret in ("王小明", "13800001111"):
        assert secret not in raw


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_requests_filters(client, world, cases, fmt):
    closed, private, open_case = cases
    _, body = get(client, "requests", fmt, status="open")
    assert [r["service_request_id"] for r in requests_of(body, fmt)] == [open_case.reference]
    _, body = get(client, "requests", fmt, status="closed")
    assert [r["service_request_id"] for r in requests_of(body, fmt)] == [closed.reference]
    _, body = get(client, "requests", fmt, service_code=world.complaint.code)
    assert requests_of(body, fmt) == []
    _, body = get(client, "requests", fmt, start_date="2000-01-01T00:00:00Z", end_date="2000-02-01T00:00:00Z")
    assert requests_of(body, fmt) == []
    # service_request_id overrides every other filter
    _, body = get(
        client,
        "requests",
        fmt,
        service_request_id=f"{closed.reference},{private.reference},X",
        status="open",
        start_date="2000-01-01T00:00:00Z",
        end_date="2000-02-01T00:00:00Z",
    )
    assert [r["service_request_id"] for r in requests_of(body, fmt)] == [closed.reference]


def test_get_requests_defaults_to_the_last_90_days(client, world, cases):
    closed, _, open_case = cases
    Appeal.objects.filter(pk=closed.pk).update(created_at=closed.created_at - dt.timedelta(days=91))
    rows = client.get(f"{BASE}requests.json").json()
    assert [r["service_request_id"] for r in rows] == [open_case.reference]
    rows = client.get(f"{BASE}requests.json", {"start_date": "2000-01-01"}).json()
    assert {r["service_request_id"] for r in rows} == {closed.reference, open_case.reference}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "yesterday"},
        {"end_date": "2025-13-01"},
        {"status": "pending"},
        {"start_date": "2025-02-01", "end_date": "2025-01-01"},
    ],
)
def test_get_requests_bad_input_is_400(client, world, fmt, params):
    assert_error(*get(client, "requests", fmt, **params), fmt, 400)


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_one_request(client, world, cases, fmt):
    closed, private, _ = cases
    response, body = get(client, f"requests/{closed.reference}", fmt)
    assert response.status_code == 200
    assert requests_of(body, fmt)[0]["service_request_id"] == closed.reference
    assert_error(*get(client, f"requests/{private.reference}", fmt), fmt, 404)
    assert_error(*get(client, "requests/JN00000000-0000", fmt), fmt, 404)
    assert_error(*get(client, "tokens/not-a-token", fmt), fmt, 404)


def test_unknown_format_is_404(client, world):
    assert client.get(f"{BASE}services.csv").status_code == 404


def test_create_api_key_command_prints_a_key_that_posts(client, world, poster):
    from io import StringIO

    from django.core.management import call_command

    from linli.core.apikeys.models import ApiKey

    out = StringIO()
    call_command("create_api_key", "网格平台", stdout=out, stderr=StringIO())
    secret = out.getvalue().strip()
    key = ApiKey.objects.get(name="网格平台")
    assert key.digest != secret and secret not in key.digest and key.scopes == ["open311.post"]
    response, _ = post(client, "json", **{**poster, "api_key": secret})
    assert response.status_code == 201
