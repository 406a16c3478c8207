"""A third-party Open311 client (``georeport`` from PyPI) reads a running Linli in both formats, and
a request posted over HTTP appears in the dispatcher's queue. The server listens on 127.0.0.1 only."""

from __future__ import annotations

import urllib.parse
import urllib.request

import pytest
from georeport import GeoReport

from linli.domains.appeals import selectors as appeal_selectors
from linli.domains.appeals.models import Appeal


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_client_reads_services_and_requests(live_server, world, partner, fmt, settings):
    settings.LINLI_APPEALS_AUTO_DISPATCH = False
    root = live_server.url + "/open311/v2"
    lng, lat = world.point(0)
    data = urllib.parse.urlencode(
        {
            "api_key": partner.secret,
            "service_code": world.rubbish.code,
            "lat": lat,
            "long": lng,
            "description": "路口垃圾桶满溢",
        }
    ).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{root}/requests.json", data=data), timeout=10) as r:  # noqa: S310 - loopback
        assert r.status == 201
        import json

        reference = json.loads(r.read())[0]["service_request_id"]

    client = GeoReport(root, jurisdiction="510106", output_format=fmt)
    services = client.get_service_list()
    codes = {s["service_code"] for s in services}
    assert world.rubbish.code in codes and world.complaint.code in codes
    definition = client.get_service_definition(world.complaint.code)
    attributes = definition["attributes"]
    if fmt == "xml":
        attributes = attributes["attribute"]
        attributes = attributes if isinstance(attributes, list) else [attributes]
    assert attributes[0]["code"] == "floor"
    requests = client.get_service_requests()
    requests = requests if isinstance(requests, list) else [requests]
    assert [r["service_request_id"] for r in requests] == [reference]
    one = client.get_service_request(reference)
    assert one["status"] == "open" and one["service_code"] == world.rubbish.code
    appeal = Appeal.objects.get(reference=reference)
    assert appeal in appeal_selectors.dispatcher_queue(world.dispatcher)
