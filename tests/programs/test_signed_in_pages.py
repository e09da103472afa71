"""Signed-in catalog and credential pages: what they read about the visitor comes from the cache
(programs.user_facts), keyed by a revision the database bumps on every change of it, so a change
of roles, memberships, requests to join or an organization's name shows on the next page at
once, however it was written; and the pages cost a fixed, small number of statements.
docs/decisions/0024-signed-in-pages.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.test.utils import CaptureQueriesContext

from credentials_site.tenancy import tenant_scope
from programs import services
from programs.models import MemberEmailDomain, Membership, Organization, StaffRole, User
from tests.conftest import assert_same_query_count
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    StaffRoleFactory,
    UserFactory,
    make_credential,
)

pytestmark = pytest.mark.django_db

# Statements of a signed-in page once the visitor's facts are kept: the user (the session comes
# from the cache), the organization; the credential page adds the visitor's open application
# (the version is kept with the page's fragments). Before 0024: 6 and 15 (17 with quiz
# questions and rubric levels).
CATALOG_STATEMENTS = 2
CREDENTIAL_PAGE_STATEMENTS = 3


def catalog(org: Organization) -> str:
    return f"/o/{org.slug}/"


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def review_link(org: Organization) -> str:
    return f'href="/o/{org.slug}/review/"'


def statements(ctx: CaptureQueriesContext) -> str:
    return "\n".join(f"  {i + 1}. {q['sql'][:200]}" for i, q in enumerate(ctx.captured_queries))


@pytest.fixture
def member(client: Client) -> tuple[Organization, User]:
    org = OrganizationFactory(short_name="GAEL")
    user = UserFactory()
    MembershipFactory(organization=org, user=user, member_until=None)
    client.force_login(user)
    return org, user


class TestQueryCount:
    def test_the_signed_in_catalog_costs_two_statements_at_1_and_at_20_credentials(
        self,
        client: Client,
        member: tuple[Organization, User],
        count_queries: Callable[[Callable[[], Any]], CaptureQueriesContext],
        forget_public_pages: Callable[[], None],
    ) -> None:
        # given a member of an organization with one credential, who has seen a page
        org, _ = member
        make_credential(org)
        page(client, catalog(org))
        # when
        small = count_queries(lambda: page(client, catalog(org)))
        for _ in range(19):
            make_credential(org)
        forget_public_pages()  # made by factories, not by the publishing service
        page(client, catalog(org))  # the catalog's fragment is rendered again, once
        large = count_queries(lambda: page(client, catalog(org)))
        # then
        assert len(small) == CATALOG_STATEMENTS, statements(small)
        assert_same_query_count(small, large)

    def test_the_signed_in_credential_page_costs_three_statements_whatever_its_rubric(
        self,
        client: Client,
        member: tuple[Organization, User],
        count_queries: Callable[[Callable[[], Any]], CaptureQueriesContext],
        forget_public_pages: Callable[[], None],
    ) -> None:
        org, _ = member
        version = make_credential(org)
        url = f"/o/{org.slug}/credentials/{version.credential.slug}/"
        page(client, url)
        small = count_queries(lambda: page(client, url))
        for i in range(19):
            requirement = version.requirements.create(
                organization=org, title=f"R{i}", instructions="Do it.", kind="text", position=10 + i
            )
            criterion = version.criteria.create(
                organization=org, title=f"C{i}", requirement=requirement, passing_score=1
            )
            criterion.levels.create(organization=org, score=0, label="No", descriptor="d")
            criterion.levels.create(organization=org, score=1, label="Yes", descriptor="d")
        forget_public_pages()
        assert "C18" in page(client, url)  # the page's fragments are rendered again, once
        large = count_queries(lambda: page(client, url))
        assert len(small) == CREDENTIAL_PAGE_STATEMENTS, statements(small)
        assert_same_query_count(small, large)


class TestChangesShowAtOnce:
    def test_a_credential_page_shows_a_new_version_and_a_retirement_at_once(
        self, client: Client, member: tuple[Organization, User]
    ) -> None:
        # given a member who has seen a credential's page (its version kept with the fragments)
        org, _ = member
        version = make_credential(org, title="Questioning Strategies")
        url = f"/o/{org.slug}/credentials/{version.credential.slug}/"
        assert "Questioning Strategies" in page(client, url)
        # when a new version with a new title is published, then the very next page shows it
        draft = services.credential_version_create_draft(credential=version.credential, actor=None)
        draft.title = "Questioning Strategies, Second Edition"
        draft.save(update_fields=["title"])
        services.credential_version_publish(version=draft, actor=None)
        assert "Second Edition" in page(client, url)
        # and when the credential is retired, the page is gone at once
        services.credential_retire(credential=version.credential, actor=None)
        assert client.get(url).status_code == 404

    def test_a_reviewer_role_given_and_taken_by_the_services(
        self, client: Client, member: tuple[Organization, User]
    ) -> None:
        # given a member whose catalog page has no review link (and is kept so)
        org, user = member
        owner = StaffRoleFactory(organization=org, role=StaffRole.Role.OWNER).user
        assert review_link(org) not in page(client, catalog(org))
        # when an owner makes them a reviewer, then the next page links to the queue
        with tenant_scope(org):
            role = services.staff_role_grant(
                organization=org, user=user, role=StaffRole.Role.REVIEWER, actor=owner
            )
        assert review_link(org) in page(client, catalog(org))
        # and when the owner takes the role back, the link goes at once
        with tenant_scope(org):
            services.staff_role_revoke(staff_role=role, actor=owner)
        assert review_link(org) not in page(client, catalog(org))

    def test_a_role_written_without_a_service_and_an_organization_renamed(
        self, client: Client, member: tuple[Organization, User]
    ) -> None:
        # given a reviewer in two organizations (the header then names each), pages seen
        org, user = member
        other = OrganizationFactory(short_name="Riverside")
        StaffRoleFactory(organization=org, user=user, role=StaffRole.Role.REVIEWER)
        assert review_link(other) not in page(client, catalog(org))
        # when a role is written as the admin or a script would (a bare save), then it shows
        with tenant_scope(other):
            StaffRole.objects.create(organization=other, user=user, role=StaffRole.Role.REVIEWER)
        body = page(client, catalog(org))
        assert review_link(other) in body and "(Riverside)" in body
        # when the organization is renamed, then the header says its new name
        Organization.objects.filter(pk=other.pk).update(short_name="Riverside USD")
        assert "(Riverside USD)" in page(client, catalog(org))
        # when it is deactivated, then its link goes
        Organization.objects.filter(pk=other.pk).update(is_active=False)
        assert review_link(other) not in page(client, catalog(org))

    def test_a_membership_lapsed_in_bulk_and_one_made_for_someone_else(
        self, client: Client, member: tuple[Organization, User]
    ) -> None:
        org, _ = member
        assert "GAEL Member" in page(client, catalog(org))
        # when a roster lapses memberships with one UPDATE (no service call per person)
        with tenant_scope(org):
            Membership.objects.filter(organization=org).update(status=Membership.Status.LAPSED)
        # then the next page says so
        assert "GAEL membership lapsed" in page(client, catalog(org))
        # and a membership of someone else changes nothing of theirs (their facts are theirs)
        with tenant_scope(org):
            MembershipFactory(organization=org)
        assert "GAEL membership lapsed" in page(client, catalog(org))

    def test_a_membership_made_by_the_service_shows_on_the_credential_page(
        self, client: Client
    ) -> None:
        org = OrganizationFactory(short_name="GAEL")
        version = make_credential(org, member_fee=0, non_member_fee=75)
        url = f"/o/{org.slug}/credentials/{version.credential.slug}/"
        user = UserFactory()
        client.force_login(user)
        assert "GAEL Member" not in page(client, url)
        with tenant_scope(org):
            services.member_upsert(
                organization=org,
                row=services.member_row_clean({"email": user.email})[0],
                actor=None,
            )
        assert "GAEL Member" in page(client, url)

    def test_a_request_to_join_shows_on_the_credential_page(self, client: Client) -> None:
        org = OrganizationFactory(short_name="GAEL")
        version = make_credential(org, members_only=True)
        url = f"/o/{org.slug}/credentials/{version.credential.slug}/"
        user = UserFactory()
        client.force_login(user)
        assert 'id="join-request-state"' not in page(client, url)
        with tenant_scope(org):
            services.membership_request_submit(organization=org, user=user)
        assert "waiting for GAEL" in page(client, url)

    def test_an_address_verified_at_a_listed_domain_makes_a_member_on_the_next_page(
        self, client: Client
    ) -> None:
        # given a person whose catalog page was kept while their address was unverified
        org = OrganizationFactory(short_name="GAEL")
        with tenant_scope(org):
            MemberEmailDomain.objects.create(organization=org, domain="district.example")
        user = UserFactory(email="pat@district.example")
        address = EmailAddress.objects.get(user=user)
        EmailAddress.objects.filter(pk=address.pk).update(verified=False)
        client.force_login(user)
        assert "GAEL Member" not in page(client, catalog(org))
        # when the address is verified behind allauth's back (no join everywhere)
        EmailAddress.objects.filter(pk=address.pk).update(verified=True)
        # then their next page makes and shows the membership
        assert "GAEL Member" in page(client, catalog(org))
        with tenant_scope(org):
            assert Membership.objects.get(organization=org, user=user).source == "domain"
