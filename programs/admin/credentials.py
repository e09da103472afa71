"""Admin of credentials and their versions.

A credential's content lives in versions. A draft is edited here and previewed as educators
will see it; publishing it (“Publish this version”, which first shows what changes and asks to
confirm, or the list action) makes it the catalog's current version and supersedes the previous
one, which stays readable (admin/publishing.py). Published versions are read-only: “Edit as a new
version” copies the latest one into a new draft. Every state change goes through ``services``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import unquote
from django.db import models
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from credentials_site.exceptions import ApplicationError

from .. import services
from ..admin_site import admin_site
from ..models import (
    Credential,
    CredentialVersion,
    EvidenceRequirement,
    FileKind,
    Organization,
    QuizChoice,
    QuizQuestion,
    Resource,
    RubricCriterion,
    RubricLevel,
)
from ..services.builder import REQUIREMENT_FIELDS
from .artwork import BadgeArtworkAdminMixin, artwork_link
from .base import NestedTenantAdmin, TenantAdmin, TenantFormMixin, TenantInline, safe_field_classes
from .builder import CredentialBuilderAdminMixin, builder_url
from .people import URL_FIELD_OVERRIDES
from .publishing import PublishingAdminMixin
from .templates import CredentialTemplatesMixin

OBJECT_ACTIONS_TEMPLATE = "admin/programs/change_form_object_actions.html"


def _version_url(version: CredentialVersion) -> str:
    """Where a version opens: a draft in the builder, a published one on its (read-only) page."""
    if version.is_editable:
        return builder_url(version)
    return reverse("admin:programs_credentialversion_change", args=[version.pk])


def _credential_url(credential_id: int) -> str:
    return reverse("admin:programs_credential_change", args=[credential_id])


def _new_version_action(credential: Credential) -> dict[str, Any]:
    """The button of a credential: open its draft, or start one from the latest version."""
    draft = credential.versions.filter(state=CredentialVersion.State.DRAFT).first()
    if draft is not None:
        return {
            "label": gettext("Edit draft version %(number)s") % {"number": draft.number},
            "url": _version_url(draft),
        }
    return {
        "label": gettext("Edit as a new version"),
        "url": reverse("admin:programs_credential_new_version", args=[credential.pk]),
        "post": True,
    }


def _draft_message(credential: Credential, draft: CredentialVersion) -> str:
    note = (
        " " + gettext("The catalog shows the published version until you publish the draft.")
        if credential.current_version_id is not None
        else ""
    )
    return format_html(
        gettext('“{}”: <a href="{}">edit draft version {}</a>.{}'),
        draft.title,
        _version_url(draft),
        draft.number,
        note,
    )


# --- Credentials --------------------------------------------------------------------------------


class CredentialVersionInline(TenantInline):
    model = CredentialVersion
    fields = ("number", "title", "state", "published_at", "open")
    readonly_fields = fields
    can_delete = False
    ordering = ("-number",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="")
    def open(self, obj: CredentialVersion) -> str:
        text = gettext("Edit this version") if obj.is_editable else gettext("View this version")
        return format_html('<a href="{}">{}</a>', _version_url(obj), text)


class CredentialAddForm(forms.ModelForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(
        label=_("Summary"), max_length=400, widget=forms.Textarea(attrs={"rows": 2})
    )
    competency = forms.CharField(label=_("Competency"), widget=forms.Textarea(attrs={"rows": 3}))

    class Meta:
        model = Credential
        fields = ("program", "slug", "title", "summary", "competency")
        field_classes = safe_field_classes(Credential)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        program, slug = cleaned.get("program"), cleaned.get("slug")
        if (
            program is not None
            and slug
            and Credential.objects.filter(
                organization_id=program.organization_id, slug=slug
            ).exists()
        ):
            self.add_error(
                "slug", gettext("This organization already has a credential at this address.")
            )
        return cleaned


@admin.register(Credential, site=admin_site)
class CredentialAdmin(CredentialTemplatesMixin, TenantAdmin):
    list_display = ("title", "program", "status", "current", "draft", "position")
    list_filter = ("status", "program")
    list_editable = ("position",)
    search_fields = ("slug", "versions__title")
    list_select_related = ("current_version", "program", "organization")
    inlines = (CredentialVersionInline,)
    actions = ("edit_as_new_version", "retire")
    change_form_template = OBJECT_ACTIONS_TEMPLATE

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # each row's draft, for the list's link to the builder (in the same query)
        drafts = CredentialVersion.objects.filter(
            credential=OuterRef("pk"), state=CredentialVersion.State.DRAFT
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                draft_pk=Subquery(drafts.values("pk")[:1]),
                draft_number=Subquery(drafts.values("number")[:1]),
            )
        )

    @admin.display(description=_("Draft"))
    def draft(self, obj: Credential) -> str:
        pk = getattr(obj, "draft_pk", None)
        if pk is None:
            return "—"
        url = reverse("admin:programs_credentialversion_builder", args=[pk])
        return format_html(gettext('<a href="{}">Build draft v{}</a>'), url, obj.draft_number)  # type: ignore[attr-defined]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("program", "slug", "title", "summary", "competency")
        return ("program", "slug", "position", "status", "current_version", "public_link")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return ("program", "slug", "status", "current_version", "public_link")

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        return () if obj is None else self.inlines

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = CredentialAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(require_POST(self.new_version_view))
        return [
            path("<path:object_id>/new-version/", view, name="programs_credential_new_version"),
            *super().get_urls(),
        ]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> Any:
        if obj is not None and self.has_change_permission(request, obj):
            context["object_actions"] = [_new_version_action(obj)]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        version = services.credential_create(
            organization=Organization.objects.get(pk=obj.program.organization_id),
            program_id=obj.program_id,
            slug=obj.slug,
            title=form.cleaned_data["title"],
            summary=form.cleaned_data["summary"],
            competency=form.cleaned_data["competency"],
            actor=request.user,  # type: ignore[arg-type]
        )
        # the admin logs and redirects with ``obj``: make it the credential the service made
        obj.pk = version.credential_id
        obj.refresh_from_db()
        obj._state.adding = False
        self.message_user(
            request,
            gettext(
                "Credential created as draft version 1. Add its evidence requirements, rubric "
                "and resources here; the draft saves as you go."
            ),
        )

    def response_add(
        self, request: HttpRequest, obj: Any, post_url_continue: str | None = None
    ) -> HttpResponse:
        if IS_POPUP_VAR in request.POST or "_addanother" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        return HttpResponseRedirect(_version_url(obj.versions.get(number=1)))

    def new_version_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST only: the draft to edit (made from the latest version if there is none)."""
        credential = self.get_object(request, unquote(object_id))
        if credential is None or not self.has_change_permission(request, credential):
            raise Http404("No such credential.")
        try:
            draft = services.credential_version_create_draft(
                credential=credential,
                actor=request.user,  # type: ignore[arg-type]
            )
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(_credential_url(credential.pk))
        self.message_user(request, _draft_message(credential, draft))
        return HttpResponseRedirect(_version_url(draft))

    @admin.display(description=_("Title"), ordering="current_version__title")
    def title(self, obj: Credential) -> str:
        if obj.current_version:
            return obj.current_version.title
        return gettext("%(slug)s (draft)") % {"slug": obj.slug}

    @admin.display(description=_("Current version"))
    def current(self, obj: Credential) -> str:
        return f"v{obj.current_version.number}" if obj.current_version else "—"

    @admin.display(description=_("In the catalog"))
    def public_link(self, obj: Credential) -> str:
        if obj.status != Credential.Status.PUBLISHED:
            return gettext("Not in the catalog")
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), obj.get_absolute_url())

    @admin.action(description=_("Edit as a new draft version"))
    def edit_as_new_version(self, request: HttpRequest, queryset: QuerySet[Credential]) -> None:
        for credential in queryset:
            try:
                draft = services.credential_version_create_draft(
                    credential=credential,
                    actor=request.user,  # type: ignore[arg-type]
                )
            except ApplicationError as error:
                self.message_user(request, f"{credential}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, _draft_message(credential, draft))

    @admin.action(description=_("Retire from the catalog"))
    def retire(self, request: HttpRequest, queryset: QuerySet[Credential]) -> None:
        for credential in queryset:
            try:
                services.credential_retire(credential=credential, actor=request.user)  # type: ignore[arg-type]
            except ApplicationError as error:
                self.message_user(request, f"“{credential}”: {error.message}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    gettext("“%(credential)s” retired; it no longer shows in the catalog.")
                    % {"credential": credential},
                )


# --- Versions and what they contain -----------------------------------------------------------


class EvidenceRequirementForm(TenantFormMixin):
    accepted_file_kinds = forms.MultipleChoiceField(
        choices=FileKind.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = EvidenceRequirement
        fields = ("position", *REQUIREMENT_FIELDS)
        field_classes = safe_field_classes(EvidenceRequirement)


class EvidenceRequirementInline(TenantInline):
    model = EvidenceRequirement
    form = EvidenceRequirementForm
    fields = EvidenceRequirementForm.Meta.fields
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

    @admin.display(description=_("Levels"))
    def levels_summary(self, obj: RubricCriterion) -> str:
        if obj.pk is None:
            return gettext("Save, then open the criterion to add its levels.")
        return ", ".join(f"{level.score} {level.label}" for level in obj.levels.all()) or gettext(
            "No levels yet"
        )

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "requirement":
            # the requirements of this version only
            match = request.resolver_match
            version_id = match.kwargs.get("object_id") if match else None
            kwargs["queryset"] = EvidenceRequirement.objects.filter(version_id=version_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ResourceInline(TenantInline):
    model = Resource
    fields = ("position", "kind", "title", "url", "file", "description")
    formfield_overrides = {
        **URL_FIELD_OVERRIDES,
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 30})},
    }


