"""Learning communities' rules (programs.services.communities) and the safe markdown of posts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from credentials_site.exceptions import ApplicationError
from credentials_site.tenancy import tenant_scope
from programs.markdown import markdown_render
from programs.models import (
    Community,
    CommunityInvitation,
    CommunityMember,
    CommunityPost,
    CommunityResource,
    Membership,
    Organization,
    StaffRole,
    User,
)
from programs.models_communities import POST_MAX_CHARS
from programs.services import communities as services
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    StaffRoleFactory,
    UserFactory,
    credential_of,
    make_credential,
)

pytestmark = pytest.mark.django_db


def member_of(org: Organization, **fields: Any) -> User:
    return MembershipFactory(organization=org, **fields).user


@pytest.fixture
def org() -> Organization:
    return OrganizationFactory()


@pytest.fixture
def facilitator(org: Organization) -> User:
    return member_of(org)


@pytest.fixture
def community(org: Organization, facilitator: User) -> Community:
    credential = credential_of(make_credential(org))
    return services.community_create(
        organization=org,
        actor=facilitator,
        name="Literacy circle",
        goal="Literacy instruction",
        credential_ids=[credential.pk],
    )


def joined(community: Community, user: User) -> CommunityMember:
    return services.community_join(community=community, actor=user, token=community.join_token)


def refused(action: Callable[[], Any], *models: Any) -> ApplicationError:
    """The action raises ApplicationError and leaves the rows of ``models`` as they were."""
    before = [list(m.objects.order_by("pk").values()) for m in models]
    with pytest.raises(ApplicationError) as caught:
        action()
    assert [list(m.objects.order_by("pk").values()) for m in models] == before
    return caught.value


class TestCreate:
    def test_the_creator_is_its_facilitator(self, community: Community, facilitator: User) -> None:
        member = CommunityMember.objects.get(community=community)
        assert member.user == facilitator and member.is_facilitator
        assert community.credentials.count() == 1 and len(community.join_token) >= 40

    def test_a_school_leader_without_membership_may_create(self, org: Organization) -> None:
        leader = StaffRoleFactory(organization=org, role=StaffRole.Role.SCHOOL_LEADER).user
        created = services.community_create(organization=org, actor=leader, name="PLC", goal="x")
        assert created.organization == org

    def test_an_outsider_or_lapsed_member_may_not(self, org: Organization) -> None:
        lapsed = member_of(org, status=Membership.Status.LAPSED)
        for person in (UserFactory(), lapsed):
            error = refused(
                lambda p=person: services.community_create(
                    organization=org, actor=p, name="PLC", goal="x"
                ),
                Community,
            )
            assert "Only members of" in error.message

    def test_needs_a_credential_or_a_goal_and_only_its_own_credentials(
        self, org: Organization, facilitator: User
    ) -> None:
        error = refused(
            lambda: services.community_create(organization=org, actor=facilitator, name="PLC"),
            Community,
        )
        assert "credentials" in error.fields
        other = credential_of(make_credential(OrganizationFactory()))
        error = refused(
            lambda: services.community_create(
                organization=org, actor=facilitator, name="PLC", credential_ids=[other.pk]
            ),
            Community,
        )
        assert error.fields["credentials"] == [
            "Choose among this organization's published credentials."
        ]


class TestJoinAndLeave:
    def test_join_by_link_then_leave_then_come_back(self, community: Community) -> None:
        teacher = member_of(community.organization)
        assert joined(community, teacher).state == CommunityMember.State.ACTIVE
        services.community_leave(community=community, actor=teacher)
        assert CommunityMember.objects.get(user=teacher).state == CommunityMember.State.LEFT
        assert joined(community, teacher).state == CommunityMember.State.ACTIVE

    def test_a_wrong_token_or_an_outsider_is_refused(self, community: Community) -> None:
        teacher = member_of(community.organization)
        refused(
            lambda: services.community_join(community=community, actor=teacher, token="guess"),
            CommunityMember,
        )
        outsider = member_of(OrganizationFactory())
        error = refused(lambda: joined(community, outsider), CommunityMember)
        assert error.message.startswith("Only members of")

    def test_a_removed_member_cannot_come_back_by_the_link(
        self, community: Community, facilitator: User
    ) -> None:
        teacher = member_of(community.organization)
        member = joined(community, teacher)
        services.community_member_remove(
            community=community, actor=facilitator, member_id=member.pk
        )
        error = refused(lambda: joined(community, teacher), CommunityMember)
        assert "removed you" in error.message
        # a new invitation lets them back
        services.community_invite(community=community, actor=facilitator, emails=[teacher.email])
        assert services.community_join(community=community, actor=teacher).state == "active"

    def test_the_only_facilitator_names_another_before_leaving(
        self, community: Community, facilitator: User
    ) -> None:
        member = joined(community, member_of(community.organization))
        refused(lambda: services.community_leave(community=community, actor=facilitator),
                CommunityMember)  # fmt: skip
        services.community_member_make_facilitator(
            community=community, actor=facilitator, member_id=member.pk
        )
        services.community_leave(community=community, actor=facilitator)

    def test_only_facilitators_remove(self, community: Community, facilitator: User) -> None:
        teacher = member_of(community.organization)
        joined(community, teacher)
        boss = CommunityMember.objects.get(user=facilitator)
        error = refused(
            lambda: services.community_member_remove(
                community=community, actor=teacher, member_id=boss.pk
            ),
            CommunityMember,
        )
        assert error.code == "not_allowed"


class TestInvite:
    def test_invites_members_by_email_and_mails_them(
        self, community: Community, facilitator: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        teacher = member_of(community.organization, user__email="Ana@School.example")
        with django_capture_on_commit_callbacks(execute=True):
            services.community_invite(
                community=community, actor=facilitator, emails=["ana@school.example "]
            )
        assert CommunityInvitation.objects.get().user == teacher
        assert mail.outbox[0].to == ["Ana@School.example"]
        assert "/communities/" in mail.outbox[0].body

    def test_an_address_outside_the_organization_refuses_all(
        self, community: Community, facilitator: User
    ) -> None:
        teacher = member_of(community.organization)
        outsider = member_of(OrganizationFactory())
        error = refused(
            lambda: services.community_invite(
                community=community,
                actor=facilitator,
                emails=[teacher.email, outsider.email, "nobody@example.org"],
            ),
            CommunityInvitation,
        )
        assert error.fields["emails"][0].startswith("Not a member of")
        assert outsider.email in error.message and teacher.email not in error.message
        assert mail.outbox == []


class TestBoard:
    def test_a_post_and_a_reply(self, community: Community, facilitator: User) -> None:
        post = services.community_post_create(community=community, actor=facilitator, body=" Hi ")
        reply = services.community_post_create(
            community=community, actor=facilitator, body="Re", parent_id=str(post.public_id)
        )
        assert post.body == "Hi" and reply.parent == post
        # replies go one level deep
        refused(
            lambda: services.community_post_create(
                community=community, actor=facilitator, body="x", parent_id=str(reply.public_id)
            ),
            CommunityPost,
        )

    def test_a_1_mb_post_is_refused_with_the_limit_and_nothing_is_saved(
        self, community: Community, facilitator: User
    ) -> None:
        error = refused(
            lambda: services.community_post_create(
                community=community, actor=facilitator, body="x" * 1_000_000
            ),
            CommunityPost,
        )
        assert error.fields["body"] == [
            f"A post can be at most {POST_MAX_CHARS:,} characters; this one has 1,000,000."
        ]

    @pytest.mark.parametrize("how", ["left", "removed", "never"])
    def test_only_active_members_post(
        self, community: Community, facilitator: User, how: str
    ) -> None:
        teacher = member_of(community.organization)
        if how != "never":
            member = joined(community, teacher)
        if how == "left":
            services.community_leave(community=community, actor=teacher)
        elif how == "removed":
            services.community_member_remove(
                community=community, actor=facilitator, member_id=member.pk
            )
        error = refused(
            lambda: services.community_post_create(community=community, actor=teacher, body="x"),
            CommunityPost,
        )
        assert error.code == "not_allowed"

    def test_facilitators_pin_and_hide_with_a_reason(
        self, community: Community, facilitator: User
    ) -> None:
        teacher = member_of(community.organization)
        joined(community, teacher)
        post = services.community_post_create(community=community, actor=teacher, body="Spam")
        pid = str(post.public_id)
        refused(
            lambda: services.community_post_pin(
                community=community, actor=teacher, public_id=pid, pinned=True
            ),
            CommunityPost,
        )
        refused(
            lambda: services.community_post_hide(
                community=community, actor=facilitator, public_id=pid, reason=" "
            ),
            CommunityPost,
        )
        services.community_post_pin(
            community=community, actor=facilitator, public_id=pid, pinned=True
        )
        hidden = services.community_post_hide(
            community=community, actor=facilitator, public_id=pid, reason="Off topic"
        )
        assert hidden.pinned_at and hidden.hidden_reason == "Off topic"

    def test_links_must_be_https(self, community: Community, facilitator: User) -> None:
        for url in ("http://example.org", "javascript:alert(1)", "https://", "ftp://x.org"):
            error = refused(
                lambda u=url: services.community_resource_add(
                    community=community, actor=facilitator, title="Site", url=u
                ),
                CommunityResource,
            )
            assert "url" in error.fields
        services.community_resource_add(
            community=community, actor=facilitator, title="Site", url="https://example.org/a"
        )


class TestDigest:
    def test_once_a_day_per_member_with_others_posts_and_opt_out(
        self, community: Community, facilitator: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        org = community.organization
        quiet, reader = member_of(org), member_of(org)
        joined(community, quiet)
        joined(community, reader)
        CommunityMember.objects.filter(community=community).update(
            digest_through=timezone.now() - dt.timedelta(hours=1)
        )
        services.community_digest_set(community=community, actor=quiet, digest=False)
        services.community_post_create(community=community, actor=facilitator, body="Welcome!")
        hidden = services.community_post_create(community=community, actor=facilitator, body="Bad")
        services.community_post_hide(
            community=community, actor=facilitator, public_id=str(hidden.public_id), reason="r"
        )
        # when it runs twice the same day (a retry, a second beat), in the organization's scope
        with tenant_scope(org), django_capture_on_commit_callbacks(execute=True):
            first = services.community_digest_send(organization=org)
            second = services.community_digest_send(organization=org)
        # then only the reader got one e-mail (the author gets none of their own post)
        assert (first, second) == (1, 0)
        assert [m.to for m in mail.outbox] == [[reader.email]]
        assert "Welcome!" in mail.outbox[0].body and "Bad" not in mail.outbox[0].body


class TestMarkdown:
    def test_script_and_raw_html_are_inert(self) -> None:
        html = markdown_render('<script>alert("x")</script>\n\n<img src=x onerror=alert(1)>')
        assert "<script" not in html and "<img" not in html
        assert "&lt;script&gt;" in html

    def test_links_are_marked_and_javascript_dropped(self) -> None:
        html = markdown_render("[ok](https://example.org) [bad](javascript:alert(1))")
        assert '<a href="https://example.org" rel="nofollow noopener ugc">ok</a>' in html
        # markdown-it refuses the javascript: link: it stays words, never an href
        assert "[bad](javascript:alert(1))" in html and 'href="javascript' not in html

    def test_headings_sit_below_the_page(self) -> None:
        assert markdown_render("# Title").strip() == "<h4>Title</h4>"


@pytest.mark.django_db(transaction=True)
def test_beats_digest_runs_on_a_real_worker() -> None:
    # given a community where a colleague posted since the reader's last digest
    from programs import tasks
    from tests.worker import running_worker, wait_for

    org = OrganizationFactory()
    author, reader = member_of(org), member_of(org)
    with tenant_scope(org):
        community = services.community_create(
            organization=org, actor=author, name="PLC", goal="Feedback"
        )
        joined(community, reader)
        CommunityMember.objects.filter(community=community).update(
            digest_through=timezone.now() - dt.timedelta(hours=1)
        )
        services.community_post_create(community=community, actor=author, body="Week 1 notes")
    with running_worker():
        # when beat's fan-out runs on a worker, twice
        tasks.community_digest_send_all.delay().get(timeout=30)
        wait_for(lambda: mail.outbox, what="the digest e-mail")
        assert tasks.community_digest_send.delay(organization_id=org.pk).get(timeout=30) == 0
    # then the reader got one digest
    assert [m.to for m in mail.outbox] == [[reader.email]]
    assert "Week 1 notes" in mail.outbox[0].body
