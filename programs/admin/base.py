"""Tenant plumbing shared by every admin of a tenant model.

The middleware enters a scope of the organizations the user administers for every admin URL, so
tenant querysets cannot reach another organization. On top of that this module limits every
queryset and every choice explicitly (so a page stays safe even outside that scope), fills in
``organization`` before validation (so constraints such as unique slugs are checked, not left
to the database), and refuses links between organizations for people who administer several.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext
from django_scopes.forms import SafeModelChoiceField, SafeModelMultipleChoiceField

from credentials_site.models import TenantModel

from .. import services
from ..admin_site import administered_org_ids
from ..models import (
    CredentialVersion,
    EvidenceRequirement,
    Organization,
    QuizQuestion,
    Resource,
    RubricCriterion,
)

CROSS_ORGANIZATION_ERROR = services.CROSS_ORGANIZATION


def safe_field_classes(model: type[models.Model]) -> dict[str, Any]:
    """Form field classes for a ModelForm declared at import time: tenant querysets cannot be
    evaluated outside a scope, so they start empty. The admin replaces them per request with
    ordinary fields over the request's organizations (see ``ScopedChoicesMixin``)."""
    classes: dict[str, Any] = {}
    for field in model._meta.get_fields():
        related = getattr(field, "related_model", None)
        if not (field.concrete and related and issubclass(related, TenantModel)):
            continue
        classes[field.name] = (
            SafeModelMultipleChoiceField if field.many_to_many else SafeModelChoiceField
        )
    return classes


_PLAIN_FIELD_CLASS = {
    SafeModelChoiceField: forms.ModelChoiceField,
    SafeModelMultipleChoiceField: forms.ModelMultipleChoiceField,
}


def single_org_id(request: HttpRequest) -> int | None:
    """The organization a new object belongs to when the user administers exactly one."""
    ids = administered_org_ids(request)
    return ids[0] if len(ids) == 1 and not request.user.is_superuser else None


class ScopedChoicesMixin:
    """Choices of foreign keys and many-to-many fields: only the user's organizations."""

    def _scope_choices(self, db_field: Any, request: HttpRequest, kwargs: dict[str, Any]) -> None:
        form_class = kwargs.get("form_class")
        if form_class in _PLAIN_FIELD_CLASS:
            # the Safe* classes ignore the queryset they are given and offer nothing
            kwargs["form_class"] = _PLAIN_FIELD_CLASS[form_class]
        related = db_field.remote_field.model
        if issubclass(related, TenantModel):
            queryset = kwargs.get("queryset")
            if queryset is None:
                queryset = self.get_field_queryset(None, db_field, request)  # type: ignore[attr-defined]
            if queryset is None:
                queryset = related._default_manager.all()
            kwargs["queryset"] = queryset.filter(organization__in=administered_org_ids(request))
        elif related is Organization:
            kwargs["queryset"] = Organization.objects.filter(pk__in=administered_org_ids(request))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        self._scope_choices(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        self._scope_choices(db_field, request, kwargs)
        # checkboxes rather than Django's filter_horizontal widget: its script puts aria-label
        # on a plain span (an axe-core "serious" violation), and our lists are short
        kwargs.setdefault("widget", forms.CheckboxSelectMultiple)
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]


