"""Whole journeys in a real browser: signing in (staff password, resident SMS code), the district map,
and the resident register seen by a grid worker, who sees their own grid and nothing else."""

import re

import pytest
from playwright.sync_api import expect

from linli.core.orgs.choices import Role
from linli.core.orgs.tests.factories import make_staff

from .conftest import screenshot, sign_in_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def register(small_district):
    """One household of two in the first flat of each grid: households[i] lies in grids[i]."""
    from linli.core.people.tests.factories import make_household

    d = small_district
    d.households = [make_household(d.flats[4 * g], members=2) for g in range(len(d.grids))]
    return d


def test_staff_signs_in_with_password_and_sees_their_workspace(desktop, register):
    d = register
    make_staff(Role.GRID_WORKER, d.grids[0], username="wangwei")
    sign_in_staff(desktop, "wangwei")
    expect(desktop.locator("h1")).to_contain_text("wangwei")
    roles = desktop.locator(".role-list")
    expect(roles).to_contain_text("网格员")
    expect(roles).to_contain_text(d.grids[0].name)
    # Counts inside the jurisdiction: one grid, one compound, one household of two.
    stats = {
        desktop.locator(".stat-label").nth(i).inner_text(): desktop.locator(".stat-value").nth(i).inner_text()
        for i in range(desktop.locator(".stat").count())
    }
    assert stats == {"网格": "1", "小区/院落": "1", "住户": "1", "居民": "2"}
    # A grid worker may read the register: it is in the side navigation.
    expect(desktop.locator(".sidenav").get_by_role("link", name="住户登记")).to_be_visible()
    expect(desktop.locator(".sidenav").get_by_role("link", name="审计日志")).to_have_count(0)
    screenshot(desktop, "home-staff-desktop")
    # Sign out is a POST from the user menu.
    desktop.locator(".user-menu > summary").click()
    desktop.locator(".user-menu").get_by_role("button", name="退出登录").click()
    expect(desktop.locator(".hero")).to_be_visible()
    expect(desktop.locator(".user-menu")).to_have_count(0)
    desktop.problems.assert_none()


def test_staff_workspace_on_phone(phone, register):
    make_staff(Role.COMMUNITY_STAFF, register.communities[1], username="lina")
    sign_in_staff(phone, "lina")
    expect(phone.locator(".stat")).to_have_count(4)
    expect(phone.locator(".sidenav")).to_be_hidden()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "home-staff-phone")
    phone.locator(".phone-menu > summary").click()
    expect(phone.locator(".phone-menu").get_by_role("link", name="住户登记")).to_be_visible()
    screenshot(phone, "home-staff-phone-menu", full_page=False)
    phone.locator(".phone-menu .elderly-toggle").click()
    expect(phone.locator("body")).to_have_class(re.compile(r"\belderly\b"))
    phone.wait_for_function("parseFloat(getComputedStyle(document.body).fontSize) >= 20")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "home-staff-phone-elderly")
    phone.problems.assert_none()


def test_resident_signs_in_with_an_sms_code(phone, register):
    from linli.core.accounts import sms
    from linli.core.people import services as people
    from linli.core.people.choices import Relation
    from linli.core.people.tests.factories import make_person

    d = register
    person = make_person(name="张秀英", phone="13900001234")
    people.household_member_add(
        actor=None, household=d.households[2], person=person, relation=Relation.SPOUSE
    )
    sms.outbox.clear()

    phone.goto("/")
    phone.locator(".hero-actions a").first.click()
    phone.locator("main input[name=phone]").fill("139 0000 1234")
    phone.locator("main button[type=submit]").first.click()
    expect(phone.locator("main input[name=code]")).to_be_visible()
    assert len(sms.outbox) == 1
    code = re.search(r"\d{6}", sms.outbox[0].text).group(0)
    phone.locator("main input[name=code]").fill(code)
    phone.locator("main button[type=submit]").first.click()

    expect(phone.locator("h1")).to_contain_text("张秀英")
    household = phone.locator(".household-card")
    expect(household).to_contain_text(d.compounds[2].name)
    expect(household).to_contain_text(d.grids[2].name)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "home-resident-phone")
    phone.problems.assert_none()


