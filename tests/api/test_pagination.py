"""``?page=`` on every paginated list behaves as the OpenAPI document says: a whole number from
1; anything else is 400 and a page past the last one 404, both naming ``page``."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from programs.models import Organization, StaffRole
from tests.factories import OrganizationFactory, StaffRoleFactory, UserFactory

pytestmark = pytest.mark.django_db

# Every paginated list, with who may read it ("" : anyone).
LISTS = [
    ("organizations/", ""),
    ("orgs/riverside/focus-areas/", ""),
    ("orgs/riverside/credentials/", ""),
    ("orgs/riverside/pathways/", ""),
    ("orgs/riverside/review/queue/", StaffRole.Role.REVIEWER),
    ("orgs/riverside/badges/", StaffRole.Role.PROGRAM_ADMIN),
    ("me/badges/", "educator"),
]


@pytest.fixture
def org() -> Organization:
    return OrganizationFactory(slug="riverside", name="Riverside")


def client_for(org: Organization, role: str) -> APIClient:
    api = APIClient()
    if role == "educator":
        api.force_login(UserFactory())
    elif role:
        api.force_login(StaffRoleFactory(organization=org, role=role).user)
    return api


@pytest.mark.parametrize(("path", "role"), LISTS)
class TestEveryList:
    def test_page_1_of_an_empty_list_is_an_empty_page(self, org, path, role) -> None:
        response = client_for(org, role).get(f"/api/v1/{path}", {"page": 1})

        assert response.status_code == 200, response.content
        assert set(response.json()) == {"count", "next", "previous", "results"}

    @pytest.mark.parametrize("page", ["0", "-1", "abc", "", "last", "1.0", " 2", "²"])
    def test_a_page_that_is_not_a_whole_number_from_1_is_refused(
        self, org, path, role, page
    ) -> None:
        response = client_for(org, role).get(f"/api/v1/{path}", {"page": page})

        assert response.status_code == 400, response.content
        assert response.json() == {
            "code": "invalid",
            "message": "Some fields are not valid.",
            "fields": {"page": ["A page is a whole number from 1."]},
        }

    def test_a_page_given_twice_is_refused(self, org, path, role) -> None:
        response = client_for(org, role).get(f"/api/v1/{path}?page=1&page=2")

        assert response.status_code == 400
        assert response.json()["fields"] == {"page": ["Give one page number."]}

    @pytest.mark.parametrize("page", ["2", "99999999999999999999999999"])
    def test_a_page_past_the_last_is_not_found(self, org, path, role, page) -> None:
        response = client_for(org, role).get(f"/api/v1/{path}", {"page": page})

        assert response.status_code == 404
        assert response.json() == {
            "code": "not_found",
            "message": "There is no such page.",
            "fields": {"page": ["The last page is 1."]},
        }


def test_pages_link_to_each_other_and_end_at_the_last(org) -> None:
    # given 45 organizations with a public catalog (3 pages of 20)
    OrganizationFactory.create_batch(44)
    api = APIClient()

    # when the pages are followed from the first
    first = api.get("/api/v1/organizations/").json()
    second = api.get(first["next"]).json()
    third = api.get(second["next"]).json()

    # then each page links on, the last one ends there, and one further does not exist
    assert (first["count"], len(first["results"]), len(third["results"])) == (45, 20, 5)
    assert first["next"].endswith("?page=2") and third["next"] is None
    assert second["previous"].endswith("/api/v1/organizations/")
    beyond = api.get("/api/v1/organizations/", {"page": 4})
    assert (beyond.status_code, beyond.json()["fields"]) == (404, {"page": ["The last page is 3."]})
