"""Learning communities' pages (docs/decisions/0031): the list, making one, joining by link or
invitation, the board (posts, replies, pins, hiding, shared links), members (invite, remove,
facilitators) and the members' progress on the community's credentials.

Here rather than in programs because the progress page reads application stages
(``submissions.selectors.progress_by_person_and_credential``); the rules are in
``programs.services.communities``. Thin views: parse the form, call one service, redirect with a
message, or render the page again with what was refused and what was typed (400), or a page that
says why (403) to a person who left or was removed. Another organization's community, or one
the person is not in, is a 404.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from credentials_site.exceptions import ApplicationError
from credentials_site.tenancy import request_organization
from programs import selectors_communities as selectors
from programs.errors import ProgramErrorCode
from programs.models import Community, Credential, User
from programs.models_communities import POST_MAX_CHARS
from programs.selectors_communities import CommunityAccess
from programs.services import communities as services

from .selectors import PROGRESS_LABELS, progress_by_person_and_credential

WHAT_OTHERS_SEE = _(
    "Members of this community see each other's progress on its credentials as a stage only "
    "(not started, in progress, submitted, needs revision, awarded): never your evidence, "
    "scores or reviewers' comments."
)


class CommunityForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    goal = forms.CharField(
        label=_("Goal"),
        max_length=200,
        required=False,
        help_text=_("What you will work on together, e.g. “Literacy instruction”."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    credentials: forms.ModelMultipleChoiceField[Credential] = forms.ModelMultipleChoiceField(
        queryset=Credential.objects.none(),
        label=_("Credentials"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Members see one another's progress on these. Choose one or more, or write a goal."
        ),
    )

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["credentials"].queryset = (  # type: ignore[attr-defined]
            Credential.objects.filter(organization=organization, status=Credential.Status.PUBLISHED)
            .select_related("current_version")
            .order_by("current_version__title", "pk")
        )


class PostForm(forms.Form):
    # no max_length here: the service refuses an over-long post with the number, in words
    body = forms.CharField(
        label=_("Your post"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=format_lazy(
            _("Markdown: **bold**, *italic*, lists, links. Up to {limit} characters."),
            limit=f"{POST_MAX_CHARS:,}",
        ),
    )
    parent = forms.UUIDField(required=False, widget=forms.HiddenInput)


class ResourceForm(forms.Form):
    title = forms.CharField(label=_("Link title"), max_length=200)
    url = forms.CharField(
        label=_("Address"), max_length=2000, help_text=_("A full address that starts with https://")
    )


class InviteForm(forms.Form):
    emails = forms.CharField(
        label=_("E-mail addresses"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One or more, separated by commas or new lines: members of the organization."),
    )


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _access(request: HttpRequest, public_id: UUID, **options: bool) -> CommunityAccess:
    return selectors.access_community_by_public_id(
        organization=request_organization(request),
        user=_user(request),
        public_id=str(public_id),
        **options,
    )


def _url(name: str, access: CommunityAccess, anchor: str = "") -> str:
    community = access.community
    url = reverse(
        f"submissions:{name}",
        kwargs={"org_slug": community.organization.slug, "public_id": community.public_id},
    )
    return f"{url}#{anchor}" if anchor else url


def _add_errors(form: forms.Form, error: ApplicationError) -> None:
    for field, problems in error.fields.items():
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)
    if not error.fields:
        form.add_error(None, error.message)


def _refused(
    request: HttpRequest, access: CommunityAccess, error: ApplicationError
) -> HttpResponse:
    """Not one's to do (left, removed, not a facilitator): a page that says why, 403."""
    return render(
        request,
        "communities/refused.html",
        {"organization": access.community.organization, "access": access, "message": error.message},
        status=403,
    )


# --- The list and making one ---------------------------------------------------------------------


