"""Admin of the catalog's structure: programs, focus areas, categories, audiences, pathways."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ..admin_site import admin_site
from ..models import Audience, Category, FocusArea, Pathway, Program
from .base import TenantAdmin


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

    def get_queryset(self, request: HttpRequest) -> QuerySet[Pathway]:
        return super().get_queryset(request).annotate(n=models.Count("credentials"))

    @admin.display(description=_("Credentials"), ordering="n")
    def credential_count(self, obj: Any) -> int:
        return int(obj.n)
