"""Errors under /api/ have the API's JSON shape: an id that is not one answers 404 (not the
site's HTML page), and a method a path does not have answers 405 with ``Allow``, whoever asks."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from programs.models import Organization, StaffRole, User
from tests.factories import OrganizationFactory, StaffRoleFactory, UserFactory

pytestmark = pytest.mark.django_db

NOT_A_UUID = "not-a-uuid"


def client_for(user: User | None) -> APIClient:
    api = APIClient()
    if user is not None:
        api.force_login(user)
    return api


def assert_json_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code
    return body


@pytest.fixture
def org() -> Organization:
    return OrganizationFactory(slug="riverside")


@pytest.fixture
def reviewer(org: Organization) -> User:
    return StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER).user


class TestMalformedIds:
    @pytest.mark.parametrize(
        "path",
        [
            f"orgs/riverside/review/claims/{NOT_A_UUID}/",
            f"orgs/riverside/review/claims/{NOT_A_UUID}/review/submit/",
            f"orgs/riverside/applications/{NOT_A_UUID}/",
            "orgs/riverside/applications/00000000-0000-0000-0000-000000000000/items/12/",
            f"orgs/riverside/badges/{NOT_A_UUID}/revoke",
            f"me/badges/{NOT_A_UUID}/",
            "orgs/riverside/status/first",
            "orgs/riverside/applications/00000000-0000-0000-0000-000000000000/answers/one/",
        ],
    )
    def test_answer_the_api_json_404(self, reviewer, path) -> None:
        # when a signed-in caller asks for a path whose id is not of the id's kind
        response = client_for(reviewer).get(f"/api/v1/{path}")

        # then the answer is the API's 404, not the site's HTML page
        body = assert_json_error(response, 404, "not_found")
        assert body == {"code": "not_found", "message": "Not found.", "fields": {}}

    def test_as_does_a_path_the_api_does_not_have(self) -> None:
        # when anyone asks for a path under /api/ that matches nothing
        response = client_for(None).post("/api/v2/organizations/", {}, format="json")

        # then it is the API's JSON 404
        assert_json_error(response, 404, "not_found")

    def test_the_website_keeps_its_html_404(self) -> None:
        # when a page of the website does not exist
        response = client_for(None).get("/o/riverside/claims/not-a-uuid/")

        # then the site's page answers, not JSON
        assert response.status_code == 404
        assert response["Content-Type"].startswith("text/html")
        assert b"<html" in response.content


class TestUnsupportedMethods:
    @pytest.mark.parametrize(
        ("method", "path", "allow"),
        [
            ("delete", "organizations/", "GET, HEAD, OPTIONS"),
            ("put", "orgs/riverside/credentials/", "GET, HEAD, OPTIONS"),
            ("delete", "me/badges/", "GET, HEAD, OPTIONS"),
            ("patch", "orgs/riverside/review/queue/", "GET, HEAD, OPTIONS"),
            ("delete", "orgs/riverside/review/claims/", "GET, POST, HEAD, OPTIONS"),
            (
                "get",
                "orgs/riverside/badges/00000000-0000-0000-0000-000000000000/revoke",
                "POST, OPTIONS",
            ),
        ],
    )
    @pytest.mark.parametrize("who", ["anonymous", "educator", "reviewer"])
    def test_answer_405_with_allow_whoever_asks(self, org, reviewer, who, method, path, allow):
        # given someone who may not use the path at all (anonymous: 403; an educator: 404),
        # or may (the reviewer, on the review paths)
        user = {"anonymous": None, "educator": UserFactory(), "reviewer": reviewer}[who]

        # when they send a method the path does not have
        response = getattr(client_for(user), method)(f"/api/v1/{path}")

        # then it is 405, saying which methods it has, before any access check answers
        body = assert_json_error(response, 405, "method_not_allowed")
        assert body["message"] == f'Method "{method.upper()}" not allowed.'
        assert response["Allow"] == allow

    def test_the_openapi_document_answers_405_as_json_too(self) -> None:
        # when the schema (a YAML document) is asked to delete itself
        response = client_for(None).delete("/api/schema/")

        # then the error is JSON, as every API error is
        assert_json_error(response, 405, "method_not_allowed")
        assert response["Allow"] == "GET, HEAD, OPTIONS"

    def test_a_supported_method_still_checks_access(self, org) -> None:
        # when an anonymous caller uses a method the path has
        response = client_for(None).get("/api/v1/orgs/riverside/review/queue/")

        # then authentication answers as before
        assert_json_error(response, 403, "not_authenticated")
