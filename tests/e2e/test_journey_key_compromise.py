"""A leaked key in a real browser: GAEL's program admin marks the organization's signing key
compromised from its page in the admin, reads what will happen, confirms; the real worker
re-signs the demo badge, the key's page shows it done, and the badge's public page verifies it
again with the new key."""

from __future__ import annotations

from io import StringIO
from typing import Any

from django.core.management import call_command
from playwright.sync_api import Page, expect

from badges.models import Badge, KeyCompromise, SigningKey
from tests.e2e.conftest import Journey
from tests.worker import wait_for

PROGRAM_ADMIN = "admin@gael.demo"


def test_a_program_admin_marks_a_leaked_key_compromised_and_the_badge_is_re_signed(
    demo: None, celery_worker: Any, journey: Journey, page: Page
) -> None:
    # given GAEL's demo badge, signed with GAEL's only key
    call_command("demo_badges", "--sync", stdout=StringIO())
    badge = Badge.objects.get(recipient__email="educator@gael.demo")
    leaked = SigningKey.objects.get(organization__slug="gael", is_active=True)
    assert badge.signing_key_id == leaked.pk

    # when the program admin opens the key's page in the admin
    journey.login(page, PROGRAM_ADMIN)
    page.goto("/admin/badges/signingkey/")
    page.get_by_role("link", name=f"{leaked.key_id[:16]}…").click()
    journey.step(page, "key page")

    # and its "Mark compromised" button: the page says what will happen, to how many badges
    page.get_by_role("link", name="Mark compromised").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("compromised")
    expect(page.locator("#content-main")).to_contain_text("nothing signed with it verifies")
    expect(page.locator("#content-main strong", has_text="1 badge")).to_be_visible()
    journey.step(page, "confirm compromise")
    page.get_by_role("button", name="Yes, mark this key compromised and re-sign 1 badge").click()

    # then they are back on the key's page, told what happens next
    expect(page.locator(".messagelist")).to_contain_text("no longer published")

    # and the worker re-signs the badge; the page, reloaded, says so
    wait_for(
        lambda: KeyCompromise.objects.filter(key=leaked, state="done").exists(),
        what="the worker to re-sign the badge",
    )
    page.reload()
    expect(page.locator(".field-resign_state")).to_contain_text("Done: 1 of 1 badges re-signed")
    journey.step(page, "re-signed")

    # and anyone checking the badge on its public page finds it valid, with the new key
    badge.refresh_from_db()
    assert badge.signing_key_id != leaked.pk
    stranger = journey.new_page()
    stranger.goto(f"/badges/{badge.public_id}/")
    stranger.get_by_role("button", name="Verify now").click()
    expect(stranger.locator("[data-role=verify-status]")).to_contain_text("Result: Valid.")
