"""Atom and JSON Feed of published results: structure, filters, and nothing private."""

import json
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from linli.domains.appeals import services as svc
from linli.domains.appeals.choices import AppealStatus as S
from linli.domains.appeals.models import Appeal
from linli.domains.appeals.tests.helpers import bring_to

ATOM = "{http://www.w3.org/2005/Atom}"
SECRETS = ("王小明", "13800001111", "13912345678", "幸福路8号3栋", "2单元401")


@pytest.fixture
def results(world):
    handled = bring_to(world, S.HANDLED, address="幸福路8号3栋2单元401")
    Appeal.objects.filter(pk=handled.pk).update(
        title="王小明：门口垃圾没人管", body="王小明反映幸福路8号3栋2单元401门口垃圾，电话13912345678"
    )
    handled.refresh_from_db()
    public = svc.appeal_verify(actor=world.dispatcher, appeal=handled, passed=True)  # published, redacted
    private = bring_to(world, S.CLOSED)
    private.is_private = True  # marked private after the fact: still must not show
    private.save(update_fields=["is_private"])
    hidden = bring_to(world, S.CLOSED, is_private=True)
    other_street = bring_to(world, S.CLOSED, grid_index=-1, category=world.dirty_road)
    open_case = bring_to(world, S.IN_PROGRESS)
    return {"public": public, "private": private, "hidden": hidden, "other": other_street, "open": open_case}


def test_atom_structure_and_content(client, results):
    response = client.get(reverse("feeds:results_atom"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    text = response.content.decode()
    root = ET.fromstring(response.content)  # noqa: S314 - our own response
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{required}") is not None, required
    assert root.find(f"{ATOM}link[@rel='self']") is not None
    entries = root.findall(f"{ATOM}entry")
    refs = {results["public"].reference, results["other"].reference}
    assert len(entries) == 2
    for entry in entries:
        for required in ("id", "title", "updated", "link"):
            assert entry.find(f"{ATOM}{required}") is not None, required
        assert entry.find(f"{ATOM}id").text.startswith("http://testserver/")
    assert all(any(r in (e.find(f"{ATOM}id").text) for r in refs) for e in entries)
    for hidden in ("private", "hidden", "open"):
        assert results[hidden].reference not in text
    for secret in SECRETS:
        assert secret not in text, secret
    assert "[电话已隐去]" in text


def test_json_feed_structure(client, results):
    response = client.get(reverse("feeds:results_json"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/feed+json")
    feed = json.loads(response.content)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] and feed["feed_url"].startswith("http://testserver/feeds/results.json")
    assert isinstance(feed["items"], list) and len(feed["items"]) == 2
    for item in feed["items"]:
        assert item["id"] and item["url"].startswith("http://")
        assert item.get("content_text") or item.get("content_html")
        assert item["date_published"].endswith("+08:00")
    text = response.content.decode()
    for hidden in ("private", "hidden", "open"):
        assert results[hidden].reference not in text
    for secret in SECRETS:
        assert secret not in text, secret
    assert "next_url" not in feed


def test_filters_by_street_community_and_category(client, results, world):
    street0, community0 = world.d.streets[0], world.d.communities[0]
    public, other = results["public"].reference, results["other"].reference
    assert public != other

    def refs(**params):
        feed = json.loads(client.get(reverse("feeds:results_json"), params).content)
        return {item["id"] for item in feed["items"]}

    assert refs(street=street0.code) == {public}
    assert refs(community=community0.code) == {public}
    assert refs(category=world.dirty_road.code) == {other}
    assert refs(category=world.domain.code) == {public, other}  # a domain includes its items
    assert client.get(reverse("feeds:results_json"), {"street": "nope"}).status_code == 404
    atom = client.get(reverse("feeds:results_atom"), {"category": world.dirty_road.code}).content.decode()
    assert other in atom and public not in atom


def test_json_feed_pages(client, world, monkeypatch):
    from linli.faces.feeds import feeds

    monkeypatch.setattr(feeds, "PAGE_SIZE", 2)
    for _ in range(3):
        bring_to(world, S.CLOSED)
    first = json.loads(client.get(reverse("feeds:results_json")).content)
    assert len(first["items"]) == 2 and first["next_url"].endswith("page=2")
    second = json.loads(client.get(first["next_url"]).content)
    assert len(second["items"]) == 1 and "next_url" not in second
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
