"""Journey in a real browser: GAEL's program admin builds a credential from scratch on one page
(the builder) — three evidence requirements, one a two-question quiz, and a three-by-three
rubric — in at most four page loads, watching what blocks publishing go away as the draft saves
itself; then previews and publishes it (where the preview page exists)."""

from __future__ import annotations

import re

from django.urls import reverse
from playwright.sync_api import Locator, Page, expect

from programs.models import Credential, CredentialVersion
from tests.e2e.conftest import Journey

TITLE = "Restorative Circles in Staff Meetings"
SLUG = "restorative-circles-builder"
LEVELS = (("Developing", "Some voices."), ("Proficient", "Every voice."), ("Leading", "Shared."))


DRAG_FIRST_BELOW_SECOND = """() => {
  const rows = document.querySelectorAll("[data-list='rubric.criteria'] > tr");
  const data = new DataTransfer();
  const handle = rows[0].querySelector(".builder-drag");
  handle.dispatchEvent(new MouseEvent("mousedown", {bubbles: true}));
  rows[0].dispatchEvent(new DragEvent("dragstart", {bubbles: true, dataTransfer: data}));
  const below = rows[1].getBoundingClientRect().bottom - 5;
  rows[1].querySelector("td").dispatchEvent(new DragEvent("dragover", {
    bubbles: true, cancelable: true, dataTransfer: data, clientY: below}));
  rows[0].dispatchEvent(new DragEvent("dragend", {bubbles: true, dataTransfer: data}));
}"""


def requirement(page: Page, n: int) -> Locator:
    return page.locator("[data-list='requirements'] > li").nth(n)


def add_requirement(page: Page, n: int, title: str, kind: str, instructions: str) -> Locator:
    page.get_by_role("button", name="Add an evidence requirement").click()
    row = requirement(page, n)
    row.get_by_label("Title", exact=True).fill(title)
    row.get_by_label("Kind").select_option(kind)
    row.get_by_label("Instructions").fill(instructions)
    return row


def add_question(row: Locator, n: int, prompt: str, answers: tuple[str, str], correct: int) -> None:
    row.get_by_role("button", name="Add a question").click()
    question = row.locator("[data-list='questions'] > li").nth(n)
    question.get_by_label("Question", exact=True).fill(prompt)
    for k, answer in enumerate(answers):
        question.get_by_label("Answer", exact=True).nth(k).fill(answer)
    question.get_by_label("Correct").nth(correct).check()


def test_a_program_admin_builds_a_credential_on_one_page(
    demo: None, journey: Journey, page: Page
) -> None:
    # given GAEL's program admin on the list of credentials
    journey.login(page, "admin@gael.demo")
    loads: list[str] = []
    page.on("load", lambda: loads.append(page.url))
    page.goto("/admin/programs/credential/")

    # when they add a credential: its address and first words, then the builder opens
    page.get_by_role("link", name=re.compile("Add credential", re.I)).click()
    page.get_by_label("Program").select_option(index=1)
    page.get_by_label("Slug").fill(SLUG)
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Summary").fill("Run staff meetings as restorative circles.")
    page.get_by_label("Competency").fill("The leader facilitates a restorative circle.")
    page.locator("input[name='_save']").click()
    expect(page.get_by_role("heading", name=re.compile("Build"))).to_be_visible()
    blockers = page.locator("#builder-problems")
    expect(blockers).to_contain_text("Add at least one evidence requirement.")
    journey.step(page, "a new draft in the builder")

    # and build it: fees, three requirements (each showing only its kind's settings) …
    page.locator("[name='version.non_member_fee']").fill("40")
    plan = add_requirement(page, 0, "Meeting plan", "file", "Upload the plan of the circle.")
    plan.get_by_label("Documents (PDF, Word)").check()
    expect(plan.get_by_label("Words at least")).to_be_hidden()
    reflection = add_requirement(page, 1, "Reflection", "text", "What happened?")
    reflection.get_by_label("Words at least").fill("200")
    expect(reflection.get_by_label("Largest file (MB)")).to_be_hidden()
    quiz = add_requirement(page, 2, "Check your understanding", "quiz", "Answer both questions.")
    quiz.get_by_label("Pass mark (% of correct answers)").fill("50")
    add_question(quiz, 0, "Who speaks?", ("Anyone", "The holder of the talking piece"), 1)
    add_question(quiz, 1, "How does it end?", ("With shared commitments", "With a vote"), 0)

    # … and a rubric grid of three criteria by three levels
    for n, title in enumerate(("Every voice is heard", "Harm is repaired", "Plan is clear")):
        page.get_by_role("button", name="Add a criterion").click()
        row = page.locator("[data-list='rubric.criteria'] > tr").nth(n)
        row.get_by_label("Title").fill(title)
        for k, (label, descriptor) in enumerate(LEVELS):
            row.get_by_label("Label", exact=True).nth(k).fill(label)
            row.get_by_label("Descriptor").nth(k).fill(descriptor)
    # the first criterion is dragged below the second by its handle (the browser's drag events:
    # Playwright's mouse does not carry an HTML drag through in headless Chromium)
    page.evaluate(DRAG_FIRST_BELOW_SECOND)
    rows = page.locator("[data-list='rubric.criteria'] > tr")
    expect(rows.nth(1).get_by_label("Title")).to_have_value("Every voice is heard")
    expect(rows.nth(0).locator("[data-number]")).to_have_text("Criterion 1")
    page.evaluate(DRAG_FIRST_BELOW_SECOND)  # and back
    expect(rows.nth(0).get_by_label("Title")).to_have_value("Every voice is heard")
    # the last criterion moves up, from the keyboard
    last = page.locator("[data-list='rubric.criteria'] > tr").nth(2)
    last.get_by_role("button", name="Move criterion up").focus()
    page.keyboard.press("Enter")
    page.locator("[name='version.title']").focus()  # leaving the grid saves at once

    # then the draft saved itself, and nothing blocks publishing any more
    expect(page.locator("#builder-status")).to_contain_text("Saved", timeout=10_000)
    expect(blockers).to_contain_text("Ready to publish")
    assert len(loads) <= 4, loads
    journey.step(page, "the credential built")
    version = CredentialVersion.objects.get(credential__slug=SLUG)
    assert [r.kind for r in version.requirements.all()] == ["file", "text", "quiz"]
    assert [c.title for c in version.criteria.all()] == [
        "Every voice is heard",
        "Plan is clear",
        "Harm is repaired",
    ]
    assert [lv.label for lv in version.criteria.first().levels.all()] == [  # type: ignore[union-attr]
        label for label, _ in LEVELS
    ]

    # they preview it at desktop and phone width, publish it after the confirmation, and find it
    # in the catalog
    page.get_by_role("link", name="Preview").click()
    assert page.url.endswith(reverse("admin:programs_credentialversion_preview", args=[version.pk]))
    frames = page.locator("iframe")
    expect(frames).to_have_count(2)
    for k in range(2):
        expect(frames.nth(k).content_frame.get_by_role("heading", level=1)).to_contain_text(TITLE)
    journey.step(page, "preview")
    page.go_back()
    page.get_by_role("link", name="Publish…").click()
    journey.step(page, "publish confirmation")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("^Publish version")).click()
    credential = Credential.objects.get(organization__slug="gael", slug=SLUG)
    assert credential.current_version_id == version.pk
    journey.step(page, "published")
    page.goto(journey.url("/o/gael/"))
    expect(page.get_by_role("link", name=TITLE)).to_be_visible()
    journey.step(page, "in the catalog")
