"""Journey 2 in a real browser: a reviewer claims GAEL's next submission, plays the video and
opens the PDF inline, scores every criterion with the keyboard (the live summary counts those at
passing level; Approve waits for all) and asks for a revision; the
educator reads the feedback, replaces the plan through the uploader and resubmits; the reviewer
claims the new attempt and approves it."""

from __future__ import annotations

import re
from pathlib import Path

from allauth.account.models import EmailAddress
from playwright.sync_api import Locator, Page, expect

from programs.demo_data.people import DEMO_PASSWORD
from programs.models import Organization, StaffRole, User
from submissions.models import Application, EvidenceItem
from tests.e2e.conftest import Journey
from tests.e2e.data import PDF, one_page_pdf, submitted_attempt

EDUCATOR = "educator@gael.demo"  # Magnolia Springs Middle School, Pine Ridge County Schools
REVIEWER = "a.ortiz@savannah.example"  # another school, another district: no conflict
CREDENTIAL = "Crucial Conversations Training"

OVERALL = "A thoughtful rehearsal: you kept the conversation safe and closed with a commitment."
CHANGE = "Rewrite the plan so it states the facts separately from your story about them."
COMMENT = "The plan mixes what happened with what you concluded from it."


REVISED_PLAN = one_page_pdf("Conversation plan, revised: the facts, then my story.")


def gael_reviewer(email: str = REVIEWER) -> User:
    """A trained GAEL reviewer from another district than the demo educator's (reviewers may
    declare their own district a conflict), with a verified address and the demo password."""
    user = User.objects.create_user(
        email,
        DEMO_PASSWORD,
        full_name="Dr. Ana Ortiz",
        school="Savannah Arts Academy",
        district="Savannah-Chatham County Public Schools",
    )
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    StaffRole.objects.create(
        organization=Organization.objects.get(slug="gael"),
        user=user,
        role=StaffRole.Role.REVIEWER,
    )
    return user


def press_to_choose(page: Page, control: Locator) -> None:
    """Choose a radio button the way a keyboard user does: focus it, press Space."""
    control.focus()
    page.keyboard.press("Space")
    expect(control).to_be_checked()


def score(page: Page, levels: dict[str, str], comments: dict[str, str] | None = None) -> None:
    """Rate every criterion of the rubric (``levels``: criterion title → level label; every
    criterion on the page must be named) and write the comments."""
    criteria = page.locator("fieldset.criterion")
    titles = [title.strip() for title in criteria.locator("legend").all_inner_texts()]
    assert sorted(titles) == sorted(levels), titles
    for title, level in levels.items():
        criterion = criteria.filter(has=page.locator("legend", has_text=title))
        press_to_choose(page, criterion.get_by_role("radio", name=re.compile(f"^{level}")))
        if comments and title in comments:
            criterion.get_by_role("textbox").fill(comments[title])


def messages(page: Page) -> Locator:
    """The site's messages after an action (base.html, above the main content)."""
    return page.locator("div[role=status] > .notice")


def claim_next(page: Page, journey: Journey, *, step: str = "") -> None:
    """Open the queue (a step the first time) and claim the next submission."""
    page.goto("/o/gael/review/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Review queue")
    if step:
        journey.step(page, step)
    page.get_by_role("button", name="Claim next").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(CREDENTIAL)
    expect(messages(page)).to_contain_text("You claimed")


def signed_pdf(page: Page) -> bytes:
    """The PDF shown inline: its address answers with the PDF itself, to be shown in place.
    (What a PDF viewer draws inside an <object> cannot be read from the page, so the bytes are
    fetched as the <object> fetches them, with the reviewer's cookies.)"""
    pdf = page.locator("object.evidence-pdf")
    expect(pdf).to_have_count(1)
    address = pdf.get_attribute("data")
    assert address, "the <object> has no address"
    # opened at the width of the page (a fragment: the signed address behind it is unchanged)
    assert address.endswith("#view=FitH&zoom=page-width"), address
    answer = page.request.get(address)
    assert answer.ok, (answer.status, answer.url)
    assert answer.headers["content-type"] == "application/pdf", answer.headers
    assert not answer.headers.get("content-disposition", "").startswith("attachment"), (
        answer.headers
    )
    return answer.body()