@admin.register(CredentialVersion, site=admin_site)
class CredentialVersionAdmin(
    PublishingAdminMixin, CredentialBuilderAdminMixin, BadgeArtworkAdminMixin, TenantAdmin
):
    list_display = ("title", "number", "state", "published_at", "level", "focus_area")
    list_filter = ("state", "level", "focus_area")
    search_fields = ("title", "summary")
    list_select_related = ("focus_area", "organization", "credential")
    readonly_fields = (
        "credential",
        "number",
        "state",
        "published_at",
        "publishing_checklist",
        "badge_artwork",
    )
    inlines = (EvidenceRequirementInline, RubricCriterionInline, ResourceInline)
    actions = ("publish",)
    change_form_template = OBJECT_ACTIONS_TEMPLATE
    fieldsets = (
        (
            None,
            {"fields": ("credential", "number", "state", "published_at", "publishing_checklist")},
        ),
        (
            _("Catalog"),
            {"fields": ("title", "summary", "focus_area", "categories", "audiences", "level")},
        ),
        (_("Spanish edition (optional)"), {"fields": ("title_es", "summary_es")}),
        (
            _("What the educator learns"),
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
            _("Eligibility, fees and effort"),
            {
                "fields": (
                    "members_only",
                    "member_fee",
                    "non_member_fee",
                    "estimated_hours",
                    "credit_hours",
                    "ceus",
                )
            },
        ),
        (
            _("Badge and review"),
            {
                "fields": (
                    "badge_artwork",
                    "expiry_policy",
                    "expiry_months",
                    "reviewers_required",
                    "max_attempts",
                )
            },
        ),
    )

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        # versions are made from a credential: create one, or "Edit as a new version"
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or obj.is_editable)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or obj.is_editable)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> Any:
        if obj is not None:
            preview = {
                "label": gettext("Preview"),
                "url": reverse("admin:programs_credentialversion_preview", args=[obj.pk]),
            }
            if obj.is_editable:
                url = reverse("admin:programs_credentialversion_publish", args=[obj.pk])
                # a link to the confirmation, which publishes (POST) when confirmed
                publish = {"label": gettext("Publish this version"), "url": url}
                builder = {"label": gettext("Open the builder"), "url": builder_url(obj)}
                context["object_actions"] = [builder, preview, publish]
            else:
                context["object_actions"] = [preview, _new_version_action(obj.credential)]
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description=_("Badge artwork"))
    def badge_artwork(self, obj: CredentialVersion) -> str:
        return artwork_link(obj)

    @admin.display(description=_("Before publishing"))
    def publishing_checklist(self, obj: CredentialVersion) -> str:
        if not obj.is_editable:
            return gettext(
                "Published versions are frozen. To change this credential, use "
                "“Edit as a new version”."
            )
        problems = services.credential_version_problems(version=obj)
        if not problems:
            return gettext("Ready to publish: press “Publish this version”.")
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((p,) for p in problems))
        )

    @admin.action(description=_("Publish (replaces the current version in the catalog)"))
    def publish(self, request: HttpRequest, queryset: QuerySet[CredentialVersion]) -> None:
        for version in queryset:
            self._publish(request, version)


