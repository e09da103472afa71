"""After signing in, each person lands where they work, unless they were on their way somewhere:
an educator in My learning, a reviewer in the review queue, a program admin or owner in the
admin."""

from __future__ import annotations

import pytest
from django.test import Client

from programs.models import Organization, StaffRole, User
from tests.factories import OrganizationFactory, StaffRoleFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # the factories' password


def sign_in(client: Client, user: User, *, next_url: str = "") -> str:
    data = {"login": user.email, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    response = client.post("/accounts/login/", data)
    assert response.status_code == 302, response.content.decode()
    return str(response["Location"])


def with_role(role: str, *, org_name: str = "Riverside Schools", slug: str = "riverside") -> User:
    user = UserFactory()
    organization = OrganizationFactory(name=org_name, slug=slug)
    StaffRoleFactory(organization=organization, user=user, role=role)
    return user


class TestLanding:
    def test_an_educator_lands_in_my_learning(self, client: Client) -> None:
        # given an educator with no staff role
        educator = UserFactory()
        # when they sign in
        landing = sign_in(client, educator)
        # then they are on My learning, which shows
        assert landing == "/me/"
        assert client.get(landing).status_code == 200

    @pytest.mark.parametrize("role", [StaffRole.Role.REVIEWER, StaffRole.Role.SENIOR_REVIEWER])
    def test_a_reviewer_lands_in_the_review_queue(self, client: Client, role: str) -> None:
        # given a reviewer of Riverside
        reviewer = with_role(role)
        # when they sign in
        landing = sign_in(client, reviewer)
        # then they are in Riverside's review queue, which shows
        assert landing == "/o/riverside/review/"
        assert client.get(landing).status_code == 200

    def test_a_reviewer_of_two_organizations_lands_in_the_first_by_name(
        self, client: Client
    ) -> None:
        # given a reviewer of Zenith and of Alder
        reviewer = with_role(StaffRole.Role.REVIEWER, org_name="Zenith District", slug="zenith")
        alder = OrganizationFactory(name="Alder Academy", slug="alder")
        StaffRoleFactory(organization=alder, user=reviewer, role=StaffRole.Role.REVIEWER)
        # when they sign in, then they are in Alder's queue
        assert sign_in(client, reviewer) == "/o/alder/review/"

    @pytest.mark.parametrize("role", [StaffRole.Role.PROGRAM_ADMIN, StaffRole.Role.OWNER])
    def test_a_program_admin_or_owner_lands_in_the_admin(self, client: Client, role: str) -> None:
        # given a program admin (or owner) who also reviews elsewhere
        admin = with_role(role)
        other = OrganizationFactory(name="Alder Academy", slug="alder")
        StaffRoleFactory(organization=other, user=admin, role=StaffRole.Role.REVIEWER)
        # when they sign in
        landing = sign_in(client, admin)
        # then they are in the admin, which shows
        assert landing == "/admin/"
        assert client.get(landing).status_code == 200

    def test_a_role_in_an_inactive_organization_does_not_count(self, client: Client) -> None:
        # given a reviewer whose only organization was switched off
        reviewer = with_role(StaffRole.Role.REVIEWER)
        Organization.objects.filter(slug="riverside").update(is_active=False)
        # when they sign in, then they land in My learning
        assert sign_in(client, reviewer) == "/me/"

    @pytest.mark.parametrize("role", [None, StaffRole.Role.REVIEWER, StaffRole.Role.PROGRAM_ADMIN])
    def test_a_next_address_wins_for_everyone(self, client: Client, role: str | None) -> None:
        # given someone on their way to their profile
        user = with_role(role) if role else UserFactory()
        # when they sign in with it as ``next``
        landing = sign_in(client, user, next_url="/me/profile/")
        # then they go there
        assert landing == "/me/profile/"
