"""Admin for programs. Every page is limited to the organizations the user administers.

The middleware enters a scope of those organizations for every admin URL, so tenant querysets
(including foreign-key choices) cannot reach another organization; this module adds the
permission checks by role, fills in ``organization`` and refuses cross-organization links.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django_scopes.forms import SafeModelChoiceField, SafeModelMultipleChoiceField

from credentials_site.exceptions import ApplicationError
from credentials_site.models import TenantModel

from . import selectors, services
from .admin_site import admin_site, administered_org_ids
from .models import (
    Audience,
    AuditEvent,
    Category,
    Credential,
    CredentialVersion,
    EvidenceRequirement,
    FileKind,
    FocusArea,
    Membership,
    Organization,
    Pathway,
    Program,
    QuizChoice,
    QuizQuestion,
    Resource,
    RubricCriterion,
    RubricLevel,
    StaffRole,
    User,
)

# --- Tenant plumbing ---------------------------------------------------------------------------


def safe_field_classes(model: type[models.Model]) -> dict[str, Any]:
    """Form field classes for a ModelForm declared at import time: tenant querysets cannot be
    evaluated outside a scope, so they start empty and the admin fills them per request."""
    classes: dict[str, Any] = {}
    for field in model._meta.get_fields():
        related = getattr(field, "related_model", None)
        if not (field.concrete and related and issubclass(related, TenantModel)):
            continue
        classes[field.name] = (
            SafeModelMultipleChoiceField if field.many_to_many else SafeModelChoiceField
        )
    return classes


def _single_org_id(request: HttpRequest) -> int | None:
    ids = administered_org_ids(request)
    return ids[0] if len(ids) == 1 and not request.user.is_superuser else None


class TenantFormMixin(forms.ModelForm):
    """Refuses links to another organization's objects (possible only for people who administer
    several organizations, since choices are already scoped)."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        organization = cleaned.get("organization") or getattr(self.instance, "organization", None)
        if self.instance.organization_id is None and organization is None:
            organization = getattr(self, "_parent_organization", None)
        if organization is None:
            return cleaned
        for name, value in cleaned.items():
            related = list(value) if isinstance(value, QuerySet | list) else [value]
            for item in related:
                if isinstance(item, TenantModel) and item.organization_id != organization.pk:
                    self.add_error(name, "Choose an item of this credential's own organization.")
                    break
        return cleaned


