"""Admin of an organization's schools: the roster makes them from the school a member row names
(``programs.services.schools``); a program admin sets their level and Title I flag, adds schools
no roster names yet, and sees how many members and leaders each has."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ..admin_site import admin_site
from ..models import School
from .base import TenantAdmin


@admin.register(School, site=admin_site)
class SchoolAdmin(TenantAdmin):
    list_display = ("name", "district", "level", "title_i", "member_count", "leader_count")
    list_filter = ("level", "title_i")
    search_fields = ("name", "district")

    def get_queryset(self, request: HttpRequest) -> QuerySet[School]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_members=models.Count("links", distinct=True),
                n_leaders=models.Count("leaders", distinct=True),
            )
        )

    @admin.display(description=_("Members"), ordering="n_members")
    def member_count(self, obj: School) -> int:
        return obj.n_members  # type: ignore[attr-defined]

    @admin.display(description=_("Leaders"), ordering="n_leaders")
    def leader_count(self, obj: School) -> int:
        return obj.n_leaders  # type: ignore[attr-defined]
