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


def test_public_figures_count_today_from_the_copy_as_of_its_refresh(client, dash):
    """Once the statistics copy is built, the public page reads today's cases from it as they stood at
    the last refresh (not from the appeals table every minute): a case submitted since shows at the
    next refresh, and then the figures equal the appeals table's."""
    from linli.domains.appeals.stats import rollup
    from linli.faces.dashboard import selectors
    from linli.faces.dashboard.scope import Scope

    f = selectors.filters_from({}, default_period="365d")
    everything = Scope(everything=True)
    rollup.refresh()
    public.warm()
    before = public.public_figures(f)["figures"]
    assert before["intake_today"] > 0  # the fixture's cases are today's
    closed = bring_to(dash.w, S.CLOSED)
    assert closed.closed_at is not None
    public.warm()
    same = public.public_figures(f)["figures"]
    assert same["intake_period"] == before["intake_period"]  # not yet refreshed
    assert same["intake_today"] == before["intake_today"]
    assert same["closed_today"] == before["closed_today"]
    table = selectors.headline(everything, f)  # outside as_of_refresh: today from the appeals table
    assert table["intake_today"] == before["intake_today"] + 1
    rollup.refresh()
    public.warm()
    after = public.public_figures(f)
    assert after["figures"]["intake_period"] == before["intake_period"] + 1
    assert after["figures"]["intake_today"] == before["intake_today"] + 1
    assert after["figures"]["closed_today"] == before["closed_today"] + 1
    assert after["figures"] == selectors.headline(everything, f)
    assert after["by_street"] == selectors.rates(everything, f, group_by="street")
    assert after["by_category"] == selectors.rates(everything, f, group_by="category")
    rows = public.open_data(f)["rows"]
    assert rows == selectors.open_data_rows(since=f.since, until=f.until)
