"""The reviewer's calibration pages: the list of exemplars to score and scored (with the
agreement), an exemplar's page (the evidence as on the review page, blind, and the rubric), the
gate on claim-next that leads there, 404s for others and fixed query counts."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import requests
from django.test import Client
from django.utils import timezone

from programs.models import CredentialVersion, Organization, RubricCriterion, StaffRole, User
from reviews import calibration, services
from reviews.models import CalibrationAttempt, CalibrationExemplar, Claim
from submissions.models import Application, EvidenceItem, Submission
from tests.conftest import assert_same_query_count
from tests.factories import (
    OrganizationFactory,
    ProgramFactory,
    StaffRoleFactory,
    UserFactory,
    make_credential,
)
from tests.reviews.conftest import decide

pytestmark = pytest.mark.django_db

NAME, EMAIL = "Zelda Quintero", "zelda.quintero@hawthorne.example"
SCHOOL, DISTRICT = "Hawthorne Elementary", "Riverside Unified"


# --- Helpers -------------------------------------------------------------------------------------


def list_url(org: Organization) -> str:
    return f"/o/{org.slug}/review/calibration/"


def exemplar_url(example: CalibrationExemplar, suffix: str = "") -> str:
    return f"{list_url(example.organization)}{example.public_id}/{suffix}"


def file_url(example: CalibrationExemplar, item: EvidenceItem) -> str:
    return exemplar_url(example, f"items/{item.public_id}/file/")


def body(response) -> str:
    return response.content.decode()


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def criterion_of(submission: Submission) -> int:
    return RubricCriterion.objects.get(version_id=submission.application.version_id).pk


def code_of(submission: Submission) -> str:
    return Application.objects.get(pk=submission.application_id).anonymous_code


def file_item(submission: Submission) -> EvidenceItem:
    return Submission.objects.get(pk=submission.pk).items.get(kind=EvidenceItem.Kind.FILE)


def leaks(text: str) -> list[str]:
    return [
        secret
        for secret in (NAME, EMAIL, SCHOOL, DISTRICT, "Zelda", "Quintero")
        if secret.lower() in text.lower() or quote(secret).lower() in text.lower()
    ]


@pytest.fixture
def admin(org: Organization) -> User:
    return StaffRoleFactory(organization=org, role=StaffRole.Role.PROGRAM_ADMIN).user


def decided(make_submission, org: Organization, **kw) -> Submission:  # type: ignore[no-untyped-def]
    """A submission approved by a throwaway reviewer (make these before any exemplar: an
    exemplar would hold the throwaway reviewer back from claiming)."""
    submission = make_submission(**kw)
    person = StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER).user
    claim = services.review_claim_next(organization=org, reviewer=person)
    assert claim.submission_id == submission.pk
    decide(claim, person)
    return Submission.objects.get(pk=submission.pk)


def exemplar(
    org: Organization, admin: User, submission: Submission, title: str = "Exit tickets, grade 4"
) -> CalibrationExemplar:
    return calibration.exemplar_create(
        organization=org,
        submission=submission,
        title=title,
        agreed_decision="approve",
        agreed_scores={criterion_of(submission): 1},
        rationale="Every component of the method is visible in the plan.",
        actor=admin,
    )


def score(client: Client, example: CalibrationExemplar, level: int | None, decision: str = ""):  # type: ignore[no-untyped-def]
    data = {"decision": decision}
    if level is not None:
        data[f"score_{criterion_of(example.submission)}"] = str(level)
    return client.post(exemplar_url(example), data)


# --- The list ------------------------------------------------------------------------------------


class TestList:
    def test_lists_the_exemplars_to_score(
        self, org: Organization, admin: User, reviewer: User, make_submission
    ) -> None:
        # given two active exemplars and a retired one
        past = [decided(make_submission, org, title="Peer Coaching") for _ in range(3)]
        first = exemplar(org, admin, past[0], "Exit tickets, grade 4")
        second = exemplar(org, admin, past[1], "Think-alouds in science")
        retired = exemplar(org, admin, past[2], "Retired example")
        CalibrationExemplar.objects.filter(pk=retired.pk).update(is_active=False)
        # when the reviewer opens the calibration page
        response = logged_in(reviewer).get(list_url(org))
        page = body(response)
        # then both active ones are listed, oldest first, with a link to score each
        assert response.status_code == 200
        assert 'To score <span class="muted">(2)</span>' in page
        assert page.index("Exit tickets, grade 4") < page.index("Think-alouds in science")
        assert f'href="{exemplar_url(first)}"' in page
        assert f'href="{exemplar_url(second)}"' in page
        assert "Retired example" not in page
        assert "Peer Coaching" in page  # the credential
        assert "Claim next in the review queue is refused" in page
        assert "You have not scored a calibration example yet." in page
        assert 'aria-current="page">Calibration</a>' in page

    def test_empty_state(self, org: Organization, reviewer: User) -> None:
        page = body(logged_in(reviewer).get(list_url(org)))
        assert "No calibration example is waiting for you." in page
        assert 'To score <span class="muted">(0)</span>' in page

    def test_query_count_is_the_same_for_one_and_five_exemplars(
        self, org: Organization, admin: User, reviewer: User, count_queries
    ) -> None:
        # given one exemplar to score and one scored, then five of each (in several credentials)
        versions = [make_credential(org, non_member_fee=0) for _ in range(3)]
        add_exemplars(org, admin, reviewer, versions, 1)
        client = logged_in(reviewer)
        small = count_queries(lambda: client.get(list_url(org)))
        page = body(client.get(list_url(org)))
        assert page.count("claim-card") == 1 and page.count('class="agreement-percent"') == 1
        add_exemplars(org, admin, reviewer, versions, 4)
        large = count_queries(lambda: client.get(list_url(org)))
        page = body(client.get(list_url(org)))
        assert page.count("claim-card") == 5 and page.count('class="agreement-percent"') == 5
        # then the count is the same
        assert_same_query_count(small, large)


def add_exemplars(
    org: Organization, admin: User, reviewer: User, versions: list[CredentialVersion], n: int
) -> None:
    """``n`` exemplars to score and ``n`` scored by ``reviewer``, written straight to the
    database (no uploads)."""
    now = timezone.now()
    for i in range(2 * n):
        version = versions[i % len(versions)]
        application = Application.objects.create(
            organization=org,
            educator=UserFactory(),
            credential_id=version.credential_id,
            version=version,
            status=Application.Status.AWARDED,
            submitted_at=now,
        )
        submission = Submission.objects.create(
            organization=org,
            application=application,
            number=1,
            submitted_at=now,
            outcome="approve",
            decided_at=now,
        )
        criterion = RubricCriterion.objects.get(version=version).pk
        example = CalibrationExemplar.objects.create(
            organization=org,
            submission=submission,
            title=f"Example {CalibrationExemplar.objects.count() + 1}",
            agreed_decision="approve",
            agreed_scores={str(criterion): 1},
            rationale="Clear.",
            created_by=admin,
        )
        if i % 2:
            CalibrationAttempt.objects.create(
                organization=org,
                exemplar=example,
                reviewer=reviewer,
                scores={str(criterion): 0},
                decision="not_awarded",
                matching=0,
                total=1,
            )


# --- An exemplar's page --------------------------------------------------------------------------


class TestExemplarPage:
    def test_shows_the_evidence_like_the_review_page_and_the_rubric(
        self, org: Organization, admin: User, reviewer: User, make_submission
    ) -> None:
        example = exemplar(org, admin, decided(make_submission, org))
        item = file_item(example.submission)
        code = code_of(example.submission)
        client = logged_in(reviewer)
        page = body(client.get(exemplar_url(example)))
        # the requirements in order, with their instructions and evidence
        assert "<h1>Exit tickets, grade 4</h1>" in page
        assert page.index("Lesson plan") < page.index("Reflection")
        assert "Upload the lesson plan you taught." in page
        viewer = f"{file_url(example, item)}#view=FitH&amp;zoom=page-width"
        assert f'<object data="{viewer}" type="application/pdf"' in page
        assert f"Open {code}-file-1.pdf" in page
        assert "I changed the lesson because the exit tickets" in page
        # the criterion's levels as radios, no comment box (calibration keeps none)
        pk = criterion_of(example.submission)
        assert f'<fieldset class="criterion" id="criterion_{pk}"' in page
        assert f'name="score_{pk}" value="0"' in page and f'name="score_{pk}" value="1"' in page
        assert f'name="comment_{pk}"' not in page
        for value in ("approve", "needs_revision", "not_awarded"):
            assert f'name="decision" value="{value}"' in page
        # and the file is a signed link, named blind
        response = client.get(file_url(example, item))
        assert response.status_code == 302
        assert response["Cache-Control"] == "private, no-store"
        stored = requests.get(response["Location"], timeout=30)
        assert stored.status_code == 200
        assert f'filename="{code}-file-1.pdf"' in stored.headers["Content-Disposition"]

    def test_scoring_completes_calibration_so_claim_next_works(
        self, org: Organization, admin: User, reviewer: User, make_submission
    ) -> None:
        # given an exemplar and a live submission waiting
        example = exemplar(org, admin, decided(make_submission, org))
        live = make_submission()
        client = logged_in(reviewer)
        # the queue says to calibrate first, with a link
        queue = body(client.get(f"/o/{org.slug}/review/"))
        assert "Calibrate first: 1 example to score" in queue
        assert f'href="{list_url(org)}"' in queue
        # and claim next is refused, leading to the calibration page with the reason
        response = client.post(f"/o/{org.slug}/review/claim/")
        assert response.status_code == 302 and response["Location"] == list_url(org)
        page = body(client.get(response["Location"]))
        assert "Score the 1 calibration example before you take live submissions." in page
        assert not Claim.objects.filter(reviewer=reviewer).exists()
        # when the reviewer scores the exemplar
        response = score(client, example, 0, "not_awarded")
        # then they are back on the list, told how far they agreed
        assert response.status_code == 302 and response["Location"] == list_url(org)
        page = body(client.get(list_url(org)))
        assert (
            "You scored “Exit tickets, grade 4”: 0 of 1 criterion scored as agreed "
            "(0% agreement). Your decision: not awarded; agreed: approve. You have scored every "
            "calibration example: you may claim live submissions."
        ) in page
        assert 'To score <span class="muted">(0)</span>' in page
        assert "You have scored every calibration example." in page
        assert '<span class="agreement-percent">0%</span>' in page
        assert "<td>Not yet (0) <span" in page and "<td>Meets (1)</td>" in page
        assert "Every component of the method is visible in the plan." in page
        attempt = CalibrationAttempt.objects.get(reviewer=reviewer)
        assert (attempt.matching, attempt.total, attempt.decision) == (0, 1, "not_awarded")
        # and the queue no longer asks, and claim next works
        assert "Calibrate first" not in body(client.get(f"/o/{org.slug}/review/"))
        response = client.post(f"/o/{org.slug}/review/claim/")
        assert response.status_code == 302 and "/claims/" in response["Location"]
        assert Claim.objects.get(reviewer=reviewer).submission_id == live.pk
        # and the scored exemplar cannot be scored again
        response = client.get(exemplar_url(example), follow=True)
        assert "You have already scored “Exit tickets, grade 4”" in body(response)
        assert score(client, example, 1, "approve").status_code == 302
        assert CalibrationAttempt.objects.get(reviewer=reviewer).scores == {
            str(criterion_of(example.submission)): 0
        }

    def test_full_agreement_is_reported(
        self, org: Organization, admin: User, reviewer: User, make_submission
    ) -> None:
        past = [decided(make_submission, org) for _ in range(2)]
        first = exemplar(org, admin, past[0])
        exemplar(org, admin, past[1], "Second")
        client = logged_in(reviewer)
        response = score(client, first, 1, "approve")
        page = body(client.get(response["Location"]))
        assert "1 of 1 criterion scored as agreed (100% agreement)" in page
        assert "1 calibration example still to score." in page
        assert '<span class="agreement-percent">100%</span>' in page

    def test_a_missing_rating_is_tied_to_its_field_and_nothing_is_saved(
        self, org: Organization, admin: User, reviewer: User, make_submission
    ) -> None:
        example = exemplar(org, admin, decided(make_submission, org))
        pk = criterion_of(example.submission)
        client = logged_in(reviewer)
        # when the reviewer submits a decision but no rating
        response = score(client, example, None, "approve")
        page = body(response)
        # then the page comes back with the error beside the criterion, the decision kept
        assert response.status_code == 400
        assert "Nothing was saved." in page
        assert f'<a href="#criterion_{pk}">Rate “Plan aligns with the method”.</a>' in page
        assert f'<p class="field-error" id="criterion_{pk}-error">' in page
        assert f'aria-describedby="criterion_{pk}-error"' in page
        assert 'value="approve" checked' in page
        assert not CalibrationAttempt.objects.exists()
        # and a rating without a decision, or off the scale, is refused the same way
        response = score(client, example, 1, "")
        assert response.status_code == 400
        assert 'id="decision-error">Choose approve, needs revision or not awarded.' in body(
            response
        )
        assert f'name="score_{pk}" value="1" data-meets checked' in body(response)
        response = score(client, example, 7, "approve")
        assert response.status_code == 400
        assert "choose one of its levels (0, 1)" in body(response)
        assert not CalibrationAttempt.objects.exists()
        assert not calibration.reviewer_is_calibrated(organization=org, reviewer=reviewer)

    def test_calibration_is_blind_even_when_the_program_is_not(
        self, org: Organization, admin: User, reviewer: User, make_submission
    ) -> None:
        # given an exemplar from a program that does not review blind, by an educator whose
        # file is named after them
        educator = UserFactory(full_name=NAME, email=EMAIL, school=SCHOOL, district=DISTRICT)
        submission = decided(make_submission, org, educator=educator)
        EvidenceItem.objects.filter(pk=file_item(submission).pk).update(
            display_name=f"{NAME} lesson plan.pdf"
        )
        example = exemplar(org, admin, submission)
        client = logged_in(reviewer)
        # when the reviewer opens every calibration page and the file, and submits
        pages = [client.get(list_url(org)), client.get(exemplar_url(example))]
        pages.append(score(client, example, None, ""))
        redirect = client.get(file_url(example, file_item(submission)))
        pages.append(score(client, example, 1, "approve"))
        pages.append(client.get(list_url(org)))
        # then the name, e-mail, school and district appear nowhere
        for response in pages:
            assert response.status_code in (200, 302, 400)
            assert leaks(body(response)) == [], leaks(body(response))
        assert leaks(redirect["Location"]) == []
        assert code_of(submission) in body(pages[1])
        assert "identity stays hidden" in body(pages[1])

    def test_an_exemplar_outside_the_reviewers_programs_is_not_found(
        self, org: Organization, admin: User, make_submission
    ) -> None:
        example = exemplar(org, admin, decided(make_submission, org))
        limited = StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER)
        limited.programs.set([ProgramFactory(organization=org)])
        client = logged_in(limited.user)
        assert client.get(exemplar_url(example)).status_code == 404
        assert "Exit tickets" not in body(client.get(list_url(org)))


# --- Who may open the pages ----------------------------------------------------------------------


def test_a_reviewer_of_another_organization_gets_404(
    org: Organization, admin: User, make_submission
) -> None:
    # given an exemplar in one organization
    example = exemplar(org, admin, decided(make_submission, org))
    item = file_item(example.submission)
    # when a reviewer (even an owner) of another organization tries every URL
    elsewhere = OrganizationFactory()
    client = logged_in(StaffRoleFactory(organization=elsewhere, role=StaffRole.Role.OWNER).user)
    # then every one answers 404 and nothing is saved
    for url in (list_url(org), exemplar_url(example), file_url(example, item)):
        assert client.get(url).status_code == 404, url
    pk = criterion_of(example.submission)
    data = {f"score_{pk}": "1", "decision": "approve"}
    assert client.post(exemplar_url(example), data).status_code == 404
    # and the exemplar through their own organization's address is not found either
    foreign = f"{list_url(elsewhere)}{example.public_id}/"
    assert client.get(foreign).status_code == 404
    assert client.post(foreign, data).status_code == 404
    assert client.get(foreign + f"items/{item.public_id}/file/").status_code == 404
    # while their own (empty) calibration page works
    assert client.get(list_url(elsewhere)).status_code == 200
    assert not CalibrationAttempt.objects.exists()


def test_someone_without_a_reviewer_role_gets_404_like_the_other_review_pages(
    org: Organization, admin: User, make_submission
) -> None:
    example = exemplar(org, admin, decided(make_submission, org))
    item = file_item(example.submission)
    educator = logged_in(UserFactory())
    for url in (list_url(org), exemplar_url(example), file_url(example, item)):
        assert educator.get(url).status_code == 404, url
    assert educator.post(exemplar_url(example), {"decision": "approve"}).status_code == 404
    # an anonymous visitor is asked to log in (the file answers 404, as on the review page)
    anonymous = Client()
    for url in (list_url(org), exemplar_url(example)):
        response = anonymous.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert anonymous.get(file_url(example, item)).status_code == 404
    assert not CalibrationAttempt.objects.exists()


def test_the_exemplars_own_educator_and_the_admin_who_agreed_do_not_get_it(
    org: Organization, admin: User, make_submission
) -> None:
    educator = UserFactory()
    StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER, user=educator)
    example = exemplar(org, admin, decided(make_submission, org, educator=educator))
    for person in (educator, admin):
        client = logged_in(person)
        assert client.get(exemplar_url(example)).status_code == 404
        assert 'To score <span class="muted">(0)</span>' in body(client.get(list_url(org)))