class TenantAdmin(admin.ModelAdmin):
    """Base for every tenant model's admin."""

    form = TenantFormMixin

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).filter(organization__in=administered_org_ids(request))

    def _allowed(self, request: HttpRequest, obj: Any = None) -> bool:
        ids = administered_org_ids(request)
        if not ids:
            return False
        return obj is None or obj.organization_id in ids

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj)

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        exclude = list(super().get_exclude(request, obj) or [])
        if _single_org_id(request) is not None or obj is not None:
            exclude.append("organization")
        return exclude

    def get_list_display(self, request: HttpRequest) -> Any:
        display = list(super().get_list_display(request))
        if len(administered_org_ids(request)) > 1:
            display.append("organization")
        return display

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "organization":
            kwargs["queryset"] = Organization.objects.filter(pk__in=administered_org_ids(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if obj.organization_id is None:
            obj.organization_id = _single_org_id(request)
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        instances = formset.save(commit=False)
        for instance in instances:
            if isinstance(instance, TenantModel) and instance.organization_id is None:
                instance.organization_id = form.instance.organization_id
            instance.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()


class TenantInline(admin.TabularInline):
    extra = 0
    exclude = ("organization",)

    def _allowed(self, request: HttpRequest, obj: Any = None) -> bool:
        ids = administered_org_ids(request)
        return bool(ids) and (obj is None or obj.organization_id in ids)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj) and _editable(obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj) and _editable(obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj) and _editable(obj)


def _editable(obj: Any) -> bool:
    """Content of a published version is frozen; so is everything below it."""
    version = _version_of(obj)
    return version is None or version.is_editable


def _version_of(obj: Any) -> CredentialVersion | None:
    if isinstance(obj, CredentialVersion):
        return obj
    if isinstance(obj, EvidenceRequirement | RubricCriterion | Resource):
        return obj.version
    if isinstance(obj, QuizQuestion):
        return obj.requirement.version
    return None


class UserByEmailForm(TenantFormMixin):
    """Pick a person by e-mail instead of from a list of every account on the site."""

    user_email = forms.EmailField(
        label="E-mail",
        help_text="Their Tessera account. If they have none yet, one is created; they set a "
        "password with “Forgot password?”.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.user_id:
            self.fields["user_email"].initial = self.instance.user.email

    def clean_user_email(self) -> str:
        return str(self.cleaned_data["user_email"]).strip().lower()

    def save(self, commit: bool = True) -> Any:
        email = self.cleaned_data["user_email"]
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=None)
        self.instance.user = user
        return super().save(commit)


# --- Organization and people -------------------------------------------------------------------


@admin.register(Organization, site=admin_site)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "publishes_catalog", "is_active")
    prepopulated_fields = {"slug": ("name",)}
    fieldsets = (
        (None, {"fields": ("name", "short_name", "slug", "tagline", "description")}),
        ("Brand", {"fields": ("logo", "brand_colour")}),
        ("Contact", {"fields": ("website", "contact_name", "contact_email", "currency")}),
        (
            "Issuer profile (shown on the badges you issue)",
            {"fields": ("issuer_name", "issuer_url", "issuer_email", "issuer_description")},
        ),
        ("Publishing", {"fields": ("publishes_catalog", "is_active")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        return super().get_queryset(request).filter(pk__in=administered_org_ids(request))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if request.user.is_superuser else ("slug", "is_active")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(administered_org_ids(request))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        ids = administered_org_ids(request)
        return bool(ids) and (obj is None or obj.pk in ids)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        owned = selectors.organization_ids_owned_by(user=request.user)
        return bool(owned) and (obj is None or obj.pk in owned)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # organizations are deactivated, never deleted with their badges


@admin.register(User, site=admin_site)
class UserAdmin(DjangoUserAdmin):
    """Platform operators only: program admins manage people through members and roles."""

    ordering = ("email",)
    list_display = ("email", "full_name", "is_active", "is_superuser", "date_joined")
    search_fields = ("email", "full_name")
    list_filter = ("is_active", "is_superuser")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "school", "district")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    has_change_permission = has_view_permission
    has_delete_permission = has_view_permission

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)


@admin.register(Membership, site=admin_site)
class MembershipAdmin(TenantAdmin):
    form = UserByEmailForm
    list_display = ("user", "status", "member_number", "member_until", "membership")
    list_filter = ("status",)
    search_fields = ("user__email", "user__full_name", "member_number")
    list_select_related = ("user", "organization")
    exclude = ("user",)
    date_hierarchy = "member_until"

    @admin.display(description="Shown as")
    def membership(self, obj: Membership) -> str:
        return obj.describe()


class StaffRoleForm(UserByEmailForm):
    class Meta:
        model = StaffRole
        fields = ("role", "programs")
        field_classes = safe_field_classes(StaffRole)


@admin.register(StaffRole, site=admin_site)
class StaffRoleAdmin(TenantAdmin):
    form = StaffRoleForm
    list_display = ("user", "role")
    list_filter = ("role",)
    search_fields = ("user__email", "user__full_name")
    list_select_related = ("user", "organization")
    filter_horizontal = ("programs",)
    exclude = ("user",)


@admin.register(AuditEvent, site=admin_site)
class AuditEventAdmin(TenantAdmin):
    list_display = ("created_at", "actor", "action", "summary")
    list_filter = ("action",)
    search_fields = ("summary", "object_id")
    list_select_related = ("actor", "organization")

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- Catalog structure -------------------------------------------------------------------------


@admin.register(Program, site=admin_site)
class ProgramAdmin(TenantAdmin):
    list_display = ("name", "slug", "contact_email", "blind_review")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)


@admin.register(FocusArea, site=admin_site)
class FocusAreaAdmin(TenantAdmin):
    list_display = ("name", "position")
    list_editable = ("position",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Category, site=admin_site)
class CategoryAdmin(TenantAdmin):
    list_display = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)


@admin.register(Audience, site=admin_site)
class AudienceAdmin(TenantAdmin):
    list_display = ("name", "position")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Pathway, site=admin_site)
class PathwayAdmin(TenantAdmin):
    list_display = ("name", "certificate_name", "is_published", "credential_count")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("credentials",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Pathway]:
        return super().get_queryset(request).annotate(n=models.Count("credentials"))

    @admin.display(description="Credentials", ordering="n")
    def credential_count(self, obj: Any) -> int:
        return int(obj.n)


# --- Credentials and versions ------------------------------------------------------------------


class CredentialVersionInline(TenantInline):
    model = CredentialVersion
    fields = ("number", "title", "state", "published_at", "open")
    readonly_fields = fields
    show_change_link = True
    can_delete = False
    ordering = ("-number",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="")
    def open(self, obj: CredentialVersion) -> str:
        word = "Edit" if obj.is_editable else "View"
        return format_html(
            '<a href="../../credentialversion/{}/change/">{} this version</a>', obj.pk, word
        )


