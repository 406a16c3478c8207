"""The command centre in Chromium: a district leader and a street leader open the figures page and
the command map; the figures on screen equal the database, the ECharts canvases are painted and the
map draws its polygons. Screenshots under test-artifacts/screenshots/dashboard-*.png."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from linli.domains.appeals.choices import OPEN_STATUSES
from linli.domains.appeals.models import Appeal
from linli.domains.appeals.tests.conftest import world  # noqa: F401 - the fixture
from linli.faces.dashboard.tests.conftest import dash  # noqa: F401 - the fixture

from .conftest import STAFF_PASSWORD, screenshot, sign_in_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAINTED = """(sel) => {
  const canvas = document.querySelector(sel + ' canvas');
  if (!canvas) return 0;
  const ctx = canvas.getContext('2d');
  const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 3; i < d.length; i += 4 * 7) { if (d[i] > 0) n++; }
  return n;
}"""


@pytest.fixture
def on_commit():
    """Let the browser test's transactions commit for real (the live server reads them)."""
    return None


@pytest.fixture
def people(dash, settings):  # noqa: F811
    for user in (dash.leader, dash.street_leader):
        user.set_password(STAFF_PASSWORD)
        user.save()
    return dash


def check_figures(page, path_prefix: str = ""):
    qs = Appeal.objects.filter(path__startswith=path_prefix) if path_prefix else Appeal.objects.all()
    expect(page.locator('[data-figure="open"]')).to_have_text(
        str(qs.filter(status__in=OPEN_STATUSES).count())
    )
    expect(page.locator('[data-figure="intake_today"]')).to_have_text(str(qs.count()))
    expect(page.locator('[data-figure="closed_today"]')).to_have_text(str(qs.filter(status="closed").count()))


def open_figures(page, name):
    page.goto("/dashboard/overview/")
    expect(page.locator("#dash-home")).to_have_attribute("data-ready", "1", timeout=15_000)
    for chart in ("#chart-rates", "#chart-trend", "#chart-channel", "#chart-category", "#chart-handling"):
        assert page.evaluate(PAINTED, chart) > 50, f"{chart} is blank"
    assert page.locator("#rates-table tbody tr").count() >= 1
    screenshot(page, name)


def open_map(page, name) -> int:
    page.goto("/dashboard/map/")
    el = page.locator("#dashmap")
    expect(el).to_have_attribute("data-ready", "1", timeout=15_000)
    polygons = int(el.get_attribute("data-polygons"))
    assert (
        page.evaluate(PAINTED, "#dashmap .leaflet-areaPane-pane") > 1000
        or page.evaluate(PAINTED, "#dashmap") > 1000
    )
    if not page.evaluate("document.getElementById('dashmap-panel').open"):
        page.locator("#dashmap-panel summary").click()  # folded on a phone
    page.get_by_label("社区", exact=True).check()
    page.wait_for_timeout(300)
    screenshot(page, name, full_page=False)
    return polygons


def test_district_leader(desktop, people, live_server):
    sign_in_staff(desktop, people.leader.username)
    open_figures(desktop, "dashboard-leader-figures")
    check_figures(desktop)
    polygons = open_map(desktop, "dashboard-leader-map")
    assert polygons == 2 + 4 + 8  # streets, communities, grids
    # click a community: its figures and cases
    box = desktop.locator("#dashmap").bounding_box()
    desktop.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.5)
    detail = desktop.locator("#dashmap-detail")
    expect(detail).to_be_visible()
    expect(detail.locator(".dashmap-cases li").first).to_be_visible()
    screenshot(desktop, "dashboard-leader-map-detail", full_page=False)
    # one case past its handling deadline, one past 80% of its time: both on the deadline board
    late, near = Appeal.objects.filter(status="in_progress").order_by("pk")[:2]
    now = timezone.now()
    Appeal.objects.filter(pk=late.pk).update(handling_due=now - dt.timedelta(hours=3))
    Appeal.objects.filter(pk=near.pk).update(
        handling_warn_at=now - dt.timedelta(hours=1), handling_due=now + dt.timedelta(hours=5)
    )
    desktop.goto("/dashboard/deadlines/")
    expect(desktop.locator("tr.dl-red", has_text=late.reference)).to_contain_text("超期")
    expect(desktop.locator("tr.dl-yellow", has_text=near.reference)).to_be_visible()
    expect(desktop.locator(".page-header .badge-red")).to_have_text("超期 1")
    screenshot(desktop, "dashboard-leader-deadlines")
    desktop.problems.assert_none()


def test_street_leader_on_a_phone(phone, people, live_server):
    street = people.w.d.streets[0]
    sign_in_staff(phone, people.street_leader.username)
    open_figures(phone, "dashboard-street-figures-phone")
    check_figures(phone, street.path)
    polygons = open_map(phone, "dashboard-street-map-phone")
    assert polygons == 1 + 2 + 4  # one street, its communities and grids
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.problems.assert_none()


def test_public_statistics_on_a_phone_and_in_english(phone, desktop, people, live_server):
    """The public statistics page (no sign-in) once the statistics copy is built: its figures are the
    copy's as of the last refresh, which equal the appeals table's right after it; a case submitted
    since shows after the next refresh."""
    from linli.domains.appeals.choices import AppealStatus as S
    from linli.domains.appeals.stats import rollup
    from linli.domains.appeals.tests.helpers import bring_to

    rollup.refresh()
    total = Appeal.objects.count()
    phone.goto("/statistics/")
    expect(phone.locator('[data-figure="intake_period"]')).to_have_text(str(total))
    expect(phone.locator('[data-figure="open"]')).to_have_text(
        str(Appeal.objects.filter(status__in=OPEN_STATUSES).count())
    )
    expect(phone.locator('[data-figure="as-of"]')).to_contain_text("每分钟更新")
    assert phone.locator("table tbody tr").count() >= 3  # streets, categories, months
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "public-statistics-phone")
    bring_to(people.w, S.SUBMITTED)
    from django.core.cache import cache

    cache.clear()  # as a minute later: the cached figures are recounted
    phone.goto("/statistics/?again=1")  # (another address: the browser keeps the page for a minute)
    expect(phone.locator('[data-figure="intake_period"]')).to_have_text(str(total))  # not yet refreshed
    rollup.refresh()
    cache.clear()
    phone.goto("/statistics/?again=2")
    expect(phone.locator('[data-figure="intake_period"]')).to_have_text(str(total + 1))
    phone.problems.assert_none()

    desktop.goto("/")
    desktop.locator(".prefs-top").get_by_role("button", name="English").click()
    expect(desktop.locator("html")).to_have_attribute("lang", "en")
    desktop.goto("/statistics/")
    expect(desktop.locator('[data-figure="as-of"]')).to_contain_text("updated every minute")
    expect(desktop.locator('[data-figure="intake_period"]')).to_have_text(str(total + 1))
    screenshot(desktop, "public-statistics-desktop-en")
    desktop.problems.assert_none()
