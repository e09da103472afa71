"""Asking to join an organization (from a members-only credential's page): a thin view over
``services.membership_request_submit``."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from credentials_site.exceptions import ApplicationError
from credentials_site.tenancy import request_organization

from . import selectors, services
from .models import Credential, User


class JoinRequestForm(forms.Form):
    member_number = forms.CharField(
        label=_("Member number"),
        max_length=40,
        required=False,
        help_text=_("If you have one (it speeds things up)."),
    )
    school = forms.CharField(label=_("School"), max_length=200, required=False)
    note = forms.CharField(
        label=_("Note"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Anything that helps them find you, e.g. when you joined."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def join_request(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization = request_organization(request)
    user: User = request.user  # type: ignore[assignment]
    slug = (request.POST if request.method == "POST" else request.GET).get("credential", "")
    credential = Credential.objects.filter(organization=organization, slug=slug[:50]).first()
    back = credential.get_absolute_url() if credential else organization.get_absolute_url()
    form = JoinRequestForm(
        request.POST or None, initial={"school": user.school} if request.method == "GET" else None
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_request_submit(
                organization=organization, user=user, credential=credential, **form.cleaned_data
            )
        except ApplicationError as error:
            for field, problems in error.fields.items():
                if field in form.fields:
                    for problem in problems:
                        form.add_error(field, problem)
            if not error.fields:
                messages.error(request, error.message)
                return redirect(back)
        else:
            label = organization.short_name or organization.name
            messages.success(
                request,
                gettext(
                    "Your request to join %(organization)s is sent. We will e-mail you the answer."
                )
                % {"organization": label},
            )
            return redirect(back)
    return render(
        request,
        "programs/join_request.html",
        {
            "organization": organization,
            "credential": credential,
            "form": form,
            "back": back,
            "membership": selectors.membership_get(organization=organization, user=user),
            "join_request": selectors.membership_request_latest(
                organization=organization, user=user
            ),
        },
    )
