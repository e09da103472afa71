"""Celebrate: a school's recognition page (/o/<org>/schools/<id>/recognition/), its share
image, and the weekly digest to the school's leaders."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from PIL import Image

from badges import services as badge_services
from badges.models import BackpackProfile, Badge, DirectoryProfile, RecognitionDigest
from badges.recognition import digest
from programs.models import Membership, Organization, School, SchoolMembership, StaffRole, User
from tests.badges.test_views_backpack import body, earn, logged_in
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def riverside() -> Organization:
    return OrganizationFactory(name="Riverside Unified", slug="riverside", short_name="RUSD")


@pytest.fixture
def gael() -> Organization:
    return OrganizationFactory(name="GAEL", slug="gael", short_name="GAEL")


@pytest.fixture
def lincoln(riverside: Organization) -> School:
    return School.objects.create(organization=riverside, name="Lincoln Elementary")


@pytest.fixture
def adams(riverside: Organization) -> School:
    return School.objects.create(organization=riverside, name="Adams Middle")


@pytest.fixture
def principal(riverside: Organization, lincoln: School) -> User:
    user = UserFactory(full_name="Paula Principal", email="principal@example.org")
    role = StaffRole.objects.create(
        organization=riverside, user=user, role=StaffRole.Role.SCHOOL_LEADER, title="Principal"
    )
    role.schools.set([lincoln])
    return user


def teacher(
    organization: Organization, school: School | None, name: str, *, public: bool = True
) -> User:
    """A member of the school; ``public``: opted in to a public backpack profile."""
    user = UserFactory(full_name=name, email=f"{name.split()[0].lower()}@example.org")
    membership = MembershipFactory(organization=organization, user=user)
    if school is not None:
        SchoolMembership.objects.create(
            organization=organization, school=school, membership=membership
        )
    if public:
        BackpackProfile.objects.create(user=user, handle=name.split()[0].lower(), is_public=True)
    return user


def page_url(school: School) -> str:
    return f"/o/{school.organization.slug}/schools/{school.pk}/recognition/"


def listed(response: Any) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    return [badge.name for badge, _ in response.context["rows"]]


class TestRecognitionPage:
    def test_lists_only_public_badges_of_the_schools_staff_newest_first(
        self,
        riverside: Organization,
        gael: Organization,
        lincoln: School,
        adams: School,
        principal: User,
    ) -> None:
        # given Lincoln's teachers: one with a public profile (two badges, one from GAEL), one
        # who made a badge private, one who never opted in; and a teacher of Adams
        ana = teacher(riverside, lincoln, "Ana Able")
        first = earn(ana, riverside, title="Questioning Strategies")
        second = earn(ana, gael, title="Family Engagement")
        Badge.objects.filter(pk=first.pk).update(issued_at=second.issued_at - dt.timedelta(days=3))
        ben = teacher(riverside, lincoln, "Ben Bright")
        hidden = earn(ben, riverside, title="Private Practice")
        badge_services.badge_visibility_set(badge=hidden, user=ben, is_public=False)
        cy = teacher(riverside, lincoln, "Cy Quiet", public=False)
        earn(cy, riverside, title="Not Opted In")
        dee = teacher(riverside, adams, "Dee Adams")
        earn(dee, riverside, title="Other School")
        # when the principal opens Lincoln's page
        response = logged_in(principal).get(page_url(lincoln))
        # then only Ana's public badges, newest first, from every organization
        assert listed(response) == ["Family Engagement", "Questioning Strategies"]
        assert response.context["total"] == 2
        page = body(response)
        assert "Ana Able" in page and "Ben Bright" not in page and "Dee Adams" not in page
        assert 'property="og:image"' in page

    def test_a_directory_listing_is_an_opt_in_too(
        self, riverside: Organization, lincoln: School, principal: User
    ) -> None:
        eve = teacher(riverside, lincoln, "Eve Listed", public=False)
        earn(eve, riverside, title="Listed Badge")
        assert listed(logged_in(principal).get(page_url(lincoln))) == []
        DirectoryProfile.objects.create(user=eve, visibility=DirectoryProfile.Visibility.MEMBERS)
        assert listed(logged_in(principal).get(page_url(lincoln))) == ["Listed Badge"]

    def test_members_of_the_organization_may_open_it_and_no_one_else(
        self, riverside: Organization, gael: Organization, lincoln: School, adams: School
    ) -> None:
        colleague = teacher(riverside, adams, "Col League")
        outsider = teacher(gael, None, "Out Sider")
        assert logged_in(colleague).get(page_url(lincoln)).status_code == 200
        assert Client().get(page_url(lincoln)).status_code == 404
        assert logged_in(outsider).get(page_url(lincoln)).status_code == 404
        # another organization's school, asked under its own or another organization's address
        theirs = School.objects.create(organization=gael, name="GAEL Academy")
        assert logged_in(colleague).get(page_url(theirs)).status_code == 404
        assert (
            logged_in(colleague).get(f"/o/riverside/schools/{theirs.pk}/recognition/").status_code
            == 404
        )
        assert logged_in(colleague).get(f"{page_url(theirs)}share.png").status_code == 404

    def test_the_share_image(
        self, riverside: Organization, lincoln: School, principal: User
    ) -> None:
        ana = teacher(riverside, lincoln, "Ana Able")
        earn(ana, riverside, title="Questioning Strategies")
        response = logged_in(principal).get(page_url(lincoln) + "share.png")
        assert response.status_code == 200 and response["Content-Type"] == "image/png"
        with Image.open(io.BytesIO(response.content)) as image:
            assert image.size == (1200, 630)

    def test_the_query_count_does_not_grow_with_badges(
        self, riverside: Organization, lincoln: School, principal: User, count_queries: Any
    ) -> None:
        from tests.conftest import assert_same_query_count

        client = logged_in(principal)
        ana = teacher(riverside, lincoln, "Ana Able")
        earn(ana, riverside, title="One")
        small = count_queries(lambda: client.get(page_url(lincoln)))
        for n in range(3):
            earn(teacher(riverside, lincoln, f"T{n} Teacher"), riverside, title=f"More {n}")
        large = count_queries(lambda: client.get(page_url(lincoln)))
        assert len(client.get(page_url(lincoln)).context["rows"]) == 4
        assert_same_query_count(small, large)


class TestDigest:
    def test_one_digest_per_leader_per_week_and_none_without_news(
        self,
        riverside: Organization,
        lincoln: School,
        adams: School,
        principal: User,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        ana = teacher(riverside, lincoln, "Ana Able")
        badge = earn(ana, riverside, title="Questioning Strategies")
        old = earn(ana, riverside, title="Old News")
        dee = teacher(riverside, adams, "Dee Adams")
        earn(dee, riverside, title="Adams Only")
        today = dt.date(2026, 12, 9)  # a Wednesday: the week began on Monday the 7th
        Badge.objects.filter(pk=badge.pk).update(
            issued_at=dt.datetime(2026, 12, 3, 10, tzinfo=dt.UTC)
        )
        Badge.objects.filter(pk=old.pk).update(
            issued_at=dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
        )
        mail.outbox.clear()

        def run() -> int:
            with django_capture_on_commit_callbacks(execute=True):
                return digest.recognition_digests_send(organization=riverside, today=today)

        # when the digest runs twice in the week
        assert run() == 1
        assert run() == 0
        # then the principal got one e-mail, with Lincoln's new public badge only
        assert [m.to for m in mail.outbox] == [["principal@example.org"]]
        text = mail.outbox[0].body
        assert "Questioning Strategies" in text and "Ana Able" in text
        assert "Old News" not in text and "Adams Only" not in text
        assert f"/o/riverside/schools/{lincoln.pk}/recognition/" in text
        assert RecognitionDigest.objects.filter(leader=principal).count() == 1
        # and the next week, with nothing new, nothing is sent
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            sent = digest.recognition_digests_send(
                organization=riverside, today=today + dt.timedelta(days=7)
            )
        assert sent == 0 and mail.outbox == []
        assert RecognitionDigest.objects.filter(leader=principal).count() == 1

    def test_a_lapsed_teacher_is_not_celebrated(
        self, riverside: Organization, lincoln: School, principal: User
    ) -> None:
        ana = teacher(riverside, lincoln, "Ana Able")
        earn(ana, riverside, title="Questioning Strategies")
        Membership.objects.filter(user=ana).update(status=Membership.Status.LAPSED)
        assert listed(logged_in(principal).get(page_url(lincoln))) == []
