"""The directory (``/o/<org>/directory/``) and the educator's directory settings
(``/me/directory/``). Thin views: a form parses, one selector or service acts."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from credentials_site.tenancy import request_organization
from programs.models import User

from ..errors import BadgeError
from ..models import DirectoryProfile
from . import selectors, services


class SearchForm(forms.Form):
    """The directory's search: every filter optional; an id that is not one of the
    organization's own rows is refused with a message beside its field."""

    q = forms.CharField(required=False, max_length=200, strip=True, label=gettext_lazy("Search"))
    credential = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    category = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    focus_area = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    school = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    district = forms.ChoiceField(required=False)
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000)

    def __init__(self, data: Any, *, choices: selectors.FilterChoices) -> None:
        super().__init__(data)

        def pick(name: str, label: str, options: list[tuple[Any, str]]) -> None:
            self.fields[name].choices = [("", label), *options]  # type: ignore[attr-defined]

        pick(
            "credential",
            _("Any credential"),
            [
                (c.pk, c.current_version.title if c.current_version else c.slug)
                for c in choices.credentials
            ],
        )
        pick("category", _("Any category"), [(c.pk, c.name) for c in choices.categories])
        pick("focus_area", _("Any focus area"), [(f.pk, f.name) for f in choices.focus_areas])
        pick("school", _("Any school"), [(s.pk, str(s)) for s in choices.schools])
        pick("district", _("Any district"), [(d, d) for d in choices.districts])

    def selects(self) -> list[dict[str, Any]]:
        """The filters as the page draws them (by hand: a widget per option is slow)."""
        labels = {
            "credential": _("Credential earned"),
            "category": _("Category"),
            "focus_area": _("Focus area"),
            "school": _("School"),
            "district": _("District"),
        }
        drawn = []
        for name, label in labels.items():
            chosen = str(self.data.get(name, ""))
            field = self.fields[name]
            drawn.append(
                {
                    "name": name,
                    "label": label,
                    "errors": self.errors.get(name, []),
                    "options": [
                        (str(value), text, str(value) == chosen)
                        for value, text in field.choices  # type: ignore[attr-defined]
                    ],
                }
            )
        return drawn

    def filters(self) -> selectors.DirectoryFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return selectors.DirectoryFilters(
            q=data.get("q") or "",
            credential=data.get("credential"),
            category=data.get("category"),
            focus_area=data.get("focus_area"),
            school=data.get("school"),
            district=data.get("district") or "",
        )


@require_safe
def directory(request: HttpRequest, org_slug: str) -> HttpResponse:
    """The organization's directory: its members' listed profiles that the visitor may see
    (members and staff: "members" and "public" profiles; anyone else: the public ones)."""
    organization = request_organization(request)
    audience = selectors.directory_audience(organization=organization, user=request.user)
    form = SearchForm(request.GET, choices=selectors.filter_choices(organization=organization))
    valid = form.is_valid()
    filters = form.filters()
    page = (form.cleaned_data.get("page") if valid else None) or 1
    members, has_next = (
        selectors.directory_search(
            organization=organization, audience=audience, filters=filters, page=page
        )
        if valid
        else ([], False)
    )
    badges = selectors.directory_badges(members=members)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "badges/directory/directory.html",
        {
            "organization": organization,
            "form": form,
            "selects": form.selects(),
            "rows": [(m, badges.of(m.user_id)) for m in members],
            "page": page,
            "has_next": has_next,
            "querystring": query.urlencode(),
            "insider": selectors.Visibility.MEMBERS in audience,
            "searched": any(request.GET.get(name) for name in form.fields if name != "page"),
        },
        status=200 if valid else 400,
    )


class ProfileForm(forms.Form):
    visibility = forms.CharField(required=False)
    headline = forms.CharField(required=False, max_length=2000, strip=True)


@login_required
@require_http_methods(["GET", "POST"])
def directory_settings(request: HttpRequest) -> HttpResponse:
    """Opt in to the directories of one's organizations, and to whom; default not listed."""
    user: User = request.user  # type: ignore[assignment]
    profile = selectors.profile_get_for_user(user=user)
    values = {
        "visibility": profile.visibility if profile else DirectoryProfile.Visibility.HIDDEN,
        "headline": profile.headline if profile else "",
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = ProfileForm(request.POST)
        form.is_valid()
        values = {
            "visibility": form.cleaned_data.get("visibility", ""),
            "headline": form.cleaned_data.get("headline", request.POST.get("headline", "")),
        }
        try:
            profile = services.directory_profile_save(user=user, **values)
        except BadgeError as error:
            errors = {name: " ".join(texts) for name, texts in error.fields.items()}
        else:
            messages.success(
                request,
                _("Saved: %(visibility)s.") % {"visibility": profile.get_visibility_display()},
            )
            return redirect(reverse("directory:settings"))
    return render(
        request,
        "badges/directory/settings.html",
        {
            "values": values,
            "errors": errors,
            "choices": DirectoryProfile.Visibility.choices,
            "headline_max": services.HEADLINE_MAX,
            "needs_name": user.needs_badge_name,
        },
        status=400 if errors else 200,
    )
