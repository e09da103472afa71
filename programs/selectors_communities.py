"""Read queries of learning communities (docs/decisions/0031). Every one takes the organization
(or a community found in it) and answers 404 for another organization's community, and for a
community the person is not in (it does not confirm that it exists)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from .models import (
    Community,
    CommunityInvitation,
    CommunityMember,
    CommunityPost,
    CommunityResource,
    Credential,
    Organization,
    User,
)

BOARD_POSTS = 50  # the latest posts on a board page (pinned ones first, whatever their age)


@dataclass(frozen=True)
class CommunityAccess:
    """A community and the viewer's place in it: ``member`` (active), or only ``invited``."""

    community: Community
    member: CommunityMember | None
    invited: bool = False
    former: bool = False  # left or was removed: told why a write is refused, shown nothing

    @property
    def is_facilitator(self) -> bool:
        return self.member is not None and self.member.is_facilitator


def _community(*, organization: Organization, public_id: str) -> Community | None:
    return (
        Community.objects.filter(organization=organization, public_id=public_id)
        .select_related("organization")
        .first()
    )


def access_community_by_public_id(
    *,
    organization: Organization,
    user: User,
    public_id: str,
    invited_ok: bool = False,
    former_ok: bool = False,
) -> CommunityAccess:
    """The community of this organization that ``user`` is an active member of (or, with
    ``invited_ok``, was invited to; with ``former_ok``, left or was removed from); otherwise
    404."""
    community = _community(organization=organization, public_id=public_id)
    if community is None or not user.is_authenticated:
        raise Http404("No such community.")
    member = CommunityMember.objects.filter(
        organization=organization, community=community, user=user
    ).first()
    if member is not None and member.state == CommunityMember.State.ACTIVE:
        return CommunityAccess(community, member)
    if invited_ok and (
        CommunityInvitation.objects.filter(
            organization=organization, community=community, user=user
        ).exists()
    ):
        return CommunityAccess(community, None, invited=True)
    if former_ok and member is not None:
        return CommunityAccess(community, None, former=True)
    raise Http404("No such community.")


def community_get_by_join_token(*, organization: Organization, token: str) -> Community:
    """The community of this organization whose join link holds ``token``, or 404 (a link of
    another organization's community included)."""
    community = (
        Community.objects.filter(organization=organization, join_token=token[:64])
        .select_related("organization")
        .first()
    )
    if community is None or not token:
        raise Http404("No such community.")
    return community


def community_list_for_user(*, organization: Organization, user: User) -> list[Community]:
    """The communities of the organization ``user`` is in, and those they are invited to
    (``invited`` set), with their active member counts, by name: one query."""
    mine = CommunityMember.objects.filter(
        organization=organization, user=user, state=CommunityMember.State.ACTIVE
    ).values("community_id")
    invited = CommunityInvitation.objects.filter(organization=organization, user=user)
    return list(
        Community.objects.filter(organization=organization)
        .filter(Q(pk__in=mine) | Q(pk__in=invited.values("community_id")))
        .annotate(
            member_count=Count(
                "members", filter=Q(members__state=CommunityMember.State.ACTIVE), distinct=True
            ),
            invited=Exists(invited.filter(community_id=OuterRef("pk"))),
        )
        .order_by("name", "pk")
    )


def community_credentials(*, community: Community) -> list[Credential]:
    """The community's credentials, each with the ``title`` of its current version, by title."""
    return list(
        Credential.objects.filter(
            organization_id=community.organization_id, pk__in=community.credentials.values("pk")
        )
        .annotate(title=F("current_version__title"))
        .order_by("title", "pk")
    )


def community_members(*, community: Community) -> QuerySet[CommunityMember]:
    """The community's active members with their accounts: facilitators first, then by name."""
    return (
        CommunityMember.objects.filter(
            organization_id=community.organization_id,
            community=community,
            state=CommunityMember.State.ACTIVE,
        )
        .select_related("user")
        .order_by(F("role").asc(), "user__full_name", "user__email", "pk")
    )


def community_board(*, access: CommunityAccess) -> list[CommunityPost]:
    """The board: pinned posts first, then the latest, each with its replies (oldest first) and
    authors, in two queries whatever the number of posts. Members see no hidden post (nor its
    replies); facilitators see them, marked, with the reason."""
    community = access.community
    visible = Q() if access.is_facilitator else Q(hidden_at__isnull=True)
    replies = (
        CommunityPost.objects.filter(organization_id=community.organization_id)
        .filter(visible)
        .select_related("author", "hidden_by")
        .order_by("created_at", "pk")
    )
    return list(
        CommunityPost.objects.filter(
            organization_id=community.organization_id, community=community, parent__isnull=True
        )
        .filter(visible)
        .select_related("author", "hidden_by")
        .prefetch_related(Prefetch("replies", queryset=replies))
        .order_by(F("pinned_at").desc(nulls_last=True), "-created_at", "-pk")[:BOARD_POSTS]
    )


def community_resources(*, community: Community) -> QuerySet[CommunityResource]:
    return CommunityResource.objects.filter(
        organization_id=community.organization_id, community=community
    ).select_related("added_by")
