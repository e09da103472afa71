"""Single sign-on: an organization's identity providers (OpenID Connect, SAML 2.0).

Each row becomes one django-allauth ``SocialApp`` at sign-in time (``programs.sso``), built in
memory with the client secret decrypted there and then: nothing of it is copied into allauth's
own tables. The secret is stored encrypted (``programs.secrets``).
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from credentials_site.models import TenantModel

from .secrets import secret_decrypt, secret_encrypt


def _domain_list(values: list[str]) -> None:
    for value in values:
        if "@" in value or "." not in value or " " in value:
            raise ValidationError(
                _(
                    "“%(value)s” is not an e-mail domain: write it as riverside.k12.ca.us, "
                    "without the @."
                )
                % {"value": value}
            )


class SignOnProvider(TenantModel):
    """One identity provider an organization's people sign in with."""

    class Protocol(models.TextChoices):
        OIDC = "oidc", _("OpenID Connect")
        SAML = "saml", _("SAML 2.0")

    class MembershipRule(models.TextChoices):
        NONE = "none", _("No: memberships are given as before")
        DOMAIN = "domain", _("Yes, when the e-mail is in one of the membership domains")
        CLAIM = "claim", _("Yes, when a claim (OIDC) or attribute (SAML) has a value")

    protocol = models.CharField(max_length=4, choices=Protocol.choices, verbose_name=_("protocol"))
    name = models.CharField(
        max_length=80,
        help_text=_("Shown on the button: “Sign in with <name>”, e.g. Riverside Google Workspace."),
        verbose_name=_("name"),
    )
    is_active = models.BooleanField(
        default=True, help_text=_("Untick to hide the button."), verbose_name=_("is active")
    )
    # --- OpenID Connect
    server_url = models.URLField(
        _("issuer or discovery URL"),
        blank=True,
        help_text=_(
            "OpenID Connect: the issuer, e.g. https://accounts.google.com "
            "(/.well-known/openid-configuration is added), or the discovery document's URL."
        ),
    )
    client_id = models.CharField(
        max_length=300, blank=True, help_text=_("OpenID Connect."), verbose_name=_("client id")
    )
    client_secret_encrypted = models.TextField(
        blank=True, editable=False, verbose_name=_("client secret encrypted")
    )
    # --- SAML 2.0
    idp_entity_id = models.CharField(_("IdP entity ID"), max_length=500, blank=True)
    idp_sso_url = models.URLField(_("IdP single sign-on URL"), blank=True)
    idp_x509_cert = models.TextField(
        _("IdP signing certificate"),
        blank=True,
        help_text=_("SAML: the identity provider's X.509 signing certificate (PEM)."),
    )
    idp_metadata_url = models.URLField(
        _("IdP metadata URL"),
        blank=True,
        help_text=_("SAML: instead of the URL and certificate above, the IdP's metadata address."),
    )
    # --- Trust and membership
    email_domains = ArrayField(
        models.CharField(max_length=200),
        verbose_name=_("e-mail domains"),
        default=list,
        blank=True,
        validators=[_domain_list],
        help_text=_(
            "The e-mail domains this provider is the authority for (comma-separated), "
            "e.g. riverside.k12.ca.us. Only addresses in them may sign in to an account that "
            "already exists; SAML addresses in them count as verified."
        ),
    )
    email_authentication = models.BooleanField(
        _("sign in to existing accounts by e-mail"),
        default=False,
        help_text=_(
            "A verified address in the domains above reaches the account that already "
            "has it (and links it). Leave unticked unless you trust this provider with those "
            "addresses."
        ),
    )
    membership_rule = models.CharField(
        _("make members on sign-in"),
        max_length=8,
        choices=MembershipRule.choices,
        default=MembershipRule.NONE,
    )
    membership_domains = ArrayField(
        models.CharField(max_length=200),
        default=list,
        blank=True,
        validators=[_domain_list],
        help_text=_("For “e-mail domain”: e.g. riverside.k12.ca.us (comma-separated)."),
        verbose_name=_("membership domains"),
    )
    membership_claim = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("For “claim”: its name, e.g. groups."),
        verbose_name=_("membership claim"),
    )
    membership_claim_value = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("For “claim”: the value, e.g. gael-members."),
        verbose_name=_("membership claim value"),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "protocol"], name="one_sign_on_per_protocol"
            )
        ]
        ordering = ["protocol"]
        verbose_name = _("sign-on provider")
        verbose_name_plural = _("sign-on providers")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_protocol_display()})"

    @property
    def client_secret(self) -> str:
        return secret_decrypt(self.client_secret_encrypted)

    @client_secret.setter
    def client_secret(self, value: str) -> None:
        self.client_secret_encrypted = secret_encrypt(value) if value else ""

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.protocol == self.Protocol.OIDC:
            for field in ("server_url", "client_id"):
                if not getattr(self, field):
                    errors[field] = gettext("OpenID Connect needs this.")
        elif self.protocol == self.Protocol.SAML:
            if not self.idp_entity_id:
                errors["idp_entity_id"] = gettext("SAML needs the identity provider's entity ID.")
            if not self.idp_metadata_url:
                if not self.idp_sso_url:
                    errors["idp_sso_url"] = gettext(
                        "Give the single sign-on URL, or a metadata URL."
                    )
                if not self.idp_x509_cert.strip():
                    errors["idp_x509_cert"] = gettext(
                        "Give the signing certificate, or a metadata URL."
                    )
        if self.membership_rule == self.MembershipRule.DOMAIN and not self.membership_domains:
            errors["membership_domains"] = gettext(
                "Name at least one domain whose people are members."
            )
        if self.membership_rule == self.MembershipRule.CLAIM:
            if not self.membership_claim:
                errors["membership_claim"] = gettext("Name the claim, e.g. groups.")
            if not self.membership_claim_value:
                errors["membership_claim_value"] = gettext("Give the value, e.g. gael-members.")
        if self.email_authentication and not self.email_domains:
            errors["email_domains"] = gettext(
                "Name the domains this provider is the authority for: only those addresses "
                "may reach existing accounts."
            )
        if errors:
            raise ValidationError(errors)