class OrganizationFileForm(forms.Form):
    """An upload page's form (a roster, a bulk award): the file, and which organization it is
    for when the admin runs several (else the one they run). Subclasses declare ``file``."""

    field_order = ["file", "organization"]
    organization = forms.ModelChoiceField(queryset=Organization.objects.none(), required=True)

    def __init__(self, *args: Any, organizations: list[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if len(organizations) > 1:
            self.fields["organization"].queryset = Organization.objects.filter(  # type: ignore[attr-defined]
                pk__in=[o.pk for o in organizations]
            )
        else:
            del self.fields["organization"]


def in_constraint(instance: models.Model, field_name: str) -> bool:
    """Whether a unique constraint of the model involves the field (validating a field costs a
    query, so only fields that constraints need are brought back into validation)."""
    return any(
        field_name in getattr(constraint, "fields", ()) for constraint in instance._meta.constraints
    )


class TenantFormMixin(forms.ModelForm):
    """The form of a tenant object.

    ``default_organization_id`` (set per request by ``TenantAdmin.get_form``) gives a new object
    its organization before validation, so constraints that include the organization are
    validated instead of failing in the database. ``clean`` refuses links to another
    organization's objects (possible only for people who administer several organizations,
    since choices are already limited to the user's organizations).
    """

    default_organization_id: int | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.organization_id is None and self.default_organization_id is not None:
            self.instance.organization_id = self.default_organization_id

    def _organization_id(self) -> int | None:
        chosen = self.cleaned_data.get("organization")
        return chosen.pk if chosen is not None else self.instance.organization_id

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        organization_id = self._organization_id()
        if organization_id is None:
            return cleaned
        for name, value in list(cleaned.items()):
            items = list(value) if isinstance(value, QuerySet | list | tuple) else [value]
            if any(
                isinstance(item, TenantModel) and item.organization_id != organization_id
                for item in items
            ):
                self.add_error(name, gettext(CROSS_ORGANIZATION_ERROR))
        return cleaned

    def _get_validation_exclusions(self) -> set[str]:  # type: ignore[misc]
        # ``organization`` is not on the form but is known: validate the constraints using it
        exclude: set[str] = super()._get_validation_exclusions()  # type: ignore[misc]
        if self.instance.organization_id is not None and in_constraint(
            self.instance, "organization"
        ):
            exclude.discard("organization")
        return exclude


class NotFoundMixin:
    """An object the user may not see (another organization's) or that is gone answers 404, as
    every other page of Tessera does, instead of Django's redirect to the admin index with
    "… doesn't exist"."""

    def _get_obj_does_not_exist_redirect(
        self, request: HttpRequest, opts: Any, object_id: str
    ) -> HttpResponse:
        raise Http404(f"No such {opts.verbose_name}.")


class TenantAdmin(NotFoundMixin, ScopedChoicesMixin, admin.ModelAdmin):
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
        if single_org_id(request) is not None or obj is not None:
            exclude.append("organization")
        return exclude

    def get_list_display(self, request: HttpRequest) -> Any:
        display = list(super().get_list_display(request))
        if len(administered_org_ids(request)) > 1:
            display.append("organization")
        return display

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None and issubclass(form, TenantFormMixin):
            # modelform_factory made this class for this request alone
            form.default_organization_id = single_org_id(request)
        return form

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if obj.organization_id is None:
            obj.organization_id = single_org_id(request)
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


def adopt_saved(obj: Any, saved: models.Model) -> None:
    """Make the admin's ``obj`` the row a service saved instead (the admin logs and redirects
    with ``obj`` after ``save_model``)."""
    obj.__dict__.update({k: v for k, v in saved.__dict__.items() if k != "_state"})
    obj._state.adding = False


class RecordAdmin(TenantAdmin):
    """A record kept by the services: listed and viewed, never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def editable(obj: Any) -> bool:
    """Content of a published version is frozen; so is everything below it."""
    version = version_of(obj)
    return version is None or version.is_editable


def version_of(obj: Any) -> CredentialVersion | None:
    if isinstance(obj, CredentialVersion):
        return obj
    if isinstance(obj, EvidenceRequirement | RubricCriterion | Resource):
        return obj.version
    if isinstance(obj, QuizQuestion):
        return obj.requirement.version
    return None


class NestedTenantAdmin(TenantAdmin):
    """Admin of a part of a version (a requirement, a criterion, a quiz question), reached from
    the version's page: never listed or added on its own, frozen once the version is
    published."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and editable(obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and editable(obj)


class TenantInlineFormSet(BaseInlineFormSet):
    """New rows take the parent's organization before validation."""

    def _construct_form(self, i: int, **kwargs: Any) -> Any:
        form = super()._construct_form(i, **kwargs)  # type: ignore[misc]
        if form.instance.organization_id is None:
            form.instance.organization_id = self.instance.organization_id
        return form


class TenantInline(ScopedChoicesMixin, admin.TabularInline):
    extra = 0
    exclude = ("organization",)
    form = TenantFormMixin
    formset = TenantInlineFormSet

    def _allowed(self, request: HttpRequest, obj: Any = None) -> bool:
        ids = administered_org_ids(request)
        return bool(ids) and (obj is None or obj.organization_id in ids)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj) and editable(obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj) and editable(obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj) and editable(obj)


class ReadOnlyInline(TenantInline):
    """Rows of a record shown under it: never added, changed or deleted here."""

    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