class CredentialAddForm(forms.ModelForm):
    title = forms.CharField(max_length=200)
    summary = forms.CharField(max_length=400, widget=forms.Textarea(attrs={"rows": 2}))
    competency = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))

    class Meta:
        model = Credential
        fields = ("program", "slug", "title", "summary", "competency")
        field_classes = safe_field_classes(Credential)


@admin.register(Credential, site=admin_site)
class CredentialAdmin(TenantAdmin):
    list_display = ("title", "program", "status", "current", "position")
    list_filter = ("status", "program")
    list_editable = ("position",)
    search_fields = ("slug", "versions__title")
    list_select_related = ("current_version", "program", "organization")
    readonly_fields = ("status", "current_version", "public_link")
    inlines = (CredentialVersionInline,)
    actions = ("edit_as_new_version", "retire")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("program", "slug", "title", "summary", "competency")
        return ("program", "slug", "position", "status", "current_version", "public_link")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return ("program", "slug", "status", "current_version", "public_link")

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = CredentialAddForm
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        organization_id = (
            obj.organization_id or _single_org_id(request) or obj.program.organization_id
        )
        version = services.credential_create(
            organization=Organization.objects.get(pk=organization_id),
            program_id=obj.program_id,
            slug=obj.slug,
            title=form.cleaned_data["title"],
            summary=form.cleaned_data["summary"],
            competency=form.cleaned_data["competency"],
            actor=request.user,  # type: ignore[arg-type]
        )
        form.instance = obj = version.credential
        self.message_user(
            request,
            "Credential created as a draft. Open version 1 below to add the evidence "
            "requirements, rubric and resources, then publish it.",
        )

    @admin.display(description="Title", ordering="current_version__title")
    def title(self, obj: Credential) -> str:
        return obj.current_version.title if obj.current_version else f"{obj.slug} (draft)"

    @admin.display(description="Current version")
    def current(self, obj: Credential) -> str:
        return f"v{obj.current_version.number}" if obj.current_version else "—"

    @admin.display(description="In the catalog")
    def public_link(self, obj: Credential) -> str:
        if obj.status != Credential.Status.PUBLISHED:
            return "Not in the catalog"
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), obj.get_absolute_url())

    @admin.action(description="Edit as a new draft version")
    def edit_as_new_version(self, request: HttpRequest, queryset: QuerySet[Credential]) -> None:
        for credential in queryset:
            draft = services.credential_version_create_draft(
                credential=credential,
                actor=request.user,  # type: ignore[arg-type]
            )
            self.message_user(
                request,
                format_html(
                    '“{}”: <a href="../credentialversion/{}/change/">edit draft version {}</a>; '
                    "the published version stays in the catalog until you publish the draft.",
                    draft.title,
                    draft.pk,
                    draft.number,
                ),
            )

    @admin.action(description="Retire from the catalog")
    def retire(self, request: HttpRequest, queryset: QuerySet[Credential]) -> None:
        for credential in queryset:
            try:
                services.credential_retire(credential=credential, actor=request.user)  # type: ignore[arg-type]
            except ApplicationError as error:
                self.message_user(request, f"{credential}: {error.message}", messages.ERROR)
            else:
                self.message_user(
                    request, f"“{credential}” retired; it no longer shows in the catalog."
                )


class EvidenceRequirementForm(TenantFormMixin):
    accepted_file_kinds = forms.MultipleChoiceField(
        choices=FileKind.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = EvidenceRequirement
        fields = (
            "position",
            "title",
            "kind",
            "instructions",
            "required",
            "accepted_file_kinds",
            "max_file_size_mb",
            "max_files",
            "word_min",
            "word_max",
            "pass_mark_percent",
        )
        field_classes = safe_field_classes(EvidenceRequirement)


class EvidenceRequirementInline(TenantInline):
    model = EvidenceRequirement
    form = EvidenceRequirementForm
    fields = (
        "position",
        "title",
        "kind",
        "instructions",
        "required",
        "accepted_file_kinds",
        "max_file_size_mb",
        "max_files",
        "word_min",
        "word_max",
        "pass_mark_percent",
    )
    show_change_link = True
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 3, "cols": 40})}
    }


