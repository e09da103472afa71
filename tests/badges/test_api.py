"""The badges API: my badges, one of mine with its signed credential, an organization's badges
and revocation for its program admins, the status list and issuer documents; and what other
people, other organizations and anonymous callers get."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django_scopes import scopes_disabled
from rest_framework.test import APIClient

from badges import documents, services
from badges.models import Badge
from programs.models import Organization, StaffRole, User
from tests.badges.test_views_backpack import earn
from tests.conftest import assert_same_query_count
from tests.factories import OrganizationFactory, StaffRoleFactory, UserFactory

pytestmark = pytest.mark.django_db

MINE = "/api/v1/me/badges/"


def org_url(org: Organization, rest: str = "") -> str:
    return f"/api/v1/orgs/{org.slug}/{rest}"


def client_for(user: User | None) -> APIClient:
    api = APIClient()
    if user is not None:
        api.force_login(user)
    return api


def staff(org: Organization, role: str = StaffRole.Role.PROGRAM_ADMIN) -> User:
    return StaffRoleFactory(organization=org, role=role, user=UserFactory()).user


def keys_of(value: Any) -> Iterator[str]:
    """Every key of a JSON document, at any depth."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield str(key)
            yield from keys_of(child)
    elif isinstance(value, list):
        for child in value:
            yield from keys_of(child)


def assert_no_private_material(response: Any) -> None:
    document = response.json()
    leaked = [key for key in keys_of(document) if "private" in key.lower()]
    assert not leaked, leaked
    assert "private" not in response.content.decode().lower()


@pytest.fixture
def educator() -> User:
    return UserFactory(email="ines.ortega@example.org", full_name="Inés Ortega")


@pytest.fixture
def riverside() -> Organization:
    return OrganizationFactory(name="Riverside Unified", slug="riverside")


@pytest.fixture
def gael() -> Organization:
    return OrganizationFactory(name="GAEL", slug="gael")


# --- My badges ---------------------------------------------------------------------------------


