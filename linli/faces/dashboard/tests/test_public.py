"""The public statistics page and the open data are the same for everyone: counted at most once a
minute and served from the cache, recounted in the background for the default period."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.urls import reverse

from linli.domains.appeals.choices import AppealStatus as S
from linli.domains.appeals.tests.helpers import bring_to
from linli.faces.dashboard import public

pytestmark = pytest.mark.django_db


def _intake(client) -> str:
    html = client.get(reverse("public_stats:home")).content.decode()
    return html.split('data-figure="intake_period">', 1)[1].split("<", 1)[0]


def test_public_page_is_cached_and_recounted_in_the_background(client, dash):
    response = client.get(reverse("public_stats:home"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=60"
    assert "每分钟更新" in response.content.decode()
    before = _intake(client)
    bring_to(dash.w, S.SUBMITTED)
    assert _intake(client) == before  # from the cache
    public.warm()  # what dashboard_public_warm does every minute
    assert int(_intake(client)) == int(before) + 1


def test_open_data_is_cached_and_recounted(client, dash):
    url = reverse("public_stats:open_data", args=["csv"])
    response = client.get(url)
    assert response.status_code == 200 and response["Cache-Control"] == "public, max-age=60"
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    submitted = sum(int(r["submitted"]) for r in rows)
    assert submitted > 0
    bring_to(dash.w, S.SUBMITTED)
    data = json.loads(client.get(reverse("public_stats:open_data", args=["json"])).content)
    assert sum(r["submitted"] for r in data["rows"]) == submitted  # the same minute's counts
    public.warm()
    data = json.loads(client.get(reverse("public_stats:open_data", args=["json"])).content)
    assert sum(r["submitted"] for r in data["rows"]) == submitted + 1
    assert client.get(reverse("public_stats:open_data", args=["xml"])).status_code == 404
