"""The revoke API with pathway certificates and the two texts: ``keep_certificates`` (default
false), the certificates revoked listed in the answer, the private note shown to the
organization's admins only, and refusals that change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from badges.models import Badge
from programs.models import Organization, StaffRole, User
from tests.badges.test_services_revocation import earn_pathway, fresh
from tests.factories import OrganizationFactory, StaffRoleFactory, UserFactory

pytestmark = pytest.mark.django_db

NOTE = "Compared with the 2019 district handbook, page 12."


def client_for(user: User) -> APIClient:
    api = APIClient()
    api.force_login(user)
    return api


def admin_of(org: Organization) -> User:
    return StaffRoleFactory(
        organization=org, role=StaffRole.Role.PROGRAM_ADMIN, user=UserFactory()
    ).user


def revoke_url(org: Organization, badge: Badge) -> str:
    return f"/api/v1/orgs/{org.slug}/badges/{badge.public_id}/revoke"


@pytest.fixture
def riverside() -> Organization:
    return OrganizationFactory(name="Riverside Unified", slug="riverside")


@pytest.fixture
def educator() -> User:
    return UserFactory(email="ines.ortega@example.org")


@pytest.fixture
def parts(educator: User, riverside: Organization) -> tuple[Badge, Badge]:
    earned = earn_pathway(educator, riverside)
    return earned.one, earned.certificate


def test_the_certificates_revoked_with_the_badge_are_listed(
    riverside: Organization, educator: User, parts: tuple[Badge, Badge]
) -> None:
    one, certificate = parts
    # when a program admin revokes the badge (keep_certificates left out: false)
    response = client_for(admin_of(riverside)).post(
        revoke_url(riverside, one), {"reason": "Not original.", "private_note": NOTE}, format="json"
    )
    # then the answer is the revoked badge, with its note for the admin, and the certificate
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["revocation_reason"], body["revocation_note"]) == (
        "revoked",
        "Not original.",
        NOTE,
    )
    [listed] = body["certificates_revoked"]
    assert listed["id"] == str(certificate.public_id)
    assert listed["state"] == "revoked"
    assert listed["revocation_reason"] == (
        "A badge this certificate requires, “Questioning Strategies”, was revoked."
    )
    assert fresh(certificate).is_revoked
    # and the educator's own API shows the public reason, not the note
    mine = client_for(educator).get("/api/v1/me/badges/").json()["results"]
    assert {row["id"]: row["revocation_reason"] for row in mine}[str(one.public_id)] == (
        "Not original."
    )
    assert NOTE not in str(mine)


def test_keep_certificates_leaves_them_valid(
    riverside: Organization, parts: tuple[Badge, Badge]
) -> None:
    one, certificate = parts
    response = client_for(admin_of(riverside)).post(
        revoke_url(riverside, one), {"reason": "Not original.", "keep_certificates": True}
    )
    assert response.status_code == 200, response.content
    assert response.json()["certificates_revoked"] == []
    assert fresh(one).is_revoked
    assert not fresh(certificate).is_revoked


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"reason": " ", "private_note": NOTE}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"reason": "Not original.", "private_note": "x" * 2001}, "private_note"),
        ({"reason": "Not original.", "keep_certificates": "perhaps"}, "keep_certificates"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(
    payload: dict[str, Any], field: str, riverside: Organization, parts: tuple[Badge, Badge]
) -> None:
    one, certificate = parts
    response = client_for(admin_of(riverside)).post(
        revoke_url(riverside, one), payload, format="json"
    )
    assert response.status_code == 400
    assert response.json()["fields"][field]
    assert not fresh(one).is_revoked and not fresh(certificate).is_revoked


def test_revoking_the_badge_twice_is_refused(
    riverside: Organization, parts: tuple[Badge, Badge]
) -> None:
    one, certificate = parts
    api = client_for(admin_of(riverside))
    assert api.post(revoke_url(riverside, one), {"reason": "Once."}).status_code == 200
    response = api.post(revoke_url(riverside, one), {"reason": "Twice."})
    assert response.status_code == 400
    assert response.json()["code"] == "already_revoked"
    assert "already revoked" in response.json()["message"]
    assert fresh(certificate).revocation_reason.startswith("A badge this certificate requires")


def test_another_organizations_admin_gets_404_and_nothing_changes(
    riverside: Organization, parts: tuple[Badge, Badge]
) -> None:
    one, certificate = parts
    other = OrganizationFactory(slug="bravo")
    api = client_for(admin_of(other))
    payload = {"reason": "x", "private_note": NOTE, "keep_certificates": False}
    for url in (revoke_url(riverside, one), revoke_url(other, one)):
        response = api.post(url, payload, format="json")
        assert response.status_code == 404
        assert NOTE not in response.content.decode()
    assert not fresh(one).is_revoked and not fresh(certificate).is_revoked
