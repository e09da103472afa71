"""Organization API tokens and the member sync API (``/api/v1/orgs/<slug>/members/…``): a
membership CRM's nightly job keeps an organization's members current."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from credentials_site.exceptions import ApplicationError
from programs import services
from programs.models import AuditEvent, Membership, Organization, OrganizationToken, User
from tests.conftest import assert_same_query_count
from tests.factories import MembershipFactory, OrganizationFactory, StaffRoleFactory, UserFactory

pytestmark = pytest.mark.django_db

READ, WRITE = "members:read", "members:write"


def owner_of(org: Organization) -> User:
    return StaffRoleFactory(organization=org, role="owner").user


def token_for(org: Organization, *scopes: str) -> str:
    made = services.organization_token_create(
        organization=org, name="CRM sync", scopes=scopes or (READ, WRITE), actor=owner_of(org)
    )
    return made.secret


def api(secret: str | None = None) -> APIClient:
    client = APIClient()
    if secret is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def members_url(org: Organization, rest: str = "") -> str:
    return f"/api/v1/orgs/{org.slug}/members/{rest}"


def put(client: APIClient, org: Organization, key: str, data: dict[str, Any]) -> Any:
    return client.put(members_url(org, f"{key}/"), data, format="json")


# --- Tokens ------------------------------------------------------------------------------------


class TestTokens:
    def test_only_a_fingerprint_is_stored_and_the_secret_is_shown_once(self) -> None:
        # given an owner
        org = OrganizationFactory()
        owner = owner_of(org)
        # when they make a token
        made = services.organization_token_create(
            organization=org, name="CRM", scopes=[READ], actor=owner
        )
        # then the secret is recognizable, and only its SHA-256 and a short prefix are kept
        assert made.secret.startswith("tsr_") and len(made.secret) >= 40
        token = OrganizationToken.objects.get(pk=made.token.pk)
        assert token.key_hash == hashlib.sha256(made.secret.encode()).hexdigest()
        assert token.key_prefix == made.secret[:12]
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM programs_organizationtoken")
            assert made.secret not in repr(cursor.fetchall())
        # and the making is audited, without the secret
        event = AuditEvent.objects.get(action="organization_token.created")
        assert event.actor == owner and made.secret not in repr(event.data) + event.summary

    def test_a_program_admin_who_is_not_an_owner_cannot_make_or_revoke_one(self) -> None:
        # given a program admin (not an owner) and an owner's token
        org = OrganizationFactory()
        admin = StaffRoleFactory(organization=org, role="program_admin").user
        made = services.organization_token_create(
            organization=org, name="CRM", scopes=[READ], actor=owner_of(org)
        )
        # when they try, then they are refused and nothing changed
        with pytest.raises(ApplicationError, match="Only an owner"):
            services.organization_token_create(
                organization=org, name="x", scopes=[READ], actor=admin
            )
        with pytest.raises(ApplicationError, match="Only an owner"):
            services.organization_token_revoke(token=made.token, actor=admin)
        assert OrganizationToken.objects.filter(organization=org).count() == 1
        assert OrganizationToken.objects.get().revoked_at is None

    def test_unknown_scopes_and_no_scope_are_refused_with_the_field(self) -> None:
        org = OrganizationFactory()
        for scopes in ([], ["members:delete"]):
            with pytest.raises(ApplicationError) as refused:
                services.organization_token_create(
                    organization=org, name="x", scopes=scopes, actor=owner_of(org)
                )
            assert "scopes" in refused.value.fields
        assert not OrganizationToken.objects.exists()

    def test_a_revoked_token_gets_401_and_the_revocation_is_audited(self) -> None:
        # given a working token
        org = OrganizationFactory()
        secret = token_for(org, READ)
        assert api(secret).get(members_url(org)).status_code == 200
        # when an owner revokes it
        token = OrganizationToken.objects.get()
        services.organization_token_revoke(token=token, actor=owner_of(org))
        # then it answers 401, with the API's error shape and a Bearer challenge
        response = api(secret).get(members_url(org))
        assert response.status_code == 401
        assert response.json()["code"] == "authentication_failed"
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert AuditEvent.objects.filter(action="organization_token.revoked").count() == 1

    def test_no_token_or_a_made_up_one_gets_401(self) -> None:
        org = OrganizationFactory()
        token_for(org)
        for client in (api(), api("tsr_" + "x" * 43), api("not-a-token")):
            response = client.get(members_url(org))
            assert response.status_code == 401
            assert set(response.json()) == {"code", "message", "fields"}

    def test_a_token_of_another_organization_gets_404(self) -> None:
        # given organization A's token and B's members
        a, b = OrganizationFactory(), OrganizationFactory()
        secret = token_for(a)
        MembershipFactory(organization=b)
        # when it reads or writes B's members, then B's members are not found and unchanged
        assert api(secret).get(members_url(b)).status_code == 404
        assert put(api(secret), b, "new@example.org", {}).status_code == 404
        bulk = api(secret).post(
            members_url(b, "bulk/"), {"members": [{"email": "x@example.org"}]}, format="json"
        )
        assert bulk.status_code == 404
        assert Membership.objects.filter(organization=b).count() == 1
        assert not User.objects.filter(email__in=["new@example.org", "x@example.org"]).exists()

    def test_a_token_lacking_the_scope_gets_403(self) -> None:
        # given a read-only token
        org = OrganizationFactory()
        secret = token_for(org, READ)
        # when it writes, then it is refused and nothing is made
        response = put(api(secret), org, "new@example.org", {})
        assert response.status_code == 403
        assert "members:write" in response.json()["message"]
        assert not Membership.objects.filter(organization=org).exists()
        # and a write-only token cannot read
        assert api(token_for(org, WRITE)).get(members_url(org)).status_code == 403

    def test_the_last_use_is_recorded_at_most_once_a_minute(self) -> None:
        # given a token never used
        org = OrganizationFactory()
        secret = token_for(org, READ)
        token = OrganizationToken.objects.get()
        assert token.last_used_at is None
        # when it is used, then its use is recorded
        api(secret).get(members_url(org))
        token.refresh_from_db()
        first = token.last_used_at
        assert first is not None
        # when it is used again within the minute, then nothing is written
        with CaptureQueriesContext(connection) as queries:
            api(secret).get(members_url(org))
        assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
        token.refresh_from_db()
        assert token.last_used_at == first
        # when it is used a minute later, then the new use is recorded
        earlier = timezone.now() - dt.timedelta(minutes=2)
        OrganizationToken.objects.filter(pk=token.pk).update(last_used_at=earlier)
        api(secret).get(members_url(org))
        token.refresh_from_db()
        assert token.last_used_at is not None and token.last_used_at > earlier + dt.timedelta(
            minutes=1
        )


# --- Listing members ---------------------------------------------------------------------------


class TestMemberList:
    def test_members_are_listed_by_email_with_their_fields(self) -> None:
        org = OrganizationFactory()
        MembershipFactory(
            organization=org, user=UserFactory(email="b@example.org"), member_number="7"
        )
        MembershipFactory(organization=org, user=UserFactory(email="a@example.org"))
        MembershipFactory(organization=OrganizationFactory())  # another organization's
        response = api(token_for(org, READ)).get(members_url(org))
        assert response.status_code == 200
        results = response.json()["results"]
        assert [m["email"] for m in results] == ["a@example.org", "b@example.org"]
        assert results[1]["member_number"] == "7" and results[1]["status"] == "active"

    def test_the_query_count_does_not_grow_with_the_page(self) -> None:
        org = OrganizationFactory()
        secret = token_for(org, READ)
        client = api(secret)
        MembershipFactory(organization=org)
        client.get(members_url(org))  # the token's first use is recorded once
        with CaptureQueriesContext(connection) as one:
            assert len(client.get(members_url(org)).json()["results"]) == 1
        for _ in range(19):
            MembershipFactory(organization=org)
        with CaptureQueriesContext(connection) as twenty:
            assert len(client.get(members_url(org)).json()["results"]) == 20
        assert_same_query_count(one, twenty)


# --- PUT one member ----------------------------------------------------------------------------


class TestMemberPut:
    def test_put_creates_then_the_same_body_changes_nothing(self) -> None:
        # given a write token
        org = OrganizationFactory()
        client = api(token_for(org))
        body = {
            "given_name": "Ada",
            "family_name": "Lovelace",
            "member_number": "GAEL-1",
            "school": "North High",
            "expires_on": "2099-06-30",
        }
        # when a member is PUT, then they are made (201), their account too
        first = put(client, org, "Ada@Example.org", body)
        assert first.status_code == 201, first.json()
        assert first.json()["result"] == "created"
        assert first.json()["member"]["email"] == "ada@example.org"
        membership = Membership.objects.get(organization=org, user__email="ada@example.org")
        assert membership.source == "api" and membership.member_until == dt.date(2099, 6, 30)
        assert membership.user.full_name == "Ada Lovelace" and membership.school == "North High"
        events = AuditEvent.objects.filter(organization=org).count()
        # when the same body is PUT again, then nothing changes
        again = put(client, org, "ada@example.org", body)
        assert again.status_code == 200 and again.json()["result"] == "unchanged"
        assert AuditEvent.objects.filter(organization=org).count() == events
        # when the expiry passes, then the membership is updated (lapsed)
        changed = put(client, org, "ada@example.org", {**body, "expires_on": "2020-01-31"})
        assert changed.json()["result"] == "updated"
        membership.refresh_from_db()
        assert membership.status == "lapsed"

    def test_put_by_member_number_updates_that_member(self) -> None:
        org = OrganizationFactory()
        member = MembershipFactory(organization=org, member_number="R-42", member_until=None)
        response = put(api(token_for(org)), org, "R-42", {"expires_on": "2098-01-31"})
        assert response.status_code == 200, response.json()
        assert response.json()["member"]["email"] == member.user.email
        member.refresh_from_db()
        assert member.member_until == dt.date(2098, 1, 31)

    @pytest.mark.parametrize(
        ("key", "data", "field"),
        [
            ("new@example.org", {"email": "other@example.org"}, "email"),
            ("R-1", {}, "email"),  # a new member by number needs an address
            (
                "new@example.org",
                {"starts_on": "2028-01-01", "expires_on": "2027-01-01"},
                "expires_on",
            ),
            ("new@example.org", {"expires_on": "next year"}, "expires_on"),
            ("new@example.org", {"expires_on": 20270630}, "expires_on"),
            ("new@example.org", {"given_name": "x" * 101}, "given_name"),
            ("new@example.org", {"favourite_colour": "blue"}, "favourite_colour"),
            ("new@example.org", {"member_number": 7}, "member_number"),
            ("not an address@", {}, "email"),
        ],
    )
    def test_bad_input_is_refused_with_its_field_and_changes_nothing(
        self, key: str, data: dict[str, Any], field: str
    ) -> None:
        org = OrganizationFactory()
        response = put(api(token_for(org)), org, key, data)
        assert response.status_code == 400, response.json()
        assert field in response.json()["fields"], response.json()
        assert not Membership.objects.filter(organization=org).exists()


# --- Bulk upsert ------------------------------------------------------------------------------


class TestMemberBulk:
    def test_rows_are_applied_one_by_one_and_each_is_reported(self) -> None:
        # given one existing member
        org = OrganizationFactory()
        MembershipFactory(
            organization=org,
            user=UserFactory(email="kept@example.org"),
            member_number="",
            member_until=None,
        )
        rows = [
            {"email": "new@example.org", "member_number": "1"},
            {"email": "kept@example.org"},
            {"email": "NEW@example.org"},  # the same person twice
            {"email": "not-an-address"},
        ]
        # when they are sent in bulk
        response = api(token_for(org)).post(
            members_url(org, "bulk/"), {"members": rows}, format="json"
        )
        # then each row is reported, the duplicate as an error naming its field, the others
        # applied
        assert response.status_code == 200, response.json()
        body = response.json()
        assert (body["created"], body["updated"], body["unchanged"], body["failed"]) == (1, 0, 1, 2)
        results = {r["row"]: r for r in body["results"]}
        assert results[1]["result"] == "created"
        assert results[3]["result"] == "error" and "email" in results[3]["fields"]
        assert results[4]["result"] == "error" and "email" in results[4]["fields"]
        assert set(
            Membership.objects.filter(organization=org).values_list("user__email", flat=True)
        ) == {"new@example.org", "kept@example.org"}

    def test_a_body_that_breaks_the_schema_applies_nothing(self) -> None:
        org = OrganizationFactory()
        rows = [{"email": "good@example.org"}, {"email": 3}]
        response = api(token_for(org)).post(
            members_url(org, "bulk/"), {"members": rows}, format="json"
        )
        assert response.status_code == 400
        assert "members" in response.json()["fields"]
        assert not Membership.objects.filter(organization=org).exists()

    def test_more_than_1000_rows_are_refused(self) -> None:
        org = OrganizationFactory()
        rows = [{"email": f"p{n}@example.org"} for n in range(1001)]
        response = api(token_for(org)).post(
            members_url(org, "bulk/"), {"members": rows}, format="json"
        )
        assert response.status_code == 400 and "members" in response.json()["fields"]
        assert not Membership.objects.filter(organization=org).exists()

    def test_sending_the_same_rows_twice_changes_nothing(self) -> None:
        org = OrganizationFactory()
        client = api(token_for(org))
        rows = [{"email": f"p{n}@example.org", "school": "West"} for n in range(5)]
        first = client.post(members_url(org, "bulk/"), {"members": rows}, format="json").json()
        second = client.post(members_url(org, "bulk/"), {"members": rows}, format="json").json()
        assert first["created"] == 5 and second["unchanged"] == 5
