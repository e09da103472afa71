"""My badges (/me/badges/): every badge of the educator from every organization, with its state,
its verification link, a public/private switch, sharing and pathway progress."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_scopes import scopes_disabled

from badges import services
from badges.models import Badge
from programs.models import Credential, Membership, Organization, Pathway, StaffRole, User
from reviews import services as review_services
from submissions import services as submission_services
from tests.conftest import assert_same_query_count
from tests.factories import OrganizationFactory, PathwayFactory, UserFactory, make_credential
from tests.reviews.conftest import decide, submit_attempt

pytestmark = pytest.mark.django_db

URL = "/me/badges/"


# --- Helpers (the other badge page and API tests use them too) -------------------------------


def earn(educator: User, organization: Organization, **version_fields: Any) -> Badge:
    """A badge issued through the real path: apply, submit evidence, a reviewer of the
    organization approves, ``badge_issue`` signs it (the on-commit task is not run)."""
    version_fields.setdefault("non_member_fee", 0)
    version = make_credential(organization, **version_fields)
    Membership.objects.get_or_create(organization=organization, user=educator)
    reviewer = UserFactory(email=f"reviewer@{organization.slug}.example")
    StaffRole.objects.get_or_create(
        organization=organization, user=reviewer, role=StaffRole.Role.REVIEWER
    )
    application = submission_services.application_apply(
        credential=version.credential, educator=educator
    )
    submit_attempt(application, educator)
    claim = review_services.review_claim_next(organization=organization, reviewer=reviewer)
    decide(claim, reviewer, "approve")
    return services.badge_issue(application_id=application.pk)


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def body(response: Any) -> str:
    return response.content.decode()


def credential_of(badge: Badge) -> Credential:
    assert badge.version is not None
    return Credential.objects.select_related("organization").get(pk=badge.version.credential_id)


@pytest.fixture
def educator() -> User:
    return UserFactory(email="ines.ortega@example.org", full_name="Inés Ortega")


@pytest.fixture
def riverside() -> Organization:
    return OrganizationFactory(name="Riverside Unified", slug="riverside", short_name="RUSD")


@pytest.fixture
def gael() -> Organization:
    return OrganizationFactory(name="GAEL", slug="gael", short_name="GAEL")


# --- The list ----------------------------------------------------------------------------------


class TestMyBadges:
    def test_requires_login(self) -> None:
        response = Client().get(URL)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]

    @pytest.mark.scoped
    def test_lists_every_badge_from_every_organization(
        self, educator: User, riverside: Organization, gael: Organization
    ) -> None:
        # given badges from two organizations, and someone else's badge
        with scopes_disabled():
            first = earn(educator, riverside, title="Formative Assessment")
            second = earn(educator, gael, title="Culturally Responsive Teaching")
            someone_else = earn(UserFactory(), riverside, title="Not Mine")
        # when the educator opens My badges (no tenant scope: the page must not need one)
        response = logged_in(educator).get(URL)
        # then both are listed with issuer, image, dates, state and verification link
        assert response.status_code == 200
        page = body(response)
        assert "<h1>My badges</h1>" in page
        for badge, organization in ((first, riverside), (second, gael)):
            assert badge.name in page
            assert organization.name in page
            assert f'id="badge-{badge.public_id}"' in page
            assert f'href="/badges/{badge.public_id}/"' in page
            image = badge.credential["credentialSubject"]["achievement"]["image"]["id"]
            assert f'src="{image}"' in page
            assert badge.issued_at.strftime("%-d %B %Y") in page
        assert page.count(">Valid<") + page.count("Valid\n") >= 2
        assert someone_else.name not in page
        # and each can be shared or downloaded
        assert page.count("Share or download") == 2

    def test_says_expired_and_revoked_with_the_reason(
        self, educator: User, riverside: Organization
    ) -> None:
        # given an expired badge and a revoked one
        expired = earn(educator, riverside, title="Expired One")
        Badge.objects.filter(pk=expired.pk).update(
            valid_until=timezone.now() - dt.timedelta(days=3)
        )
        revoked = earn(educator, riverside, title="Revoked One")
        services.badge_revoke(badge=revoked, reason="Evidence was not original.", actor=None)
        # when
        page = body(logged_in(educator).get(URL))
        # then the state is said in words
        assert re.search(r"Expired on \d+ \w+ \d{4}", page)
        assert re.search(r"Revoked on \d+ \w+ \d{4}: Evidence was not original\.", page)
        assert "A revoked badge is never listed on your public profile." in page
        # and a revoked badge has no public/private switch
        assert f'action="/me/badges/{revoked.public_id}/visibility"' not in page
        assert f'action="/me/badges/{expired.public_id}/visibility"' in page

    def test_empty_state_links_to_the_catalogs(self, educator: User) -> None:
        page = body(logged_in(educator).get(URL))
        assert "No badges yet" in page
        assert 'href="/">Browse the catalogs</a>' in page
        assert "Pathway progress" not in page

    def test_is_linked_from_the_header_and_my_learning(self, educator: User) -> None:
        client = logged_in(educator)
        header = body(client.get("/"))
        assert f'<a href="{URL}">My badges</a>' in header
        dashboard = body(client.get("/me/"))
        assert dashboard.count(f'href="{URL}"') >= 2  # the header and the page
        assert f'<a href="{URL}">' not in body(Client().get("/"))


# --- Public or private -----------------------------------------------------------------------


class TestVisibility:
    @pytest.mark.scoped
    def test_the_earner_makes_a_badge_private_and_public_again(
        self, educator: User, riverside: Organization
    ) -> None:
        with scopes_disabled():
            badge = earn(educator, riverside)
        client = logged_in(educator)
        url = f"/me/badges/{badge.public_id}/visibility"
        # when they make it private
        response = client.post(url, {"visibility": "private"}, follow=True)
        # then it is private, and the page says so and offers to make it public
        assert response.redirect_chain[-1][0] == f"{URL}#badge-{badge.public_id}"
        page = body(response)
        assert "is private: it is not listed on your public profile" in page
        assert "Make public" in page
        with scopes_disabled():
            assert Badge.objects.get(pk=badge.pk).is_public is False
        # when they make it public again
        client.post(url, {"visibility": "public"})
        with scopes_disabled():
            assert Badge.objects.get(pk=badge.pk).is_public is True

    def test_needs_csrf(self, educator: User, riverside: Organization) -> None:
        badge = earn(educator, riverside)
        client = Client(enforce_csrf_checks=True)
        client.force_login(educator)
        response = client.post(
            f"/me/badges/{badge.public_id}/visibility", {"visibility": "private"}
        )
        assert response.status_code == 403
        assert Badge.objects.get(pk=badge.pk).is_public is True

    def test_another_persons_badge_is_404(self, educator: User, riverside: Organization) -> None:
        # given someone else's badge
        badge = earn(UserFactory(), riverside)
        # when the educator tries to hide it
        response = logged_in(educator).post(
            f"/me/badges/{badge.public_id}/visibility", {"visibility": "private"}
        )
        # then it does not exist for them, and nothing changed
        assert response.status_code == 404
        assert Badge.objects.get(pk=badge.pk).is_public is True

    def test_a_bad_value_changes_nothing(self, educator: User, riverside: Organization) -> None:
        badge = earn(educator, riverside)
        response = logged_in(educator).post(
            f"/me/badges/{badge.public_id}/visibility", {"visibility": "everyone"}, follow=True
        )
        assert "Choose public or private." in body(response)
        assert Badge.objects.get(pk=badge.pk).is_public is True

    def test_get_is_not_allowed(self, educator: User, riverside: Organization) -> None:
        badge = earn(educator, riverside)
        response = logged_in(educator).get(f"/me/badges/{badge.public_id}/visibility")
        assert response.status_code == 405


# --- Pathways ----------------------------------------------------------------------------------


class TestPathwayProgress:
    def test_shows_how_far_along_and_links_the_missing_credentials(
        self, educator: User, riverside: Organization
    ) -> None:
        # given a three-credential pathway, two of which the educator holds
        one = earn(educator, riverside, title="Questioning")
        two = earn(educator, riverside, title="Feedback")
        missing = make_credential(riverside, title="Peer Assessment", non_member_fee=0)
        pathway = PathwayFactory(
            organization=riverside, name="Assessment for Learning", certificate_name="AfL Cert"
        )
        pathway.credentials.set([credential_of(one), credential_of(two), missing.credential])
        # and a pathway where they hold nothing, and an unpublished one
        other = PathwayFactory(organization=riverside, name="Unrelated Pathway")
        other.credentials.set([make_credential(riverside).credential])
        hidden = PathwayFactory(organization=riverside, name="Hidden Pathway", is_published=False)
        hidden.credentials.set([credential_of(one)])
        # when
        page = body(logged_in(educator).get(URL))
        # then the pathway shows 2 of 3 with a labelled progress bar and the missing one linked
        assert "Assessment for Learning" in page
        assert "2 of 3 micro-credentials towards the AfL Cert" in page
        bar = re.search(r'<progress max="3" value="2" aria-labelledby="([^"]+)">', page)
        assert bar and f'id="{bar.group(1)}"' in page
        missing_url = f"/o/riverside/credentials/{missing.credential.slug}/"
        assert f'<a href="{missing_url}">Peer Assessment</a>' in page
        assert f'href="/o/riverside/pathways/{pathway.slug}/"' in page
        assert "Unrelated Pathway" not in page
        assert "Hidden Pathway" not in page

    def test_shows_the_certificate_once_earned(
        self, educator: User, riverside: Organization
    ) -> None:
        # given a completed pathway whose certificate was issued
        one = earn(educator, riverside)
        two = earn(educator, riverside)
        pathway = PathwayFactory(organization=riverside, certificate_name="STEM Certificate")
        pathway.credentials.set([credential_of(one), credential_of(two)])
        [certificate] = services.pathways_check(organization=riverside, user=educator)
        # when
        page = body(logged_in(educator).get(URL))
        # then
        assert "2 of 2 micro-credentials" in page
        assert "Certificate earned:" in page
        assert f'<a href="/badges/{certificate.public_id}/">STEM Certificate</a>' in page
        assert "Pathway certificate" in page
        assert "Still to earn" not in page

    def test_a_revoked_badge_does_not_count(self, educator: User, riverside: Organization) -> None:
        one = earn(educator, riverside)
        two = earn(educator, riverside)
        pathway = PathwayFactory(organization=riverside, name="Two Step")
        pathway.credentials.set([credential_of(one), credential_of(two)])
        services.badge_revoke(badge=two, reason="Withdrawn.", actor=None)
        page = body(logged_in(educator).get(URL))
        assert "1 of 2 micro-credentials" in page

    def test_another_organizations_pathway_is_not_counted(
        self, educator: User, riverside: Organization, gael: Organization
    ) -> None:
        # given a badge from riverside, and gael's pathway (its own credentials)
        earn(educator, riverside)
        elsewhere = PathwayFactory(organization=gael, name="GAEL Pathway")
        elsewhere.credentials.set([make_credential(gael).credential])
        # then it is not shown
        assert "GAEL Pathway" not in body(logged_in(educator).get(URL))


# --- Query count -------------------------------------------------------------------------------


def test_the_page_runs_the_same_queries_for_1_or_5_badges(
    educator: User,
    riverside: Organization,
    gael: Organization,
    count_queries: Callable[..., Any],
) -> None:
    # given one badge in a pathway, and a profile
    client = logged_in(educator)
    first = earn(educator, riverside)
    pathway = PathwayFactory(organization=riverside)
    pathway.credentials.set([credential_of(first), make_credential(riverside).credential])
    services.profile_save(user=educator, handle="ines", headline="", is_public=True)
    client.get(URL)  # warm the session
    small = count_queries(lambda: client.get(URL))
    # when four more arrive, from two organizations, in two pathways, one revoked
    more = [earn(educator, riverside), earn(educator, gael), earn(educator, gael)]
    last = earn(educator, riverside)
    services.badge_revoke(badge=last, reason="Mistake.", actor=None)
    second = PathwayFactory(organization=gael)
    second.credentials.set([credential_of(b) for b in more[1:]])
    # then the page costs the same
    large = count_queries(lambda: client.get(URL))
    assert body(client.get(URL)).count('class="card backpack-badge"') == 5
    assert_same_query_count(small, large)
    assert Pathway.objects.count() == 2
