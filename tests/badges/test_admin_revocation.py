"""The admin's revoke page when pathway certificates require the badge: it lists them (each
linked), offers "keep these certificates valid" unticked, says which text is public and which is
private, and revokes the certificates with the badge unless kept. Another organization's badge
answers 404 and nothing changes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from badges.models import Badge
from programs.models import Organization, StaffRole, User
from tests.badges.test_services_revocation import earn_pathway, fresh
from tests.badges.test_views_backpack import earn
from tests.factories import OrganizationFactory, StaffRoleFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tasks_run_at_once")]

BADGES = "/admin/badges/badge/"
REASON = "The lesson plan was copied from a published source."
NOTE = "Compared with the 2019 district handbook, page 12."
CASCADE_REASON = "A badge this certificate requires, “Questioning Strategies”, was revoked."


def revoke_url(badge: Badge) -> str:
    return f"{BADGES}{badge.pk}/revoke/"


def change_url(badge: Badge) -> str:
    return f"{BADGES}{badge.pk}/change/"


def html(response: Any) -> str:
    return response.content.decode()


@pytest.fixture
def riverside() -> Organization:
    return OrganizationFactory(name="Riverside Unified", slug="riverside")


@pytest.fixture
def admin_client(client: Client, riverside: Organization) -> Client:
    admin = StaffRoleFactory(
        organization=riverside, role=StaffRole.Role.PROGRAM_ADMIN, user=UserFactory()
    ).user
    client.force_login(admin)
    return client


@pytest.fixture
def educator() -> User:
    return UserFactory(email="ines.ortega@example.org")


@pytest.fixture
def parts(educator: User, riverside: Organization) -> tuple[Badge, Badge, Badge]:
    earned = earn_pathway(educator, riverside)
    return earned.one, earned.two, earned.certificate


class TestThePage:
    def test_it_lists_the_certificates_that_require_the_badge_and_offers_to_keep_them(
        self, admin_client: Client, parts: tuple[Badge, Badge, Badge]
    ) -> None:
        one, _, certificate = parts
        # when the admin opens the revoke page of a badge a certificate requires
        page = html(admin_client.get(revoke_url(one)))
        # then the certificate is listed, linked to its page
        assert "Pathway certificate that requires this badge" in page
        assert f'<a href="{change_url(certificate)}">Inquiry Certificate</a>' in page
        # and "keep these certificates valid" is offered, unticked, with its label
        box = re.search(r'<input type="checkbox" name="keep_certificates"[^>]*>', page)
        assert box is not None and "checked" not in box.group(0)
        assert '<label for="id_keep_certificates"' in page
        assert "Keep these certificates valid" in page
        # and the two texts say who sees them
        assert '<label for="id_reason">Public reason:</label>' in page
        assert '<label for="id_private_note">Private note:</label>' in page
        assert "Shown to anyone who checks this badge" in page
        assert "Only the educator (by e-mail) and your organization&#x27;s admins see this" in page

    def test_a_badge_no_certificate_requires_has_no_certificates_to_keep(
        self, admin_client: Client, educator: User, riverside: Organization
    ) -> None:
        page = html(admin_client.get(revoke_url(earn(educator, riverside))))
        assert "keep_certificates" not in page
        assert "Pathway certificate" not in page

    def test_the_certificates_page_does_not_offer_to_revoke_its_badges(
        self, admin_client: Client, parts: tuple[Badge, Badge, Badge]
    ) -> None:
        page = html(admin_client.get(revoke_url(parts[2])))
        assert "keep_certificates" not in page


class TestRevoking:
    def test_the_certificate_is_revoked_with_the_badge_by_default(
        self,
        admin_client: Client,
        parts: tuple[Badge, Badge, Badge],
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        one, two, certificate = parts
        mail.outbox.clear()
        # when the admin confirms with a public reason and a private note (box unticked)
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(revoke_url(one), {"reason": REASON, "private_note": NOTE})
        # then the badge and its certificate are revoked, and the message says so
        assert response.status_code == 302
        page = html(admin_client.get(response["Location"]))
        assert "revoked too" in page and "Inquiry Certificate" in page
        assert fresh(one).is_revoked and not fresh(two).is_revoked
        assert fresh(certificate).revocation_reason == CASCADE_REASON
        # and the badge's admin page shows both texts, labelled
        page = html(admin_client.get(change_url(one)))
        assert "Public reason" in page and REASON in page
        assert "Private note" in page and NOTE in page
        # and the educator got two e-mails
        assert len(mail.outbox) == 2

    def test_ticking_keep_leaves_the_certificates_valid(
        self,
        admin_client: Client,
        parts: tuple[Badge, Badge, Badge],
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        one, _, certificate = parts
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                revoke_url(one), {"reason": REASON, "keep_certificates": "on"}
            )
        assert response.status_code == 302
        assert "Kept valid, as you asked" in html(admin_client.get(response["Location"]))
        assert fresh(one).is_revoked
        assert not fresh(certificate).is_revoked

    def test_without_a_public_reason_nothing_changes(
        self, admin_client: Client, parts: tuple[Badge, Badge, Badge]
    ) -> None:
        one, _, certificate = parts
        response = admin_client.post(revoke_url(one), {"reason": " ", "private_note": NOTE})
        assert response.status_code == 200
        page = html(response)
        assert 'id="id_reason_error"' in page and "Give a reason" in page
        # the page still lists the certificate, and keeps the note typed
        assert "Inquiry Certificate" in page and NOTE in page
        assert not fresh(one).is_revoked and not fresh(certificate).is_revoked

    def test_selecting_a_badge_and_its_certificate_revokes_each_once(
        self,
        admin_client: Client,
        parts: tuple[Badge, Badge, Badge],
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        one, _, certificate = parts
        chosen = [one.pk, certificate.pk]
        # when both are revoked with the bulk action
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                BADGES,
                {
                    "action": "revoke_selected",
                    "_selected_action": chosen,
                    "confirm": "yes",
                    "reason": REASON,
                },
            )
        # then both are revoked with the admin's reason, without an error
        assert response.status_code == 302
        page = html(admin_client.get(BADGES))
        assert "Revoked 2 badge(s)" in page
        assert "already revoked" not in page
        assert fresh(certificate).revocation_reason == REASON
        assert fresh(one).revocation_reason == REASON


def test_another_organizations_admin_gets_404_and_nothing_changes(
    client: Client, parts: tuple[Badge, Badge, Badge]
) -> None:
    # given another organization's program admin
    other = OrganizationFactory(slug="bravo")
    outsider = StaffRoleFactory(
        organization=other, role=StaffRole.Role.PROGRAM_ADMIN, user=UserFactory()
    ).user
    client.force_login(outsider)
    one, _, certificate = parts
    # when they open or post the revoke page of riverside's badge
    page = client.get(revoke_url(one))
    post = client.post(revoke_url(one), {"reason": REASON, "private_note": NOTE})
    # then both are 404, showing nothing, and neither the badge nor its certificate changed
    for response in (page, post):
        assert response.status_code == 404
        assert "Inquiry Certificate" not in html(response)
    assert not fresh(one).is_revoked and not fresh(certificate).is_revoked
