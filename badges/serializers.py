"""Input and output serializers of the badges API (my badges, an organization's badges,
revocation).

Inputs only parse and type-check; every rule (who may revoke, that a reason is given, that a
badge is revoked once) is the services'. Outputs render rows the selectors already loaded with
their organization (and, for program admins, recipient) selected, so none of them runs a query
per row. Badges are named by their opaque ``public_id``; no database key, and nothing of a
signing key but what the signed credential itself carries (its public verification method),
ever leaves the API.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from credentials_site.inputs import QueryInput, StrictInput

from . import documents, services, sharing
from .models import Badge
from .selectors import BADGE_STATES

# --- Inputs --------------------------------------------------------------------------------


class BadgeListFilterInput(QueryInput):
    """The program admin's filters of an organization's badges."""

    state = serializers.ChoiceField(
        choices=[("", "any"), *[(s, s) for s in BADGE_STATES]],
        required=False,
        allow_blank=True,
        default="",
        help_text=_("valid, expired or revoked; any state when empty."),
    )
    credential = serializers.SlugField(
        required=False,
        allow_blank=True,
        max_length=50,
        default="",
        help_text=_("A credential's slug: only badges of that micro-credential."),
    )


class BadgeRevokeInput(StrictInput):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=500,
        help_text=_(
            "The public reason (required). Shown to anyone who checks this badge: its "
            "verification page, its Open Badges 2.0 assertion and this API; the educator is "
            "e-mailed it too."
        ),
    )
    private_note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text=_(
            "Optional. Only the educator (by e-mail) and your organization's admins see "
            "this: it is kept in the audit trail and never shown on a public page or document."
        ),
    )
    keep_certificates = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_(
            "Keep the pathway certificates that require this badge valid. By default "
            "(false) they are revoked too, each with its own public reason naming this badge."
        ),
    )


# --- Outputs -------------------------------------------------------------------------------


class BadgeOrganizationOutput(serializers.Serializer[Any]):
    slug = serializers.SlugField()
    name = serializers.CharField()


class BadgeOutput(serializers.Serializer[Badge]):
    """One badge as its earner sees it in a list."""

    id = serializers.UUIDField(source="public_id", help_text=_("The badge's opaque id."))
    # A plain string: "kind" already names other choice sets in the schema.
    kind = serializers.CharField(help_text=_("credential (a micro-credential) or pathway."))
    name = serializers.CharField()
    organization = BadgeOrganizationOutput(help_text=_("The issuer."))
    credential_slug = serializers.SerializerMethodField(
        help_text=_("The micro-credential's slug; null for a pathway certificate.")
    )
    pathway_slug = serializers.SerializerMethodField(
        help_text=_("The pathway's slug; null for a micro-credential badge.")
    )
    issued_at = serializers.DateTimeField()
    valid_until = serializers.DateTimeField(allow_null=True, help_text=_("Null: never expires."))
    state = serializers.SerializerMethodField(help_text=_("valid, expired or revoked."))
    revoked_at = serializers.DateTimeField(allow_null=True)
    revocation_reason = serializers.CharField(
        help_text=_("The public reason of the revocation; empty unless revoked.")
    )
    is_public = serializers.BooleanField(
        help_text=_("Listed on the earner's public profile (the verification page works anyway).")
    )
    image_url = serializers.SerializerMethodField(help_text=_("The achievement's image."))
    verify_url = serializers.SerializerMethodField(help_text=_("The public verification page."))
    json_url = serializers.SerializerMethodField(help_text=_("The signed credential as JSON."))

    @extend_schema_field(serializers.SlugField(allow_null=True))
    def get_credential_slug(self, obj: Badge) -> str | None:
        return obj.version.credential.slug if obj.version is not None else None

    @extend_schema_field(serializers.SlugField(allow_null=True))
    def get_pathway_slug(self, obj: Badge) -> str | None:
        return obj.pathway.slug if obj.pathway is not None else None

    # A plain string: "state" already names the credential versions' choice set in the schema.
    @extend_schema_field(OpenApiTypes.STR)
    def get_state(self, obj: Badge) -> str:
        return obj.state

    @extend_schema_field(OpenApiTypes.URI)
    def get_image_url(self, obj: Badge) -> str:
        return sharing.image_url(obj)

    @extend_schema_field(OpenApiTypes.URI)
    def get_verify_url(self, obj: Badge) -> str:
        return services.badge_url(obj)

    @extend_schema_field(OpenApiTypes.URI)
    def get_json_url(self, obj: Badge) -> str:
        return documents.site_url(reverse("badges:json", args=[obj.public_id]))


class BadgeDetailOutput(BadgeOutput):
    """One of the caller's badges with its signed OpenBadgeCredential, exactly as issued."""

    credential = serializers.SerializerMethodField(
        help_text=_(
            "The signed Open Badges 3.0 OpenBadgeCredential (W3C VC 2.0, Data Integrity "
            "proof eddsa-rdfc-2022)."
        )
    )

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_credential(self, obj: Badge) -> dict[str, Any]:
        return obj.credential  # type: ignore[no-any-return]


class BadgeRecipientOutput(serializers.Serializer[Any]):
    name = serializers.CharField(source="full_name")
    email = serializers.EmailField()


class OrganizationBadgeOutput(BadgeOutput):
    """One of the organization's badges, as its program admins see it: with its earner and the
    revocation's private note."""

    recipient = BadgeRecipientOutput()
    revocation_note = serializers.CharField(
        help_text=_(
            "The revocation's private note: only the educator (by e-mail) and the "
            "organization's admins see it. Empty unless revoked with one."
        )
    )


class BadgeRevokeOutput(OrganizationBadgeOutput):
    """The revoked badge, and the pathway certificates revoked with it."""

    certificates_revoked = OrganizationBadgeOutput(
        many=True,
        help_text=_(
            "The pathway certificates of the same educator that required this badge, "
            "revoked with it (empty when kept valid, or when none did)."
        ),
    )
