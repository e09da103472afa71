"""LTI 1.3 platforms in the admin: a program admin registers the LMS (issuer, client id,
deployments, its endpoints) and copies the tool's URLs into it. The tool key pair is made on the
first save; the private key is stored encrypted and never shown."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..admin_site import admin_site
from ..models import LtiPlatform
from ..services.lti import lti_platform_keys_ensure
from .base import TenantAdmin
from .people import URL_FIELD_OVERRIDES


@admin.register(LtiPlatform, site=admin_site)
class LtiPlatformAdmin(TenantAdmin):
    formfield_overrides = URL_FIELD_OVERRIDES
    list_display = ("name", "issuer", "client_id", "is_active")
    readonly_fields = ("addresses_for_the_platform",)
    fields = (
        "organization",
        "name",
        "is_active",
        "issuer",
        "client_id",
        "deployment_ids",
        "auth_login_url",
        "auth_token_url",
        "key_set_url",
        "email_domains",
        "addresses_for_the_platform",
    )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = super().get_fields(request, obj)
        if "organization" in self.get_exclude(request, obj):
            fields = [f for f in fields if f != "organization"]
        return fields

    def save_model(self, request: HttpRequest, obj: LtiPlatform, form: Any, change: bool) -> None:
        lti_platform_keys_ensure(platform=obj)
        super().save_model(request, obj, form, change)

    @admin.display(description=_("give these to the platform"))
    def addresses_for_the_platform(self, obj: LtiPlatform) -> str:
        if obj.pk is None:
            return gettext("Shown once saved.")
        slug = obj.organization.slug

        def url(name: str) -> str:
            path = reverse(f"submissions:{name}", kwargs={"org_slug": slug})
            return settings.SITE_URL.rstrip("/") + path

        return format_html(
            gettext(
                "OIDC login initiation URL: <code>{}</code><br>Target link / redirect URI: "
                "<code>{}</code><br>Public keyset (JWKS) URL: <code>{}</code><br>Deep linking URL: "
                "<code>{}</code>"
            ),
            url("lti_login"),
            url("lti_launch"),
            url("lti_jwks"),
            url("lti_launch"),
        )
