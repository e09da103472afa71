"""The admin of API tokens (owners only, the secret shown once) and member e-mail domains."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client

from programs.models import AuditEvent, MemberEmailDomain, OrganizationToken
from tests.factories import OrganizationFactory, StaffRoleFactory

pytestmark = pytest.mark.django_db

TOKENS = "/admin/programs/organizationtoken/"
DOMAINS = "/admin/programs/memberemaildomain/"


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


class TestTokenAdmin:
    def test_an_owner_makes_a_token_and_sees_its_secret_once(self) -> None:
        # given an owner
        org = OrganizationFactory()
        client = signed_in(StaffRoleFactory(organization=org, role="owner").user)
        # when they make a token
        response = client.post(
            f"{TOKENS}add/", {"name": "CRM nightly", "scopes": ["members:read", "members:write"]}
        )
        # then the page shows the secret, which matches the stored fingerprint, and is not cached
        assert response.status_code == 200
        page = response.content.decode()
        token = OrganizationToken.objects.get(organization=org)
        start = page.index('value="tsr_') + len('value="')
        secret = page[start : page.index('"', start)]
        assert hashlib.sha256(secret.encode()).hexdigest() == token.key_hash
        assert "shown this once" in page and "no-store" in response["Cache-Control"]
        assert sorted(token.scopes) == ["members:read", "members:write"]
        # and never again: not in the list, nor on the token's page
        for url in (TOKENS, f"{TOKENS}{token.pk}/change/"):
            again = client.get(url).content.decode()
            assert token.key_prefix in again and secret not in again

    def test_an_owner_revokes_tokens_in_bulk(self) -> None:
        org = OrganizationFactory()
        client = signed_in(StaffRoleFactory(organization=org, role="owner").user)
        client.post(f"{TOKENS}add/", {"name": "one", "scopes": ["members:read"]})
        token = OrganizationToken.objects.get()
        client.post(TOKENS, {"action": "revoke", "_selected_action": [str(token.pk)]})
        token.refresh_from_db()
        assert token.revoked_at is not None
        assert AuditEvent.objects.filter(action="organization_token.revoked").count() == 1

    def test_a_program_admin_who_is_not_an_owner_has_no_tokens_page(self) -> None:
        org = OrganizationFactory()
        client = signed_in(StaffRoleFactory(organization=org, role="program_admin").user)
        assert client.get(TOKENS).status_code == 403
        response = client.post(f"{TOKENS}add/", {"name": "x", "scopes": ["members:read"]})
        assert response.status_code == 403
        assert not OrganizationToken.objects.exists()

    def test_another_organizations_owner_does_not_see_or_revoke_them(self) -> None:
        a, b = OrganizationFactory(), OrganizationFactory()
        signed_in(StaffRoleFactory(organization=a, role="owner").user).post(
            f"{TOKENS}add/", {"name": "A's", "scopes": ["members:read"]}
        )
        token = OrganizationToken.objects.get()
        client = signed_in(StaffRoleFactory(organization=b, role="owner").user)
        assert "A&#x27;s" not in client.get(TOKENS).content.decode()
        assert client.get(f"{TOKENS}{token.pk}/change/").status_code == 404
        client.post(TOKENS, {"action": "revoke", "_selected_action": [str(token.pk)]})
        token.refresh_from_db()
        assert token.revoked_at is None


class TestDomainAdmin:
    def test_a_program_admin_lists_a_domain_and_bad_ones_are_form_errors(self) -> None:
        org = OrganizationFactory()
        client = signed_in(StaffRoleFactory(organization=org, role="program_admin").user)
        bad = client.post(f"{DOMAINS}add/", {"domain": "someone@riverside.org"})
        assert bad.status_code == 200 and "Enter a domain" in bad.content.decode()
        client.post(f"{DOMAINS}add/", {"domain": "riverside.k12.ca.us"})
        assert list(MemberEmailDomain.objects.values_list("organization", "domain")) == [
            (org.pk, "riverside.k12.ca.us")
        ]
        assert AuditEvent.objects.filter(action="member_email_domain.added").count() == 1
