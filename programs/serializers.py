"""Output (and query-parameter input) serializers of the public catalog API.

Read-only: every serializer here renders objects the selectors already loaded, with their related
rows selected or prefetched, so none of them runs a query per row. No database keys leave the
API: objects are named by slug, credentials also by ``public_id``.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from credentials_site.inputs import QueryInput

from .models import (
    Audience,
    Category,
    Credential,
    CredentialVersion,
    EvidenceRequirement,
    FocusArea,
    Organization,
    Pathway,
    Resource,
    RubricCriterion,
    RubricLevel,
)


def _absolute(context: dict[str, Any], path: str) -> str:
    request = context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


def _file_url(context: dict[str, Any], file: Any) -> str | None:
    if not file:
        return None
    return _absolute(context, file.url)


# How drf-spectacular documents a link the serializer computes.
URL = serializers.URLField()
NULLABLE_URL = serializers.URLField(allow_null=True)


def _credential_api_url(context: dict[str, Any], org_slug: str, credential_slug: str) -> str:
    return _absolute(
        context,
        reverse(
            "api:credential-detail",
            kwargs={"org_slug": org_slug, "credential_slug": credential_slug},
        ),
    )


# --- Errors ------------------------------------------------------------------------------


class ErrorOutput(serializers.Serializer[dict[str, Any]]):
    """Every API error has this shape."""

    code = serializers.CharField(help_text=_("A stable, machine-readable code, e.g. not_found."))
    message = serializers.CharField(help_text=_("What went wrong, written for a person."))
    # The metaclass pops declared fields from the class, so this does not shadow .fields.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("Problems per query parameter or field; empty when none."),
    )


# --- Query parameters ----------------------------------------------------------------------


class CredentialListFilterInput(QueryInput):
    """The catalog filters, as ``selectors.CatalogFilters`` takes them."""

    focus_area = serializers.SlugField(
        required=False, allow_blank=True, max_length=50, help_text=_("A focus area's slug.")
    )
    category = serializers.SlugField(
        required=False, allow_blank=True, max_length=50, help_text=_("A category's slug.")
    )
    level = serializers.ChoiceField(
        choices=CredentialVersion.Level.choices,
        required=False,
        allow_blank=True,
        help_text=_("The credential level."),
    )
    audience = serializers.SlugField(
        required=False, allow_blank=True, max_length=50, help_text=_("An audience's slug.")
    )
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text=_("Full-text search of title, summary and competency (web-search syntax)."),
    )


class CredentialDetailFilterInput(QueryInput):
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("An earlier published version's number; the current version if absent."),
    )


# --- Organizations -------------------------------------------------------------------------


class OrganizationOutput(serializers.ModelSerializer[Organization]):
    """An organization that publishes a catalog of micro-credentials."""

    # published_count is annotated by selectors.organization_list_public.

    logo = serializers.SerializerMethodField()
    catalog_url = serializers.SerializerMethodField()
    api_url = serializers.SerializerMethodField()
    published_count = serializers.IntegerField(
        read_only=True, help_text=_("Number of published credentials.")
    )

    class Meta:
        model = Organization
        fields: tuple[str, ...] = (
            "slug",
            "name",
            "short_name",
            "tagline",
            "website",
            "contact_email",
            "brand_colour",
            "logo",
            "catalog_url",
            "api_url",
            "published_count",
        )

    @extend_schema_field(NULLABLE_URL)
    def get_logo(self, obj: Organization) -> str | None:
        return _file_url(self.context, obj.logo)

    @extend_schema_field(URL)
    def get_catalog_url(self, obj: Organization) -> str:
        return _absolute(self.context, obj.get_absolute_url())

    @extend_schema_field(URL)
    def get_api_url(self, obj: Organization) -> str:
        return _absolute(
            self.context, reverse("api:organization-detail", kwargs={"org_slug": obj.slug})
        )


class IssuerOutput(serializers.Serializer[Organization]):
    """The Open Badges issuer profile, each field falling back to the organization's own."""

    name = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    email = serializers.SerializerMethodField()
    description = serializers.CharField(source="issuer_description")

    def get_name(self, obj: Organization) -> str:
        return obj.issuer_name or obj.name

    @extend_schema_field(serializers.URLField())
    def get_url(self, obj: Organization) -> str:
        return obj.issuer_url or obj.website

    @extend_schema_field(serializers.EmailField())
    def get_email(self, obj: Organization) -> str:
        return obj.issuer_email or obj.contact_email


class OrganizationDetailOutput(OrganizationOutput):
    """An organization, with the issuer profile shown on the badges it awards."""

    # Counted by the view (the organization comes from the tenancy middleware, unannotated).
    published_count = serializers.SerializerMethodField(  # type: ignore[assignment]
        help_text=_("Number of published credentials.")
    )
    issuer = IssuerOutput(source="*")

    class Meta(OrganizationOutput.Meta):
        fields = (
            *OrganizationOutput.Meta.fields,
            "description",
            "contact_name",
            "currency",
            "issuer",
        )

    def get_published_count(self, obj: Organization) -> int:
        return int(self.context["published_count"])


