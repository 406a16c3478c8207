"""Every endpoint's figures equal direct counts in the database, inside the caller's scope."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from linli.domains.appeals.choices import HANDLING_STATUSES, OPEN_STATUSES, AppealStatus
from linli.domains.appeals.models import Appeal, Supervision
from linli.domains.appeals.selectors import appeal_rates, deadline_q
from linli.faces.dashboard.scope import scope_of

pytestmark = pytest.mark.django_db


def get(client, user, name, **params):
    client.force_login(user)
    return client.get(reverse(name), params)


def test_summary_equals_database(client, dash):
    data = get(client, dash.leader, "dashboard:api_summary").json()["figures"]
    open_qs = Appeal.objects.filter(status__in=OPEN_STATUSES)
    assert data["open"] == open_qs.count() == 7
    assert data["overdue"] == open_qs.filter(deadline_q("red")).count()
    assert data["intake_today"] == Appeal.objects.count() == 11
    assert data["closed_today"] == Appeal.objects.filter(status=AppealStatus.CLOSED).count() == 3


def test_rates_equal_the_appeals_selector(client, dash):
    ours = {
        r["key"]: r for r in get(client, dash.leader, "dashboard:api_rates", group="street").json()["rows"]
    }
    theirs = {r["key"]: r for r in appeal_rates(group_by="street")}
    assert set(ours) == set(theirs)
    for key, row in theirs.items():
        for k in (
            "total",
            "responded",
            "resolved",
            "rated",
            "satisfied",
            "resolution_rate",
            "satisfaction_rate",
        ):
            assert ours[key][k] == row[k], (key, k)
    assert [r["rank"] for r in ours.values()] == sorted(r["rank"] for r in ours.values())


def test_map_and_area_figures(client, dash):
    w = dash.w
    data = get(client, dash.leader, "dashboard:api_map", level="community").json()
    for community in w.d.communities:
        qs = Appeal.objects.filter(community=community)
        row = data["areas"].get(str(community.pk), {"open": 0, "new": 0})
        assert row["open"] == qs.filter(status__in=OPEN_STATUSES).count()
        assert row["new"] == qs.count()
    area = get(client, dash.leader, "dashboard:api_map")  # default level: grid
    assert area.status_code == 200
    client.force_login(dash.leader)
    detail = client.get(reverse("dashboard:api_area", args=[w.d.communities[0].pk])).json()
    assert (
        detail["figures"]["open"]
        == Appeal.objects.filter(community=w.d.communities[0], status__in=OPEN_STATUSES).count()
    )
    assert {c["reference"] for c in detail["cases"]} == set(
        Appeal.objects.filter(community=w.d.communities[0]).values_list("reference", flat=True)
    )
    assert all(c["url"].startswith("/appeals/case/") for c in detail["cases"])


def test_intake_series_sums_to_the_period(client, dash):
    for by in ("channel", "category"):
        data = get(client, dash.leader, "dashboard:api_intake", by=by, period="7d").json()
        assert sum(s["total"] for s in data["series"]) == Appeal.objects.count()


def test_handling_time_and_workers(client, dash):
    data = get(client, dash.leader, "dashboard:api_handling").json()
    assert data["overall"]["n"] == Appeal.objects.filter(status=AppealStatus.CLOSED).count()
    grids = get(client, dash.leader, "dashboard:api_workers").json()["grids"]
    g0 = next(g for g in grids if g["grid_id"] == dash.w.d.grids[0].pk)
    assert g0["workers"] == 1  # world.grid_worker
    assert g0["period"] == Appeal.objects.filter(grid=dash.w.d.grids[0]).count()


# --- scope per role --------------------------------------------------------------------------------


def _open_count(client, user):
    return get(client, user, "dashboard:api_summary").json()["figures"]["open"]


def test_district_roles_see_everything(client, dash):
    total = Appeal.objects.filter(status__in=OPEN_STATUSES).count()
    assert _open_count(client, dash.leader) == total
    assert _open_count(client, dash.w.dispatcher) == total
    assert scope_of(dash.leader).everything and scope_of(dash.w.dispatcher).everything


@pytest.mark.parametrize("who", ["street_leader", "street_staff"])
def test_street_sees_its_street(client, dash, who):
    user = dash.street_leader if who == "street_leader" else dash.w.street_staff
    street = dash.w.d.streets[0]
    expected = Appeal.objects.filter(status__in=OPEN_STATUSES, path__startswith=street.path).count()
    assert 0 < _open_count(client, user) == expected < Appeal.objects.filter(status__in=OPEN_STATUSES).count()
    rows = get(client, user, "dashboard:api_rates", group="street").json()["rows"]
    assert {r["key"] for r in rows} == {street.pk}
    other = dash.w.d.communities[2]  # street 2
    client.force_login(user)
    assert client.get(reverse("dashboard:api_area", args=[other.pk])).status_code == 404
    areas = get(client, user, "dashboard:api_map", level="community").json()["areas"]
    assert str(other.pk) not in areas


def test_department_sees_the_cases_it_leads(client, dash):
    w = dash.w
    expected = Appeal.objects.filter(status__in=OPEN_STATUSES, lead_unit=w.city_mgmt).count()
    assert _open_count(client, w.handler) == expected
    assert _open_count(client, w.other_handler) == 1  # housing leads one
    rows = get(client, w.other_handler, "dashboard:api_rates", group="department").json()["rows"]
    assert [r["key"] for r in rows] == [w.housing.pk]


def test_grid_worker_resident_and_anonymous_see_nothing(client, dash):
    for user in (dash.w.grid_worker, dash.w.resident):
        client.force_login(user)
        assert client.get(reverse("dashboard:api_summary")).status_code == 403
        assert client.get(reverse("dashboard:home")).status_code == 403
    client.logout()
    assert client.get(reverse("dashboard:api_map")).status_code == 302


def test_deadline_board_and_supervision(client, dash, clock):
    w = dash.w
    late = Appeal.objects.filter(status=AppealStatus.IN_PROGRESS).first()
    Appeal.objects.filter(pk=late.pk).update(handling_due=timezone.now() - dt.timedelta(minutes=1))  # overdue
    client.force_login(dash.leader)
    page = client.get(reverse("dashboard:deadlines"))
    assert late.reference in page.content.decode()
    assert 'class="dl-red"' in page.content.decode() and "badge badge-red" in page.content.decode()
    assert f'href="{reverse("appeals:case", args=[late.pk])}"' in page.content.decode()
    assert b"dash-supervise" not in page.content  # leaders read; dispatchers act
    assert client.post(reverse("dashboard:supervise", args=[late.pk])).status_code == 403
    client.force_login(w.dispatcher)
    page = client.get(reverse("dashboard:deadlines"))
    assert b"dash-supervise" in page.content
    assert f'action="{reverse("dashboard:supervise", args=[late.pk])}"' in page.content.decode()
    r = client.post(reverse("dashboard:supervise", args=[late.pk]), {"level": "supervision"})
    assert r.status_code == 302
    s = Supervision.objects.get(appeal=late)
    assert (s.level, s.trigger, s.unit_id, s.created_by_id) == (
        "supervision",
        "manual",
        late.lead_unit_id,
        w.dispatcher.pk,
    )
    # a street staff member cannot supervise a case outside their scope
    other = Appeal.objects.filter(
        Q(status__in=OPEN_STATUSES), ~Q(path__startswith=w.d.streets[0].path)
    ).first()
    client.force_login(w.street_staff)
    assert client.post(reverse("dashboard:supervise", args=[other.pk])).status_code == 404


def test_deadline_board_counts_lists_and_colours_at_one_instant(dash):
    """The board's counts, its lists and each listed case's colour are taken at its ``now``; the late
    cases are found on the handling statuses alone (an extra condition on the open statuses made
    PostgreSQL misjudge their number and read them from the table instead of the covering index)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from linli.faces.dashboard import selectors

    now = timezone.now()
    second, hour = dt.timedelta(seconds=1), dt.timedelta(hours=1)
    due_now, near, ahead, late = Appeal.objects.filter(status__in=HANDLING_STATUSES).order_by("pk")[:4]
    instants = {
        due_now: (now - hour, now),
        near: (now, now + second),
        ahead: (now + second, now + hour),
        late: (now - 2 * hour, now - hour),
    }
    for case, (warn, due) in instants.items():
        Appeal.objects.filter(pk=case.pk).update(handling_warn_at=warn, handling_due=due)
    scope, f = scope_of(dash.leader), selectors.filters_from({"period": "365d"})
    with CaptureQueriesContext(connection) as q:
        board = selectors.deadline_board(scope, f, now=now)
    assert (sum(u.red for u in board), sum(u.yellow for u in board)) == (2, 1)
    colours = {c.pk: c.colour for u in board for c in u.cases}
    assert colours == {due_now.pk: "red", near.pk: "yellow", late.pk: "red"}
    assert all(c.colour_label for u in board for c in u.cases)
    assert not any("'submitted'" in query["sql"] for query in q.captured_queries)  # status filtered once
    earlier = selectors.deadline_board(scope, f, now=now - second)  # the deadline not yet reached
    assert (sum(u.red for u in earlier), sum(u.yellow for u in earlier)) == (1, 1)
    assert {c.pk: c.colour for u in earlier for c in u.cases} == {due_now.pk: "yellow", late.pk: "red"}


# --- open data -------------------------------------------------------------------------------------


def test_public_statistics_and_open_data(client, dash):
    client.logout()
    page = client.get(reverse("public_stats:home"))
    assert page.status_code == 200
    assert "第1街道" in page.content.decode()
    rows = client.get(reverse("public_stats:open_data", args=["json"])).json()["rows"]
    counted = Appeal.objects.exclude(status__in=["merged", "withdrawn"]).count()
    assert sum(r["submitted"] for r in rows) == counted
    assert sum(r["rated"] for r in rows) == 2
    text = client.get(reverse("public_stats:open_data", args=["csv"])).content.decode("utf-8-sig")
    table = list(csv.DictReader(io.StringIO(text)))
    assert sum(int(r["submitted"]) for r in table) == counted
    body = text + str(rows)
    for secret in ("王小明", "13800001111", "测试路", "小区门口有暴露垃圾", "门口垃圾堆了三天"):
        assert secret not in body
