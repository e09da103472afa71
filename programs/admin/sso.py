"""Single sign-on providers in the admin: one OpenID Connect and/or one SAML 2.0 identity
provider per organization. The client secret is write-only: typed in, stored encrypted, never
shown again (leave it empty to keep the stored one)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..admin_site import admin_site
from ..models import SignOnProvider
from ..secrets import SecretUnreadable
from ..sso import provider_id_of
from .base import TenantAdmin, TenantFormMixin
from .people import URL_FIELD_OVERRIDES


def _formfield(field: models.Field[Any, Any], **kwargs: Any) -> Any:
    """Model fields as form fields, addresses typed without a scheme taken as https://."""
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


SECRET_NEEDED = _("OpenID Connect needs the client secret the identity provider gave you.")


class SignOnProviderForm(TenantFormMixin):
    client_secret = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "OpenID Connect. Stored encrypted and never shown again; leave empty to keep "
            "the one stored."
        ),
    )

    class Meta:
        model = SignOnProvider
        exclude = ("client_secret_encrypted",)
        formfield_callback = _formfield

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if (
            cleaned.get("protocol") == SignOnProvider.Protocol.OIDC
            and not cleaned.get("client_secret")
            and not self.instance.client_secret_encrypted
        ):
            self.add_error("client_secret", SECRET_NEEDED)
        return cleaned

    def save(self, commit: bool = True) -> Any:
        if secret := self.cleaned_data.get("client_secret"):
            self.instance.client_secret = secret
        return super().save(commit)


@admin.register(SignOnProvider, site=admin_site)
class SignOnProviderAdmin(TenantAdmin):
    form = SignOnProviderForm
    formfield_overrides = URL_FIELD_OVERRIDES
    list_display = ("name", "protocol", "is_active", "membership_rule", "email_authentication")
    readonly_fields = ("secret_stored", "addresses_for_the_identity_provider")
    fieldsets = (
        (None, {"fields": ("organization", "protocol", "name", "is_active")}),
        (
            "OpenID Connect",
            {"fields": ("server_url", "client_id", "client_secret", "secret_stored")},
        ),
        (
            "SAML 2.0",
            {"fields": ("idp_entity_id", "idp_sso_url", "idp_x509_cert", "idp_metadata_url")},
        ),
        (_("Trust"), {"fields": ("email_domains", "email_authentication")}),
        (
            _("Membership"),
            {
                "fields": (
                    "membership_rule",
                    "membership_domains",
                    "membership_claim",
                    "membership_claim_value",
                )
            },
        ),
        (
            _("Give these to the identity provider"),
            {"fields": ("addresses_for_the_identity_provider",)},
        ),
    )

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if "organization" in self.get_exclude(request, obj):
            first = fieldsets[0][1]["fields"]
            fieldsets = (
                (None, {"fields": tuple(f for f in first if f != "organization")}),
                *fieldsets[1:],
            )
        return fieldsets

    @admin.display(description=_("secret stored"))
    def secret_stored(self, obj: SignOnProvider) -> str:
        if not obj.client_secret_encrypted:
            return gettext("no")
        try:
            obj.client_secret  # noqa: B018 (decrypts, or says why not)
        except SecretUnreadable as error:
            return gettext("unreadable: %(error)s") % {"error": error}
        return gettext("yes (encrypted)")

    @admin.display(description=_("addresses"))
    def addresses_for_the_identity_provider(self, obj: SignOnProvider) -> str:
        if obj.pk is None:
            return gettext("Shown once saved.")
        slug = obj.organization.slug
        if obj.protocol == SignOnProvider.Protocol.OIDC:
            callback = reverse(
                "openid_connect_callback", kwargs={"provider_id": provider_id_of(obj)}
            )
            return format_html(gettext("Redirect URI: <code>{}</code>"), self._absolute(callback))
        return format_html(
            gettext(
                "Metadata (entity ID): <code>{}</code><br>Assertion consumer service: "
                "<code>{}</code>"
            ),
            self._absolute(reverse("saml_metadata", kwargs={"organization_slug": slug})),
            self._absolute(reverse("saml_acs", kwargs={"organization_slug": slug})),
        )

    def _absolute(self, path: str) -> str:
        from django.conf import settings

        return settings.SITE_URL.rstrip("/") + path
