"""Find expertise: the opt-in directory profile (/me/directory/) and each organization's
directory (/o/<org>/directory/): who is listed to whom, search by text, credential, category,
focus area, school and district, and a constant number of queries per page."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from badges import services as badge_services
from badges.directory import index, selectors
from badges.directory.services import directory_profile_save
from badges.errors import BadgeError
from badges.models import Badge, DirectoryEntry, DirectoryProfile
from programs.models import Membership, Organization, School, SchoolMembership, User
from tests.badges.test_views_backpack import body, earn, logged_in
from tests.conftest import assert_same_query_count
from tests.factories import (
    CategoryFactory,
    FocusAreaFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

V = DirectoryProfile.Visibility


@pytest.fixture
def riverside() -> Organization:
    return OrganizationFactory(name="Riverside Unified", slug="riverside", short_name="RUSD")


@pytest.fixture
def gael() -> Organization:
    return OrganizationFactory(name="GAEL", slug="gael", short_name="GAEL")


def person(
    organization: Organization,
    name: str,
    visibility: str | None = V.PUBLIC,
    *,
    headline: str = "",
    school: School | None = None,
    district: str = "",
) -> User:
    user = UserFactory(full_name=name, email=f"{name.lower().replace(' ', '.')}@example.org")
    membership = MembershipFactory(organization=organization, user=user, district=district)
    if school is not None:
        SchoolMembership.objects.create(
            organization=organization, school=school, membership=membership
        )
    if visibility is not None:
        directory_profile_save(user=user, visibility=visibility, headline=headline)
    return user


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return [m.user.full_name for m, _ in response.context["rows"]]


def url(organization: Organization, **query: Any) -> str:
    from urllib.parse import urlencode

    return f"/o/{organization.slug}/directory/" + (f"?{urlencode(query)}" if query else "")


class TestWhoIsListed:
    def test_not_listed_is_the_default_and_never_shown(self, riverside: Organization) -> None:
        # given a member without a profile, one "not listed", and one public
        person(riverside, "Ana Silent", None)
        person(riverside, "Ben Hidden", V.HIDDEN)
        person(riverside, "Cy Public", V.PUBLIC)
        insider = person(riverside, "Dee Viewer", V.HIDDEN)
        # then nobody, not even a member, sees the first two
        assert names(Client().get(url(riverside))) == ["Cy Public"]
        assert names(logged_in(insider).get(url(riverside))) == ["Cy Public"]
        assert not DirectoryProfile.objects.filter(user__full_name="Ana Silent").exists()
        assert not DirectoryEntry.objects.filter(membership__user__full_name="Ben Hidden").exists()

    def test_members_only_profiles_are_for_members_of_the_organization(
        self, riverside: Organization, gael: Organization
    ) -> None:
        # given a members-only profile and a public one in Riverside
        person(riverside, "Mia Members", V.MEMBERS)
        person(riverside, "Pat Public", V.PUBLIC)
        member = person(riverside, "Rita Reader", V.HIDDEN)
        outsider = person(gael, "Olga Outsider", V.MEMBERS)
        # then a member sees both; the public and another organization's member see the public
        assert names(logged_in(member).get(url(riverside))) == ["Mia Members", "Pat Public"]
        assert names(Client().get(url(riverside))) == ["Pat Public"]
        assert names(logged_in(outsider).get(url(riverside))) == ["Pat Public"]
        # and another organization's people never appear in Riverside's directory
        assert names(logged_in(outsider).get(url(gael))) == ["Olga Outsider"]
        assert "Olga" not in body(logged_in(member).get(url(riverside)))

    def test_a_lapsed_member_is_no_longer_listed(self, riverside: Organization) -> None:
        user = person(riverside, "Lou Lapsed", V.PUBLIC)
        Membership.objects.filter(user=user).update(status=Membership.Status.LAPSED)
        assert names(Client().get(url(riverside))) == []

    def test_hiding_the_profile_takes_it_out_at_once(self, riverside: Organization) -> None:
        user = person(riverside, "Hal Hides", V.PUBLIC, headline="Reading specialist")
        directory_profile_save(user=user, visibility=V.HIDDEN, headline="")
        assert names(Client().get(url(riverside, q="reading"))) == []
        assert not DirectoryEntry.objects.filter(membership__user=user).exists()


class TestSearch:
    def test_free_text_matches_name_and_headline_best_first(self, riverside: Organization) -> None:
        person(riverside, "Nora Literacy", V.PUBLIC, headline="Math coach")
        person(riverside, "Omar Ortiz", V.PUBLIC, headline="Literacy coach, grade 3")
        person(riverside, "Zed Other", V.PUBLIC, headline="Science")
        assert names(Client().get(url(riverside, q="literacy"))) == ["Nora Literacy", "Omar Ortiz"]
        assert names(Client().get(url(riverside, q="coach"))) == ["Nora Literacy", "Omar Ortiz"]

    def test_search_by_credential_finds_the_earner_of_a_public_badge_only(
        self, riverside: Organization
    ) -> None:
        # given two members who earned "Using Data to Personalize Instruction", one of whom
        # made the badge private
        earner = person(riverside, "Eva Earner", V.PUBLIC)
        shy = person(riverside, "Sam Shy", V.PUBLIC)
        person(riverside, "Noel None", V.PUBLIC)
        badge = earn(earner, riverside, title="Using Data to Personalize Instruction")
        assert badge.version is not None
        credential_id = badge.version.credential_id
        other = earn(shy, riverside, title="Using Data to Personalize Instruction")
        badge_services.badge_visibility_set(badge=other, user=shy, is_public=False)
        index.directory_entries_refresh(user_ids=[earner.pk, shy.pk])  # issuing: by beat
        # when searching by the credential (its filter, or its words)
        by_filter = Client().get(url(riverside, credential=credential_id))
        by_words = Client().get(url(riverside, q="personalize instruction"))
        # then only the earner who made it public is found, with the badge shown
        assert names(by_filter) == ["Eva Earner"]
        assert names(by_words) == ["Eva Earner"]
        assert "Using Data to Personalize Instruction" in body(by_filter)

    def test_a_revoked_badge_leaves_the_search(self, riverside: Organization) -> None:
        earner = person(riverside, "Rae Revoked", V.PUBLIC)
        badge = earn(earner, riverside, title="Classroom Discourse")
        index.directory_entries_refresh(user_ids=[earner.pk])
        assert names(Client().get(url(riverside, q="discourse"))) == ["Rae Revoked"]
        badge_services.badge_revoke(badge=badge, actor=None, reason="Issued in error.")
        index.directory_entries_refresh(user_ids=[earner.pk])
        assert names(Client().get(url(riverside, q="discourse"))) == []

    def test_by_category_focus_area_school_and_district(self, riverside: Organization) -> None:
        category = CategoryFactory(organization=riverside, name="Assessment")
        focus = FocusAreaFactory(organization=riverside, name="Equity")
        lincoln = School.objects.create(
            organization=riverside, name="Lincoln Elementary", district="North"
        )
        adams = School.objects.create(organization=riverside, name="Adams Middle", district="South")
        ann = person(riverside, "Ann Lincoln", V.PUBLIC, school=lincoln)
        person(riverside, "Bo Adams", V.PUBLIC, school=adams, district="South")
        earn(ann, riverside, title="Formative Checks", categories=[category], focus_area=focus)
        index.directory_entries_refresh(user_ids=[ann.pk])
        client = Client()
        assert names(client.get(url(riverside, category=category.pk))) == ["Ann Lincoln"]
        assert names(client.get(url(riverside, focus_area=focus.pk))) == ["Ann Lincoln"]
        assert names(client.get(url(riverside, school=adams.pk))) == ["Bo Adams"]
        assert names(client.get(url(riverside, district="North"))) == ["Ann Lincoln"]
        assert names(client.get(url(riverside, district="South"))) == ["Bo Adams"]
        assert names(client.get(url(riverside, q="lincoln"))) == ["Ann Lincoln"]

    def test_another_organizations_school_is_refused_as_a_filter(
        self, riverside: Organization, gael: Organization
    ) -> None:
        theirs = School.objects.create(organization=gael, name="Far Away School")
        person(gael, "Gus Gael", V.PUBLIC, school=theirs)
        person(riverside, "Rod Riverside", V.PUBLIC)
        response = Client().get(url(riverside, school=theirs.pk))
        assert response.status_code == 400
        assert "Select a valid choice" in body(response)
        assert response.context["rows"] == []

    def test_the_query_count_is_the_same_for_1_and_50_people(self, riverside: Organization) -> None:
        viewer = person(riverside, "Vic Viewer", V.HIDDEN)
        client = logged_in(viewer)
        first = person(riverside, "Aaron 000", V.PUBLIC, headline="Teacher")
        earn(first, riverside, title="Inquiry Science")
        index.directory_entries_refresh(user_ids=[first.pk])

        def measure() -> CaptureQueriesContext:
            with CaptureQueriesContext(connection) as context:
                response = client.get(url(riverside, q="teacher"))
            assert response.status_code == 200
            return context

        small = measure()
        assert len(small.captured_queries) > 0
        for n in range(1, 50):
            person(riverside, f"Aaron {n:03}", V.PUBLIC, headline="Teacher")
        large = measure()
        assert len(client.get(url(riverside, q="teacher")).context["rows"]) == selectors.PAGE_SIZE
        assert_same_query_count(small, large)

    def test_pages(self, riverside: Organization) -> None:
        for n in range(selectors.PAGE_SIZE + 3):
            person(riverside, f"Page Person {n:02}", V.PUBLIC)
        first = Client().get(url(riverside))
        second = Client().get(url(riverside, page=2))
        assert len(names(first)) == selectors.PAGE_SIZE and first.context["has_next"]
        assert names(second) == [f"Page Person {n:02}" for n in range(20, 23)]
        assert not second.context["has_next"]


class TestSettings:
    def test_requires_sign_in(self) -> None:
        assert "/accounts/login/" in Client().get("/me/directory/")["Location"]

    def test_opting_in_and_back_out(self, riverside: Organization) -> None:
        user = person(riverside, "Opt Inner", None)
        client = logged_in(user)
        page = body(client.get("/me/directory/"))
        assert 'value="hidden" checked' in page
        response = client.post(
            "/me/directory/", {"visibility": "members", "headline": "  Data   coach "}
        )
        assert response.status_code == 302
        profile = DirectoryProfile.objects.get(user=user)
        assert (profile.visibility, profile.headline) == ("members", "Data coach")
        assert DirectoryEntry.objects.filter(membership__user=user).count() == 1

    def test_bad_input_is_explained_and_nothing_is_saved(self, riverside: Organization) -> None:
        user = person(riverside, "Bad Input", None)
        response = logged_in(user).post(
            "/me/directory/", {"visibility": "everyone", "headline": "x" * 161}
        )
        assert response.status_code == 400
        page = body(response)
        assert "Choose who may find you" in page and "Keep it to 160 characters" in page
        assert not DirectoryProfile.objects.filter(user=user).exists()

    def test_listing_needs_a_name(self, riverside: Organization) -> None:
        user = UserFactory(full_name="")
        with pytest.raises(BadgeError) as refused:
            directory_profile_save(user=user, visibility=V.PUBLIC, headline="")
        assert "name" in refused.value.fields["visibility"][0]
        assert not DirectoryProfile.objects.filter(user=user).exists()


def test_making_a_badge_private_takes_it_out_of_the_search_at_once(
    riverside: Organization, django_capture_on_commit_callbacks: Any
) -> None:
    earner = person(riverside, "Pia Private", V.PUBLIC)
    badge = earn(earner, riverside, title="Restorative Circles")
    index.directory_entries_refresh(user_ids=[earner.pk])
    assert names(Client().get(url(riverside, q="restorative"))) == ["Pia Private"]
    with django_capture_on_commit_callbacks(execute=True):
        badge_services.badge_visibility_set(badge=badge, user=earner, is_public=False)
    assert names(Client().get(url(riverside, q="restorative"))) == []
    assert Badge.objects.get(pk=badge.pk).is_public is False


def test_the_beat_picks_up_what_programs_changed(riverside: Organization) -> None:
    from badges import tasks

    user = person(riverside, "Moe Mover", V.PUBLIC)
    school = School.objects.create(organization=riverside, name="Jefferson High")
    SchoolMembership.objects.create(
        organization=riverside, school=school, membership=Membership.objects.get(user=user)
    )
    assert names(Client().get(url(riverside, q="jefferson"))) == []
    assert tasks.directory_refresh_recent() == 1
    assert names(Client().get(url(riverside, q="jefferson"))) == ["Moe Mover"]
