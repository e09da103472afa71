"""A school in a real browser (issue 21): Lincoln Elementary's principal sets a goal, recommends
two credentials (one from Riverside's catalog, one from GAEL's public catalog), assigns one to
two teachers with a target date; a teacher accepts on My learning and later earns the badge
(the review fast-forwarded through the services); the principal sees "Awarded" on the progress
page, and nothing of the evidence or the reviewer's comments. Axe-clean at both widths."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from badges import services as badge_services
from programs import services as program_services
from programs.models import Membership, Organization, RubricCriterion, School, User
from reviews import services as review_services
from submissions.models import Application
from tests.e2e.conftest import Journey
from tests.e2e.data import submitted_attempt
from tests.factories import UserFactory

PRINCIPAL = "principal@riverside.demo"
TEACHER = "educator@riverside.demo"  # Priya Raman, on Lincoln Elementary's staff
REVIEWER = "reviewer@riverside.demo"
CREDENTIAL = "Formative Assessment in Practice"
REVIEWER_COMMENT = "Hinge question reached every student; a model reflection."

pytestmark = pytest.mark.xdist_group("browser")


def second_teacher(riverside: Organization) -> None:
    """Another teacher of Lincoln Elementary (the roster's words put them there)."""
    person = UserFactory(email="sam.lee@riverside.demo", full_name="Sam Lee")
    Membership.objects.create(
        organization=riverside,
        user=person,
        school="Lincoln Elementary School",
        district="Riverside Unified School District",
    )
    program_services.school_links_sync(organization=riverside, user_ids=[person.pk])


def top_score(criterion: RubricCriterion) -> int:
    return max(criterion.levels.values_list("score", flat=True))


def earned(application: Application) -> None:
    """A reviewer approves the attempt and the badge is issued, through the services."""
    riverside = Organization.objects.get(slug="riverside-usd")
    reviewer = User.objects.get(email=REVIEWER)
    claim = review_services.review_claim_next(organization=riverside, reviewer=reviewer)
    assert claim.submission.application_id == application.pk
    criteria = RubricCriterion.objects.filter(version_id=application.version_id)
    review_services.review_submit(
        claim=claim,
        reviewer=reviewer,
        scores={
            c.pk: {"score": c.levels.order_by("-score").first().score, "comment": ""}
            for c in criteria
        },
        overall_feedback=REVIEWER_COMMENT,
        decision="approve",
    )
    badge_services.badge_issue(application_id=application.pk)
    application.refresh_from_db()
    assert application.status == Application.Status.AWARDED


def test_a_principal_curates_assigns_and_sees_a_teacher_earn_the_badge(
    demo: None, journey: Journey, page: Page, video: bytes
) -> None:
    riverside = Organization.objects.get(slug="riverside-usd")
    second_teacher(riverside)
    lincoln = School.objects.get(organization=riverside, name="Lincoln Elementary School")

    # given the principal in their school's workspace
    journey.login(page, PRINCIPAL)
    page.goto("/me/")
    page.get_by_role("link", name="Lincoln Elementary School").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lincoln Elementary School")
    journey.step(page, "workspace")

    # when they set a goal
    page.get_by_label("Goal", exact=True).last.fill("Literacy instruction")
    page.get_by_role("button", name="Add goal").click()
    expect(page.get_by_role("heading", name="Literacy instruction")).to_be_visible()

    # and recommend two credentials: their district's and one from GAEL's public catalog
    for query, title in (("Formative", CREDENTIAL), ("Crucial", "Crucial Conversations")):
        page.get_by_label("Title or organization").fill(query)
        page.get_by_role("button", name="Search").click()
        results = page.get_by_role("list", name="Credentials found")
        results.get_by_role("button", name="Recommend for Literacy instruction").first.click()
        expect(page.locator("#goal-" + str(lincoln.goals.get().pk))).to_contain_text(title)
    journey.step(page, "goal with two recommendations")

    # and assign one to two teachers, by a date
    page.get_by_label("Credential", exact=True).select_option(label=f"{CREDENTIAL} (Riverside USD)")
    page.get_by_label("Priya Raman").check()
    page.get_by_label("Sam Lee").check()
    target = timezone.localdate() + dt.timedelta(days=30)
    page.get_by_label("Target date").fill(target.isoformat())
    page.get_by_role("button", name="Assign").click()
    expect(page.get_by_text("Assigned: 2 new.")).to_be_visible()
    journey.step(page, "assigned")

    # then a teacher sees it on My learning, with what the principal can see, and accepts
    teacher = journey.new_page()
    journey.login(teacher, TEACHER)
    teacher.goto("/me/")
    assignments = teacher.locator(
        "section", has=teacher.get_by_role("heading", name="Assigned by your school")
    )
    expect(assignments).to_contain_text(CREDENTIAL)
    expect(assignments).to_contain_text("never your evidence, scores or reviewer comments")
    expect(
        teacher.get_by_text("Recommended for Lincoln Elementary School: Literacy instruction").first
    ).to_be_visible()
    journey.step(teacher, "teacher sees the assignment")
    assignments.get_by_role("button", name=f"Accept {CREDENTIAL}").click()
    expect(teacher.get_by_text("Accepted: apply from the credential's page")).to_be_visible()
    journey.step(teacher, "teacher accepted")

    # and later earns the badge (the review fast-forwarded through the services)
    application = submitted_attempt(
        organization="riverside-usd",
        credential="formative-assessment-in-practice",
        educator=TEACHER,
        video=video,
    )
    earned(application)

    # then the principal sees "Awarded" for her, "Not started" for the other, no comment
    page.goto(f"/o/riverside-usd/schools/{lincoln.pk}/progress/")
    table = page.get_by_role("table")
    expect(table.get_by_role("row", name="Priya Raman")).to_contain_text("Awarded")
    expect(table.get_by_role("row", name="Sam Lee")).to_contain_text("Not started")
    expect(page.get_by_text("Fewer than 10 people: no breakdown")).to_be_visible()
    assert REVIEWER_COMMENT not in page.content()
    journey.step(page, "progress shows awarded")

    # and, once the teacher lists herself for her colleagues, the school's recognition page
    # celebrates her badge (only badges their earners chose to show)
    teacher.goto("/me/directory/")
    teacher.get_by_label("Members of my organizations").check()
    teacher.get_by_role("button", name="Save").click()
    journey.step(teacher, "teacher listed for colleagues")
    page.goto(f"/o/riverside-usd/schools/{lincoln.pk}/recognition/")
    expect(
        page.get_by_role("heading", name="Celebrating Lincoln Elementary School")
    ).to_be_visible()
    celebrated = page.locator(".recognition-item", has_text="Priya Raman")
    expect(celebrated).to_contain_text(CREDENTIAL)
    journey.step(page, "recognition page")
