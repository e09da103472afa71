"""Journey 4 in a real browser: GAEL's program admin creates a credential in the admin, with two
evidence requirements and a rubric, publishes it, finds it in the public catalog; and sees
nothing of Riverside's."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from programs.models import Credential, CredentialVersion, FocusArea
from tests.e2e.conftest import Journey

TITLE = "Restorative Circles in Staff Meetings"
SLUG = "restorative-circles"


def add_inline_row(page: Page, prefix: str, number: int, values: dict[str, str]) -> None:
    """Add a row to a tabular inline (the admin's own “Add another …” link) and fill it."""
    group = page.locator(f"#{prefix}-group")
    group.locator(".add-row a").click()
    for field, value in values.items():
        control = group.locator(f"[name='{prefix}-{number}-{field}']")
        tag = control.first.evaluate("el => el.tagName.toLowerCase() + ':' + (el.type || '')")
        if tag.startswith("select"):
            control.select_option(value)
        elif tag.endswith("checkbox") or tag.endswith("radio"):
            group.locator(f"[name='{prefix}-{number}-{field}'][value='{value}']").check()
        else:
            control.fill(value)


def save_and_continue(page: Page) -> None:
    page.locator("input[name='_continue']").click()
    expect(page.locator(".errornote")).to_have_count(0)


def test_a_program_admin_creates_and_publishes_a_credential(
    demo: None, journey: Journey, page: Page
) -> None:
    # given GAEL's program admin in the admin
    journey.login(page, "admin@gael.demo")
    page.goto("/admin/")
    journey.step(page, "admin home")

    # when they add a credential
    page.goto("/admin/programs/credential/")
    journey.step(page, "credentials")
    page.get_by_role("link", name=re.compile("Add credential", re.I)).click()
    page.get_by_label("Program").select_option(index=1)  # GAEL's only program
    page.get_by_label("Slug").fill(SLUG)
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Summary").fill("Run staff meetings as restorative circles.")
    page.get_by_label("Competency").fill(
        "The leader facilitates a staff meeting as a restorative circle that gives every voice "
        "a turn and ends in shared commitments."
    )
    journey.step(page, "add credential")
    page.locator("input[name='_save']").click()
    expect(page.locator(".messagelist")).to_contain_text("draft version 1")
    # the new draft opens in the builder (tests/e2e/test_journey_builder.py); this journey goes
    # on with the version's own page, which still edits it
    assert page.url.endswith("/builder/")
    version_url = page.url.removesuffix("builder/") + "change/"
    page.goto(version_url)
    journey.step(page, "draft version")

    # and give the draft a focus area, two evidence requirements and a rubric criterion
    leading = FocusArea.objects.get(organization__slug="gael", slug="leading-the-organization")
    page.get_by_label("Focus area").select_option(str(leading.pk))
    page.get_by_label("Members only").check()
    add_inline_row(
        page,
        "requirements",
        0,
        {
            "position": "1",
            "title": "Meeting plan",
            "kind": "file",
            "instructions": "Upload the plan of the circle: the talking piece and the questions.",
            "accepted_file_kinds": "document",
        },
    )
    add_inline_row(
        page,
        "requirements",
        1,
        {
            "position": "2",
            "title": "Reflection",
            "kind": "text",
            "instructions": "What happened, and what will you change next time?",
            "word_min": "200",
            "word_max": "600",
        },
    )
    add_inline_row(
        page,
        "criteria",
        0,
        {
            "position": "1",
            "title": "Every voice is heard",
            "description": "The plan and the reflection show that each participant had a turn.",
            "passing_score": "2",
        },
    )
    journey.step(page, "requirements and rubric")
    save_and_continue(page)

    # and open the criterion to give it its levels
    criteria = page.locator("#criteria-group")
    expect(criteria).to_contain_text("Save, then open the criterion")
    criteria.get_by_role("link", name=re.compile("Change")).click()
    add_inline_row(
        page, "levels", 0, {"score": "1", "label": "Developing", "descriptor": "Some voices."}
    )
    add_inline_row(
        page, "levels", 1, {"score": "2", "label": "Proficient", "descriptor": "Every voice."}
    )
    journey.step(page, "rubric levels")
    save_and_continue(page)

    # then the draft is ready to publish, and publishing puts it in the catalog
    page.goto(version_url)
    expect(page.locator(".field-publishing_checklist")).to_contain_text("Ready to publish")
    expect(page.locator("#criteria-group")).to_contain_text("1 Developing, 2 Proficient")
    journey.step(page, "ready to publish")
    # the preview frames the draft's public page (this site may frame it), marked not public
    page.get_by_role("link", name="Preview", exact=True).click()
    desktop = page.frame_locator('iframe[title="Preview of the public page, desktop width"]')
    expect(desktop.get_by_role("heading", level=1)).to_have_text(TITLE)
    page.get_by_role("link", name="Open the preview page on its own").click()
    expect(page.get_by_role("note")).to_contain_text("Preview — not public")
    journey.step(page, "preview")
    page.goto(version_url)
    page.get_by_role("link", name="Publish this version").click()
    expect(page.get_by_role("button", name="Publish version 1")).to_be_visible()
    journey.step(page, "confirm publishing")
    page.get_by_role("button", name="Publish version 1").click()
    expect(page.locator(".messagelist")).to_contain_text("is now in the catalog")
    journey.step(page, "published")
    credential = Credential.objects.get(organization__slug="gael", slug=SLUG)
    published = credential.current_version
    assert published is not None and published.state == CredentialVersion.State.PUBLISHED
    assert published.requirements.count() == 2

    page.goto("/o/gael/?focus=leading-the-organization")
    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.get_by_role("main")).to_contain_text("Meeting plan")
    journey.step(page, "in the catalog")


def test_a_program_admin_sees_nothing_of_another_organization(
    demo: None, journey: Journey, page: Page
) -> None:
    # given GAEL's program admin, and one of Riverside's credentials
    theirs = Credential.objects.select_related("current_version").get(
        organization__slug="riverside-usd", slug="google-classroom"
    )
    their_version = theirs.current_version
    assert their_version is not None
    journey.login(page, "admin@gael.demo")

    # when they list credentials in the admin
    page.goto("/admin/programs/credential/")

    # then only GAEL's are there
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(Credential.objects.filter(organization__slug="gael").count())
    expect(page.locator("#result_list")).not_to_contain_text(their_version.title)

    # and opening Riverside's credential or version by its address finds nothing
    for url in (
        f"/admin/programs/credential/{theirs.pk}/change/",
        f"/admin/programs/credentialversion/{their_version.pk}/change/",
    ):
        response = page.goto(url)
        assert response is not None
        assert response.status == 404, (url, page.url)
        expect(page.get_by_role("main")).not_to_contain_text(their_version.title)
    journey.step(page, "another organization's credential")
