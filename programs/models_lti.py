"""LTI 1.3: the learning platforms (LMS) an organization registered Tessera with as a tool.

One ``LtiPlatform`` row is one registration (issuer + client id) with its deployments, the
platform's endpoints, and the tool key pair this registration signs with (the private key stored
encrypted, ``programs.secrets``). ``LtiIdentity`` remembers which account a platform's user
(``sub``) signed in as; ``LtiGradeLink`` remembers where the platform wants the score of one
learner on one credential (an AGS line item), sent when the badge is issued.
"""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from credentials_site.models import TenantModel

from .models_sso import _domain_list
from .secrets import secret_decrypt, secret_encrypt


class LtiPlatform(TenantModel):
    """One LMS registration of Tessera as an LTI 1.3 tool."""

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public id")
    )
    name = models.CharField(
        max_length=120, help_text=_("e.g. Riverside Canvas."), verbose_name=_("name")
    )
    issuer = models.CharField(
        max_length=300,
        help_text=_("The platform's issuer (iss), e.g. https://canvas.instructure.com."),
        verbose_name=_("issuer"),
    )
    client_id = models.CharField(
        max_length=300,
        help_text=_("The client ID the platform gave Tessera."),
        verbose_name=_("client id"),
    )
    deployment_ids = ArrayField(
        models.CharField(max_length=300),
        verbose_name=_("deployment IDs"),
        default=list,
        help_text=_("The deployment IDs launches may come from (comma-separated)."),
    )
    auth_login_url = models.URLField(
        _("OIDC authorization URL"),
        max_length=500,
        help_text=_("The platform's OIDC auth endpoint."),
    )
    auth_token_url = models.URLField(
        _("access token URL"),
        max_length=500,
        help_text=_("The platform's OAuth2 token endpoint (AGS)."),
    )
    key_set_url = models.URLField(
        _("platform JWKS URL"),
        max_length=500,
        help_text=_("Where the platform publishes its keys."),
    )
    email_domains = ArrayField(
        models.CharField(max_length=200),
        verbose_name=_("e-mail domains"),
        default=list,
        blank=True,
        validators=[_domain_list],
        help_text=_(
            "The e-mail domains this platform is the authority for (comma-separated), "
            "e.g. riverside.k12.ca.us. A launch reaches an account that already exists by its "
            "verified address only in these domains; anyone else signs in to Tessera once and "
            "launches again, which links the two."
        ),
    )
    is_active = models.BooleanField(
        default=True, help_text=_("Untick to refuse its launches."), verbose_name=_("is active")
    )
    tool_public_key = models.TextField(
        editable=False, blank=True, verbose_name=_("tool public key")
    )
    tool_private_key_encrypted = models.TextField(
        editable=False, blank=True, verbose_name=_("tool private key encrypted")
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "issuer", "client_id"], name="one_lti_registration"
            )
        ]
        ordering = ["name"]
        verbose_name = _("LTI platform")
        verbose_name_plural = _("LTI platforms")

    def __str__(self) -> str:
        return self.name

    @property
    def tool_private_key(self) -> str:
        return secret_decrypt(self.tool_private_key_encrypted)

    @tool_private_key.setter
    def tool_private_key(self, value: str) -> None:
        self.tool_private_key_encrypted = secret_encrypt(value)


class LtiIdentity(TenantModel):
    """The account a platform's user (its ``sub``) signs in as."""

    platform = models.ForeignKey(
        LtiPlatform, on_delete=models.CASCADE, related_name="+", verbose_name=_("platform")
    )
    subject = models.CharField(max_length=255, verbose_name=_("subject"))
    user = models.ForeignKey(
        "programs.User", on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "subject"], name="one_lti_identity")
        ]
        verbose_name = _("LTI identity")
        verbose_name_plural = _("LTI identities")


class LtiGradeLink(TenantModel):
    """Where a platform takes the score of one learner on one credential (an AGS line item)."""

    platform = models.ForeignKey(
        LtiPlatform, on_delete=models.CASCADE, related_name="+", verbose_name=_("platform")
    )
    user = models.ForeignKey(
        "programs.User", on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    credential = models.ForeignKey(
        "programs.Credential",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("credential"),
    )
    subject = models.CharField(max_length=255, verbose_name=_("subject"))
    resource_link_id = models.CharField(max_length=255, verbose_name=_("resource link id"))
    lineitem_url = models.URLField(max_length=500, blank=True, verbose_name=_("lineitem url"))
    lineitems_url = models.URLField(max_length=500, blank=True, verbose_name=_("lineitems url"))
    scopes = ArrayField(models.CharField(max_length=200), default=list, verbose_name=_("scopes"))
    score_sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("score sent at"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "user", "credential", "resource_link_id"],
                name="one_lti_grade_link",
            )
        ]
        verbose_name = _("LTI grade link")
        verbose_name_plural = _("LTI grade links")
