"""The organization's signing keys: public halves only, rotated with a button, and one that may
have leaked marked compromised (its page then shows the re-signing of its badges)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from programs.admin_site import admin_site, administered_org_ids
from programs.models import Organization

from .. import documents, services
from ..errors import BadgeError
from ..forms import RotateKeyForm
from ..models import KeyCompromise, SigningKey
from .base import OBJECT_ACTIONS_TEMPLATE, ROTATE_TEMPLATE, RecordAdmin, _acting_user, person

COMPROMISE_TEMPLATE = "admin/badges/signingkey/compromise.html"


def _when(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


def resign_progress(compromise: KeyCompromise) -> str:
    """“Re-signing: 120 of 450 badges”, or how it ended."""
    numbers = {"done": compromise.done, "total": compromise.total}
    if compromise.state == KeyCompromise.State.DONE:
        return gettext("Done: %(done)s of %(total)s badges re-signed") % numbers
    if compromise.state == KeyCompromise.State.RUNNING:
        return gettext("Re-signing: %(done)s of %(total)s badges") % numbers
    return gettext("Queued: %(done)s of %(total)s badges") % numbers


@admin.register(SigningKey, site=admin_site)
class SigningKeyAdmin(RecordAdmin):
    """Public halves only: the encrypted private key is in no list, field or page."""

    list_display = ("key_short", "key_state", "created_at", "retired_at")
    list_filter = ("is_active",)
    _key = (
        "key_id",
        "public_key_multibase",
        "key_state",
        "created_at",
        "retired_at",
        "verification_method",
    )
    _compromise = (
        "compromised_at",
        "compromise_marked_by",
        "resign_state",
        "resign_started_at",
        "resign_finished_at",
        "resign_status_lists",
        "resign_last_error",
    )
    readonly_fields = (*_key, *_compromise)
    exclude = ("private_key_encrypted",)
    list_select_related = ("organization", "compromise")
    actions = None
    change_form_template = OBJECT_ACTIONS_TEMPLATE

    def get_fieldsets(self, request: HttpRequest, obj: SigningKey | None = None) -> Any:
        fieldsets: list[tuple[str | None, dict[str, Any]]] = [(None, {"fields": self._key})]
        if obj is not None and obj.compromised_at is not None:
            fieldsets.append(
                (gettext("Compromised: its badges re-signed"), {"fields": self._compromise})
            )
        return fieldsets

    def get_queryset(self, request: HttpRequest) -> QuerySet[SigningKey]:
        return (
            super()
            .get_queryset(request)
            .select_related("organization", "compromise__marked_by")
            .defer("private_key_encrypted")
            .order_by("-is_active", "-created_at")
        )

    def has_rotate_permission(self, request: HttpRequest) -> bool:
        return bool(administered_org_ids(request))

    def has_compromise_permission(self, request: HttpRequest, obj: SigningKey) -> bool:
        """Owners and program admins of the key's organization (``_allowed``)."""
        return self._allowed(request, obj)

    @admin.display(description=_("Key"), ordering="key_id")
    def key_short(self, obj: SigningKey) -> str:
        return f"{obj.key_id[:16]}…"

    @admin.display(description=_("State"), ordering="-is_active")
    def key_state(self, obj: SigningKey) -> str:
        if obj.compromised_at is not None:
            compromise = self._compromise_of(obj)
            if compromise is None:
                return gettext("Compromised (no longer published)")
            return gettext("Compromised (no longer published; %(progress)s)") % {
                "progress": resign_progress(compromise)
            }
        if obj.is_active:
            return gettext("Active (signs new badges)")
        return gettext("Retired (still verifies)")

    @staticmethod
    def _compromise_of(obj: SigningKey) -> KeyCompromise | None:
        try:
            return obj.compromise
        except KeyCompromise.DoesNotExist:
            return None

    def _job_field(self, obj: SigningKey, name: str) -> Any:
        compromise = self._compromise_of(obj)
        return getattr(compromise, name) if compromise else None

    @admin.display(description=_("Marked by"))
    def compromise_marked_by(self, obj: SigningKey) -> str:
        return person(self._job_field(obj, "marked_by"))

    @admin.display(description=_("Re-signing its badges"))
    def resign_state(self, obj: SigningKey) -> str:
        compromise = self._compromise_of(obj)
        return resign_progress(compromise) if compromise else "—"

    @admin.display(description=_("Started"))
    def resign_started_at(self, obj: SigningKey) -> str:
        return _when(self._job_field(obj, "started_at"))

    @admin.display(description=_("Finished"))
    def resign_finished_at(self, obj: SigningKey) -> str:
        return _when(self._job_field(obj, "finished_at"))

    @admin.display(description=_("Status lists re-signed"))
    def resign_status_lists(self, obj: SigningKey) -> Any:
        return self._job_field(obj, "status_lists_resigned")

    @admin.display(description=_("Last error (retried)"))
    def resign_last_error(self, obj: SigningKey) -> str:
        return self._job_field(obj, "last_error") or "—"

    @admin.display(description=_("Verification method"))
    def verification_method(self, obj: SigningKey) -> str:
        return documents.verification_method_id(obj.organization, obj.key_id)

    def get_urls(self) -> list[URLPattern]:
        methods = require_http_methods(["GET", "POST"])
        rotate = self.admin_site.admin_view(methods(self.rotate_view))
        compromise = self.admin_site.admin_view(methods(self.compromise_view))
        return [
            path("rotate/", rotate, name="badges_signingkey_rotate"),
            path("<path:object_id>/compromise/", compromise, name="badges_signingkey_compromise"),
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
        if obj is not None:
            context["object_actions"] = [
                {
                    "label": gettext("DID document"),
                    "url": reverse("badges:did_document", args=[obj.organization.slug]),
                }
            ]
            if obj.compromised_at is None and self.has_compromise_permission(request, obj):
                context["object_actions"].insert(
                    0,
                    {
                        "label": gettext("Mark compromised"),
                        "url": reverse("admin:badges_signingkey_compromise", args=[obj.pk]),
                    },
                )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _change_url(self, key: SigningKey) -> str:
        return reverse("admin:badges_signingkey_change", args=[key.pk])

    def compromise_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: what marking the key compromised does, and to how many badges; POST: mark it."""
        key = self.get_object(request, unquote(object_id))
        if key is None or not self.has_compromise_permission(request, key):
            raise Http404("No such signing key.")
        if key.compromised_at is not None:
            self.message_user(
                request,
                gettext("Key %(key)s… was already marked compromised on %(when)s; nothing changed.")
                % {"key": key.key_id[:16], "when": _when(key.compromised_at)},
                messages.WARNING,
            )
            return HttpResponseRedirect(self._change_url(key))
        if request.method == "POST":
            try:
                compromise = services.signing_key_compromise(key=key, actor=_acting_user(request))
            except BadgeError as error:
                self.message_user(request, error.message, messages.ERROR)
                return HttpResponseRedirect(self._change_url(key))
            self.message_user(
                request,
                ngettext(
                    "Key %(key)s… is marked compromised and no longer published. "
                    "%(organization)s now signs with key %(replacement)s…; %(count)s badge(s) "
                    "are being re-signed with it, and their educators e-mailed. Progress is shown "
                    "below.",
                    "Key %(key)s… is marked compromised and no longer published. "
                    "%(organization)s now signs with key %(replacement)s…; %(count)s badge(s) "
                    "are being re-signed with it, and their educators e-mailed. Progress is shown "
                    "below.",
                    compromise.total,
                )
                % {
                    "key": key.key_id[:16],
                    "organization": compromise.organization.name,
                    "replacement": compromise.replacement.key_id[:16],
                    "count": compromise.total,
                },
                messages.SUCCESS,
            )
            return HttpResponseRedirect(self._change_url(key))
        active = (
            SigningKey.objects.filter(organization=key.organization, is_active=True)
            .exclude(pk=key.pk)
            .values_list("key_id", flat=True)
            .first()
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Mark key %(key)s… compromised") % {"key": key.key_id[:16]},
            "key": key,
            "organization": key.organization,
            "badges_to_resign": services.signing_key_resign_count(key=key),
            "makes_new_key": key.is_active or active is None,
            "active_key": active or "",
            "did_url": reverse("badges:did_document", args=[key.organization.slug]),
            "back_url": self._change_url(key),
        }
        return TemplateResponse(request, COMPROMISE_TEMPLATE, context)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = {**(extra_context or {}), "can_rotate": self.has_rotate_permission(request)}
        return super().changelist_view(request, extra)

    def rotate_view(self, request: HttpRequest) -> HttpResponse:
        """GET: what rotating does, and which organization; POST: rotate."""
        if not self.has_rotate_permission(request):
            raise PermissionDenied
        organizations = Organization.objects.filter(pk__in=administered_org_ids(request)).order_by(
            "name"
        )
        form = RotateKeyForm(
            request.POST if request.method == "POST" else None, organizations=organizations
        )
        if form.is_valid():
            organization = form.cleaned_data["organization"]
            key = services.signing_key_rotate(
                organization=organization, actor=_acting_user(request)
            )
            self.message_user(
                request,
                gettext(
                    "%(organization)s now signs new badges with key %(key)s…; the retired key "
                    "stays published, so badges it signed keep verifying."
                )
                % {"organization": organization.name, "key": key.key_id[:16]},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:badges_signingkey_changelist"))
        active = dict(
            SigningKey.objects.filter(organization__in=organizations, is_active=True).values_list(
                "organization_id", "key_id"
            )
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Rotate the signing key"),
            "form": form,
            "organizations": [
                {
                    "organization": organization,
                    "active_key": active.get(organization.pk, ""),
                    "did_url": reverse("badges:did_document", args=[organization.slug]),
                }
                for organization in organizations
            ],
        }
        return TemplateResponse(request, ROTATE_TEMPLATE, context)
