"""Journey on a phone (390 x 844, an iPhone 14's screen): an educator finds the first credential
of GAEL's catalog on the first screen, opens it and finds the Apply button, the fee and who may
apply without scrolling; a visitor who is not signed in finds "Log in to apply" the same way."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Journey

SCREEN = {"width": 390, "height": 844}
CREDENTIAL = "Crucial Conversations Training"


def on_first_screen(locator: Locator) -> None:
    """The element is visible and wholly within the first screen (the page not scrolled)."""
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box is not None
    bottom = box["y"] + box["height"]
    assert box["y"] >= 0 and bottom <= SCREEN["height"], (
        f"{locator} ends {bottom:.0f} px down: below the fold of a {SCREEN['height']}-px screen"
    )


def phone(journey: Journey) -> Page:
    page = journey.new_page("phone")
    page.set_viewport_size(SCREEN)  # type: ignore[arg-type]
    return page


def test_an_educator_on_a_phone_finds_apply_without_scrolling(demo: None, journey: Journey) -> None:
    # given a GAEL member signed in on a phone
    page = phone(journey)
    journey.login(page, "educator@gael.demo")

    # when they open GAEL's catalog, the first credential is on the first screen, with the
    # search and filters a press away
    page.goto("/o/gael/")
    on_first_screen(page.locator(".credential-card h3").first)
    expect(page.get_by_role("combobox", name="Focus area")).to_be_hidden()
    page.get_by_text("Search and filter").click()
    expect(page.get_by_role("combobox", name="Focus area")).to_be_visible()
    journey.step(page, "catalog on a phone")

    # when they open a credential of GAEL's catalog
    page.get_by_role("link", name=CREDENTIAL).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(CREDENTIAL)
    assert page.evaluate("window.scrollY") == 0

    # then Apply, the fee and who may apply are on the first screen
    apply = page.get_by_role("button", name="Apply for this micro-credential")
    on_first_screen(apply)
    on_first_screen(page.locator(".apply-fee"))
    on_first_screen(page.locator(".eligibility"))
    expect(page.locator(".apply-fee")).to_have_text("Free for you as a GAEL member")
    journey.step(page, "credential on a phone")

    # and applying works from there
    apply.click()
    expect(page.locator(".app-facts")).to_contain_text("In progress")
    journey.step(page, "application started on a phone")


def test_a_visitor_on_a_phone_finds_log_in_to_apply_without_scrolling(
    demo: None, journey: Journey
) -> None:
    # given a visitor who is not signed in, on a phone
    page = phone(journey)
    # when they open a credential
    page.goto("/o/gael/")
    page.get_by_role("link", name=CREDENTIAL).click()
    # then the way to apply and who may apply are on the first screen
    on_first_screen(page.get_by_role("link", name="Log in to apply"))
    on_first_screen(page.locator(".eligibility"))
    journey.step(page, "credential on a phone, signed out")
