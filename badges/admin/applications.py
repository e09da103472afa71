"""The Application admin of ``submissions`` gains a read-only "Badge" link here (badges may
import submissions, not the other way round)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from programs.admin_site import admin_site
from submissions.admin import ApplicationAdmin
from submissions.models import Application

from ..models import Badge
from .base import STATE_LABELS


class ApplicationWithBadgeAdmin(ApplicationAdmin):
    """``submissions``' Application admin plus a link to the application's badge."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return (*super().get_readonly_fields(request, obj), "badge_link")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        return [*fields, "badge_link"] if "badge_link" not in fields else fields

    @admin.display(description=_("Badge"))
    def badge_link(self, obj: Application) -> str:
        badge = (
            Badge.objects.filter(application_id=obj.pk)
            .only("pk", "name", "revoked_at", "valid_until")
            .first()
        )
        if badge is None:
            return gettext("Not issued")
        return format_html(
            '<a href="{}">{}</a> ({})',
            reverse("admin:badges_badge_change", args=[badge.pk]),
            badge.name,
            STATE_LABELS[badge.state].lower(),
        )


admin_site.unregister(Application)
admin_site.register(Application, ApplicationWithBadgeAdmin)
