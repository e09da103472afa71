"""The earner is named truthfully: the signed credential carries the name the educator chose at
issue time (or none, when they chose not to be named publicly), the verification page shows that
name and never the live profile's, and an account without a name is asked for one before it
submits evidence and on My badges."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from badges import documents, services
from badges.models import Badge
from programs.models import Organization, StaffRole, User
from reviews import services as review_services
from submissions import services as submission_services
from submissions.models import Application
from tests.badges.conftest import assert_valid_ob3
from tests.badges.test_independent_verifier import documents_for, verify_independently
from tests.badges.test_views_backpack import credential_of, earn, logged_in
from tests.badges.test_worker import approve_committed, issued_badge
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    PathwayFactory,
    StaffRoleFactory,
    UserFactory,
    make_credential,
)
from tests.reviews.conftest import decide, submit_attempt
from tests.worker import running_worker, wait_for

pytestmark = pytest.mark.django_db

NAME_URL = "/me/name/"
UNNAMED_BY_CHOICE = (
    "The earner chose not to be named publicly. You can check who earned it with their e-mail "
    "address below."
)
NOT_INCLUDED = "Name not included in this badge. You can check who earned it with their e-mail"


def identifiers(badge: Badge) -> list[dict[str, Any]]:
    return list(badge.credential["credentialSubject"]["identifier"])


def page_of(badge: Badge, client: Client | None = None) -> str:
    response = (client or Client()).get(reverse("badges:verify", args=[badge.public_id]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def riverside() -> Organization:
    return OrganizationFactory(name="Riverside Unified", slug="riverside", short_name="RUSD")


# --- The signed credential -------------------------------------------------------------------


class TestTheCredential:
    def test_carries_the_name_beside_the_hashed_email(self, riverside: Organization) -> None:
        # given an educator named Maria Lopez
        educator = UserFactory(email="maria@example.org", full_name="Maria Lopez")
        # when her badge is issued
        badge = earn(educator, riverside)
        # then the subject names her in plain text beside her salted, hashed e-mail address
        assert identifiers(badge) == [
            {
                "type": "IdentityObject",
                "hashed": True,
                "identityType": "emailAddress",
                "identityHash": documents.identity_hash("maria@example.org", badge.salt),
                "salt": badge.salt,
            },
            {
                "type": "IdentityObject",
                "identityHash": "Maria Lopez",
                "identityType": "name",
                "hashed": False,
            },
        ]
        # and the credential is schema-valid and its signature holds
        assert_valid_ob3(badge.credential)
        check = services.credential_verify(
            organization=badge.organization, credential=badge.credential
        )
        assert check["verified"], check

    def test_an_educator_who_chose_not_to_be_named_gets_a_badge_without_a_name(
        self, riverside: Organization
    ) -> None:
        # given an educator who chose not to be named publicly
        educator = UserFactory(full_name="Maria Lopez", name_on_badges_public=False)
        # when a badge is issued to her
        badge = earn(educator, riverside)
        # then it carries her hashed e-mail address only, and is still a valid credential
        assert [i["identityType"] for i in identifiers(badge)] == ["emailAddress"]
        assert "Maria Lopez" not in str(badge.credential)
        assert_valid_ob3(badge.credential)

    def test_a_pathway_certificate_names_the_earner_too(self, riverside: Organization) -> None:
        # given an educator who completed a one-credential pathway
        educator = UserFactory(full_name="Maria Lopez")
        component = earn(educator, riverside)
        pathway = PathwayFactory(organization=riverside, certificate_name="STEM Certificate")
        pathway.credentials.set([credential_of(component)])
        # when its certificate is issued
        [certificate] = services.pathways_check(organization=riverside, user=educator)
        # then it names her too, and is schema-valid
        assert documents.subject_name(certificate.credential) == "Maria Lopez"
        assert_valid_ob3(certificate.credential)

    def test_keeps_the_name_it_was_issued_with(self, riverside: Organization) -> None:
        # given a badge issued to Maria Lopez
        educator = UserFactory(full_name="Maria Lopez")
        badge = earn(educator, riverside)
        # when she renames herself and earns another
        educator.full_name = "Maria Lopez-Ortiz"
        educator.save(update_fields=["full_name"])
        later = earn(educator, riverside)
        # then the first badge still carries the old name, the new one the new name
        badge.refresh_from_db()
        assert documents.subject_name(badge.credential) == "Maria Lopez"
        assert documents.subject_name(later.credential) == "Maria Lopez-Ortiz"

    def test_digital_bazaar_verifies_a_badge_that_names_its_earner(
        self, riverside: Organization, client: Client, tmp_path: Path
    ) -> None:
        # given a badge naming its earner
        badge = earn(UserFactory(full_name="Maria Lopez"), riverside)
        assert documents.subject_name(badge.credential) == "Maria Lopez"
        # when Digital Bazaar's verifier checks it with what our site serves
        result = verify_independently(
            badge.credential, documents_for(client, badge.credential), tmp_path
        )
        # then it verifies
        assert result["verified"] is True, result


@pytest.fixture
def celery_worker() -> Iterator[None]:
    with running_worker():
        yield


@pytest.mark.django_db(transaction=True)
def test_the_worker_issues_the_name_chosen_at_issue_time(celery_worker: None) -> None:
    # given an educator named Maria Lopez whose evidence a reviewer approves, committed
    organization = OrganizationFactory(slug="worker-names")
    reviewer = StaffRoleFactory(organization=organization, role=StaffRole.Role.REVIEWER).user
    educator = UserFactory(full_name="Maria Lopez")
    application = approve_committed(organization, reviewer, educator=educator)
    # when the worker issues the badge
    badge = wait_for(lambda: issued_badge(application))
    # then the credential it signed names her
    assert badge is not None
    assert documents.subject_name(badge.credential) == "Maria Lopez"
    assert_valid_ob3(badge.credential)


# --- The verification page -------------------------------------------------------------------


class TestTheVerificationPage:
    def test_shows_the_name_the_credential_carries_not_the_live_profile(
        self, riverside: Organization
    ) -> None:
        # given a badge issued to Maria Lopez, who later renamed herself
        educator = UserFactory(full_name="Maria Lopez")
        badge = earn(educator, riverside)
        educator.full_name = "Someone Else Entirely"
        educator.save(update_fields=["full_name"])
        # when anyone opens the badge's page
        html = page_of(badge)
        # then it names her as the badge does, in the text and in link previews
        assert "Earned by <strong>Maria Lopez</strong>" in html
        assert "earned by Maria Lopez" in html  # og:title
        assert "Someone Else Entirely" not in html

    def test_says_plainly_when_the_earner_chose_not_to_be_named(
        self, riverside: Organization
    ) -> None:
        # given a badge of an educator who chose not to be named publicly
        educator = UserFactory(full_name="Maria Lopez", name_on_badges_public=False)
        badge = earn(educator, riverside)
        # when anyone opens its page
        html = page_of(badge)
        # then it says so, names nobody, and offers the e-mail check
        assert UNNAMED_BY_CHOICE in html
        assert "Maria Lopez" not in html
        assert "Earned by <strong>an educator</strong>" in html
        assert "Check who earned it" in html

    def test_a_badge_issued_without_a_name_says_so_and_shows_no_later_name(
        self, riverside: Organization
    ) -> None:
        # given a badge issued while its earner had no name on record (as every badge issued
        # before names were carried), who has a name now
        # (submitting now asks for a name first: the account lost it after submitting)
        educator = UserFactory(full_name="Submitted Name")
        version = make_credential(riverside, non_member_fee=0)
        MembershipFactory(organization=riverside, user=educator, member_until=None)
        application = submission_services.application_apply(
            credential=version.credential, educator=educator
        )
        submit_attempt(application, educator)
        User.objects.filter(pk=educator.pk).update(full_name="")
        reviewer = StaffRoleFactory(organization=riverside, role=StaffRole.Role.REVIEWER).user
        decide(
            review_services.review_claim_next(organization=riverside, reviewer=reviewer),
            reviewer,
            "approve",
        )
        badge = services.badge_issue(application_id=application.pk)
        educator.refresh_from_db()
        assert [i["identityType"] for i in identifiers(badge)] == ["emailAddress"]
        educator.full_name = "Maria Lopez"
        educator.save(update_fields=["full_name"])
        # when anyone opens its page
        html = page_of(badge)
        # then it says the name is not in the badge, and does not take it from the profile
        assert NOT_INCLUDED in html
        assert "Maria Lopez" not in html

    def test_the_email_check_compares_with_the_hashed_address_not_the_name(
        self, riverside: Organization
    ) -> None:
        # given a badge that names its earner
        badge = earn(UserFactory(email="maria@example.org", full_name="Maria Lopez"), riverside)
        # when its page is rendered
        html = page_of(badge)
        # then the in-browser check gets the e-mail identity's hash and salt
        expected = documents.identity_hash("maria@example.org", badge.salt)
        assert f'data-identity-hash="{expected}"' in html
        assert f'data-salt="{badge.salt}"' in html

    def test_the_public_profile_does_not_name_an_educator_who_chose_not_to_be_named(
        self, riverside: Organization
    ) -> None:
        # given an educator with a public profile who chose not to be named on her badges
        educator = UserFactory(full_name="Maria Lopez", name_on_badges_public=False)
        earn(educator, riverside)
        services.profile_save(user=educator, handle="mlopez", headline="", is_public=True)
        # when anyone opens her profile
        html = Client().get("/u/mlopez/").content.decode()
        # then it goes by her handle
        assert "Maria Lopez" not in html
        assert "mlopez" in html


# --- Asking an account without a name ---------------------------------------------------------


def _name_redirect(response: Any) -> str:
    """The ``next`` of a redirect to the name page (asserting it is one)."""
    assert response.status_code == 302, response.status_code
    location = urlsplit(response["Location"])
    assert location.path == NAME_URL
    return parse_qs(location.query)["next"][0]


class TestAskingForTheName:
    def test_my_badges_asks_an_account_without_a_name_then_comes_back(self) -> None:
        # given an existing account without a name
        educator = UserFactory(full_name="")
        client = logged_in(educator)
        # when it opens My badges
        back = _name_redirect(client.get("/me/badges/"))
        page = client.get(NAME_URL, {"next": back}).content.decode()
        # then it is asked for the name its badges will carry
        assert '<label for="id_full_name">Your name as it will appear on your badges</label>' in (
            page
        )
        assert "we do not have your name yet" in page
        # and once it gives one, it is back on My badges
        response = client.post(
            NAME_URL,
            {"full_name": "  Maria   Lopez ", "name_on_badges_public": "on", "next": back},
        )
        assert response.status_code == 302 and response["Location"] == "/me/badges/"
        educator.refresh_from_db()
        assert (educator.full_name, educator.name_on_badges_public) == ("Maria Lopez", True)
        assert client.get("/me/badges/").status_code == 200

    def test_submitting_evidence_asks_first_then_continues(self, riverside: Organization) -> None:
        # given an account without a name, whose evidence came back for revision: every step
        # is done, ready to resubmit
        educator = UserFactory(full_name="Earlier Name")  # lost after the first attempt
        version = make_credential(riverside, non_member_fee=0)
        MembershipFactory(organization=riverside, user=educator, member_until=None)
        application = submission_services.application_apply(
            credential=version.credential, educator=educator
        )
        submit_attempt(application, educator)
        reviewer = StaffRoleFactory(organization=riverside, role=StaffRole.Role.REVIEWER).user
        claim = review_services.review_claim_next(organization=riverside, reviewer=reviewer)
        decide(claim, reviewer, "needs_revision")
        User.objects.filter(pk=educator.pk).update(full_name="")
        educator.refresh_from_db()
        application.refresh_from_db()
        assert application.status == Application.Status.NEEDS_REVISION
        submit_url = reverse(
            "submissions:submit",
            kwargs={"org_slug": riverside.slug, "public_id": application.public_id},
        )
        client = logged_in(educator)
        # when it resubmits
        back = _name_redirect(client.post(submit_url))
        # then nothing was submitted, and it is asked for its name, to come back to submit
        application.refresh_from_db()
        assert application.status == Application.Status.NEEDS_REVISION
        assert back.endswith(f"/applications/{application.public_id}/#submit")
        # and once the name is saved, it is back at the submit step, and submitting works
        response = client.post(NAME_URL, {"full_name": "Maria Lopez", "next": back})
        assert response["Location"] == back
        assert client.post(submit_url).status_code == 302
        application.refresh_from_db()
        assert application.status == Application.Status.SUBMITTED

    def test_the_api_refuses_to_submit_without_a_name_and_says_which_field(
        self, riverside: Organization
    ) -> None:
        # given a nameless account whose evidence came back for revision (every step done)
        educator = UserFactory(full_name="Earlier Name")  # lost after the first attempt
        version = make_credential(riverside, non_member_fee=0)
        MembershipFactory(organization=riverside, user=educator, member_until=None)
        application = submission_services.application_apply(
            credential=version.credential, educator=educator
        )
        submit_attempt(application, educator)
        reviewer = StaffRoleFactory(organization=riverside, role=StaffRole.Role.REVIEWER).user
        decide(
            review_services.review_claim_next(organization=riverside, reviewer=reviewer),
            reviewer,
            "needs_revision",
        )
        User.objects.filter(pk=educator.pk).update(full_name="")
        educator.refresh_from_db()
        url = f"/api/v1/orgs/{riverside.slug}/applications/{application.public_id}/submit/"
        # when it resubmits through the API
        response = logged_in(educator).post(url)
        # then it is told the name is missing, and nothing was submitted
        assert response.status_code == 400
        assert response.json()["code"] == "name_required"
        assert list(response.json()["fields"]) == ["full_name"]
        application.refresh_from_db()
        assert application.status == Application.Status.NEEDS_REVISION
        # and once it has a name, the same request submits
        educator.full_name = "Maria Lopez"
        educator.save(update_fields=["full_name"])
        assert logged_in(educator).post(url).status_code == 200
        application.refresh_from_db()
        assert application.status == Application.Status.SUBMITTED

    def test_another_organizations_application_is_not_found_before_any_name_question(
        self, riverside: Organization
    ) -> None:
        # given a nameless account and an application of another educator elsewhere
        other_org = OrganizationFactory(slug="elsewhere")
        owner = UserFactory()
        version = make_credential(other_org, non_member_fee=0)
        MembershipFactory(organization=other_org, user=owner, member_until=None)
        application = submission_services.application_apply(
            credential=version.credential, educator=owner
        )
        client = logged_in(UserFactory(full_name=""))
        # when it posts to that application's submit step, under either organization
        for slug in (other_org.slug, riverside.slug):
            url = reverse(
                "submissions:submit", kwargs={"org_slug": slug, "public_id": application.public_id}
            )
            # then it is not found (no redirect that would confirm the application exists)
            assert client.post(url).status_code == 404

    @pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
    def test_a_blank_name_is_refused_and_nothing_is_saved(self, blank: str) -> None:
        # given an account without a name
        educator = UserFactory(full_name="", name_on_badges_public=True)
        # when it posts a blank name (and unticks the public name)
        response = logged_in(educator).post(NAME_URL, {"full_name": blank, "next": "/me/badges/"})
        # then the field says what is missing and nothing changed
        assert response.status_code == 400
        page = response.content.decode()
        assert '<p class="field-error" id="id_full_name-error">Enter your name' in page
        assert 'aria-invalid="true"' in page
        assert "Nothing was saved" in page
        educator.refresh_from_db()
        assert (educator.full_name, educator.name_on_badges_public) == ("", True)

    def test_an_overlong_name_is_refused(self) -> None:
        educator = UserFactory(full_name="Maria Lopez")
        response = logged_in(educator).post(NAME_URL, {"full_name": "M" * 201})
        assert response.status_code == 400
        assert "Keep it to 200 characters (this has 201)" in response.content.decode()
        educator.refresh_from_db()
        assert educator.full_name == "Maria Lopez"

    @pytest.mark.parametrize("elsewhere", ["https://evil.example/", "//evil.example/x"])
    def test_it_never_sends_anyone_to_another_site(self, elsewhere: str) -> None:
        response = logged_in(UserFactory(full_name="")).post(
            NAME_URL, {"full_name": "Maria Lopez", "next": elsewhere}
        )
        assert response.status_code == 302
        assert response["Location"] == NAME_URL

    def test_needs_login(self) -> None:
        response = Client().get(NAME_URL)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


class TestChoosingNotToBeNamed:
    def test_the_badges_profile_page_offers_the_choice_and_saves_it(
        self, riverside: Organization
    ) -> None:
        # given a named educator on her badges profile page
        educator = UserFactory(full_name="Maria Lopez")
        client = logged_in(educator)
        page = client.get("/me/badges/profile/").content.decode()
        assert "The name on your badges" in page
        assert 'id="id_full_name" name="full_name" value="Maria Lopez"' in page
        assert re.search(r'id="id_name_on_badges_public"[^>]* checked', page)
        # when she unticks "Show my name on my badges"
        response = client.post(
            NAME_URL, {"full_name": "Maria Lopez", "next": "/me/badges/profile/"}
        )
        # then she is back on the page, told what it means, and her next badge has no name
        assert response["Location"] == "/me/badges/profile/"
        page = client.get("/me/badges/profile/").content.decode()
        assert "will not carry your name" in page
        assert "You chose not to be named publicly" in page
        badge = earn(User.objects.get(pk=educator.pk), riverside)
        assert documents.subject_name(badge.credential) == ""
        assert UNNAMED_BY_CHOICE in page_of(badge)

    def test_an_unknown_badge_page_is_still_not_found(self) -> None:
        assert Client().get(reverse("badges:verify", args=[uuid.uuid4()])).status_code == 404
