"""Journey 1 in a real browser: an educator signs up, verifies the address, finds GAEL's catalog,
applies, answers, uploads a PDF and a video through the real uploader to S3, saves, comes back to
find it all there, and submits; an educator takes a quiz; and an upload storage refused is shown
as not finished and retried."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.core import mail
from playwright.sync_api import Page, Route, expect

from programs.models import Membership, Organization, QuizChoice, User
from submissions.models import Application, EvidenceItem
from tests.e2e.conftest import Journey
from tests.e2e.data import words, write_files

NAME = "Jamie Rivera"
EMAIL = "new.educator@school.example"
PASSWORD = "Magnolia-Springs-2026"
REFLECTION = words(420)  # the step asks for 400 to 900 words


def upload(page: Page, step: int, path: Path) -> None:
    """Choose a file in a step's uploader (Uppy): it is sent at once, with no second press, and
    the server checks it."""
    uploader = page.locator(f"#step-{step}-uploader")
    uploader.locator("input[type=file]").first.set_input_files(path)
    status = page.locator(f"#step-{step}-upload-status")
    expect(status).to_contain_text(f"“{path.name}” is uploaded and checked.")
    expect(page.locator(f"#step-{step}-items")).to_contain_text(path.name)


def declare_privacy(page: Page, filename: str) -> None:
    item = page.locator(".item", has_text=filename)
    item.get_by_role("radio", name="No").check()
    item.get_by_role("button", name=re.compile("Save privacy details")).click()
    expect(page.locator(".item", has_text=filename).locator(".privacy-todo")).to_have_count(0)


def test_an_educator_signs_up_applies_uploads_and_submits(
    demo: None, journey: Journey, page: Page, tmp_path: Path, video: bytes
) -> None:
    chosen = write_files(tmp_path, video=video)
    plan, rehearsal = chosen["pdf"], chosen["video"]

    # given a new educator who signs up
    page.goto("/")
    page.keyboard.press("Tab")  # the first stop is the skip link, shown when focused
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    expect(page.get_by_role("link", name="Skip to content")).to_be_in_viewport()
    journey.step(page, "home")
    page.get_by_role("link", name="Sign up").first.click()
    page.get_by_label("Your name as it will appear on your badges").fill(NAME)
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_label(re.compile(r"Password \(again\)")).fill(PASSWORD)
    journey.step(page, "sign up")
    page.get_by_role("button", name=re.compile("Sign up", re.I)).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile("verify", re.I))
    journey.step(page, "verification sent")

    # when they follow the link in the e-mail
    assert len(mail.outbox) == 1, [m.subject for m in mail.outbox]
    body = str(mail.outbox[0].body)
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", body)
    assert link, body
    page.goto(link.group(0))
    journey.step(page, "confirm address")
    page.get_by_role("button", name=re.compile("Confirm", re.I)).click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    # and their badges will carry the name they gave
    educator = User.objects.get(email=EMAIL)
    assert educator.name_for_badges == NAME

    # and GAEL's office records them as a member (GAEL's credentials are for members)
    gael = Organization.objects.get(slug="gael")
    Membership.objects.create(organization=gael, user=educator, member_number="GAEL-26-0420")

    # then they find GAEL's catalog and filter it by a focus area
    page.goto("/")
    page.get_by_role("link", name=gael.name).click()
    expect(page).to_have_url(re.compile(r"/o/gael/$"))
    journey.step(page, "catalog")
    page.get_by_role("combobox", name="Focus area").select_option("preparation-of-self")
    page.get_by_role("button", name="Show results").click()
    expect(page).to_have_url(re.compile(r"focus=preparation-of-self"))
    results = page.locator(".credential-card")
    expect(results).not_to_have_count(0)
    for card in results.all():
        expect(card.locator(".eyebrow")).to_have_text("Preparation of Self")
    journey.step(page, "catalog filtered")

    # and open a credential and apply
    page.get_by_role("link", name="Crucial Conversations Training").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Crucial Conversations Training")
    expect(page.locator(".apply-box")).to_contain_text("Free for you as a GAEL member")
    journey.step(page, "credential")
    page.get_by_role("button", name="Apply for this micro-credential").click()
    expect(page.locator(".app-facts")).to_contain_text("In progress")
    journey.step(page, "application started")

    # when they choose the plan (PDF) and the rehearsal (video) in the uploader
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    upload(page, 1, plan)
    upload(page, 2, rehearsal)
    # then both are sent and checked with no "Upload" press, and nothing went wrong on the
    # console (Uppy says so when it cannot read storage's ETag or Location header)
    assert console_errors == []
    # each step takes one file: its uploader goes, and the step says how to change the file
    for step in (1, 2):
        expect(page.locator(f"#step-{step}-uploader")).to_be_hidden()
        expect(page.locator(f"#step-{step}-items")).to_contain_text("Remove one to add another")
    journey.step(page, "files uploaded")
    declare_privacy(page, plan.name)
    declare_privacy(page, rehearsal.name)

    # and write their reflection, which saves as they type, then save the draft
    answer = page.get_by_label("Your answer")
    answer.fill(REFLECTION)
    expect(page.locator("#step-3-count")).to_contain_text(f"{len(REFLECTION.split())} / 900 words")
    expect(page.locator("#step-3-save-status")).to_have_text("Saved")
    page.locator("#step-3").get_by_role("button", name="Save draft").click()
    journey.step(page, "answer saved")

    # and leave for their dashboard, then come back
    page.get_by_role("link", name="My learning").first.click()
    expect(page.locator("main")).to_contain_text(
        "Every step is done: submit your evidence for review"
    )
    journey.step(page, "my learning")
    page.get_by_role("link", name="Crucial Conversations Training").click()
    expect(page).to_have_url(re.compile(r"/o/gael/applications/"))

    # then everything they did is still there
    expect(page.locator("#step-1-items")).to_contain_text(plan.name)
    expect(page.locator("#step-2-items")).to_contain_text(rehearsal.name)
    expect(page.get_by_label("Your answer")).to_have_value(REFLECTION)
    expect(page.locator(".ready-note")).to_contain_text("Every step is done")
    journey.step(page, "back to the application")
    application = Application.objects.get(educator__email=EMAIL)
    files_kept = EvidenceItem.objects.filter(
        application=application, status=EvidenceItem.Status.READY
    ).exclude(file_kind="")
    assert sorted((i.file_kind, i.content_type) for i in files_kept) == [
        ("document", "application/pdf"),
        ("video", "video/webm"),
    ]

    # when they submit
    page.get_by_role("button", name="Submit my evidence").click()

    # then the application says it is submitted, here and on their dashboard
    expect(page.locator(".app-facts")).to_contain_text("Submitted")
    journey.step(page, "submitted")
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    page.get_by_role("link", name="My learning").first.click()
    expect(page.get_by_role("main")).to_contain_text("Submitted")
    journey.step(page, "my learning submitted")

    # when they decide their badges should not name them publicly
    page.goto("/me/badges/profile/")
    expect(page.get_by_label("Your name as it will appear on your badges")).to_have_value(NAME)
    journey.step(page, "name on badges")
    page.get_by_label("Show my name on my badges").uncheck()
    page.get_by_role("button", name="Save the name on my badges").click()
    # then they are told what that means, and the choice is kept
    expect(page.locator(".notice-success")).to_contain_text("will not carry your name")
    expect(page.get_by_label("Show my name on my badges")).not_to_be_checked()
    educator.refresh_from_db()
    assert educator.name_for_badges == ""


def test_an_educator_takes_a_quiz_and_finds_the_result_again(
    demo: None, journey: Journey, page: Page
) -> None:
    # given Riverside's educator on a credential with a quiz
    journey.login(page, "educator@riverside.demo")
    page.goto("/o/riverside-usd/")
    page.get_by_role("link", name=re.compile("Screencastify")).first.click()
    page.get_by_role("button", name="Apply for this micro-credential").click()
    quiz = page.locator(".step-quiz")
    expect(quiz.locator(".question").first).to_be_visible()
    journey.step(page, "quiz")

    # when they answer every question (the right answer, as someone who studied would)
    for question in quiz.locator(".question").all():
        name = question.locator("input[type=radio]").first.get_attribute("name") or ""
        question_id = int(name.removeprefix("question-"))
        right = QuizChoice.objects.get(question_id=question_id, is_correct=True)
        question.locator(f"input[value='{right.pk}']").check()
    quiz.get_by_role("button", name="Check my answers").click()

    # then they passed, and the result is still there when they come back
    expect(page.locator(".quiz-result")).to_contain_text("Passed")
    journey.step(page, "quiz passed")
    page.get_by_role("link", name="My learning").first.click()
    page.go_back()
    page.reload()
    expect(page.locator(".quiz-result")).to_contain_text("Passed")


def test_an_upload_storage_refused_is_shown_as_not_finished_and_retried(
    demo: None, journey: Journey, page: Page, tmp_path: Path, video: bytes
) -> None:
    plan = write_files(tmp_path, video=video)["pdf"]
    # given a GAEL member on a credential whose first step takes one file
    journey.login(page, "educator@gael.demo")
    page.goto("/o/gael/")
    page.get_by_role("link", name="Crucial Conversations Training").click()
    page.get_by_role("button", name="Apply for this micro-credential").click()
    expect(page.locator(".app-facts")).to_contain_text("In progress")
    # and storage that refuses the first upload, as it does a POST whose signature expired
    endpoint = settings.AWS_S3_PUBLIC_ENDPOINT_URL or settings.AWS_S3_ENDPOINT_URL
    refused: list[str] = []
    held: list[Route] = []

    def refuse_once(route: Route) -> None:
        if route.request.method == "POST" and refused and not held:
            held.append(route)  # the retry: held until the test lets it through
        elif route.request.method == "POST" and not refused:
            refused.append(route.request.url)
            origin = route.request.header_value("origin") or "*"
            route.fulfill(
                status=403,
                headers={"Access-Control-Allow-Origin": origin},
                content_type="application/xml",
                body="<Error><Code>AccessDenied</Code><Message>Request has expired</Message>"
                "</Error>",
            )
        else:
            route.continue_()

    page.route(re.compile(re.escape(endpoint.rstrip("/")) + "/.*"), refuse_once)

    # when they upload the plan
    uploader = page.locator("#step-1-uploader")
    uploader.locator("input[type=file]").first.set_input_files(plan)

    # then they are told it did not finish, and the step's files say so, with Retry and Remove
    status = page.locator("#step-1-upload-status")
    expect(status).to_contain_text(f"“{plan.name}” did not finish uploading")
    items = page.locator("#step-1-items")
    expect(items).to_contain_text("This upload did not finish, so it is not part of your evidence.")
    expect(items.get_by_role("button", name=re.compile("^Remove"))).to_be_visible()
    # and the list of what is left says exactly what to do
    expect(page.locator("#progress")).to_contain_text(
        f"“{plan.name}” did not finish uploading: upload it again."
    )
    journey.step(page, "upload refused")
    assert refused

    # when they press Retry, and Submit while the file is on its way
    with page.expect_request(lambda r: r.method == "POST" and r.url.startswith(endpoint)):
        items.get_by_role("button", name=re.compile("^Retry")).click()
    expect(status).to_contain_text(f"Sending “{plan.name}” again…")
    page.get_by_role("button", name="Submit my evidence").click()

    # then submitting waits, and says why
    expect(page.locator("#submit-status")).to_have_text(
        f"Wait until “{plan.name}” has finished uploading, then submit."
    )
    assert Application.objects.get(educator__email="educator@gael.demo").status == "applied"

    # and once it has arrived, the file is checked and the failed attempt is gone
    assert len(held) == 1
    held[0].continue_()
    expect(status).to_contain_text(f"“{plan.name}” is uploaded and checked.")
    expect(page.locator("#step-1-items")).not_to_contain_text("Did not finish")
    expect(page.locator("#step-1-items")).to_contain_text("Ready")
    journey.step(page, "upload retried")
    application = Application.objects.get(educator__email="educator@gael.demo")
    statuses = sorted(
        EvidenceItem.objects.filter(application=application, kind="file").values_list(
            "status", flat=True
        )
    )
    assert statuses == [EvidenceItem.Status.READY, EvidenceItem.Status.REMOVED]
