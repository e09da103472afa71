"""Learning communities (docs/decisions/0031): making one, who is in it (invitations, the join
link, leaving, removal), its board (posts, replies, pins, hiding) and its shared links.

The rules, once each:
- Only people of the organization take part: a current member (``membership_join_by_domain``,
  the rule pages and applying use) or anyone with a staff role there (a school leader, a coach).
- Only an active member of a community writes to it; only its facilitators pin, hide, invite,
  remove and name facilitators. A person who left may come back (by the link or an invitation);
  one a facilitator removed may not, until invited again.
- A refusal raises ``ApplicationError`` (with the field) and changes nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from credentials_site.exceptions import ApplicationError
from credentials_site.mail import in_language_of, language_of, mail_send

from ..errors import ProgramErrorCode as Code
from ..models import (
    Community,
    CommunityInvitation,
    CommunityMember,
    CommunityPost,
    CommunityResource,
    Credential,
    Organization,
    StaffRole,
    User,
)
from ..models_communities import POST_MAX_CHARS
from .audit import audit_record
from .joining import membership_join_by_domain

MAX_CREDENTIALS = 20
MAX_INVITES = 50


def _refuse(
    message: str, *, code: str = Code.INVALID, field: str | None = None
) -> ApplicationError:
    return ApplicationError(message, code=code, fields={field: [message]} if field else None)


def community_may_take_part(*, organization: Organization, user: User) -> bool:
    """A person of the organization: a current member, or one with a staff role there."""
    if not user.is_active:
        return False
    membership = membership_join_by_domain(organization=organization, user=user)
    if membership is not None and membership.is_current():
        return True
    return StaffRole.objects.filter(organization=organization, user=user).exists()


def _refuse_outsider(*, organization: Organization, user: User) -> None:
    if not community_may_take_part(organization=organization, user=user):
        label = organization.short_name or organization.name
        raise _refuse(
            _("Only members of %(organization)s take part in its learning communities.")
            % {"organization": label},
            code=Code.NOT_ALLOWED,
        )


def _member_locked(*, community: Community, user: User) -> CommunityMember | None:
    return (
        CommunityMember.objects.select_for_update()
        .filter(organization_id=community.organization_id, community=community, user=user)
        .first()
    )


def _active_member(*, community: Community, user: User) -> CommunityMember:
    """The person's active place in the community, or a refusal that says why."""
    member = CommunityMember.objects.filter(
        organization_id=community.organization_id, community=community, user=user
    ).first()
    if member is None or member.state != CommunityMember.State.ACTIVE:
        if member is not None and member.state == CommunityMember.State.REMOVED:
            message = _("A facilitator removed you from this community: you cannot post to it.")
        elif member is not None:
            message = _("You left this community: join it again to post.")
        else:
            message = _("Only members of this community can post to it.")
        raise _refuse(message, code=Code.NOT_ALLOWED)
    return member


def _facilitator(*, community: Community, user: User) -> CommunityMember:
    member = _active_member(community=community, user=user)
    if member.role != CommunityMember.Role.FACILITATOR:
        raise _refuse(_("Only the community's facilitators can do that."), code=Code.NOT_ALLOWED)
    return member


# --- The community ------------------------------------------------------------------------------