class RubricCriterionInline(TenantInline):
    model = RubricCriterion
    fields = ("position", "title", "description", "requirement", "passing_score", "levels_summary")
    readonly_fields = ("levels_summary",)
    show_change_link = True
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 40})}
    }

    @admin.display(description="Levels")
    def levels_summary(self, obj: RubricCriterion) -> str:
        if obj.pk is None:
            return "Save, then open the criterion to add its levels."
        return (
            ", ".join(f"{level.score} {level.label}" for level in obj.levels.all())
            or "No levels yet"
        )

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "requirement":
            version_id = (
                request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            )
            kwargs["queryset"] = EvidenceRequirement.objects.filter(version_id=version_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ResourceInline(TenantInline):
    model = Resource
    fields = ("position", "kind", "title", "url", "file", "description")
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 30})}
    }


@admin.register(CredentialVersion, site=admin_site)
class CredentialVersionAdmin(TenantAdmin):
    list_display = ("title", "number", "state", "published_at", "level", "focus_area")
    list_filter = ("state", "level", "focus_area")
    search_fields = ("title", "summary")
    list_select_related = ("focus_area", "organization", "credential")
    filter_horizontal = ("categories", "audiences")
    readonly_fields = ("credential", "number", "state", "published_at", "publishing_checklist")
    inlines = (EvidenceRequirementInline, RubricCriterionInline, ResourceInline)
    actions = ("publish",)
    fieldsets = (
        (
            None,
            {"fields": ("credential", "number", "state", "published_at", "publishing_checklist")},
        ),
        (
            "Catalog",
            {"fields": ("title", "summary", "focus_area", "categories", "audiences", "level")},
        ),
        (
            "What the educator learns",
            {
                "fields": (
                    "competency",
                    "key_method",
                    "method_components",
                    "learning_objectives",
                    "research",
                )
            },
        ),
        (
            "Eligibility, fees and effort",
            {
                "fields": (
                    "members_only",
                    "member_fee",
                    "non_member_fee",
                    "estimated_hours",
                    "credit_hours",
                )
            },
        ),
        (
            "Badge and review",
            {
                "fields": (
                    "badge_image",
                    "expiry_policy",
                    "expiry_months",
                    "reviewers_required",
                    "max_attempts",
                )
            },
        ),
    )

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        # versions are made from a credential: create one, or "Edit as a new draft version"
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or obj.is_editable)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or obj.is_editable)

    @admin.display(description="Before publishing")
    def publishing_checklist(self, obj: CredentialVersion) -> str:
        if not obj.is_editable:
            return (
                "Published versions are frozen. To change this credential, use "
                "“Edit as a new draft version” on the credential."
            )
        problems = services.credential_version_problems(version=obj)
        if not problems:
            return "Ready to publish: select it in the list and choose “Publish”."
        return format_html("<ul>{}</ul>", format_html("".join(f"<li>{p}</li>" for p in problems)))

    @admin.action(description="Publish (replaces the current version in the catalog)")
    def publish(self, request: HttpRequest, queryset: QuerySet[CredentialVersion]) -> None:
        for version in queryset:
            try:
                services.credential_version_publish(version=version, actor=request.user)  # type: ignore[arg-type]
            except ApplicationError as error:
                self.message_user(request, f"{version.title}: {error.message}", messages.ERROR)
            else:
                self.message_user(
                    request, f"“{version.title}” version {version.number} is now in the catalog."
                )


class QuizChoiceInline(TenantInline):
    model = QuizChoice
    fields = ("position", "text", "is_correct")
    extra = 0


class QuizQuestionInline(TenantInline):
    model = QuizQuestion
    fields = ("position", "prompt")
    show_change_link = True


@admin.register(EvidenceRequirement, site=admin_site)
class EvidenceRequirementAdmin(TenantAdmin):
    """Reached from a version's page, for the quiz questions of a quiz requirement."""

    form = EvidenceRequirementForm
    list_display = ("title", "kind", "version")
    list_select_related = ("version", "organization")
    readonly_fields = ("version",)
    inlines = (QuizQuestionInline,)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and _editable(obj)


@admin.register(QuizQuestion, site=admin_site)
class QuizQuestionAdmin(TenantAdmin):
    list_display = ("prompt", "requirement")
    readonly_fields = ("requirement",)
    fields = ("requirement", "position", "prompt")
    inlines = (QuizChoiceInline,)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and _editable(obj)


class RubricLevelInline(TenantInline):
    model = RubricLevel
    fields = ("score", "label", "descriptor")
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 60})}
    }


@admin.register(RubricCriterion, site=admin_site)
class RubricCriterionAdmin(TenantAdmin):
    """Reached from a version's page: the levels of one criterion."""

    list_display = ("title", "version")
    readonly_fields = ("version",)
    fields = ("version", "position", "title", "description", "requirement", "passing_score")
    inlines = (RubricLevelInline,)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and _editable(obj)
