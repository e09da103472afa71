"""Badges into wallets in a real browser: the educator presses "Add to wallet" on My badges and
gets a page with the QR code and the Learner Credential Wallet link (axe-checked, at both
widths); a wallet (a client with no session) collects the credential from the link's exchange
once; "Make a new link" gives a fresh one."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from badges.models import Badge
from tests.e2e.conftest import Journey

pytestmark = pytest.mark.xdist_group("browser")

EDUCATOR = "educator@gael.demo"


def test_the_educator_adds_a_badge_to_a_wallet(demo: None, journey: Journey, page: Page) -> None:
    # given the demo educator's badge (issued synchronously by the demo command)
    call_command("demo_badges", "--sync", verbosity=0)
    badge = Badge.objects.filter(recipient__email=EDUCATOR).select_related("organization").first()
    assert badge is not None

    # when they press "Add to wallet" on My badges
    journey.login(page, EDUCATOR)
    page.goto("/me/badges/")
    card = page.locator(f"#badge-{badge.public_id}")
    card.get_by_role("button", name=re.compile("^Add to wallet")).click()

    # then the page shows the QR code, the wallet link and how long it works
    expect(page.get_by_role("heading", level=1)).to_contain_text("to a wallet")
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    expect(page.locator("[data-role=countdown]")).to_contain_text("minutes left")
    journey.step(page, "add to wallet")
    deep_link = page.get_by_role("textbox", name="The wallet link").input_value()
    request = json.loads(parse_qs(urlsplit(deep_link).query)["request"][0])
    exchange = request["protocols"]["vcapi"]
    assert (
        page.get_by_role("link", name="Open in the Learner Credential Wallet").get_attribute("href")
        == deep_link
    )

    # and a wallet, with no session, collects the credential once
    wallet = journey.new_page().request
    answer = wallet.post(exchange, data="{}", headers={"Content-Type": "application/json"})
    assert answer.status == 200, answer.text()
    badge.refresh_from_db()
    assert answer.json()["verifiablePresentation"]["verifiableCredential"] == [badge.credential]
    again = wallet.post(exchange, data="{}", headers={"Content-Type": "application/json"})
    assert (again.status, again.json()["code"]) == (410, "exchange_used")

    # and "Make a new link" gives a fresh one
    page.reload()
    page.get_by_role("button", name=re.compile("^Make a")).click()
    expect(page.get_by_role("textbox", name="The wallet link")).not_to_have_value(deep_link)
    journey.step(page, "a new wallet link")