class TestMyBadges:
    @pytest.mark.scoped
    def test_lists_my_badges_from_every_organization(
        self, educator: User, riverside: Organization, gael: Organization
    ) -> None:
        # given badges from two organizations, one revoked, and someone else's
        with scopes_disabled():
            first = earn(
                educator,
                riverside,
                title="Formative Assessment",
                expiry_policy="months",
                expiry_months=24,
            )
            second = earn(educator, gael, title="Coaching")
            services.badge_revoke(badge=second, reason="Mistake.", actor=None)
            earn(UserFactory(), riverside, title="Not Mine")
        # when
        response = client_for(educator).get(MINE)
        # then both are listed, newest first, with their state, paginated
        assert response.status_code == 200
        page = response.json()
        assert page["count"] == 2
        rows = page["results"]
        assert [r["id"] for r in rows] == [str(second.public_id), str(first.public_id)]
        row = rows[1]
        assert row["name"] == "Formative Assessment"
        assert row["kind"] == "credential"
        assert row["organization"] == {"slug": "riverside", "name": "Riverside Unified"}
        assert row["credential_slug"] == first.version.credential.slug
        assert row["pathway_slug"] is None
        assert row["state"] == "valid"
        assert row["valid_until"] is not None
        assert row["is_public"] is True
        assert row["verify_url"].endswith(f"/badges/{first.public_id}/")
        assert row["json_url"].endswith(f"/badges/{first.public_id}.json")
        assert (
            row["image_url"] == first.credential["credentialSubject"]["achievement"]["image"]["id"]
        )
        assert "credential" not in row  # the signed document is on the detail only
        assert rows[0]["state"] == "revoked"
        assert rows[0]["revocation_reason"] == "Mistake."
        assert_no_private_material(response)

    def test_anonymous_is_refused(self) -> None:
        for url in (MINE, MINE + "00000000-0000-0000-0000-000000000000/"):
            response = client_for(None).get(url)
            assert response.status_code == 403
            assert set(response.json()) == {"code", "message", "fields"}

    @pytest.mark.scoped
    def test_one_of_mine_with_its_signed_credential(
        self, educator: User, riverside: Organization
    ) -> None:
        with scopes_disabled():
            badge = earn(educator, riverside)
        response = client_for(educator).get(f"{MINE}{badge.public_id}/")
        assert response.status_code == 200
        body = response.json()
        assert body["id"] == str(badge.public_id)
        assert body["credential"] == badge.credential
        assert body["credential"]["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
        assert_no_private_material(response)

    def test_someone_elses_badge_is_404(self, educator: User, riverside: Organization) -> None:
        badge = earn(UserFactory(), riverside)
        response = client_for(educator).get(f"{MINE}{badge.public_id}/")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


# --- An organization's badges --------------------------------------------------------------------


class TestOrganizationBadges:
    def test_a_program_admin_lists_and_filters(
        self, educator: User, riverside: Organization, gael: Organization
    ) -> None:
        # given riverside's badges (one revoked, one expired) and one of gael's
        valid = earn(educator, riverside, title="Valid One")
        revoked = earn(UserFactory(), riverside, title="Revoked One")
        services.badge_revoke(badge=revoked, reason="Mistake.", actor=None)
        expired = earn(UserFactory(), riverside, title="Expired One")
        Badge.objects.filter(pk=expired.pk).update(valid_until="2020-01-01T00:00:00Z")
        elsewhere = earn(educator, gael, title="GAEL One")
        api = client_for(staff(riverside))
        # when the admin lists
        response = api.get(org_url(riverside, "badges/"))
        # then only riverside's are there, with their earners
        assert response.status_code == 200
        rows = response.json()["results"]
        assert {r["id"] for r in rows} == {
            str(valid.public_id),
            str(revoked.public_id),
            str(expired.public_id),
        }
        mine = next(r for r in rows if r["id"] == str(valid.public_id))
        assert mine["recipient"] == {"name": "Inés Ortega", "email": "ines.ortega@example.org"}
        assert str(elsewhere.public_id) not in response.content.decode()
        assert_no_private_material(response)
        # and the filters work
        for state, expected in (("valid", valid), ("revoked", revoked), ("expired", expired)):
            rows = api.get(org_url(riverside, "badges/"), {"state": state}).json()["results"]
            assert [r["id"] for r in rows] == [str(expected.public_id)], state
        slug = valid.version.credential.slug
        rows = api.get(org_url(riverside, "badges/"), {"credential": slug}).json()["results"]
        assert [r["id"] for r in rows] == [str(valid.public_id)]

    def test_a_bad_filter_is_400(self, riverside: Organization) -> None:
        response = client_for(staff(riverside)).get(
            org_url(riverside, "badges/"), {"state": "lost"}
        )
        assert response.status_code == 400
        assert response.json()["code"] == "invalid"
        assert "state" in response.json()["fields"]

    def test_an_owner_may_list(self, riverside: Organization) -> None:
        owner = staff(riverside, StaffRole.Role.OWNER)
        assert client_for(owner).get(org_url(riverside, "badges/")).status_code == 200

    @pytest.mark.parametrize("role", [StaffRole.Role.REVIEWER, StaffRole.Role.SENIOR_REVIEWER])
    def test_reviewers_and_educators_get_404(
        self, role: str, educator: User, riverside: Organization
    ) -> None:
        badge = earn(educator, riverside)
        for user in (staff(riverside, role), educator):
            api = client_for(user)
            assert api.get(org_url(riverside, "badges/")).status_code == 404
            response = api.post(
                org_url(riverside, f"badges/{badge.public_id}/revoke"),
                {"reason": "No."},
                format="json",
            )
            assert response.status_code == 404
        assert Badge.objects.get(pk=badge.pk).revoked_at is None

    def test_anonymous_is_refused(self, riverside: Organization) -> None:
        # the organization's badges also answer an API token: no credentials is a 401 that says
        # how to send one
        response = client_for(None).get(org_url(riverside, "badges/"))
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'

    def test_another_organizations_admin_cannot_list_or_revoke(
        self, educator: User, riverside: Organization, gael: Organization
    ) -> None:
        # given a riverside badge, and gael's admin
        badge = earn(educator, riverside)
        outsider = client_for(staff(gael))
        # when they list riverside's badges, or revoke it through either organization's URL
        listing = outsider.get(org_url(riverside, "badges/"))
        own_url = outsider.post(
            org_url(gael, f"badges/{badge.public_id}/revoke"), {"reason": "x"}, format="json"
        )
        their_url = outsider.post(
            org_url(riverside, f"badges/{badge.public_id}/revoke"), {"reason": "x"}, format="json"
        )
        # then every answer is 404 and nothing changed
        assert listing.status_code == 404
        assert own_url.status_code == 404
        assert their_url.status_code == 404
        assert own_url.json() == {
            "code": "not_found",
            "message": own_url.json()["message"],
            "fields": {},
        }
        assert Badge.objects.get(pk=badge.pk).revoked_at is None
        # and their own list does not show it
        rows = outsider.get(org_url(gael, "badges/")).json()["results"]
        assert rows == []


# --- Revocation ----------------------------------------------------------------------------------


class TestRevoke:
    @pytest.mark.usefixtures("tasks_run_at_once")
    def test_a_program_admin_revokes_with_a_reason(
        self, educator: User, riverside: Organization, django_capture_on_commit_callbacks: Any
    ) -> None:
        badge = earn(educator, riverside)
        admin = staff(riverside)
        url = org_url(riverside, f"badges/{badge.public_id}/revoke")
        # when
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(admin).post(
                url, {"reason": "Not original.", "private_note": "See the handbook."}, format="json"
            )
        # then the badge is revoked, its status bit set, and the educator told
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["state"] == "revoked"
        assert body["revocation_reason"] == "Not original."
        assert body["revocation_note"] == "See the handbook."
        assert body["certificates_revoked"] == []
        badge.refresh_from_db()
        assert badge.revoked_by == admin
        badge.status_list.refresh_from_db()
        bits = documents.decode_bits(
            badge.status_list.credential["credentialSubject"]["encodedList"]
        )
        assert documents.bit_is_set(bits, badge.status_index)
        assert [m.to for m in mail.outbox if "revoked" in m.subject.lower()] == [[educator.email]]
        assert_no_private_material(response)

    @pytest.mark.parametrize("payload", [{}, {"reason": ""}, {"reason": "   "}])
    def test_a_reason_is_required(
        self, payload: dict[str, str], educator: User, riverside: Organization
    ) -> None:
        badge = earn(educator, riverside)
        response = client_for(staff(riverside)).post(
            org_url(riverside, f"badges/{badge.public_id}/revoke"), payload, format="json"
        )
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "reason_required"
        assert body["fields"]["reason"]
        assert Badge.objects.get(pk=badge.pk).revoked_at is None

    def test_revoking_twice_is_400(self, educator: User, riverside: Organization) -> None:
        badge = earn(educator, riverside)
        api = client_for(staff(riverside))
        url = org_url(riverside, f"badges/{badge.public_id}/revoke")
        assert api.post(url, {"reason": "Once."}, format="json").status_code == 200
        response = api.post(url, {"reason": "Twice."}, format="json")
        assert response.status_code == 400
        assert response.json()["code"] == "already_revoked"
        assert Badge.objects.get(pk=badge.pk).revocation_reason == "Once."

    def test_an_unknown_badge_is_404(self, riverside: Organization) -> None:
        response = client_for(staff(riverside)).post(
            org_url(riverside, "badges/00000000-0000-0000-0000-000000000000/revoke"),
            {"reason": "x"},
            format="json",
        )
        assert response.status_code == 404

    def test_needs_csrf_with_a_session(self, educator: User, riverside: Organization) -> None:
        badge = earn(educator, riverside)
        api = APIClient(enforce_csrf_checks=True)
        api.force_login(staff(riverside))
        response = api.post(
            org_url(riverside, f"badges/{badge.public_id}/revoke"), {"reason": "x"}, format="json"
        )
        assert response.status_code == 403
        assert Badge.objects.get(pk=badge.pk).revoked_at is None


# --- Public documents ---------------------------------------------------------------------------


class TestDocuments:
    def test_the_status_list_is_public(self, educator: User, riverside: Organization) -> None:
        badge = earn(educator, riverside)
        services.badge_revoke(badge=badge, reason="x", actor=None)
        badge.status_list.refresh_from_db()
        response = client_for(None).get(org_url(riverside, "status/1"))
        assert response.status_code == 200
        body = response.json()
        assert body == badge.status_list.credential
        assert "BitstringStatusListCredential" in body["type"]
        assert_no_private_material(response)

    def test_an_unknown_status_list_is_404(self, educator: User, riverside: Organization) -> None:
        earn(educator, riverside)
        response = client_for(None).get(org_url(riverside, "status/7"))
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"

    def test_another_organizations_status_list_is_not_served_under_this_one(
        self, educator: User, riverside: Organization, gael: Organization
    ) -> None:
        earn(educator, riverside)  # riverside has list 1; gael has none
        assert client_for(None).get(org_url(gael, "status/1")).status_code == 404

    def test_the_issuer_profile_is_public(self, riverside: Organization) -> None:
        response = client_for(None).get(org_url(riverside, "issuer"))
        assert response.status_code == 200
        body = response.json()
        assert body["id"] == documents.issuer_did(riverside)
        assert body["type"] == ["Profile"]
        assert body["name"] == "Riverside Unified"
        assert body["@context"] == documents.CONTEXT
        assert_no_private_material(response)

    def test_an_unknown_organization_is_404(self) -> None:
        assert client_for(None).get("/api/v1/orgs/nowhere/issuer").status_code == 404


# --- Query counts and the schema ----------------------------------------------------------------


def test_my_list_runs_the_same_queries_for_1_or_4_badges(
    educator: User,
    riverside: Organization,
    gael: Organization,
    count_queries: Callable[..., Any],
) -> None:
    api = client_for(educator)
    earn(educator, riverside)
    api.get(MINE)
    small = count_queries(lambda: api.get(MINE))
    earn(educator, gael)
    earn(educator, gael)
    earn(educator, riverside)
    large = count_queries(lambda: api.get(MINE))
    assert api.get(MINE).json()["count"] == 4
    assert_same_query_count(small, large)


def test_the_admin_list_runs_the_same_queries_for_1_or_4_badges(
    riverside: Organization, count_queries: Callable[..., Any]
) -> None:
    api = client_for(staff(riverside))
    earn(UserFactory(), riverside)
    url = org_url(riverside, "badges/")
    api.get(url)
    small = count_queries(lambda: api.get(url))
    for _ in range(3):
        earn(UserFactory(), riverside)
    large = count_queries(lambda: api.get(url))
    assert api.get(url).json()["count"] == 4
    assert_same_query_count(small, large)


def test_the_schema_documents_the_badges_api(tmp_path: Any) -> None:
    out = tmp_path / "schema.json"

    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--format",
        "openapi-json",
        "--file",
        str(out),
    )

    paths = json.loads(out.read_text())["paths"]
    expected = {
        "/api/v1/me/badges/": ("get", "badge_mine_list"),
        "/api/v1/me/badges/{public_id}/": ("get", "badge_mine_detail"),
        "/api/v1/orgs/{org_slug}/badges/": ("get", "badge_list"),
        "/api/v1/orgs/{org_slug}/badges/{public_id}/revoke": ("post", "badge_revoke"),
        "/api/v1/orgs/{org_slug}/status/{number}": ("get", "badge_status_list_detail"),
        "/api/v1/orgs/{org_slug}/issuer": ("get", "badge_issuer_profile_detail"),
    }
    for path, (method, operation) in expected.items():
        assert set(paths[path]) == {method}, path
        assert paths[path][method]["operationId"] == operation
    filters = {p["name"] for p in paths["/api/v1/orgs/{org_slug}/badges/"]["get"]["parameters"]}
    assert {"state", "credential", "page"} <= filters