# --- Catalog structure ---------------------------------------------------------------------


class FocusAreaRefOutput(serializers.ModelSerializer[FocusArea]):
    class Meta:
        model = FocusArea
        fields = ("slug", "name")


class CategoryOutput(serializers.ModelSerializer[Category]):
    class Meta:
        model = Category
        fields = ("slug", "name")


class AudienceOutput(serializers.ModelSerializer[Audience]):
    class Meta:
        model = Audience
        fields = ("slug", "name")


class FocusAreaOutput(serializers.ModelSerializer[FocusArea]):
    """A focus area of the catalog."""

    # published_count is annotated by selectors.focus_area_list.

    published_count = serializers.IntegerField(
        read_only=True, help_text=_("Number of published credentials in this focus area.")
    )

    class Meta:
        model = FocusArea
        fields = ("slug", "name", "description", "published_count")


# --- Credentials ---------------------------------------------------------------------------


class _VersionSummaryFields(serializers.Serializer[CredentialVersion]):
    """What a catalog card shows, read from a ``CredentialVersion``."""

    slug = serializers.SlugField(source="credential.slug")
    public_id = serializers.UUIDField(source="credential.public_id")
    title = serializers.CharField()
    summary = serializers.CharField()
    level = serializers.ChoiceField(choices=CredentialVersion.Level.choices)
    level_label = serializers.CharField(source="get_level_display")
    focus_area = FocusAreaRefOutput(allow_null=True)
    categories = CategoryOutput(many=True)
    audiences = AudienceOutput(many=True)
    estimated_hours = serializers.DecimalField(max_digits=5, decimal_places=1)
    credit_hours = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    ceus = serializers.DecimalField(
        max_digits=5, decimal_places=2, allow_null=True, help_text=_("Continuing Education Units.")
    )
    members_only = serializers.BooleanField()
    member_fee = serializers.DecimalField(max_digits=8, decimal_places=2)
    non_member_fee = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        allow_null=True,
        help_text=_("Null when the credential is for members only."),
    )
    currency = serializers.CharField(source="organization.currency")
    version = serializers.IntegerField(source="number")
    published_at = serializers.DateTimeField(allow_null=True)
    badge_image = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField(help_text=_("The credential's page on the site."))
    api_url = serializers.SerializerMethodField()

    @extend_schema_field(NULLABLE_URL)
    def get_badge_image(self, obj: CredentialVersion) -> str | None:
        # served by the public image view (checked type, no-script policy), never the storage URL
        if not obj.has_artwork:
            return None
        return _absolute(
            self.context,
            reverse(
                "badges:achievement_image",
                args=[obj.organization.slug, obj.credential.slug, obj.number],
            ),
        )

    @extend_schema_field(URL)
    def get_url(self, obj: CredentialVersion) -> str:
        return _absolute(self.context, obj.credential.get_absolute_url())

    @extend_schema_field(URL)
    def get_api_url(self, obj: CredentialVersion) -> str:
        return _credential_api_url(self.context, obj.organization.slug, obj.credential.slug)


class CredentialListOutput(_VersionSummaryFields):
    """A published credential as the catalog lists it: the card of its current version."""

    # Renders a Credential from selectors.credential_list_published, which loads the current
    # version, its focus area, categories and audiences with it.

    def to_representation(self, instance: Credential) -> dict[str, Any]:  # type: ignore[override]
        version = instance.current_version
        if version is None:  # a published credential always has one (a database constraint)
            raise ValueError(f"Published credential {instance.slug} has no current version.")
        # Link the version back to the rows already loaded, so reading ``version.credential``
        # and ``version.organization`` runs no query.
        version.credential = instance
        version.organization = instance.organization
        return super().to_representation(version)


class ResourceOutput(serializers.ModelSerializer[Resource]):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Resource
        fields = ("kind", "title", "url", "description")

    @extend_schema_field(NULLABLE_URL)
    def get_url(self, obj: Resource) -> str | None:
        return obj.url or _file_url(self.context, obj.file)


class RequirementOutput(serializers.ModelSerializer[EvidenceRequirement]):
    """An evidence requirement; quizzes show only how many questions they have, never the
    questions or their answers."""

    question_count = serializers.SerializerMethodField()

    class Meta:
        model = EvidenceRequirement
        fields = (
            "position",
            "title",
            "instructions",
            "kind",
            "required",
            "accepted_file_kinds",
            "max_file_size_mb",
            "max_files",
            "word_min",
            "word_max",
            "pass_mark_percent",
            "question_count",
        )

    def get_question_count(self, obj: EvidenceRequirement) -> int:
        return len(obj.questions.all())  # prefetched by the selector