@transaction.atomic
def community_create(
    *,
    organization: Organization,
    actor: User,
    name: str,
    goal: str = "",
    description: str = "",
    credential_ids: Sequence[int] = (),
) -> Community:
    """A community of the organization around some of its published credentials or a goal (at
    least one of the two); its creator is its first facilitator."""
    _refuse_outsider(organization=organization, user=actor)
    name, goal, description = name.strip(), goal.strip(), description.strip()
    problems: dict[str, list[str]] = {}
    if not name:
        problems["name"] = [_("Give the community a name.")]
    elif len(name) > 120:
        problems["name"] = [_("Keep the name to 120 characters.")]
    if len(goal) > 200:
        problems["goal"] = [_("Keep the goal to 200 characters.")]
    if len(description) > 2000:
        problems["description"] = [_("Keep the description to 2,000 characters.")]
    ids = sorted(set(credential_ids))
    credentials = list(
        Credential.objects.filter(
            organization=organization, pk__in=ids, status=Credential.Status.PUBLISHED
        )
    )
    if len(credentials) != len(ids):
        problems["credentials"] = [_("Choose among this organization's published credentials.")]
    elif len(ids) > MAX_CREDENTIALS:
        problems["credentials"] = [
            _("Choose at most %(count)s credentials.") % {"count": MAX_CREDENTIALS}
        ]
    elif not ids and not goal:
        problems["credentials"] = [_("Choose at least one credential, or write a goal.")]
    if problems:
        raise ApplicationError(next(iter(problems.values()))[0], code=Code.INVALID, fields=problems)
    community = Community.objects.create(
        organization=organization, name=name, goal=goal, description=description, created_by=actor
    )
    community.credentials.set(credentials)
    CommunityMember.objects.create(
        organization=organization,
        community=community,
        user=actor,
        role=CommunityMember.Role.FACILITATOR,
        digest_through=timezone.now(),
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="community.create",
        obj=community,
        summary=f"Learning community “{name}” created",
        data={"credentials": ids},
    )
    return community


def community_join_token_matches(*, community: Community, token: str) -> bool:
    return secrets.compare_digest(community.join_token.encode(), token.encode())


@transaction.atomic
def community_join(*, community: Community, actor: User, token: str = "") -> CommunityMember:
    """Join by the community's link (``token``) or by an invitation. A person who left comes back
    as a member; one a facilitator removed comes back only by a new invitation."""
    organization = community.organization
    _refuse_outsider(organization=organization, user=actor)
    invited = CommunityInvitation.objects.filter(
        organization=organization, community=community, user=actor
    ).exists()
    by_link = bool(token) and community_join_token_matches(community=community, token=token)
    if not (invited or by_link):
        raise _refuse(_("This join link is not valid: ask a facilitator for a new one."))
    member = _member_locked(community=community, user=actor)
    if member is not None and member.state == CommunityMember.State.ACTIVE:
        return member
    now = timezone.now()
    if member is not None and member.state == CommunityMember.State.REMOVED and not invited:
        raise _refuse(
            _("A facilitator removed you from this community: ask them to invite you again."),
            code=Code.NOT_ALLOWED,
        )
    if member is None:
        member = CommunityMember.objects.create(
            organization=organization, community=community, user=actor, digest_through=now
        )
    else:
        member.state, member.role = CommunityMember.State.ACTIVE, CommunityMember.Role.MEMBER
        member.digest_through = now  # the digest tells of posts from the day one (re)joins
        member.save(update_fields=["state", "role", "digest_through", "updated_at"])
    CommunityInvitation.objects.filter(
        organization=organization, community=community, user=actor
    ).delete()
    audit_record(
        organization=organization,
        actor=actor,
        action="community.join",
        obj=member,
        summary=f"Joined the learning community “{community.name}”",
        data={"by": "invitation" if invited else "link"},
    )
    return member


def _facilitator_count(community: Community) -> int:
    return CommunityMember.objects.filter(
        organization_id=community.organization_id,
        community=community,
        role=CommunityMember.Role.FACILITATOR,
        state=CommunityMember.State.ACTIVE,
    ).count()


@transaction.atomic
def community_leave(*, community: Community, actor: User) -> CommunityMember:
    member = _member_locked(community=community, user=actor)
    if member is None or member.state != CommunityMember.State.ACTIVE:
        raise _refuse(_("You are not a member of this community."), code=Code.NOT_ALLOWED)
    others = (
        CommunityMember.objects.filter(
            organization_id=community.organization_id,
            community=community,
            state=CommunityMember.State.ACTIVE,
        )
        .exclude(pk=member.pk)
        .exists()
    )
    if member.is_facilitator and _facilitator_count(community) == 1 and others:
        raise _refuse(
            _("You are its only facilitator: make another member a facilitator before you leave."),
            code=Code.NOT_ALLOWED,
        )
    member.state = CommunityMember.State.LEFT
    member.save(update_fields=["state", "updated_at"])
    audit_record(
        organization=community.organization,
        actor=actor,
        action="community.leave",
        obj=member,
        summary=f"Left the learning community “{community.name}”",
    )
    return member


