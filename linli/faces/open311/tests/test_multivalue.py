"""Multi-value attributes (the specification's ``multivaluelist``): declared in GET services/{code},
posted as ``attribute[code][]=a&attribute[code][]=b``, validated against the declared values, stored
as a list in the appeal's answers and shown back as the values' names."""

from __future__ import annotations

import json

import pytest

from linli.domains.appeals.models import Appeal, Category

BASE = "/open311/v2/"

QUESTIONS = [
    {
        "code": "parts",
        "label": "部位",
        "datatype": "multichoice",
        "required": True,
        "choices": [
            {"key": "roof", "name": "屋顶"},
            {"key": "wall", "name": "外墙"},
            {"key": "stairs", "name": "楼道"},
        ],
    },
    {"code": "kind", "label": "类型", "datatype": "choice", "choices": [{"key": "leak", "name": "漏水"}]},
]


@pytest.fixture
def leaky(world):
    Category.objects.filter(pk=world.complaint.pk).update(questions=QUESTIONS)
    world.complaint.refresh_from_db()
    return world.complaint


@pytest.fixture
def data(world, partner, leaky):
    lng, lat = world.point(0)
    return {
        "api_key": partner.secret,
        "service_code": leaky.code,
        "lat": lat,
        "long": lng,
        "description": "漏水",
    }


def post(client, data, fmt="json"):
    return client.post(f"{BASE}requests.{fmt}", data)


def test_definition_round_trips_into_stored_lists(client, data, leaky):
    definition = client.get(f"{BASE}services/{leaky.code}.json").json()
    (parts,) = [a for a in definition["attributes"] if a["code"] == "parts"]
    assert parts["datatype"] == "multivaluelist"
    keys = [v["key"] for v in parts["values"]]
    assert keys == ["roof", "wall", "stairs"]
    response = post(client, {**data, "attribute[parts][]": [keys[2], keys[0]], "attribute[kind]": "leak"})
    assert response.status_code == 201, response.content
    appeal = Appeal.objects.get(reference=response.json()[0]["service_request_id"])
    assert appeal.answers == {"parts": ["stairs", "roof"], "kind": "leak"}


def test_a_single_value_is_a_list_of_one_and_repeats_count_once(client, data):
    one = post(client, {**data, "attribute[parts]": "wall"})
    assert one.status_code == 201
    assert Appeal.objects.get(reference=one.json()[0]["service_request_id"]).answers["parts"] == ["wall"]
    twice = post(client, {**data, "attribute[parts][]": ["wall", "wall", "roof"]})
    assert Appeal.objects.get(reference=twice.json()[0]["service_request_id"]).answers["parts"] == [
        "wall",
        "roof",
    ]


@pytest.mark.parametrize(
    "attrs",
    [
        {},  # required
        {"attribute[parts][]": ["roof", "屋顶"]},  # a name is not a value
        {"attribute[parts][]": [""]},
        {"attribute[parts][]": ["roof"], "attribute[kind]": "漏水"},  # single choice by key too
        {"attribute[parts][]": ["roof"], "attribute[kind][]": ["leak", "leak"]},  # one value only
    ],
)
def test_values_outside_the_declared_list_are_400(client, data, attrs):
    response = post(client, {**data, **attrs})
    assert response.status_code == 400
    body = json.loads(response.content)
    assert body[0]["code"] == 400 and "/" in body[0]["description"]  # Chinese / English
    assert not Appeal.objects.exists()


def test_xml_error_for_a_bad_multi_value(client, data):
    response = post(client, {**data, "attribute[parts][]": ["cellar"]}, fmt="xml")
    assert response.status_code == 400 and b"<errors><error><code>400</code>" in response.content


def test_the_case_page_shows_the_names(client, world, data):
    from django.urls import reverse

    response = post(client, {**data, "attribute[parts][]": ["roof", "stairs"], "attribute[kind]": "leak"})
    appeal = Appeal.objects.get(reference=response.json()[0]["service_request_id"])
    client.force_login(world.dispatcher)
    page = client.get(reverse("appeals:case", args=[appeal.pk])).content.decode()
    answers = page.split('id="case-answers"', 1)[1].split("</dl>", 1)[0]
    assert "<dt>部位</dt><dd>屋顶、楼道</dd>" in answers and "<dd>漏水</dd>" in answers
    assert "[" not in answers and "roof" not in answers


def test_the_api_takes_and_returns_lists(client, world, leaky):
    from linli.core.apikeys.services import api_token_issue

    token = api_token_issue(actor=world.resident, user=world.resident, method="test").secret
    lng, lat = world.point(0)
    payload = {
        "title": "漏水",
        "body": "楼道漏水",
        "category": leaky.code,
        "lng": lng,
        "lat": lat,
        "answers": {"parts": ["wall", "stairs"]},
    }
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_IDEMPOTENCY_KEY": "m1"}
    created = client.post("/api/v1/appeals/", payload, content_type="application/json", **headers)
    assert created.status_code == 201, created.content
    detail = client.get(f"/api/v1/appeals/{created.json()['id']}", **headers).json()
    assert detail["answers"] == {"parts": ["wall", "stairs"]}
    bad = client.post(
        "/api/v1/appeals/",
        {**payload, "answers": {"parts": ["wall", "cellar"]}},
        content_type="application/json",
        **{**headers, "HTTP_IDEMPOTENCY_KEY": "m2"},
    )
    assert bad.status_code == 400 and bad["Content-Type"] == "application/problem+json"


def test_the_web_form_offers_the_values_and_stores_the_ticks_as_a_list(client, world, leaky):
    """The same question on the resident's own form: ticks, by key, stored as a list."""
    from django.urls import reverse

    client.force_login(world.resident)
    html = client.get(reverse("appeals:submit")).content.decode()
    assert '<input type="checkbox" name="q_parts" value="roof"> 屋顶' in html
    assert '<option value="leak">漏水</option>' in html
    lng, lat = world.point(0)
    data = {
        "category": leaky.pk,
        "title": "楼道漏水",
        "body": "雨天漏水",
        "lng": lng,
        "lat": lat,
        "address": "",
        "anonymous_to_public": "on",
        "idempotency_key": "k-ticks",
        "q_parts": ["wall", "stairs"],
        "q_kind": "leak",
    }
    assert client.post(reverse("appeals:submit"), data).status_code == 302
    assert Appeal.objects.get().answers == {"parts": ["wall", "stairs"], "kind": "leak"}
