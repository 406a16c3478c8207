"""The interface shell in a real browser: the public home page, languages, the elderly mode."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def body_font_px(page) -> float:
    return page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")


def test_public_home_on_desktop_in_chinese(desktop):
    desktop.goto("/")
    expect(desktop.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(desktop.locator("h1")).to_contain_text("邻里")
    expect(desktop.locator(".brand")).to_be_visible()
    expect(desktop.locator(".skip-link")).to_have_attribute("href", "#main")
    expect(desktop.locator("main#main")).to_be_visible()
    expect(desktop.locator(".phone-menu")).to_be_hidden()
    # The stylesheet and the script really load (they are static files under the live server).
    assert desktop.evaluate("getComputedStyle(document.querySelector('.topbar')).position") == "sticky"
    screenshot(desktop, "home-public-desktop")
    desktop.problems.assert_none()


def test_public_home_on_phone_has_compact_menu(phone):
    phone.goto("/")
    expect(phone.locator("h1")).to_be_visible()
    expect(phone.locator(".phone-menu > summary")).to_be_visible()
    expect(phone.locator(".prefs-top")).to_be_hidden()
    # Nothing sticks out sideways on a 390px screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "home-public-phone")
    phone.locator(".phone-menu > summary").click()
    menu = phone.locator(".phone-menu .dropdown-panel")
    expect(menu).to_be_visible()
    expect(menu.get_by_role("button", name="English")).to_be_visible()
    screenshot(phone, "home-public-phone-menu", full_page=False)
    phone.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    phone.problems.assert_none()


def test_switching_to_english_and_back(desktop):
    desktop.goto("/")
    desktop.locator(".prefs-top").get_by_role("button", name="English").click()
    expect(desktop.locator("html")).to_have_attribute("lang", "en")
    expect(desktop.locator("h1")).to_contain_text("Linli")
    expect(desktop.locator(".prefs-top .elderly-toggle")).to_contain_text("Elderly")
    screenshot(desktop, "home-public-desktop-en")
    desktop.locator(".prefs-top").get_by_role("button", name="中文").click()
    expect(desktop.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(desktop.locator("h1")).to_contain_text("邻里")
    desktop.problems.assert_none()


def test_elderly_mode_makes_text_larger(phone):
    phone.goto("/")
    normal = body_font_px(phone)
    assert normal < 20
    phone.locator(".phone-menu > summary").click()
    phone.locator(".phone-menu .elderly-toggle").click()
    expect(phone.locator("body")).to_have_class(re.compile(r"\belderly\b"))
    phone.wait_for_function("parseFloat(getComputedStyle(document.body).fontSize) >= 20")
    # Buttons are big enough to hit with a finger.
    height = phone.evaluate("document.querySelector('.phone-menu > summary').getBoundingClientRect().height")
    assert height >= 48
    screenshot(phone, "home-public-phone-elderly")
    # The choice is kept for the session, on every page.
    phone.reload()
    expect(phone.locator("body")).to_have_class(re.compile(r"\belderly\b"))
    phone.locator(".phone-menu > summary").click()
    phone.locator(".phone-menu .elderly-toggle").click()
    expect(phone.locator("body")).not_to_have_class(re.compile(r"\belderly\b"))
    phone.wait_for_function(f"parseFloat(getComputedStyle(document.body).fontSize) === {normal}")
    phone.problems.assert_none()
