"""The name on an educator's badges: asked at sign-up, asked again of an account without one, and
the choice not to be named publicly.

- Sign-up (django-allauth) asks for it first: ``SignupForm`` is allauth's
  ``ACCOUNT_SIGNUP_FORM_CLASS``, mixed into its own sign-up form.
- An account without a name is sent to ``badge_name`` (``/me/name/``) on its next visit to My
  badges and before its next submission, and comes back to where it was going (``next``).
- The same page (and a copy of its form on the badges profile page) lets the educator choose not
  to be named publicly: badges issued from then on carry no name.

What a badge carries is ``User.name_for_badges`` at issue time; the verification page reads the
signed credential, never this profile. Saving one's own name touches one row that nothing else
locks or counts, so, as on the profile page, there is no service of its own.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import password_validation
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from credentials_site import public_cache

from .models import User

NAME_LABEL = _("Your name as it will appear on your badges")
NAME_MAX = 200  # User.full_name
NAME_REQUIRED = _("Enter your name: it is the name your badges will carry.")
PUBLIC_LABEL = _("Show my name on my badges")


def _name_field() -> forms.CharField:
    return forms.CharField(
        label=NAME_LABEL,
        max_length=NAME_MAX,
        help_text=_("Write it the way colleagues and employers know you, e.g. “Maria Lopez”."),
        error_messages={
            "required": NAME_REQUIRED,
            "max_length": _("Keep it to %(limit_value)d characters (this has %(show_value)d)."),
        },
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )


def _one_line(value: str) -> str:
    """Runs of spaces and stray line breaks as one space; a name of blanks only is refused."""
    name = " ".join(value.split())
    if not name:
        raise forms.ValidationError(NAME_REQUIRED, code="required")
    return name


class SignupForm(forms.Form):
    """The fields allauth's sign-up form adds (``ACCOUNT_SIGNUP_FORM_CLASS``): the name, first."""

    full_name = _name_field()
    field_order = ["full_name", "email", "password1", "password2"]

    def clean_full_name(self) -> str:
        return _one_line(self.cleaned_data["full_name"])

    def clean(self) -> dict[str, Any]:
        """allauth checks the password against the e-mail address; the name is only known here,
        so the same similarity rule is applied to it (``password1``'s message, like the rest)."""
        super().clean()
        cleaned = self.cleaned_data
        name, password = cleaned.get("full_name"), cleaned.get("password1")
        if name and password:
            for validator in password_validation.get_default_password_validators():
                if isinstance(validator, password_validation.UserAttributeSimilarityValidator):
                    try:
                        validator.validate(password, User(full_name=name))
                    except forms.ValidationError as error:
                        self.add_error("password1", error)
        return cleaned

    def signup(self, request: HttpRequest, user: User) -> None:
        """Called by allauth once the new account is saved (never for an address that already
        has an account: allauth then only e-mails its owner, and nothing is saved)."""
        user.full_name = self.cleaned_data["full_name"]
        # the language they signed up in is kept: their e-mails follow it (decision 0036)
        language = getattr(request, "LANGUAGE_CODE", "")
        user.language = language if language in dict(settings.LANGUAGES) else ""
        user.save(update_fields=["full_name", "language"])


class BadgeNameForm(forms.Form):
    full_name = _name_field()
    name_on_badges_public = forms.BooleanField(required=False, label=PUBLIC_LABEL)

    def clean_full_name(self) -> str:
        return _one_line(self.cleaned_data["full_name"])


def name_prompt_url(*, next_url: str) -> str:
    """The name page, returning to ``next_url`` once the name is saved."""
    return reverse("programs:badge_name") + "?" + urlencode({"next": next_url})


def _next_url(request: HttpRequest) -> str:
    """Where to go once saved: ``next`` when it is a page of this site, else the page itself."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse("programs:badge_name")


def _render(
    request: HttpRequest, form: BadgeNameForm, *, next_url: str, status: int = 200
) -> HttpResponse:
    errors = {name: " ".join(str(e) for e in errs) for name, errs in form.errors.items()}
    context: dict[str, Any] = {
        "form": form,
        "errors": errors,
        "next_url": next_url,
        "name_max": NAME_MAX,
        "asked": request.user.needs_badge_name,  # type: ignore[union-attr]
    }
    return render(request, "account/badge_name.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def badge_name(request: HttpRequest) -> HttpResponse:
    """The name on the educator's badges, and whether badges name them at all."""
    user: User = request.user  # type: ignore[assignment]
    next_url = _next_url(request)
    if request.method != "POST":
        initial = {
            "full_name": user.full_name,
            "name_on_badges_public": user.name_on_badges_public,
        }
        return _render(request, BadgeNameForm(initial=initial), next_url=next_url)
    form = BadgeNameForm(request.POST)
    if not form.is_valid():
        return _render(request, form, next_url=next_url, status=400)
    changed = [
        name
        for name in ("full_name", "name_on_badges_public")
        if getattr(user, name) != form.cleaned_data[name]
    ]
    for name in changed:
        setattr(user, name, form.cleaned_data[name])
    if changed:
        user.save(update_fields=changed)
        # badge pages say whether their earner chose to be named (public pages, at once)
        public_cache.changed(users=[user.pk])
    if user.name_on_badges_public:
        messages.success(
            request,
            gettext("Badges issued from now on will name you “%(name)s”.")
            % {"name": user.full_name},
        )
    else:
        messages.success(
            request,
            gettext(
                "Badges issued from now on will not carry your name. Their pages will say you "
                "chose not to be named publicly."
            ),
        )
    return redirect(next_url)
