"""The "Review queue" link in the site header, for people with a reviewer role:
``{% load reviewing %}{% review_nav %}`` in base.html's account menu. At most one query per
request, and none for anonymous visitors (see access.reviewing_organizations)."""

from __future__ import annotations

from typing import Any

from django import template

from .. import access

register = template.Library()


@register.inclusion_tag("reviews/_nav.html", takes_context=True)
def review_nav(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    organizations = access.reviewing_organizations(request=request) if request else []
    current = getattr(request, "organization", None)
    return {"organizations": organizations, "current": current, "request": request}