@login_required
@require_safe
def community_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization = request_organization(request)
    user = _user(request)
    return render(
        request,
        "communities/list.html",
        {
            "organization": organization,
            "communities": selectors.community_list_for_user(organization=organization, user=user),
            "may_create": services.community_may_take_part(organization=organization, user=user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def community_create(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization = request_organization(request)
    user = _user(request)
    form = CommunityForm(request.POST or None, organization=organization)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                community = services.community_create(
                    organization=organization,
                    actor=user,
                    name=data["name"],
                    goal=data["goal"],
                    description=data["description"],
                    credential_ids=[c.pk for c in data["credentials"]],
                )
            except ApplicationError as error:
                _add_errors(form, error)
            else:
                messages.success(
                    request,
                    gettext("“%(name)s” is ready: invite your colleagues.")
                    % {"name": community.name},
                )
                access = CommunityAccess(community, None)
                return redirect(_url("community_members", access))
        status = 400
    return render(
        request,
        "communities/create.html",
        {
            "organization": organization,
            "form": form,
            "may_create": services.community_may_take_part(organization=organization, user=user),
        },
        status=status,
    )


# --- Joining and leaving -------------------------------------------------------------------------


def _is_active_member(request: HttpRequest, community: Community) -> bool:
    try:
        _access(request, community.public_id)
    except Http404:
        return False
    return True


@login_required
@require_http_methods(["GET", "POST"])
def community_join_link(request: HttpRequest, org_slug: str, token: str) -> HttpResponse:
    """The join link: a page that says what joining means, and a button (POST) to join. Only
    people of the organization may use it; others are told so (403)."""
    organization = request_organization(request)
    user = _user(request)
    community = selectors.community_get_by_join_token(organization=organization, token=token)
    access = CommunityAccess(community, None)
    refusal = ""
    if request.method == "GET" and _is_active_member(request, community):
        return redirect(_url("community", access))
    if not services.community_may_take_part(organization=organization, user=user):
        label = organization.short_name or organization.name
        refusal = gettext("Only members of %(label)s can join its learning communities.") % {
            "label": label
        }
    elif request.method == "POST":
        try:
            services.community_join(community=community, actor=user, token=token)
        except ApplicationError as error:
            refusal = error.message
        else:
            messages.success(request, gettext("You joined “%(name)s”.") % {"name": community.name})
            return redirect(_url("community", access))
    return render(
        request,
        "communities/join.html",
        {
            "organization": organization,
            "community": community,
            "refusal": refusal,
            "what_others_see": WHAT_OTHERS_SEE,
        },
        status=403 if refusal else 200,
    )


@login_required
@require_POST
def community_join(request: HttpRequest, org_slug: str, public_id: UUID) -> HttpResponse:
    """Accept an invitation."""
    access = _access(request, public_id, invited_ok=True)
    try:
        services.community_join(community=access.community, actor=_user(request))
    except ApplicationError as error:
        return _refused(request, access, error)
    messages.success(request, gettext("You joined “%(name)s”.") % {"name": access.community.name})
    return redirect(_url("community", access))


@login_required
@require_POST
def community_leave(request: HttpRequest, org_slug: str, public_id: UUID) -> HttpResponse:
    access = _access(request, public_id)
    try:
        services.community_leave(community=access.community, actor=_user(request))
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(_url("community_members", access))
    messages.success(request, gettext("You left “%(name)s”.") % {"name": access.community.name})
    return redirect(reverse("submissions:communities", kwargs={"org_slug": org_slug}))


@login_required
@require_POST
def community_digest(request: HttpRequest, org_slug: str, public_id: UUID) -> HttpResponse:
    access = _access(request, public_id)
    on = request.POST.get("digest") == "on"
    services.community_digest_set(community=access.community, actor=_user(request), digest=on)
    messages.success(
        request,
        gettext("You will get a daily e-mail of new posts.")
        if on
        else gettext("No more digest e-mails."),
    )
    return redirect(_url("community_members", access))


# --- The board ------------------------------------------------------------------------------------


def _board(
    request: HttpRequest,
    access: CommunityAccess,
    *,
    post_form: PostForm | None = None,
    resource_form: ResourceForm | None = None,
    reply_to: str = "",
    status: int = 200,
) -> HttpResponse:
    community = access.community
    context: dict[str, Any] = {
        "organization": community.organization,
        "access": access,
        "community": community,
        "what_others_see": WHAT_OTHERS_SEE,
    }
    if access.member is None:  # invited: the invitation, nothing of the board
        return render(request, "communities/invited.html", context, status=status)
    context.update(
        {
            "posts": selectors.community_board(access=access),
            "resources": list(selectors.community_resources(community=community)[:20]),
            "credentials": selectors.community_credentials(community=community),
            "post_form": post_form or PostForm(),
            "resource_form": resource_form or ResourceForm(),
            "reply_to": reply_to,
            "post_max": f"{POST_MAX_CHARS:,}",
        }
    )
    return render(request, "communities/board.html", context, status=status)


@login_required
@require_safe
def community_detail(request: HttpRequest, org_slug: str, public_id: UUID) -> HttpResponse:
    return _board(request, _access(request, public_id, invited_ok=True))


@login_required
@require_POST
def community_post(request: HttpRequest, org_slug: str, public_id: UUID) -> HttpResponse:
    """A post or a reply. One who left or was removed is told why (403); one who never was in
    the community, or is of another organization, gets 404."""
    access = _access(request, public_id, former_ok=True)
    form = PostForm(request.POST)
    if form.is_valid():
        parent = form.cleaned_data["parent"]
        try:
            post = services.community_post_create(
                community=access.community,
                actor=_user(request),
                body=form.cleaned_data["body"],
                parent_id=str(parent) if parent else None,
            )
        except ApplicationError as error:
            if error.code == ProgramErrorCode.NOT_ALLOWED:
                return _refused(request, access, error)
            _add_errors(form, error)
        else:
            messages.success(request, "Replied." if parent else "Posted.")
            return redirect(_url("community", access, f"post-{post.public_id}"))
    if access.member is None:
        return _refused(
            request, access, ApplicationError(gettext("You are not in this community."))
        )
    return _board(
        request, access, post_form=form, reply_to=request.POST.get("parent", ""), status=400
    )


MODERATIONS = {
    "pin": _("Pinned."),
    "unpin": _("Unpinned."),
    "hide": _("Hidden."),
    "unhide": _("Shown again."),
}


def _moderate(request: HttpRequest, public_id: UUID, post_id: UUID, action: str) -> HttpResponse:
    if action not in MODERATIONS:
        raise Http404("No such action.")
    access = _access(request, public_id)
    user, community = _user(request), access.community
    try:
        if action in ("pin", "unpin"):
            services.community_post_pin(
                community=community, actor=user, public_id=str(post_id), pinned=action == "pin"
            )
        elif action == "hide":
            services.community_post_hide(
                community=community,
                actor=user,
                public_id=str(post_id),
                reason=request.POST.get("reason", ""),
            )
        else:
            services.community_post_unhide(community=community, actor=user, public_id=str(post_id))
    except ApplicationError as error:
        if "post" in error.fields:  # not a post of this community: do not confirm it exists
            raise Http404("No such post.") from error
        if error.code == ProgramErrorCode.NOT_ALLOWED:
            return _refused(request, access, error)
        messages.error(request, error.message)
    else:
        messages.success(request, MODERATIONS[action])
    return redirect(_url("community", access, f"post-{post_id}"))


@login_required
@require_POST
def community_post_moderate(
    request: HttpRequest, org_slug: str, public_id: UUID, post_id: UUID, action: str
) -> HttpResponse:
    return _moderate(request, public_id, post_id, action)


@login_required
@require_POST
def community_resource(request: HttpRequest, org_slug: str, public_id: UUID) -> HttpResponse:
    access = _access(request, public_id, former_ok=True)
    form = ResourceForm(request.POST)
    if form.is_valid():
        try:
            services.community_resource_add(
                community=access.community, actor=_user(request), **form.cleaned_data
            )
        except ApplicationError as error:
            if error.code == ProgramErrorCode.NOT_ALLOWED:
                return _refused(request, access, error)
            _add_errors(form, error)
        else:
            messages.success(request, gettext("Link shared."))
            return redirect(_url("community", access, "resources"))
    if access.member is None:
        return _refused(
            request, access, ApplicationError(gettext("You are not in this community."))
        )
    return _board(request, access, resource_form=form, status=400)


# --- Members and progress -------------------------------------------------------------------------


def _members_page(
    request: HttpRequest, access: CommunityAccess, *, invite_form: InviteForm | None = None
) -> HttpResponse:
    community = access.community
    join_url = ""
    if access.is_facilitator:
        join_url = request.build_absolute_uri(
            reverse(
                "submissions:community_join_link",
                kwargs={"org_slug": community.organization.slug, "token": community.join_token},
            )
        )
    return render(
        request,
        "communities/members.html",
        {
            "organization": community.organization,
            "access": access,
            "community": community,
            "members": list(selectors.community_members(community=community)),
            "invite_form": invite_form or InviteForm(),
            "join_url": join_url,
        },
        status=400 if invite_form is not None and invite_form.errors else 200,
    )


@login_required
@require_safe
def community_members(request: HttpRequest, org_slug: str, public_id: UUID) -> HttpResponse:
    return _members_page(request, _access(request, public_id))


@login_required
@require_POST
def community_invite(request: HttpRequest, org_slug: str, public_id: UUID) -> HttpResponse:
    access = _access(request, public_id)
    form = InviteForm(request.POST)
    if form.is_valid():
        emails = form.cleaned_data["emails"].replace(",", "\n").replace(";", "\n").split()
        try:
            invitations = services.community_invite(
                community=access.community, actor=_user(request), emails=emails
            )
        except ApplicationError as error:
            if error.code == ProgramErrorCode.NOT_ALLOWED:
                return _refused(request, access, error)
            _add_errors(form, error)
        else:
            count = len(invitations)
            messages.success(
                request,
                ngettext(
                    "Invited %(count)s person by e-mail.",
                    "Invited %(count)s people by e-mail.",
                    count,
                )
                % {"count": count},
            )
            return redirect(_url("community_members", access))
    return _members_page(request, access, invite_form=form)


@login_required
@require_POST
def community_member_change(
    request: HttpRequest, org_slug: str, public_id: UUID, action: str
) -> HttpResponse:
    if action not in ("remove", "facilitator"):
        raise Http404("No such action.")
    access = _access(request, public_id)
    try:
        member_id = int(request.POST.get("member", ""))
    except ValueError:
        member_id = 0
    change = (
        services.community_member_remove
        if action == "remove"
        else services.community_member_make_facilitator
    )
    try:
        member = change(community=access.community, actor=_user(request), member_id=member_id)
    except ApplicationError as error:
        if error.code == ProgramErrorCode.NOT_ALLOWED:
            return _refused(request, access, error)
        messages.error(request, error.message)
    else:
        name = member.user.full_name or member.user.email
        messages.success(
            request,
            f"{name} is no longer in the community."
            if action == "remove"
            else f"{name} is now a facilitator.",
        )
    return redirect(_url("community_members", access))


@login_required
@require_safe
def community_progress(request: HttpRequest, org_slug: str, public_id: UUID) -> HttpResponse:
    """Each member's stage on each of the community's credentials: the stage only."""
    access = _access(request, public_id)
    community = access.community
    members = list(selectors.community_members(community=community))
    credentials = selectors.community_credentials(community=community)
    stages = progress_by_person_and_credential(
        organization=community.organization,
        user_ids=[m.user_id for m in members],
        credential_ids=[c.pk for c in credentials],
    )
    rows = [
        (
            member,
            [
                (credential, stage := stages.get((member.user_id, credential.pk), "not_started"),
                 gettext(PROGRESS_LABELS[stage]))
                for credential in credentials
            ],
        )
        for member in members
    ]  # fmt: skip
    return render(
        request,
        "communities/progress.html",
        {
            "organization": community.organization,
            "access": access,
            "community": community,
            "credentials": credentials,
            "rows": rows,
            "what_others_see": WHAT_OTHERS_SEE,
        },
    )