def test_a_reviewer_asks_for_a_revision_then_approves(
    demo: None, journey: Journey, page: Page, tmp_path: Path, video: bytes
) -> None:
    # given GAEL's educator submitted the plan (PDF), the rehearsal (video) and a reflection
    application = submitted_attempt(
        organization="gael",
        credential="crucial-conversations-training",
        educator=EDUCATOR,
        video=video,
    )
    gael_reviewer()
    revised = tmp_path / "Conversation plan, revised.pdf"
    revised.write_bytes(REVISED_PLAN)

    # when a reviewer logs in, opens the queue and claims the next submission
    journey.login(page, REVIEWER)
    claim_next(page, journey, step="queue")

    # then the rehearsal plays in the page
    player = page.locator("video.evidence-media")
    expect(player).to_have_count(1)
    player.evaluate("async (video) => { video.muted = true; await video.play() }")
    page.wait_for_function(
        "video => video.readyState >= 2 && video.currentTime > 0", arg=player.element_handle()
    )
    player.evaluate("video => video.pause()")

    # and the plan opens inline
    assert signed_pdf(page) == PDF

    # when they rate every criterion with the keyboard and ask for a revision
    score(
        page,
        {
            "Purpose and facts are clear": "Developing",
            "Dialogue is planned, not a script": "Proficient",
            "Keeps the conversation safe": "Proficient",
            "Ends in a clear commitment": "Exemplary",
            "Honest, specific reflection": "Proficient",
        },
        {"Purpose and facts are clear": COMMENT},
    )
    # then the summary counts the criteria at passing level as they are rated, names the one
    # below it, and Approve is not offered
    summary = page.locator("#passing-summary")
    expect(summary).to_contain_text("4 of 5 criteria at passing level")
    expect(summary.get_by_role("link")).to_have_text(["Purpose and facts are clear"])
    expect(page.get_by_role("radio", name="Approve")).to_be_disabled()
    page.get_by_label("Overall feedback to the educator").fill(OVERALL)
    press_to_choose(page, page.get_by_role("radio", name="Needs revision"))
    expect(page.get_by_label(re.compile("^What to change"))).to_be_visible()
    page.get_by_label(re.compile("^What to change")).fill(CHANGE)
    journey.step(page, "review page, scored")
    page.get_by_role("button", name="Submit review").click()

    # then they are back at the queue, and the attempt went back to the educator
    expect(page.get_by_role("heading", level=1)).to_have_text("Review queue")
    expect(messages(page)).to_contain_text("is submitted (needs revision)")
    journey.step(page, "revision asked")
    application.refresh_from_db()
    assert application.status == Application.Status.NEEDS_REVISION

    # when the educator logs in and opens their application
    educator = journey.new_page()
    journey.login(educator, EDUCATOR)
    educator.get_by_role("link", name="My learning").first.click()
    expect(educator.get_by_role("main")).to_contain_text("Needs revision")
    journey.step(educator, "my learning, revision asked")
    educator.get_by_role("link", name=CREDENTIAL).first.click()

    # then the reviewer's feedback is there, overall and beside the step it is about
    summary = educator.locator(".feedback-summary")
    expect(summary).to_contain_text(OVERALL)
    expect(summary).to_contain_text(f"What to change: {CHANGE}")
    plan_feedback = educator.locator("#step-1 .feedback")
    expect(plan_feedback).to_contain_text("Purpose and facts are clear: Developing (1)")
    expect(plan_feedback).to_contain_text(COMMENT)
    expect(educator.locator("#step-2 .feedback")).to_contain_text(
        "Ends in a clear commitment: Exemplary (3)"
    )
    journey.step(educator, "feedback")

    # when they replace the plan through the uploader and resubmit
    educator.locator("#step-1-items").get_by_role("button", name=re.compile("^Remove")).click()
    expect(educator.locator("#step-1-items .item")).to_have_count(0)
    uploader = educator.locator("#step-1-uploader")
    uploader.locator("input[type=file]").first.set_input_files(revised)
    expect(educator.locator("#step-1-upload-status")).to_contain_text(
        f"“{revised.name}” is uploaded and checked."
    )
    item = educator.locator(".item", has_text=revised.name)
    item.get_by_role("radio", name="No").check()
    item.get_by_role("button", name=re.compile("Save privacy details")).click()
    expect(educator.locator(".item", has_text=revised.name).locator(".privacy-todo")).to_have_count(
        0
    )
    expect(educator.locator(".ready-note")).to_contain_text("Every step is done")
    educator.get_by_role("button", name="Resubmit my evidence").click()
    expect(educator.locator(".app-facts")).to_contain_text("Submitted")
    expect(educator.locator(".app-facts")).to_contain_text("2 of")
    journey.step(educator, "resubmitted")

    # then the reviewer claims the new attempt: the revised plan, and the earlier feedback
    claim_next(page, journey)
    expect(page.locator(".previous-attempts summary")).to_contain_text(
        "Feedback on earlier attempts (1)"
    )
    assert signed_pdf(page) == REVISED_PLAN
    journey.step(page, "second attempt")

    # when they approve it: nothing is rated yet, so Approve waits for the ratings
    expect(page.locator("#passing-summary")).to_contain_text("0 of 5 criteria at passing level")
    expect(page.get_by_role("radio", name="Approve")).to_be_disabled()
    score(
        page,
        {
            "Purpose and facts are clear": "Proficient",
            "Dialogue is planned, not a script": "Proficient",
            "Keeps the conversation safe": "Proficient",
            "Ends in a clear commitment": "Exemplary",
            "Honest, specific reflection": "Proficient",
        },
    )
    expect(page.locator("#passing-summary")).to_contain_text("5 of 5 criteria at passing level.")
    expect(page.get_by_role("radio", name="Approve")).to_be_enabled()
    page.get_by_label("Overall feedback to the educator").fill(
        "The revised plan separates the facts from the story. Approved."
    )
    press_to_choose(page, page.get_by_role("radio", name="Approve"))
    expect(page.get_by_label(re.compile("^What to change"))).to_be_hidden()
    page.get_by_role("button", name="Submit review").click()

    # then the application is approved
    expect(messages(page)).to_contain_text("is submitted (approve)")
    journey.step(page, "approved")
    application.refresh_from_db()
    assert application.status in (Application.Status.APPROVED, Application.Status.AWARDED)
    kept = EvidenceItem.objects.filter(
        application=application, status=EvidenceItem.Status.READY, file_kind="document"
    )
    assert [i.display_name for i in kept] == [revised.name]
