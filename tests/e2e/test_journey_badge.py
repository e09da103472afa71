"""Journey 3 in a real browser: a reviewer's approval reaches the real Celery worker, which issues
the badge; the educator finds it in "My badges", a stranger verifies it on its public page, the
educator downloads the baked image and shares it on LinkedIn; GAEL's program admin revokes it in
the admin with a public reason and a private note, and the public page gives the reason only."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, expect

from badges.baking import unbake_png
from badges.models import Badge
from programs.demo_data.people import DEMO_PASSWORD
from programs.models import Organization, RubricCriterion, User
from reviews import services as review_services
from submissions.models import Application
from tests.e2e.conftest import Journey
from tests.e2e.data import submitted_attempt
from tests.worker import wait_for

EDUCATOR = "educator@gael.demo"
PROGRAM_ADMIN = "admin@gael.demo"  # GAEL's office: no school or district to conflict with
CREDENTIAL = "Crucial Conversations Training"
REASON = "The recording was found to be another educator's work."
PRIVATE_NOTE = "We matched it to a 2022 conference video; call the office before re-applying."


def approved(application: Application, *, reviewer: str) -> None:
    """A reviewer claims the attempt and approves it through the review services; each commits,
    so the approval's on-commit callbacks queue the issuing task on the broker as in production."""
    organization = Organization.objects.get(slug="gael")
    person = User.objects.get(email=reviewer)
    claim = review_services.review_claim_next(organization=organization, reviewer=person)
    assert claim.submission.application_id == application.pk
    criteria = RubricCriterion.objects.filter(version_id=application.version_id)
    review_services.review_submit(
        claim=claim,
        reviewer=person,
        scores={c.pk: {"score": 2, "comment": ""} for c in criteria},
        overall_feedback="Clear plan, a safe conversation and an honest reflection.",
        decision="approve",
    )


def issued(application: Application) -> Badge | None:
    """The badge, once the worker committed it."""
    return (
        Badge.objects.filter(application_id=application.pk).select_related("organization").first()
    )