class RubricLevelOutput(serializers.ModelSerializer[RubricLevel]):
    class Meta:
        model = RubricLevel
        fields = ("score", "label", "descriptor")


class RubricCriterionOutput(serializers.ModelSerializer[RubricCriterion]):
    requirement = serializers.SerializerMethodField(
        help_text=_(
            "The title of the evidence this criterion scores; null for the whole submission."
        )
    )
    levels = RubricLevelOutput(many=True)

    class Meta:
        model = RubricCriterion
        fields = ("title", "description", "requirement", "passing_score", "levels")

    def get_requirement(self, obj: RubricCriterion) -> str | None:
        return obj.requirement.title if obj.requirement else None  # selected by the selector


class ExpiryOutput(serializers.Serializer[CredentialVersion]):
    policy = serializers.ChoiceField(
        source="expiry_policy", choices=CredentialVersion.ExpiryPolicy.choices
    )
    months = serializers.IntegerField(source="expiry_months", allow_null=True)
    display = serializers.CharField(source="expiry_display")


class VersionHistoryOutput(serializers.ModelSerializer[CredentialVersion]):
    class Meta:
        model = CredentialVersion
        fields = ("number", "published_at", "state")


class CredentialDetailOutput(_VersionSummaryFields):
    """A credential's version in full: the current one, or an earlier (superseded) one."""

    # The version history comes from the context ("history"), read by the view.

    state = serializers.ChoiceField(choices=CredentialVersion.State.choices)
    is_current = serializers.SerializerMethodField()
    competency = serializers.CharField()
    key_method = serializers.CharField()
    method_components = serializers.ListField(
        child=serializers.CharField(), source="components_list"
    )
    learning_objectives = serializers.ListField(
        child=serializers.CharField(), source="objectives_list"
    )
    research = serializers.CharField()
    resources = ResourceOutput(many=True)
    requirements = RequirementOutput(many=True)
    rubric = RubricCriterionOutput(many=True, source="criteria")
    expiry = ExpiryOutput(source="*")
    reviewers_required = serializers.IntegerField()
    max_attempts = serializers.IntegerField()
    contact_name = serializers.SerializerMethodField()
    contact_email = serializers.SerializerMethodField()
    versions = serializers.SerializerMethodField()

    def get_is_current(self, obj: CredentialVersion) -> bool:
        return obj.state == CredentialVersion.State.PUBLISHED

    @extend_schema_field(URL)
    def get_url(self, obj: CredentialVersion) -> str:
        if obj.state == CredentialVersion.State.PUBLISHED:
            return super().get_url(obj)
        return _absolute(
            self.context,
            reverse(
                "programs:credential_version",
                kwargs={
                    "org_slug": obj.organization.slug,
                    "credential_slug": obj.credential.slug,
                    "number": obj.number,
                },
            ),
        )

    @extend_schema_field(URL)
    def get_api_url(self, obj: CredentialVersion) -> str:
        url = super().get_api_url(obj)
        if obj.state == CredentialVersion.State.PUBLISHED:
            return url
        return f"{url}?version={obj.number}"

    def get_contact_name(self, obj: CredentialVersion) -> str:
        return obj.credential.program.contact_name or obj.organization.contact_name

    def get_contact_email(self, obj: CredentialVersion) -> str:
        return obj.credential.program.contact_email or obj.organization.contact_email

    @extend_schema_field(VersionHistoryOutput(many=True))
    def get_versions(self, obj: CredentialVersion) -> Any:
        return VersionHistoryOutput(self.context["history"], many=True).data


# --- Pathways ------------------------------------------------------------------------------


class PathwayCredentialOutput(serializers.Serializer[Credential]):
    slug = serializers.SlugField()
    public_id = serializers.UUIDField()
    title = serializers.CharField(source="current_version.title")
    api_url = serializers.SerializerMethodField()

    @extend_schema_field(URL)
    def get_api_url(self, obj: Credential) -> str:
        return _credential_api_url(self.context, obj.organization.slug, obj.slug)


class PathwayOutput(serializers.ModelSerializer[Pathway]):
    badge_image = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField(help_text=_("The pathway's page on the site."))
    credentials = PathwayCredentialOutput(many=True)

    class Meta:
        model = Pathway
        fields = (
            "slug",
            "name",
            "certificate_name",
            "description",
            "badge_image",
            "url",
            "credentials",
        )

    @extend_schema_field(NULLABLE_URL)
    def get_badge_image(self, obj: Pathway) -> str | None:
        return _file_url(self.context, obj.badge_image)

    @extend_schema_field(URL)
    def get_url(self, obj: Pathway) -> str:
        return _absolute(
            self.context,
            reverse(
                "programs:pathway_detail",
                kwargs={"org_slug": self.context["organization"].slug, "pathway_slug": obj.slug},
            ),
        )
