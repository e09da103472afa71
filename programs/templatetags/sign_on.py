"""``{% sign_on_buttons %}``: an organization's "Sign in with <provider>" buttons.

On an organization's page (``organization`` given) they return to that page after sign-in; on
the login page they are those of the organization the visitor came from (``?next=/o/<slug>/…``),
and none when they came from no organization's page."""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.urls import reverse

from .. import selectors
from ..models import Organization
from ..sso import allow_form_actions, login_url, sign_on_list_for_organization

register = template.Library()

ORG_PATH = re.compile(r"^/o/(?P<slug>[-a-zA-Z0-9_]+)/")


@register.inclusion_tag("programs/_sign_on.html", takes_context=True)
def sign_on_buttons(context: Any, organization: Organization | None = None) -> dict[str, Any]:
    request = context["request"]
    if request.user.is_authenticated:
        return {"buttons": []}
    on_login_page = organization is None
    if organization is not None:
        next_url = request.get_full_path()
    else:
        next_url = request.GET.get("next", "")
        match = ORG_PATH.match(next_url)
        organization = selectors.organization_get_public(slug=match["slug"]) if match else None
        if organization is None:
            return {"buttons": []}
    sign_ons = sign_on_list_for_organization(organization=organization)
    allow_form_actions(request, sign_ons)
    buttons = [{"name": s.name, "url": login_url(s, organization=organization)} for s in sign_ons]
    return {
        "buttons": buttons,
        "organization": organization,
        "next_url": next_url,
        "on_login_page": on_login_page,
        "login_url": reverse("account_login"),
    }