def test_the_worker_issues_a_badge_that_is_verified_shared_and_revoked(
    demo: None, celery_worker: Any, journey: Journey, page: Page, video: bytes
) -> None:
    # given an educator's attempt that a reviewer approves (nothing else: the worker issues)
    application = submitted_attempt(
        organization="gael",
        credential="crucial-conversations-training",
        educator=EDUCATOR,
        video=video,
    )
    approved(application, reviewer=PROGRAM_ADMIN)

    # when the worker has issued the badge
    badge = wait_for(lambda: issued(application), timeout=30, what="the worker to issue the badge")
    application.refresh_from_db()
    assert application.status == Application.Status.AWARDED
    verify_path = f"/badges/{badge.public_id}/"

    # then the educator finds it in "My badges"
    journey.login(page, EDUCATOR)
    page.get_by_role("link", name="My badges").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My badges")
    card = page.locator(f"#badge-{badge.public_id}")
    expect(card.get_by_role("heading", name=CREDENTIAL)).to_be_visible()
    expect(card.locator(".backpack-state")).to_have_text("Valid")
    journey.step(page, "my badges")

    # and anyone (a fresh, logged-out browser) sees it valid on its verification page
    stranger = journey.new_page()
    stranger.goto(verify_path)
    expect(stranger.get_by_role("heading", level=1)).to_have_text(CREDENTIAL)
    expect(stranger.locator("#state-heading")).to_contain_text("Valid")
    expect(stranger.locator(".share-panel")).to_have_count(0)  # the owner's panel only
    journey.step(stranger, "verification page")

    # and "Verify now" checks it again and announces that every check passed
    stranger.get_by_role("button", name="Verify now").click()
    announced = stranger.locator("[data-role=verify-status]")
    expect(announced).to_have_attribute("aria-live", "polite")
    expect(announced).to_contain_text("Result: Valid.")
    checks = stranger.locator("[data-role=checks] .check")
    expect(checks).not_to_have_count(0)
    expect(stranger.locator("[data-role=checks] .check-fail")).to_have_count(0)
    for name in ("Signature passed", "Revocation status passed"):
        expect(announced).to_contain_text(name)
    journey.step(stranger, "verified now")

    # when the educator opens the share panel and downloads the baked image
    card.locator("summary", has_text="Share or download").click()
    panel = card.locator(".share-panel")
    expect(panel).to_be_visible()
    journey.step(page, "share panel")
    with page.expect_download() as download:
        panel.get_by_role("link", name="Badge image (PNG)").click()
    picture = download.value
    assert picture.suggested_filename.endswith(".png"), picture.suggested_filename
    baked = unbake_png(picture.path().read_bytes())

    # then the image carries the signed credential exactly as issued
    assert baked is not None, "no openbadgecredential iTXt chunk in the PNG"
    badge.refresh_from_db()
    assert json.loads(baked) == badge.credential

    # and "Add to LinkedIn" fills LinkedIn's certification form with the badge's facts
    linkedin = urlsplit(
        panel.get_by_role("link", name=re.compile("^Add to LinkedIn")).get_attribute("href") or ""
    )
    assert (linkedin.scheme, linkedin.netloc, linkedin.path) == (
        "https",
        "www.linkedin.com",
        "/profile/add",
    )
    fields = {
        key: values[0] for key, values in parse_qs(linkedin.query, strict_parsing=True).items()
    }
    issued_at = badge.issued_at.astimezone(dt.UTC)
    assert fields == {
        "startTask": "CERTIFICATION_NAME",
        "name": CREDENTIAL,
        "organizationName": badge.credential["issuer"]["name"],
        "issueYear": str(issued_at.year),
        "issueMonth": str(issued_at.month),
        "certUrl": journey.url(verify_path),
        "certId": str(badge.public_id),
    }, fields

    # when GAEL's program admin logs into the admin and finds the badge
    admin = journey.new_page()
    admin.goto("/admin/")
    journey.step(admin, "admin login")
    admin.get_by_label(re.compile("^E-?mail", re.I)).fill(PROGRAM_ADMIN)
    admin.get_by_label("Password").fill(DEMO_PASSWORD)
    admin.get_by_role("button", name=re.compile("log in", re.I)).click()
    expect(admin.locator("#content-main")).to_be_visible()
    journey.step(admin, "admin home")
    admin.locator("#content-main .model-badge").get_by_role("link", name="Badges").click()
    expect(admin.locator("#result_list")).to_contain_text(EDUCATOR)
    journey.step(admin, "badges")
    admin.locator("#result_list").get_by_role("link", name=CREDENTIAL).click()

    # and revokes it, first forgetting the public reason (a private note typed)
    expect(admin.locator(".field-state_label")).to_contain_text("Valid")
    admin.get_by_role("link", name="Revoke this badge").click()
    expect(admin.get_by_role("heading", level=1)).to_contain_text(f"Revoke “{CREDENTIAL}”")
    reason = admin.get_by_label("Public reason")
    note = admin.get_by_label("Private note")
    expect(reason).to_have_accessible_description(re.compile("Shown to anyone who checks"))
    expect(note).to_have_accessible_description(
        re.compile("Only the educator \\(by e-mail\\) and your organization's admins see this")
    )
    note.fill(PRIVATE_NOTE)
    admin.get_by_role("button", name="Yes, revoke this badge").click()
    expect(admin.locator(".errornote")).to_be_visible()
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_have_accessible_description(re.compile("Give a reason"))
    expect(note).to_have_value(PRIVATE_NOTE)
    journey.step(admin, "revoke without a reason")
    assert Badge.objects.get(pk=badge.pk).revoked_at is None
    reason.fill(REASON)
    admin.get_by_role("button", name="Yes, revoke this badge").click()
    expect(admin.locator(".messagelist")).to_contain_text("is revoked")
    expect(admin.locator(".field-state_label")).to_contain_text("Revoked")
    expect(admin.locator(".field-revocation_reason")).to_contain_text(REASON)
    expect(admin.locator(".field-revocation_note")).to_contain_text(PRIVATE_NOTE)
    journey.step(admin, "revoked")

    # then the public page, loaded again, says it is revoked and why, never the private note
    stranger.reload()
    expect(stranger.locator("#state-heading")).to_contain_text("Revoked")
    expect(stranger.locator(".badge-state")).to_contain_text(f"Reason: {REASON}")
    expect(stranger.locator("body")).not_to_contain_text(PRIVATE_NOTE)
    stranger.get_by_role("button", name="Verify now").click()
    expect(announced).to_contain_text("Result: Revoked.")
    journey.step(stranger, "verification page revoked")