def _other_member(*, community: Community, member_id: int) -> CommunityMember:
    member = (
        CommunityMember.objects.select_for_update()
        .filter(organization_id=community.organization_id, community=community, pk=member_id)
        .select_related("user")
        .first()
    )
    if member is None or member.state != CommunityMember.State.ACTIVE:
        raise _refuse(_("That person is not a member of this community."), field="member")
    return member


@transaction.atomic
def community_member_remove(
    *, community: Community, actor: User, member_id: int
) -> CommunityMember:
    """A facilitator removes a member (not themself: they leave); the person's posts stay."""
    _facilitator(community=community, user=actor)
    member = _other_member(community=community, member_id=member_id)
    if member.user_id == actor.pk:
        raise _refuse(_("To go yourself, leave the community."), field="member")
    member.state = CommunityMember.State.REMOVED
    member.save(update_fields=["state", "updated_at"])
    audit_record(
        organization=community.organization,
        actor=actor,
        action="community.member_remove",
        obj=member,
        summary=f"Removed {member.user.email} from the learning community “{community.name}”",
    )
    return member


@transaction.atomic
def community_member_make_facilitator(
    *, community: Community, actor: User, member_id: int
) -> CommunityMember:
    _facilitator(community=community, user=actor)
    member = _other_member(community=community, member_id=member_id)
    member.role = CommunityMember.Role.FACILITATOR
    member.save(update_fields=["role", "updated_at"])
    audit_record(
        organization=community.organization,
        actor=actor,
        action="community.facilitator_add",
        obj=member,
        summary=f"Made {member.user.email} a facilitator of “{community.name}”",
    )
    return member


@transaction.atomic
def community_digest_set(*, community: Community, actor: User, digest: bool) -> CommunityMember:
    member = _active_member(community=community, user=actor)
    member.digest = digest
    member.save(update_fields=["digest", "updated_at"])
    return member


# --- Invitations --------------------------------------------------------------------------------


def _community_url(community: Community) -> str:
    path = reverse(
        "submissions:community",
        kwargs={"org_slug": community.organization.slug, "public_id": community.public_id},
    )
    return f"{settings.SITE_URL.rstrip('/')}{path}"


@transaction.atomic
def community_invite(
    *, community: Community, actor: User, emails: Sequence[str]
) -> list[CommunityInvitation]:
    """Invite people of the organization by their e-mail addresses (all or none: an address
    that names no one of the organization refuses the lot, naming it). Each gets an e-mail
    with the community's link; an active member already in it is skipped."""
    _facilitator(community=community, user=actor)
    organization = community.organization
    wanted = sorted({e.strip().lower() for e in emails if e.strip()})
    if not wanted:
        raise _refuse(_("Write at least one e-mail address."), field="emails")
    if len(wanted) > MAX_INVITES:
        raise _refuse(
            _("Invite at most %(count)s people at once.") % {"count": MAX_INVITES}, field="emails"
        )
    users = {
        u.email.lower(): u
        for u in User.objects.annotate(address=Lower("email")).filter(address__in=wanted)
    }
    unknown = [
        email
        for email in wanted
        if email not in users
        or not community_may_take_part(organization=organization, user=users[email])
    ]
    if unknown:
        label = organization.short_name or organization.name
        raise _refuse(
            _(
                "Not a member of %(organization)s: %(emails)s. Only the organization's members "
                "can be invited."
            )
            % {"organization": label, "emails": ", ".join(unknown)},
            field="emails",
        )
    active = set(
        CommunityMember.objects.filter(
            organization=organization,
            community=community,
            state=CommunityMember.State.ACTIVE,
            user__in=users.values(),
        ).values_list("user_id", flat=True)
    )
    invitations = []
    for email in wanted:
        user = users[email]
        if user.pk in active:
            continue
        invitation, _created = CommunityInvitation.objects.update_or_create(
            organization=organization,
            community=community,
            user=user,
            defaults={"invited_by": actor},
        )
        invitations.append(invitation)
    audit_record(
        organization=organization,
        actor=actor,
        action="community.invite",
        obj=community,
        summary=f"Invited {len(invitations)} people to “{community.name}”",
        data={"users": [i.user_id for i in invitations]},
    )
    url = _community_url(community)
    for invitation in invitations:
        with in_language_of(invitation.user):
            subject = _("%(inviter)s invites you to “%(community)s”") % {
                "inviter": actor.full_name or actor.email,
                "community": community.name,
            }
        transaction.on_commit(
            partial(
                mail_send,
                language=language_of(invitation.user),
                template="community_invitation",
                subject=subject,
                to=[invitation.user.email],
                context={"community": community, "inviter": actor, "url": url},
                organization=organization,
                fail_silently=True,
            )
        )
    return invitations


