"""The admin API (docs/decisions/0033): an organization's own systems, with an API token and its
scopes (or a program admin signed in), create and edit credential drafts and publish them, read
applications and decisions a cursor at a time, award and revoke. Another organization's token,
or another organization's object, is a 404; a missing scope a 403; bad input a 400 naming the
field that changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from badges.models import Badge
from badges.models_award import AwardRecord, BulkAward
from programs import services as program_services
from programs.models import Credential, CredentialVersion, Organization, StaffRole
from submissions.models import Application
from tests.badges.test_views_backpack import earn
from tests.conftest import assert_same_query_count
from tests.factories import (
    OrganizationFactory,
    ProgramFactory,
    StaffRoleFactory,
    UserFactory,
    make_credential,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tasks_run_at_once")]

ALL = (
    "credentials:read",
    "credentials:write",
    "applications:read",
    "badges:read",
    "badges:write",
)


def token_for(org: Organization, *scopes: str) -> APIClient:
    owner = StaffRoleFactory(organization=org, role=StaffRole.Role.OWNER).user
    made = program_services.organization_token_create(
        organization=org, name="Learning record sync", scopes=scopes or ALL, actor=owner
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {made.secret}")
    return client


def url(org: Organization, rest: str) -> str:
    return f"/api/v1/orgs/{org.slug}/admin/{rest}"


@pytest.fixture
def riverside() -> Organization:
    return OrganizationFactory(name="Riverside Unified", slug="riverside")


@pytest.fixture
def gael() -> Organization:
    return OrganizationFactory(name="GAEL", slug="gael")


class TestCredentials:
    def test_create_edit_and_publish_a_credential_through_the_api(
        self, riverside: Organization
    ) -> None:
        # given a published credential and a token
        ProgramFactory(organization=riverside, slug="practice")
        version = make_credential(riverside)
        credential = Credential.objects.get(pk=version.credential_id)
        api = token_for(riverside)
        # when the system creates a new credential: a draft, not in the catalog
        made = api.post(
            url(riverside, "credentials/"),
            {"program": "practice", "slug": "flipped-learning", "title": "Flipped Learning"},
            format="json",
        )
        assert made.status_code == 201, made.content
        assert made.json()["number"] == 1
        assert made.json()["document"]["version"]["title"] == "Flipped Learning"
        # and publishing it unfinished says what it lacks and publishes nothing
        early = api.post(url(riverside, "credentials/flipped-learning/publish/"))
        assert early.status_code == 400 and early.json()["fields"]["version"]
        assert Credential.objects.get(slug="flipped-learning").current_version_id is None

        # when it starts a new version of the published one, edits its title and publishes
        draft = api.post(url(riverside, f"credentials/{credential.slug}/draft/"))
        assert draft.status_code == 201 and draft.json()["number"] == 2
        again = api.post(url(riverside, f"credentials/{credential.slug}/draft/"))
        assert again.status_code == 200 and again.json()["number"] == 2  # the same draft
        document = draft.json()["document"]
        document["version"]["title"] = "Questioning Strategies, revised"
        saved = api.put(
            url(riverside, f"credentials/{credential.slug}/draft/"), document, format="json"
        )
        assert saved.status_code == 200, saved.content
        published = api.post(url(riverside, f"credentials/{credential.slug}/publish/"))
        assert published.status_code == 200, published.content
        assert published.json() == {
            "credential": credential.slug,
            "number": 2,
            "state": "published",
        }
        credential.refresh_from_db()
        assert credential.current_version is not None
        assert credential.current_version.title == "Questioning Strategies, revised"

        # and the list shows both, in catalog order, with their versions
        listed = api.get(url(riverside, "credentials/")).json()["results"]
        assert [(c["slug"], c["current_version"], c["draft_version"]) for c in listed] == [
            (credential.slug, 2, None),
            ("flipped-learning", None, 1),
        ]

    def test_bad_input_names_its_field_and_changes_nothing(self, riverside: Organization) -> None:
        ProgramFactory(organization=riverside, slug="practice")
        version = make_credential(riverside)
        credential = Credential.objects.get(pk=version.credential_id)
        api = token_for(riverside)
        taken = api.post(
            url(riverside, "credentials/"),
            {"program": "practice", "slug": credential.slug, "title": "Again"},
            format="json",
        )
        assert taken.status_code == 400 and "slug" in taken.json()["fields"]
        unknown = api.post(
            url(riverside, "credentials/"),
            {"program": "nope", "slug": "new-one", "title": "New"},
            format="json",
        )
        assert unknown.status_code == 400 and "program" in unknown.json()["fields"]
        assert Credential.objects.filter(organization=riverside).count() == 1

        # a draft document with an empty title: its path named, the draft unchanged
        document = api.post(url(riverside, f"credentials/{credential.slug}/draft/")).json()[
            "document"
        ]
        document["version"]["title"] = ""
        refused = api.put(
            url(riverside, f"credentials/{credential.slug}/draft/"), document, format="json"
        )
        assert refused.status_code == 400
        assert any("title" in path for path in refused.json()["fields"]), refused.json()
        draft = CredentialVersion.objects.get(credential=credential, state="draft")
        assert draft.title == version.title

        # no draft to read or publish: 404 saying how to start one
        make_credential(riverside, title="Second")
        second = Credential.objects.exclude(pk=credential.pk).get(organization=riverside)
        missing = api.get(url(riverside, f"credentials/{second.slug}/draft/"))
        assert missing.status_code == 404 and "POST" in missing.json()["message"]

    def test_scopes_tokens_and_organizations(
        self, riverside: Organization, gael: Organization
    ) -> None:
        version = make_credential(riverside)
        slug = Credential.objects.get(pk=version.credential_id).slug
        reader = token_for(riverside, "credentials:read")
        assert reader.get(url(riverside, "credentials/")).status_code == 200
        refused = reader.post(url(riverside, f"credentials/{slug}/draft/"))
        assert refused.status_code == 403
        assert not CredentialVersion.objects.filter(state="draft").exists()
        # gael's token at riverside's address, and riverside's credential at gael's: 404
        theirs = token_for(gael)
        assert theirs.get(url(riverside, "credentials/")).status_code == 404
        assert theirs.post(url(riverside, f"credentials/{slug}/draft/")).status_code == 404
        assert theirs.post(url(gael, f"credentials/{slug}/draft/")).status_code == 404
        assert theirs.post(url(gael, f"credentials/{slug}/publish/")).status_code == 404
        assert not CredentialVersion.objects.filter(state="draft").exists()
        # no token: 401 saying how to send one
        assert APIClient().get(url(riverside, "credentials/")).status_code == 401

    def test_a_program_admin_signed_in_may_use_it_and_others_get_404(
        self, riverside: Organization, gael: Organization
    ) -> None:
        make_credential(riverside)
        admin = StaffRoleFactory(organization=riverside, role=StaffRole.Role.PROGRAM_ADMIN).user
        signed_in = APIClient()
        signed_in.force_login(admin)
        assert signed_in.get(url(riverside, "credentials/")).status_code == 200
        assert signed_in.get(url(gael, "credentials/")).status_code == 404
        reviewer = StaffRoleFactory(organization=riverside, role=StaffRole.Role.REVIEWER).user
        other = APIClient()
        other.force_login(reviewer)
        assert other.get(url(riverside, "credentials/")).status_code == 404


class TestApplicationsAndDecisions:
    def test_walk_applications_with_a_cursor_and_filters(
        self, riverside: Organization, gael: Organization
    ) -> None:
        # given three educators: one awarded, two who applied; and gael's own educator
        badge = earn(UserFactory(email="ana@r.example"), riverside, title="Questioning")
        version = make_credential(riverside, non_member_fee=0)
        from submissions import services as submission_services

        for email in ("ben@r.example", "cy@r.example"):
            submission_services.application_apply(
                credential=version.credential, educator=UserFactory(email=email)
            )
        earn(UserFactory(email="dee@g.example"), gael)
        api = token_for(riverside, "applications:read")

        first = api.get(url(riverside, "applications/?limit=2"))
        assert first.status_code == 200, first.content
        page = first.json()
        assert len(page["results"]) == 2 and page["next"]
        rest = api.get(page["next"]).json()
        emails = [a["educator_email"] for a in page["results"] + rest["results"]]
        assert sorted(emails) == ["ana@r.example", "ben@r.example", "cy@r.example"]
        assert rest["next"] is None
        awarded = api.get(url(riverside, "applications/?status=awarded")).json()["results"]
        assert [(a["educator_email"], a["outcome"], a["badge_id"]) for a in awarded] == [
            ("ana@r.example", "approve", str(badge.public_id))
        ]
        by_credential = api.get(
            url(riverside, f"applications/?credential={version.credential.slug}")
        ).json()["results"]
        assert {a["educator_email"] for a in by_credential} == {"ben@r.example", "cy@r.example"}

        decisions = api.get(url(riverside, "decisions/")).json()["results"]
        assert [(d["educator_email"], d["outcome"], d["attempt"]) for d in decisions] == [
            ("ana@r.example", "approve", 1)
        ]

        # bad cursor, bad limit, bad status: 400 naming the parameter
        for query, field in (
            ("cursor=bz1hYmM", "cursor"),
            ("limit=0", "limit"),
            ("status=done", "status"),
        ):
            refused = api.get(url(riverside, f"applications/?{query}"))
            assert refused.status_code == 400 and field in refused.json()["fields"], query
        # gael's token sees none of riverside's
        assert token_for(gael).get(url(riverside, "applications/")).status_code == 404
        assert (
            token_for(riverside, "credentials:read")
            .get(url(riverside, "applications/"))
            .status_code
            == 403
        )

    def test_the_query_count_does_not_grow_with_the_page(
        self, riverside: Organization, count_queries: Any
    ) -> None:
        from submissions import services as submission_services

        version = make_credential(riverside, non_member_fee=0)
        api = token_for(riverside, "applications:read")

        def apply(n: int) -> None:
            for _ in range(n):
                submission_services.application_apply(
                    credential=version.credential, educator=UserFactory()
                )

        apply(1)
        api.get(url(riverside, "applications/"))  # the token's use recorded (once a minute)
        small = count_queries(lambda: api.get(url(riverside, "applications/")))
        apply(20)
        large = count_queries(lambda: api.get(url(riverside, "applications/")))
        assert_same_query_count(small, large)


class TestAwardsAndRevocation:
    def test_award_a_cohort_then_again_awards_nothing_new(
        self, riverside: Organization, gael: Organization
    ) -> None:
        version = make_credential(riverside, non_member_fee=0)
        slug = version.credential.slug
        api = token_for(riverside, "badges:write")
        awards = [
            {
                "email": "ana@r.example",
                "name": "Ana Díaz",
                "credential": slug,
                "date": "2026-11-30",
            },
            {"email": "ben@r.example", "name": "Ben Ode", "credential": slug, "date": "2026-11-29"},
        ]
        dry = api.post(
            url(riverside, "awards/"), {"awards": awards, "dry_run": True}, format="json"
        )
        assert dry.status_code == 200 and dry.json()["to_award"] == 2
        assert not Application.objects.exists()

        made = api.post(url(riverside, "awards/"), {"awards": awards}, format="json")
        assert made.status_code == 202, made.content
        assert made.json()["to_award"] == 2
        assert sorted(AwardRecord.objects.values_list("email", flat=True)) == [
            "ana@r.example",
            "ben@r.example",
        ]
        detail = api.get(url(riverside, f"awards/{made.json()['id']}/"))
        assert detail.status_code == 200 and detail.json()["state"] == "applied"
        assert (
            token_for(gael).get(url(riverside, f"awards/{made.json()['id']}/")).status_code == 404
        )
        assert (
            token_for(gael, "badges:write")
            .get(url(gael, f"awards/{made.json()['id']}/"))
            .status_code
            == 404
        )

        again = api.post(url(riverside, "awards/"), {"awards": awards}, format="json")
        assert again.status_code == 202 and again.json()["to_award"] == 0
        assert again.json()["already"] == 2
        assert AwardRecord.objects.count() == 2

    def test_a_bad_award_names_its_index_and_field_and_awards_nothing(
        self, riverside: Organization, gael: Organization
    ) -> None:
        version = make_credential(riverside, non_member_fee=0)
        theirs = make_credential(gael, non_member_fee=0)
        api = token_for(riverside, "badges:write")
        awards = [
            {
                "email": "ana@r.example",
                "name": "Ana",
                "credential": version.credential.slug,
                "date": "2026-11-30",
            },
            {
                "email": "not-an-address",
                "name": "Ben",
                "credential": version.credential.slug,
                "date": "2026-11-30",
            },
            {
                "email": "cy@r.example",
                "name": "Cy",
                "credential": theirs.credential.slug,
                "date": "2026-11-30",
            },
        ]
        refused = api.post(url(riverside, "awards/"), {"awards": awards}, format="json")
        assert refused.status_code == 400
        assert sorted(refused.json()["fields"]) == ["awards.1.email", "awards.2.credential"]
        assert refused.json()["code"] == "invalid"
        assert not BulkAward.objects.exists() and not Application.objects.exists()
        future = api.post(
            url(riverside, "awards/"),
            {"awards": [{**awards[0], "date": "2999-01-01"}]},
            format="json",
        )
        assert future.status_code == 400 and list(future.json()["fields"]) == ["awards.0.date"]

    def test_revoke_with_a_token(self, riverside: Organization, gael: Organization) -> None:
        badge = earn(UserFactory(email="ana@r.example"), riverside)
        revoke = f"/api/v1/orgs/{riverside.slug}/badges/{badge.public_id}/revoke"
        reader = token_for(riverside, "badges:read")
        assert reader.get(f"/api/v1/orgs/{riverside.slug}/badges/").status_code == 200
        assert reader.post(revoke, {"reason": "Copied."}, format="json").status_code == 403
        assert token_for(gael).post(revoke, {"reason": "Copied."}, format="json").status_code == 404
        assert not Badge.objects.get(pk=badge.pk).is_revoked
        done = token_for(riverside, "badges:write").post(
            revoke, {"reason": "Copied."}, format="json"
        )
        assert done.status_code == 200, done.content
        assert done.json()["revocation_reason"] == "Copied."
        assert Badge.objects.get(pk=badge.pk).is_revoked


def test_the_admin_api_is_in_the_openapi_document() -> None:
    """The admin API is in the OpenAPI document, with its token scheme."""
    schema = APIClient().get("/api/schema/?format=json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/orgs/{org_slug}/admin/credentials/",
        "/api/v1/orgs/{org_slug}/admin/credentials/{credential_slug}/draft/",
        "/api/v1/orgs/{org_slug}/admin/credentials/{credential_slug}/publish/",
        "/api/v1/orgs/{org_slug}/admin/applications/",
        "/api/v1/orgs/{org_slug}/admin/decisions/",
        "/api/v1/orgs/{org_slug}/admin/awards/",
    ):
        assert path in paths, path
    assert "organizationToken" in schema["components"]["securitySchemes"]
