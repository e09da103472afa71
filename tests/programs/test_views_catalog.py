from __future__ import annotations

import pytest
from django.test import Client

from programs.models import CredentialVersion
from tests.conftest import assert_same_query_count
from tests.factories import (
    CategoryFactory,
    FocusAreaFactory,
    MembershipFactory,
    OrganizationFactory,
    ProgramFactory,
    UserFactory,
    make_credential,
)

pytestmark = pytest.mark.django_db


class TestCatalog:
    def test_lists_only_published_credentials_of_the_organization(self, client: Client) -> None:
        # given
        org, other = OrganizationFactory(), OrganizationFactory()
        make_credential(org, title="Crucial Conversations Training")
        make_credential(org, title="Unfinished draft", publish=False)
        make_credential(other, title="Other org's credential")
        # when
        response = client.get(f"/o/{org.slug}/")
        # then
        assert response.status_code == 200
        body = response.content.decode()
        assert "Crucial Conversations Training" in body
        assert "Unfinished draft" not in body
        assert "Other org&#x27;s credential" not in body and "Other org's credential" not in body

    def test_filters_by_focus_area_category_and_search(self, client: Client) -> None:
        org = OrganizationFactory()
        self_area = FocusAreaFactory(organization=org, name="Preparation of Self")
        others_area = FocusAreaFactory(organization=org, name="Development of Others")
        coaching = CategoryFactory(organization=org, name="Coaching")
        make_credential(
            org, title="Leadership Coaching", focus_area=others_area, categories=[coaching]
        )
        make_credential(org, title="Crucial Conversations Training", focus_area=self_area)

        by_area = client.get(f"/o/{org.slug}/", {"focus": others_area.slug}).content.decode()
        by_category = client.get(f"/o/{org.slug}/", {"category": coaching.slug}).content.decode()
        by_search = client.get(f"/o/{org.slug}/", {"q": "conversations"}).content.decode()
        nothing = client.get(f"/o/{org.slug}/", {"q": "astrophysics"}).content.decode()

        assert "Leadership Coaching" in by_area and "Crucial Conversations" not in by_area
        assert "Leadership Coaching" in by_category and "Crucial Conversations" not in by_category
        assert (
            "Crucial Conversations Training" in by_search and "Leadership Coaching" not in by_search
        )
        assert "No micro-credential matches these filters." in nothing

    def test_unknown_organization_is_404(self, client: Client) -> None:
        assert client.get("/o/no-such-org/").status_code == 404

    def test_query_count_does_not_grow_with_credentials(
        self, client: Client, count_queries, forget_public_pages
    ) -> None:
        org = OrganizationFactory()
        area = FocusAreaFactory(organization=org)
        category = CategoryFactory(organization=org)
        program = ProgramFactory(organization=org)
        make_credential(org, program=program, focus_area=area, categories=[category])
        small = count_queries(lambda: client.get(f"/o/{org.slug}/"))
        for _ in range(29):
            make_credential(org, program=program, focus_area=area, categories=[category])
        forget_public_pages()  # made by factories, not by the publishing service
        large = count_queries(lambda: client.get(f"/o/{org.slug}/"))
        assert_same_query_count(small, large)


class TestCredentialPage:
    def test_shows_everything_needed_before_applying(self, client: Client) -> None:
        org = OrganizationFactory(contact_email="cflesher@gael.org", contact_name="Cindy Flesher")
        version = make_credential(
            org, title="Leadership Coaching", credit_hours=3, members_only=True, non_member_fee=None
        )
        response = client.get(f"/o/{org.slug}/credentials/{version.credential.slug}/")
        body = response.content.decode()
        assert response.status_code == 200
        for text in [
            "Leadership Coaching",
            "Lesson plan",
            "Upload the lesson plan you taught.",
            "Documents (PDF, Word)",
            "20 MB",
            "at least 100 words",
            "Plan aligns with the method",
            "The plan uses every component.",
            "members only",
            "Not eligible (members only)",
            "cflesher@gael.org",
            "Cindy Flesher",
        ]:
            assert text in body, text

    def test_fees_for_members_and_non_members(self, client: Client) -> None:
        org = OrganizationFactory(short_name="GAEL", currency="USD")
        version = make_credential(org, member_fee=0, non_member_fee=75)
        body = client.get(f"/o/{org.slug}/credentials/{version.credential.slug}/").content.decode()
        assert "GAEL members" in body and "Free" in body
        assert "75.00 USD" in body

    def test_member_sees_their_membership(self, client: Client) -> None:
        org = OrganizationFactory(short_name="GAEL")
        user = UserFactory()
        MembershipFactory(organization=org, user=user, member_until="2027-06-30")
        version = make_credential(org)
        client.force_login(user)
        body = client.get(f"/o/{org.slug}/credentials/{version.credential.slug}/").content.decode()
        assert "GAEL Member until 2027-06-30" in body

    def test_draft_and_other_organizations_credentials_are_404(self, client: Client) -> None:
        org, other = OrganizationFactory(), OrganizationFactory()
        draft = make_credential(org, publish=False)
        theirs = make_credential(other)
        assert client.get(f"/o/{org.slug}/credentials/{draft.credential.slug}/").status_code == 404
        assert client.get(f"/o/{org.slug}/credentials/{theirs.credential.slug}/").status_code == 404

    def test_query_count_does_not_grow_with_requirements(
        self, client: Client, count_queries, forget_public_pages
    ) -> None:
        org = OrganizationFactory()
        version = make_credential(org)
        url = f"/o/{org.slug}/credentials/{version.credential.slug}/"
        small = count_queries(lambda: client.get(url))
        other = make_credential(org, publish=False)
        # move 29 more requirements' worth of rubric into the published version
        for i in range(29):
            req = version.requirements.create(
                organization=org, title=f"R{i}", instructions="Do it.", kind="text", position=10 + i
            )
            crit = version.criteria.create(
                organization=org, title=f"C{i}", requirement=req, passing_score=1
            )
            crit.levels.create(organization=org, score=0, label="No", descriptor="d")
            crit.levels.create(organization=org, score=1, label="Yes", descriptor="d")
        assert other.state == CredentialVersion.State.DRAFT
        forget_public_pages()  # made by factories, not by a service
        large = count_queries(lambda: client.get(url))
        assert_same_query_count(small, large)


def test_home_lists_organizations_with_catalogs(client: Client) -> None:
    org = OrganizationFactory(name="Georgia Association of Educational Leaders")
    make_credential(org)
    OrganizationFactory(name="Hidden Org", publishes_catalog=False)
    body = client.get("/").content.decode()
    assert "Georgia Association of Educational Leaders" in body
    assert "1 micro-credential" in body
    assert "Hidden Org" not in body