class QuizChoiceInline(TenantInline):
    model = QuizChoice
    fields = ("position", "text", "is_correct")


class QuizQuestionInline(TenantInline):
    model = QuizQuestion
    fields = ("position", "prompt")
    show_change_link = True


@admin.register(EvidenceRequirement, site=admin_site)
class EvidenceRequirementAdmin(NestedTenantAdmin):
    """Reached from a version's page, for the quiz questions of a quiz requirement."""

    form = EvidenceRequirementForm
    list_display = ("title", "kind", "version")
    list_select_related = ("version", "organization")
    readonly_fields = ("version",)
    inlines = (QuizQuestionInline,)


@admin.register(QuizQuestion, site=admin_site)
class QuizQuestionAdmin(NestedTenantAdmin):
    list_display = ("prompt", "requirement")
    readonly_fields = ("requirement",)
    fields = ("requirement", "position", "prompt")
    inlines = (QuizChoiceInline,)


class RubricLevelInline(TenantInline):
    model = RubricLevel
    fields = ("score", "label", "descriptor")
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 60})}
    }


@admin.register(RubricCriterion, site=admin_site)
class RubricCriterionAdmin(NestedTenantAdmin):
    """Reached from a version's page: the levels of one criterion."""

    list_display = ("title", "version")
    readonly_fields = ("version",)
    fields = ("version", "position", "title", "description", "requirement", "passing_score")
    inlines = (RubricLevelInline,)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "requirement":
            # the requirements of this criterion's version only
            match = request.resolver_match
            criterion_id = match.kwargs.get("object_id") if match else None
            kwargs["queryset"] = (
                EvidenceRequirement.objects.filter(version__criteria__pk=criterion_id)
                if criterion_id
                else EvidenceRequirement.objects.none()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