# --- The board ----------------------------------------------------------------------------------


def _post_body(body: str) -> str:
    body = body.strip()
    if not body:
        raise _refuse(_("Write something to post."), field="body")
    if len(body) > POST_MAX_CHARS:
        raise _refuse(
            _("A post can be at most %(limit)s characters; this one has %(count)s.")
            % {"limit": f"{POST_MAX_CHARS:,}", "count": f"{len(body):,}"},
            field="body",
        )
    return body


@transaction.atomic
def community_post_create(
    *, community: Community, actor: User, body: str, parent_id: str | None = None
) -> CommunityPost:
    """A post, or a reply to a visible post (replies go one level deep)."""
    _active_member(community=community, user=actor)
    body = _post_body(body)
    parent = None
    if parent_id:
        parent = CommunityPost.objects.filter(
            organization_id=community.organization_id,
            community=community,
            public_id=parent_id,
            parent__isnull=True,
            hidden_at__isnull=True,
        ).first()
        if parent is None:
            raise _refuse(_("The post you reply to is no longer on the board."), field="parent")
    post = CommunityPost.objects.create(
        organization_id=community.organization_id,
        community=community,
        author=actor,
        parent=parent,
        body=body,
    )
    audit_record(
        organization=community.organization,
        actor=actor,
        action="community.reply" if parent else "community.post",
        obj=post,
        summary=f"{'Replied' if parent else 'Posted'} in “{community.name}”",
    )
    return post


def _post_locked(*, community: Community, public_id: str) -> CommunityPost:
    post = (
        CommunityPost.objects.select_for_update()
        .filter(organization_id=community.organization_id, community=community, public_id=public_id)
        .first()
    )
    if post is None:
        raise _refuse(_("No such post on this board."), field="post")
    return post


@transaction.atomic
def community_post_pin(
    *, community: Community, actor: User, public_id: str, pinned: bool
) -> CommunityPost:
    _facilitator(community=community, user=actor)
    post = _post_locked(community=community, public_id=public_id)
    if post.parent_id is not None:
        raise _refuse(_("Only posts are pinned, not replies."), field="post")
    post.pinned_at = timezone.now() if pinned else None
    post.save(update_fields=["pinned_at", "updated_at"])
    audit_record(
        organization=community.organization,
        actor=actor,
        action="community.pin" if pinned else "community.unpin",
        obj=post,
        summary=f"{'Pinned' if pinned else 'Unpinned'} a post in “{community.name}”",
    )
    return post


@transaction.atomic
def community_post_hide(
    *, community: Community, actor: User, public_id: str, reason: str
) -> CommunityPost:
    """Hide a post (and so its replies) from members; facilitators still see it and why."""
    _facilitator(community=community, user=actor)
    reason = reason.strip()
    if not reason:
        raise _refuse(_("Say why the post is hidden (facilitators see it)."), field="reason")
    if len(reason) > 300:
        raise _refuse(_("Keep the reason to 300 characters."), field="reason")
    post = _post_locked(community=community, public_id=public_id)
    post.hidden_at, post.hidden_by, post.hidden_reason = timezone.now(), actor, reason
    post.save(update_fields=["hidden_at", "hidden_by", "hidden_reason", "updated_at"])
    audit_record(
        organization=community.organization,
        actor=actor,
        action="community.hide",
        obj=post,
        summary=f"Hid a post in “{community.name}”: {reason}",
    )
    return post


