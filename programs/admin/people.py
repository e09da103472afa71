"""Admin of organizations and the people in them: members, staff roles, the audit trail."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import selectors, services
from ..admin_site import admin_site, administered_org_ids
from ..models import AuditEvent, Membership, Organization, StaffRole, User
from ..models_roster import ProfileField
from .base import (
    NotFoundMixin,
    TenantAdmin,
    TenantFormMixin,
    in_constraint,
    safe_field_classes,
    single_org_id,
)

URL_FIELD_OVERRIDES: dict[Any, dict[str, Any]] = {models.URLField: {"assume_scheme": "https"}}


class UserByEmailForm(TenantFormMixin):
    """Pick a person by e-mail instead of from a list of every account on the site. The form only
    parses: the admin's ``save_model`` finds or creates the account
    (``services.user_get_or_invite``)."""

    user_email = forms.EmailField(
        label=_("E-mail"),
        help_text=_(
            "Their Tessera account. If they have none yet, one is created; they set a "
            "password with “Forgot password?”."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.user_id:
            self.fields["user_email"].initial = self.instance.user.email

    def clean_user_email(self) -> str:
        return str(self.cleaned_data["user_email"]).strip().lower()

    def clean(self) -> dict[str, Any]:
        email = self.cleaned_data.get("user_email")
        if email:
            existing = User.objects.filter(email__iexact=email).first()
            if existing is not None:
                # known before validation, so "one per organization" is checked as a form error
                self.instance.user = existing
        return super().clean()

    def _get_validation_exclusions(self) -> set[str]:  # type: ignore[misc]
        exclude = super()._get_validation_exclusions()
        if self.instance.user_id is not None and in_constraint(self.instance, "user"):
            exclude.discard("user")
        return exclude


def _organization(request: HttpRequest, obj: Any) -> Organization:
    """The organization a person is being added to or changed in."""
    organization_id: int | None = obj.organization_id or single_org_id(request)
    if organization_id is None:  # the form requires one whenever there is a choice
        raise ValueError("A person is added to an organization.")
    return Organization.objects.get(pk=organization_id)


def _person(request: HttpRequest, obj: Any, form: Any) -> User:
    """The account the form names by e-mail, made if there is none yet."""
    return services.user_get_or_invite(
        email=form.cleaned_data["user_email"],
        organization=_organization(request, obj),
        actor=request.user,  # type: ignore[arg-type]
    )


# --- Organization and users ---------------------------------------------------------------------


class OrganizationAdminForm(forms.ModelForm):
    profile_fields = forms.MultipleChoiceField(
        label=_("Optional questions on members' profiles"),
        choices=ProfileField.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Members may answer these on their profile (and a roster may carry them); the "
            "equity views group educators by them, never showing anyone's answers on their own."
        ),
    )

    class Meta:
        model = Organization
        fields = ("profile_fields",)  # the admin adds the fieldsets' others


@admin.register(Organization, site=admin_site)
class OrganizationAdmin(NotFoundMixin, admin.ModelAdmin):
    """Owners edit their organization's profile; program admins read it; only platform
    operators add organizations or change their address and activity."""

    list_display = ("name", "slug", "publishes_catalog", "is_active")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "short_name",
                    "slug",
                    "tagline",
                    "description",
                    "content_language",
                )
            },
        ),
        (_("Brand"), {"fields": ("logo", "brand_colour")}),
        (_("Contact"), {"fields": ("website", "contact_name", "contact_email", "currency")}),
        (
            _("Issuer profile (shown on the badges you issue)"),
            {"fields": ("issuer_name", "issuer_url", "issuer_email", "issuer_description")},
        ),
        (_("Publishing"), {"fields": ("publishes_catalog", "is_active")}),
        (
            _("Program insight"),
            {"fields": ("profile_fields", "suppression_threshold", "insights_monthly_email")},
        ),
    )
    form = OrganizationAdminForm
    formfield_overrides = URL_FIELD_OVERRIDES

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        return super().get_queryset(request).filter(pk__in=administered_org_ids(request))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if request.user.is_superuser else ("slug", "is_active")

    def get_prepopulated_fields(self, request: HttpRequest, obj: Any = None) -> dict[str, Any]:
        # a read-only slug cannot be prepopulated (the page would fail to render)
        return {"slug": ("name",)} if request.user.is_superuser else {}

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
        (_("Profile"), {"fields": ("full_name", "school", "district")}),
        (_("Access"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    has_change_permission = has_view_permission
    has_delete_permission = has_view_permission

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)


# --- Members and staff --------------------------------------------------------------------------


@admin.register(Membership, site=admin_site)
class MembershipAdmin(TenantAdmin):
    form = UserByEmailForm
    list_display = ("user", "status", "member_number", "member_until", "membership")
    list_filter = ("status",)
    search_fields = ("user__email", "user__full_name", "member_number")
    list_select_related = ("user", "organization")
    exclude = ("user", "source")
    readonly_fields = ("source",)  # how the membership came to be: set by whoever made it
    date_hierarchy = "member_until"

    @admin.display(description=_("Shown as"))
    def membership(self, obj: Membership) -> str:
        return obj.describe()

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.user = _person(request, obj, form)
        super().save_model(request, obj, form, change)


class StaffRoleForm(UserByEmailForm):
    actor: User  # set per request by StaffRoleAdmin.get_form

    class Meta:
        model = StaffRole
        fields = ("organization", "role", "title", "programs", "credentials", "schools")
        field_classes = safe_field_classes(StaffRole)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        organization_id, role = self._organization_id(), cleaned.get("role")
        if organization_id is not None and role:
            # the services' rule, asked before saving so that a refusal is a form error
            refusal = services.staff_role_refusal(
                actor=self.actor, organization_id=organization_id, role=role
            )
            for field, errors in (refusal.fields if refusal else {}).items():
                for error in errors:
                    self.add_error(field, error)
        return cleaned


@admin.register(StaffRole, site=admin_site)
class StaffRoleAdmin(TenantAdmin):
    """Program admins manage reviewers and other program admins; only owners (and platform
    operators) grant or take away the owner role. Granting, changing and taking away are the
    services' (``staff_role_grant``, ``staff_role_change``, ``staff_role_revoke``), each
    audited."""

    form = StaffRoleForm
    list_display = ("user", "role")
    list_filter = ("role",)
    search_fields = ("user__email", "user__full_name")
    list_select_related = ("user", "organization")
    exclude = ("user",)

    def _may_manage(self, request: HttpRequest, obj: Any) -> bool:
        return obj is None or not services.staff_role_refusal(
            actor=request.user,  # type: ignore[arg-type]
            organization_id=obj.organization_id,
            role=obj.role,
            taking_away=True,
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._may_manage(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self._may_manage(request, obj)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        form.actor = request.user
        return form

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        values = {
            "user": _person(request, obj, form),
            "role": data["role"],
            "programs": data.get("programs") or (),
            "credentials": data.get("credentials") or (),
            "schools": data.get("schools") or (),
            "title": data.get("title") or "",
            "actor": request.user,
        }
        if change:
            role = services.staff_role_change(staff_role=obj, **values)
        else:
            role = services.staff_role_grant(organization=_organization(request, obj), **values)
        # the admin logs and redirects with ``obj``: make it the role the service saved
        obj.pk, obj.user, obj.role = role.pk, role.user, role.role
        obj._state.adding = False

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Nothing more to save: the service set the role's programs and credentials (and
        there are no inlines)."""

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.staff_role_revoke(staff_role=obj, actor=request.user)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for staff_role in queryset:
            services.staff_role_revoke(staff_role=staff_role, actor=request.user)  # type: ignore[arg-type]


@admin.register(AuditEvent, site=admin_site)
class AuditEventAdmin(TenantAdmin):
    list_display = ("created_at", "actor", "action", "summary", "record")
    list_filter = ("action",)
    search_fields = ("summary", "object_id")
    list_select_related = ("actor", "organization")

    @admin.display(description=_("Record"))
    def record(self, obj: AuditEvent) -> str:
        """The link an entry carries to its full record (a roster apply's report of every row)."""
        link = obj.data.get("report") if isinstance(obj.data, dict) else None
        if not isinstance(link, str) or not link.startswith("/"):
            return ""
        return format_html('<a href="{}">{}</a>', link, gettext("Report of every row (CSV)"))

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
