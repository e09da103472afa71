"""The Apply box on a credential page (programs' template), drawn by submissions, which knows
about applications: ``{% load applications %}{% apply_box %}``."""

from __future__ import annotations

from typing import Any

from django import template

from programs.sso import allow_form_action_origins

from .. import dashboard
from ..services import payments

register = template.Library()


@register.inclusion_tag("submissions/_apply_box.html", takes_context=True)
def apply_box(context: template.Context) -> dict[str, Any]:
    request = context["request"]
    version = context["version"]
    credential = context["credential"]
    box = dashboard.apply_box(
        credential=credential,
        version=version,
        membership=context.get("membership"),
        user=request.user,
    )
    if box["pay_online"]:
        allow_form_action_origins(request, [payments.CHECKOUT_ORIGIN])
    return {
        **box,
        "request": request,
        "user": request.user,
        "version": version,
        "credential": credential,
        "organization": context["organization"],
        "membership": context.get("membership"),
        "join_request": context.get("join_request"),
        "csrf_token": context.get("csrf_token"),
    }
