"""Learning communities' pages (submissions.views_communities): the board, joining, members and
progress; bad input, tenancy, and query counts that do not grow with members."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from programs.models import (
    Community,
    CommunityMember,
    CommunityPost,
    CommunityResource,
    Credential,
    Organization,
    User,
)
from programs.services import communities as services
from submissions.models import Application
from tests.conftest import assert_same_query_count
from tests.factories import MembershipFactory, OrganizationFactory, credential_of, make_credential

pytestmark = pytest.mark.django_db


def member_of(org: Organization) -> User:
    return MembershipFactory(organization=org).user


def url(community: Community, name: str = "community", **kwargs: Any) -> str:
    return reverse(
        f"submissions:{name}",
        kwargs={
            "org_slug": community.organization.slug,
            "public_id": community.public_id,
            **kwargs,
        },
    )


def join_url(community: Community, org: Organization | None = None) -> str:
    slug = (org or community.organization).slug
    return reverse(
        "submissions:community_join_link", kwargs={"org_slug": slug, "token": community.join_token}
    )


def text(response: Any) -> str:
    return response.content.decode()


@pytest.fixture
def org() -> Organization:
    return OrganizationFactory()


@pytest.fixture
def credentials(org: Organization) -> list[Credential]:
    return [credential_of(make_credential(org)) for _ in range(2)]


@pytest.fixture
def facilitator(org: Organization) -> User:
    return member_of(org)


@pytest.fixture
def community(org: Organization, facilitator: User, credentials: list[Credential]) -> Community:
    return services.community_create(
        organization=org,
        actor=facilitator,
        name="Literacy circle",
        goal="Literacy instruction",
        credential_ids=[c.pk for c in credentials],
    )


def joined(community: Community, user: User) -> CommunityMember:
    return services.community_join(community=community, actor=user, token=community.join_token)


class TestCreateAndJoin:
    def test_a_member_starts_a_community_and_a_colleague_joins_by_link(
        self, client: Client, org: Organization, facilitator: User, credentials: list[Credential]
    ) -> None:
        client.force_login(facilitator)
        new = reverse("submissions:community_create", kwargs={"org_slug": org.slug})
        assert "<legend>Credentials (optional)</legend>" in text(client.get(new))
        response = client.post(new, {"name": "PLC", "credentials": [credentials[0].pk]})
        community = Community.objects.get()
        assert response.status_code == 302 and response["Location"] == url(
            community, "community_members"
        )
        page = text(client.get(response["Location"]))
        assert join_url(community) in page and 'for="id_emails"' in page
        # a colleague follows the link: the page says what others see, the button joins
        colleague = member_of(org)
        client.force_login(colleague)
        page = text(client.get(join_url(community)))
        assert "never your evidence, scores or reviewers" in page
        assert client.post(join_url(community)).status_code == 302
        assert CommunityMember.objects.get(user=colleague).state == "active"
        # and the link, followed again, opens the board
        assert client.get(join_url(community))["Location"] == url(community)

    def test_bad_input_says_which_field_and_makes_nothing(
        self, client: Client, org: Organization, facilitator: User
    ) -> None:
        client.force_login(facilitator)
        new = reverse("submissions:community_create", kwargs={"org_slug": org.slug})
        response = client.post(new, {"name": "PLC"})
        assert response.status_code == 400
        assert "Choose at least one credential, or write a goal." in text(response)
        assert not Community.objects.exists()

    def test_a_non_member_of_the_organization_cannot_join_by_link(
        self, client: Client, community: Community
    ) -> None:
        client.force_login(member_of(OrganizationFactory()))
        for response in (client.get(join_url(community)), client.post(join_url(community))):
            assert response.status_code == 403
            assert "Only members of" in text(response)
        assert CommunityMember.objects.count() == 1

    def test_an_invited_member_sees_the_invitation_then_joins(
        self, client: Client, community: Community, facilitator: User
    ) -> None:
        teacher = member_of(community.organization)
        client.force_login(facilitator)
        response = client.post(url(community, "community_invite"), {"emails": teacher.email})
        assert response.status_code == 302
        client.force_login(teacher)
        assert "You are invited" in text(client.get(url(community)))
        client.post(url(community, "community_join"))
        assert CommunityMember.objects.get(user=teacher).state == "active"

    def test_inviting_someone_outside_the_organization_names_the_address(
        self, client: Client, community: Community, facilitator: User
    ) -> None:
        client.force_login(facilitator)
        response = client.post(url(community, "community_invite"), {"emails": "x@elsewhere.org"})
        assert response.status_code == 400
        assert re.search(r"E-mail addresses: Not a member of .*x@elsewhere.org", text(response))


class TestBoardBadInput:
    def test_a_script_in_a_post_renders_inert(
        self, client: Client, community: Community, facilitator: User
    ) -> None:
        client.force_login(facilitator)
        body = '<script>alert("x")</script> and [a link](javascript:alert(1))'
        response = client.post(url(community, "community_post"), {"body": body})
        assert response.status_code == 302
        page = text(client.get(url(community)))
        i = page.find("<script>alert")
        assert i == -1, page[i - 300 : i + 100]
        assert 'href="javascript:' not in page
        assert '&lt;script&gt;alert("x")&lt;/script&gt;' in page

    def test_a_1_mb_post_is_refused_with_a_field_message(
        self, client: Client, community: Community, facilitator: User
    ) -> None:
        client.force_login(facilitator)
        response = client.post(url(community, "community_post"), {"body": "x" * 1_000_000})
        assert response.status_code == 400
        assert "Your post: A post can be at most 20,000 characters; this one has 1,000,000." in (
            text(response)
        )
        assert not CommunityPost.objects.exists()

    def test_posting_after_leaving_is_refused_and_changes_nothing(
        self, client: Client, community: Community
    ) -> None:
        teacher = member_of(community.organization)
        joined(community, teacher)
        services.community_leave(community=community, actor=teacher)
        client.force_login(teacher)
        response = client.post(url(community, "community_post"), {"body": "Still here?"})
        assert response.status_code == 403
        assert "You left this community: join it again to post." in text(response)
        assert not CommunityPost.objects.exists()

    def test_a_removed_member_cannot_post_or_share(
        self, client: Client, community: Community, facilitator: User
    ) -> None:
        teacher = member_of(community.organization)
        member = joined(community, teacher)
        client.force_login(facilitator)
        client.post(
            url(community, "community_member_change", action="remove"), {"member": member.pk}
        )
        client.force_login(teacher)
        response = client.post(url(community, "community_post"), {"body": "Let me back"})
        assert response.status_code == 403 and "removed you" in text(response)
        response = client.post(
            url(community, "community_resource"), {"title": "t", "url": "https://example.org"}
        )
        assert response.status_code == 403
        assert client.get(url(community)).status_code == 404
        assert not CommunityPost.objects.exists() and not CommunityResource.objects.exists()

    def test_one_who_never_joined_gets_404(self, client: Client, community: Community) -> None:
        client.force_login(member_of(community.organization))
        assert client.get(url(community)).status_code == 404
        assert client.post(url(community, "community_post"), {"body": "hi"}).status_code == 404
        assert not CommunityPost.objects.exists()

    def test_a_link_must_be_https(
        self, client: Client, community: Community, facilitator: User
    ) -> None:
        client.force_login(facilitator)
        response = client.post(
            url(community, "community_resource"), {"title": "t", "url": "javascript:alert(1)"}
        )
        assert response.status_code == 400
        assert "Address: Enter a full address that starts with https://" in text(response)
        assert not CommunityResource.objects.exists()


class TestModeration:
    def test_hidden_posts_show_their_reason_to_facilitators_only(
        self, client: Client, community: Community, facilitator: User
    ) -> None:
        teacher = member_of(community.organization)
        joined(community, teacher)
        post = services.community_post_create(community=community, actor=teacher, body="Buy now")
        client.force_login(facilitator)
        moderate = url(community, "community_post_moderate", post_id=post.public_id, action="hide")
        assert client.post(moderate, {"reason": "Advertising"}).status_code == 302
        assert "Advertising" in text(client.get(url(community)))
        client.force_login(teacher)
        page = text(client.get(url(community)))
        assert "Buy now" not in page and "Advertising" not in page
        # a member cannot moderate
        pin = url(community, "community_post_moderate", post_id=post.public_id, action="pin")
        assert client.post(pin).status_code == 403
        assert CommunityPost.objects.get().pinned_at is None


class TestTenancy:
    def test_another_organizations_community_post_and_link_answer_404(
        self, client: Client, community: Community, facilitator: User
    ) -> None:
        # given a community of another organization, whose facilitator is also in ours
        other_org = OrganizationFactory()
        MembershipFactory(organization=other_org, user=facilitator)
        theirs = services.community_create(
            organization=other_org, actor=facilitator, name="Theirs", goal="g"
        )
        their_post = services.community_post_create(community=theirs, actor=facilitator, body="x")
        client.force_login(facilitator)
        # when its URLs are asked under our organization's slug
        wrong = Community(organization=community.organization, public_id=theirs.public_id)
        for page in ("community", "community_progress", "community_members"):
            assert client.get(url(wrong, page)).status_code == 404
        assert client.post(url(wrong, "community_post"), {"body": "x"}).status_code == 404
        assert client.get(join_url(theirs, community.organization)).status_code == 404
        # and their post through our community
        moderate = url(community, "community_post_moderate", post_id=their_post.public_id,
                       action="hide")  # fmt: skip
        assert client.post(moderate, {"reason": "r"}).status_code == 404
        assert CommunityPost.objects.get().hidden_at is None
        # and a member of our organization who is not in theirs cannot see it under its slug
        client.force_login(member_of(community.organization))
        assert client.get(url(theirs)).status_code == 404


class TestProgress:
    def test_members_see_stages_only_with_a_notice(
        self,
        client: Client,
        community: Community,
        facilitator: User,
        credentials: list[Credential],
    ) -> None:
        teacher = member_of(community.organization)
        joined(community, teacher)
        Application.objects.create(
            organization=community.organization,
            educator=teacher,
            credential=credentials[0],
            version=credentials[0].versions.first(),
            status=Application.Status.NEEDS_REVISION,
        )
        client.force_login(facilitator)
        page = text(client.get(url(community, "community_progress")))
        assert "never your evidence, scores or reviewers" in page
        assert '<td class="stage stage-needs_revision">Needs revision</td>' in page
        assert '<td class="stage stage-not_started">Not started</td>' in page


def _add_members(community: Community, credentials: list[Credential], count: int) -> None:
    """``count`` more members, each with a post, a reply, a link and an application."""
    for n in range(count):
        user = member_of(community.organization)
        joined(community, user)
        post = services.community_post_create(community=community, actor=user, body=f"**{n}**")
        services.community_post_create(
            community=community, actor=user, body="re", parent_id=str(post.public_id)
        )
        services.community_resource_add(
            community=community, actor=user, title=f"L{n}", url="https://example.org"
        )
        Application.objects.create(
            organization=community.organization,
            educator=user,
            credential=credentials[n % 2],
            version=credentials[n % 2].versions.first(),
        )


class TestQueryCounts:
    @pytest.mark.parametrize("page", ["community", "community_progress", "community_members"])
    def test_pages_at_1_and_50_members(
        self,
        client: Client,
        community: Community,
        facilitator: User,
        credentials: list[Credential],
        count_queries: Any,
        page: str,
    ) -> None:
        client.force_login(facilitator)
        _add_members(community, credentials, 1)
        client.get(url(community, page))  # the visitor's header facts cached (decision 0024)
        small = count_queries(lambda: client.get(url(community, page)))
        _add_members(community, credentials, 49)
        large = count_queries(lambda: client.get(url(community, page)))
        assert CommunityMember.objects.filter(state="active").count() == 51
        assert_same_query_count(small, large)

    def test_the_list_of_ones_communities(
        self, client: Client, org: Organization, facilitator: User, count_queries: Any
    ) -> None:
        client.force_login(facilitator)
        page = reverse("submissions:communities", kwargs={"org_slug": org.slug})

        def start(n: int) -> None:
            for i in range(n):
                made = services.community_create(
                    organization=org, actor=facilitator, name=f"C{i}", goal="g"
                )
                joined(made, member_of(org))

        start(1)
        client.get(page)  # the visitor's header facts cached (decision 0024)
        small = count_queries(lambda: client.get(page))
        start(20)
        large = count_queries(lambda: client.get(page))
        assert "2 members" in text(client.get(page))
        assert_same_query_count(small, large)


class _Labels(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.labels: set[str] = set()
        self.controls: list[str] = []
        self.headings: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "label" and found.get("for"):
            self.labels.add(str(found["for"]))
        if tag in ("input", "textarea", "select") and found.get("type") not in (
            "hidden",
            "submit",
        ):
            self.controls.append(str(found.get("id")))
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))


class TestAccessible:
    @pytest.mark.parametrize("page", ["community", "community_progress", "community_members"])
    def test_every_control_is_labelled_and_headings_do_not_skip(
        self, client: Client, community: Community, facilitator: User, page: str
    ) -> None:
        joined(community, member_of(community.organization))
        services.community_post_create(community=community, actor=facilitator, body="# Hi\n\nyo")
        client.force_login(facilitator)
        parsed = _Labels()
        parsed.feed(text(client.get(url(community, page))))
        assert set(parsed.controls) <= parsed.labels
        assert parsed.controls or page == "community_progress"
        assert parsed.headings[0] == 1
        assert all(b - a <= 1 for a, b in zip(parsed.headings, parsed.headings[1:], strict=False))