# Leaflet draws vector layers as SVG paths, or on <canvas> elements when the map prefers it (faster
# with thousands of grids). Either way the test checks that the polygons were really drawn.
COUNT_DRAWN = """() => {
  // Vector layers live in the overlay pane or in custom panes the page creates; never in tiles.
  const pane = document.querySelector('.leaflet-container .leaflet-map-pane');
  if (!pane) return {svg: 0, canvasFilled: 0, canvasColours: 0};
  const svg = pane.querySelectorAll('svg path').length;
  let best = 0;
  const colours = new Set();
  pane.querySelectorAll('canvas').forEach(c => {
    if (!c.width || !c.height || c.closest('.leaflet-tile-pane')) return;
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let filled = 0, total = 0;
    for (let i = 0; i < data.length; i += 4 * 16) {
      total += 1;
      if (data[i + 3] > 0) { filled += 1; colours.add(data[i] + ',' + data[i + 1] + ',' + data[i + 2]); }
    }
    best = Math.max(best, filled / total);
  });
  // canvasFilled: the largest share of painted pixels on any one canvas.
  return {svg: svg, canvasFilled: best, canvasColours: colours.size};
}"""


def assert_polygons_drawn(page, expected: int) -> None:
    page.wait_for_function(
        f"n => {{ const d = ({COUNT_DRAWN})(); "
        "return d.svg >= n || (d.canvasFilled > 0.02 && d.canvasColours >= 3); }",
        arg=expected,
        timeout=10_000,
    )
    drawn = page.evaluate(COUNT_DRAWN)
    if drawn["svg"]:
        assert drawn["svg"] >= expected, drawn


def test_map_page_draws_the_district(desktop, small_district):
    d = small_district
    desktop.goto("/places/map/")
    # Streets, communities and grids are drawn from the district's own GeoJSON.
    assert_polygons_drawn(desktop, len(d.streets) + len(d.communities) + len(d.grids))
    map_box = desktop.locator(".leaflet-container").first
    for grid in d.grids:
        expect(map_box.get_by_text(grid.name, exact=True)).to_have_count(1)
    box = map_box.bounding_box()
    # The map fills the window below the top bar (and whatever heading the page puts above it).
    assert box["height"] >= 600
    assert box["y"] + box["height"] >= 800 - 2
    screenshot(desktop, "map-desktop", full_page=False)
    desktop.problems.assert_none()


def test_map_page_on_phone(phone, small_district):
    d = small_district
    phone.goto("/places/map/")
    assert_polygons_drawn(phone, len(d.streets) + len(d.communities) + len(d.grids))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "map-phone", full_page=False)
    phone.problems.assert_none()


def test_grid_worker_sees_only_their_grid(desktop, register):
    d = register
    make_staff(Role.GRID_WORKER, d.grids[0], username="gridworker")
    sign_in_staff(desktop, "gridworker")
    desktop.goto("/register/households/")
    rows = desktop.locator("main table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(d.grids[0].name)
    for other in d.grids[1:]:
        expect(desktop.locator("main table")).not_to_contain_text(other.name)
    screenshot(desktop, "register-grid-worker-desktop")

    # Their own household opens; another grid's, typed into the address bar, does not exist for them.
    response = desktop.goto(f"/register/households/{d.households[0].pk}/")
    assert response.status == 200
    response = desktop.goto(f"/register/households/{d.households[1].pk}/")
    assert response.status == 404
    expect(desktop.locator(".error-code")).to_have_text("404")
    expect(desktop.locator("h1")).to_have_text("页面不存在")
    screenshot(desktop, "404-desktop")
    problems = [p for p in desktop.problems if "404" not in p]
    assert not problems, problems


def test_grid_worker_register_on_phone(phone, register):
    make_staff(Role.GRID_WORKER, register.grids[3], username="gw3")
    sign_in_staff(phone, "gw3")
    phone.goto("/register/households/")
    expect(phone.locator("main table tbody tr")).to_have_count(1)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "register-grid-worker-phone")


def test_staff_workspace_in_english_and_elderly_mode(desktop, register):
    make_staff(Role.ADMIN, register.district, username="admin1")
    sign_in_staff(desktop, "admin1")
    desktop.locator(".prefs-top").get_by_role("button", name="English").click()
    expect(desktop.locator("html")).to_have_attribute("lang", "en")
    expect(desktop.locator(".sidenav")).to_contain_text("Household register")
    expect(desktop.locator(".role-list")).to_contain_text("Administrator")
    # Side navigation labels fit on one line each, even in English.
    screenshot(desktop, "home-staff-desktop-en")
    heights = desktop.eval_on_selector_all(".sidenav .nav-link", "els => els.map(e => e.offsetHeight)")
    assert max(heights) <= min(heights) + 2, heights
    desktop.locator(".prefs-top .elderly-toggle").click()
    expect(desktop.locator("body")).to_have_class(re.compile(r"\belderly\b"))
    desktop.wait_for_function("parseFloat(getComputedStyle(document.body).fontSize) >= 20")
    screenshot(desktop, "home-staff-desktop-elderly")
    desktop.problems.assert_none()
