"""The educator's backpack ("My badges"), badge visibility, and the opt-in public profile.

These pages are not under ``/o/<org>/``: a backpack holds badges from every organization, so its
selectors are the named reads across organizations, by user; a change to one badge runs inside
that badge's organization scope, which the tenancy middleware enters from ``badge_public_id`` in
the URL. Thin views: a small form parses what was posted, one service acts,
a refused form is shown again with every error beside its field and nothing saved. Every form
works without JavaScript.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from programs import accounts
from programs.models import User

from .. import documents, selectors, services, sharing
from ..errors import BadgeError
from ..models import BackpackProfile, Badge


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@dataclass
class BadgeRow:
    """One badge as the backpack and the public profile show it."""

    badge: Badge
    image_url: str
    verify_url: str
    share: dict[str, Any] | None = None


def _row(badge: Badge, *, with_share: bool = False) -> BadgeRow:
    return BadgeRow(
        badge=badge,
        image_url=sharing.image_url(badge),
        verify_url=reverse("badges:verify", args=[badge.public_id]),
        share=sharing.share_context(badge) if with_share else None,
    )


# --- My badges --------------------------------------------------------------------------------


@login_required
@require_safe
def backpack(request: HttpRequest) -> HttpResponse:
    """Every badge of the signed-in educator, from every organization, with pathway progress.
    An account without a name is asked for one first (its badges name their earner)."""
    user = _user(request)
    if user.needs_badge_name:
        return redirect(accounts.name_prompt_url(next_url=reverse("badges:backpack")))
    rows = [_row(b, with_share=True) for b in selectors.badge_list_for_recipient(user=user)]
    return render(
        request,
        "badges/backpack.html",
        {
            "rows": rows,
            "pathways": selectors.pathway_progress_for_user(user=user) if rows else [],
            "profile": selectors.profile_get_for_user(user=user),
        },
    )


class VisibilityForm(forms.Form):
    visibility = forms.ChoiceField(
        choices=[("public", gettext_lazy("Public")), ("private", gettext_lazy("Private"))]
    )


@login_required
@require_POST
def badge_visibility(request: HttpRequest, badge_public_id: uuid.UUID) -> HttpResponse:
    """Show a badge on the public profile, or hide it; only its earner may (404 for anyone
    else). A private badge's verification page still works for whoever holds its link."""
    user = _user(request)
    badge = selectors.access_badge_by_public_id(actor=user, public_id=badge_public_id)
    back = reverse("badges:backpack") + f"#badge-{badge.public_id}"
    form = VisibilityForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose public or private."))
        return redirect(back)
    is_public = form.cleaned_data["visibility"] == "public"
    try:
        services.badge_visibility_set(badge=badge, user=user, is_public=is_public)
    except BadgeError as error:
        messages.error(request, error.message)
        return redirect(back)
    if is_public:
        messages.success(
            request, _("“%(name)s” is shown on your public profile.") % {"name": badge.name}
        )
    else:
        messages.success(
            request,
            _(
                "“%(name)s” is private: it is not listed on your public profile, but its "
                "verification link still works for anyone you give it to."
            )
            % {"name": badge.name},
        )
    return redirect(back)


# --- The public profile -----------------------------------------------------------------------


class ProfileForm(forms.Form):
    """Parses only: the rules (handle format, uniqueness, lengths) are ``profile_save``'s."""

    handle = forms.CharField(required=False, max_length=200, strip=True)
    headline = forms.CharField(required=False, max_length=2000, strip=True)
    is_public = forms.BooleanField(required=False)


def _render_settings(
    request: HttpRequest,
    *,
    values: dict[str, Any],
    profile: BackpackProfile | None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "badges/profile_settings.html",
        {
            "values": values,
            "profile": profile,
            "errors": errors or {},
            "headline_max": services.HEADLINE_MAX,
            # the name on their badges: its own form, saved by /me/name/ (programs.accounts)
            "badge_name": _user(request).full_name,
            "badge_name_public": _user(request).name_on_badges_public,
            "badge_name_max": accounts.NAME_MAX,
            "badge_name_next": reverse("badges:profile_settings"),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile_settings(request: HttpRequest) -> HttpResponse:
    """Opt in to a public profile at /u/<handle>/: the handle, a headline, public or not; and,
    in a form of its own, the name on the educator's badges."""
    user = _user(request)
    profile = selectors.profile_get_for_user(user=user)
    values: dict[str, Any]
    if request.method != "POST":
        values = {
            "handle": profile.handle if profile else "",
            "headline": profile.headline if profile else "",
            "is_public": profile.is_public if profile else False,
        }
        return _render_settings(request, values=values, profile=profile)
    form = ProfileForm(request.POST)
    form.is_valid()  # every field is optional here; the service judges the values
    values = {
        "handle": form.cleaned_data.get("handle", request.POST.get("handle", "")),
        "headline": form.cleaned_data.get("headline", request.POST.get("headline", "")),
        "is_public": form.cleaned_data.get("is_public", False),
    }
    try:
        profile = services.profile_save(
            user=user,
            handle=values["handle"],
            headline=values["headline"],
            is_public=values["is_public"],
        )
    except BadgeError as error:
        errors = {name: " ".join(messages_) for name, messages_ in error.fields.items()}
        if not errors:
            errors = {"handle": error.message}
        return _render_settings(request, values=values, profile=profile, errors=errors, status=400)
    address = reverse("badges:public_profile", args=[profile.handle])
    if profile.is_public:
        messages.success(
            request, _("Your public profile is saved: %(address)s") % {"address": address}
        )
    else:
        messages.success(request, _("Your profile is saved. It is not public: nobody can open it."))
    return redirect(reverse("badges:profile_settings"))


@require_safe
def public_profile(request: HttpRequest, handle: str) -> HttpResponse:
    """An educator's public badges from every organization (never a private or revoked one);
    404 unless the educator made the profile public."""
    profile = selectors.profile_get_public(handle=handle.lower())
    rows = [_row(b) for b in selectors.badge_list_public_for_profile(profile=profile)]
    return render(
        request,
        "badges/public_profile.html",
        {
            "profile": profile,
            # an educator who chose not to be named on their badges is not named here either
            "name": profile.user.name_for_badges or profile.handle,
            "rows": rows,
            "url": documents.site_url(reverse("badges:public_profile", args=[profile.handle])),
        },
    )


@require_safe
def public_profile_permanent(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The permanent address of an educator's public profile, the ``id`` of the credential
    subject in the badges issued while the profile was public: it follows handle changes to
    ``/u/<handle>/``; 404 once the profile is no longer public."""
    profile = selectors.profile_get_public_by_user(public_id=public_id)
    return redirect(reverse("badges:public_profile", args=[profile.handle]))