@transaction.atomic
def community_post_unhide(*, community: Community, actor: User, public_id: str) -> CommunityPost:
    _facilitator(community=community, user=actor)
    post = _post_locked(community=community, public_id=public_id)
    post.hidden_at, post.hidden_by, post.hidden_reason = None, None, ""
    post.save(update_fields=["hidden_at", "hidden_by", "hidden_reason", "updated_at"])
    audit_record(
        organization=community.organization,
        actor=actor,
        action="community.unhide",
        obj=post,
        summary=f"Showed a hidden post again in “{community.name}”",
    )
    return post


_URL = URLValidator(schemes=["https"])


@transaction.atomic
def community_resource_add(
    *, community: Community, actor: User, title: str, url: str
) -> CommunityResource:
    """Share a link (an https address with a title) with the community."""
    _active_member(community=community, user=actor)
    title, url = title.strip(), url.strip()
    problems: dict[str, list[str]] = {}
    if not title:
        problems["title"] = [_("Give the link a title.")]
    elif len(title) > 200:
        problems["title"] = [_("Keep the title to 200 characters.")]
    url_valid = len(url) <= 2000
    if url_valid:
        try:
            _URL(url)
        except ValidationError:
            url_valid = False
    if not url_valid or not urlsplit(url).hostname:
        problems["url"] = [_("Enter a full address that starts with https://")]
    if problems:
        raise ApplicationError(next(iter(problems.values()))[0], code=Code.INVALID, fields=problems)
    resource = CommunityResource.objects.create(
        organization_id=community.organization_id,
        community=community,
        added_by=actor,
        title=title,
        url=url,
    )
    audit_record(
        organization=community.organization,
        actor=actor,
        action="community.resource_add",
        obj=resource,
        summary=f"Shared a link in “{community.name}”: {title}",
    )
    return resource


# --- The daily digest ---------------------------------------------------------------------------

DIGEST_MAX_POSTS = 30


def community_digest_send(*, organization: Organization) -> int:
    """E-mail each active member who keeps the digest on the posts and replies others wrote in
    the community since their last digest (hidden ones left out): at most one e-mail per member
    and community a day, whatever retries or second runs happen (the member's row is locked and
    marked sent for the day before the e-mail is queued on commit). Returns how many e-mails."""
    today = timezone.localdate()
    candidates = list(
        CommunityMember.objects.filter(
            organization=organization, state=CommunityMember.State.ACTIVE, digest=True
        )
        .exclude(digest_sent_on=today)
        .values_list("pk", flat=True)
    )
    sent = 0
    for member_id in candidates:
        with transaction.atomic():
            member = (
                CommunityMember.objects.select_for_update(of=("self",))
                .select_related("user", "community")
                .filter(
                    organization=organization,
                    pk=member_id,
                    state=CommunityMember.State.ACTIVE,
                    digest=True,
                )
                .exclude(digest_sent_on=today)
                .first()
            )
            if member is None:
                continue
            now = timezone.now()
            posts = list(
                CommunityPost.objects.filter(
                    organization=organization,
                    community_id=member.community_id,
                    hidden_at__isnull=True,
                    created_at__lte=now,
                )
                .filter(parent__hidden_at__isnull=True)
                .exclude(author_id=member.user_id)
                .filter(
                    **({"created_at__gt": member.digest_through} if member.digest_through else {})
                )
                .select_related("author")
                .order_by("created_at", "pk")[: DIGEST_MAX_POSTS + 1]
            )
            member.digest_sent_on, member.digest_through = today, now
            member.save(update_fields=["digest_sent_on", "digest_through", "updated_at"])
            if not posts:
                continue
            with in_language_of(member.user):
                subject = _("New in “%(community)s”") % {"community": member.community.name}
            transaction.on_commit(
                partial(
                    mail_send,
                    language=language_of(member.user),
                    template="community_digest",
                    subject=subject,
                    to=[member.user.email],
                    context={
                        "community": member.community,
                        "posts": posts[:DIGEST_MAX_POSTS],
                        "more": len(posts) > DIGEST_MAX_POSTS,
                        "url": _community_url(member.community),
                    },
                    organization=organization,
                )
            )
            sent += 1
    return sent
