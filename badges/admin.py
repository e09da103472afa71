"""Program admins' side of badges in the admin: issued badges (read-only, revoked with a reason),
the organization's signing keys (public halves only, rotated with a button), failed issuing
attempts (retried with an action) and the revocation status lists.

Badges, keys and status lists are records made by the services, so nothing here adds, edits or
deletes them; the two state changes (revoke, rotate) are pages of their own that ask for
confirmation, accept only POST and call ``badges.services``. Every page is limited to the
organizations the user administers, and another organization's object answers 404.

The Application admin of ``submissions`` gains a read-only "Badge" link here (badges may import
submissions, not the other way round).
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods

from programs.admin import TenantAdmin
from programs.admin_site import admin_site, administered_org_ids
from programs.models import Organization, User
from submissions.admin import ApplicationAdmin
from submissions.models import Application

from . import documents, services, tasks
from .errors import BadgeError
from .forms import RevokeForm, RotateKeyForm
from .models import Badge, IssueFailure, SigningKey, StatusList

OBJECT_ACTIONS_TEMPLATE = "admin/programs/change_form_object_actions.html"
REVOKE_TEMPLATE = "admin/badges/badge/revoke.html"
ROTATE_TEMPLATE = "admin/badges/signingkey/rotate.html"
STATE_LABELS = {"valid": "Valid", "expired": "Expired", "revoked": "Revoked"}


def person(user: User | None) -> str:
    if user is None:
        return "—"
    return f"{user.full_name} <{user.email}>" if user.full_name else user.email


def _acting_user(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


class RecordAdmin(TenantAdmin):
    """A record of the services: listed and viewed, never added, changed or deleted here; an
    object of an organization the user does not administer answers 404 (not "doesn't exist" on
    the index, which Django's admin would say)."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _get_obj_does_not_exist_redirect(
        self, request: HttpRequest, opts: Any, object_id: str
    ) -> HttpResponse:
        raise Http404(f"No such {opts.verbose_name}.")


# --- Badges -------------------------------------------------------------------------------------


class BadgeStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(STATE_LABELS.items())

    def queryset(self, request: HttpRequest, queryset: QuerySet[Badge]) -> QuerySet[Badge]:
        now = timezone.now()
        value = self.value()
        if value == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if value == "expired":
            return queryset.filter(revoked_at__isnull=True, valid_until__lte=now)
        if value == "valid":
            return queryset.filter(
                Q(valid_until__isnull=True) | Q(valid_until__gt=now), revoked_at__isnull=True
            )
        return queryset


@admin.register(Badge, site=admin_site)
class BadgeAdmin(RecordAdmin):
    list_display = (
        "name",
        "recipient_email",
        "kind",
        "issued_at",
        "valid_until",
        "state_label",
    )
    list_filter = (
        BadgeStateFilter,
        "kind",
        ("version__credential", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("recipient__email", "recipient__full_name", "name")
    list_select_related = ("recipient", "organization")
    date_hierarchy = "issued_at"
    actions = ("revoke_selected",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "kind",
                    "recipient_email",
                    "state_label",
                    "issued_at",
                    "valid_until",
                    "verification_link",
                    "application_link",
                    "version",
                    "pathway",
                    "is_public",
                    "expiry_notified_at",
                )
            },
        ),
        ("Revocation", {"fields": ("revoked_at", "revocation_reason", "revoked_by_person")}),
        (
            "Signed credential",
            {"fields": ("public_id", "status_entry", "signing_key_id", "credential_json")},
        ),
    )
    readonly_fields = (
        "name",
        "kind",
        "recipient_email",
        "state_label",
        "issued_at",
        "valid_until",
        "verification_link",
        "application_link",
        "version",
        "pathway",
        "is_public",
        "expiry_notified_at",
        "revoked_at",
        "revocation_reason",
        "revoked_by_person",
        "public_id",
        "status_entry",
        "signing_key_id",
        "credential_json",
    )
    change_form_template = OBJECT_ACTIONS_TEMPLATE

    def get_queryset(self, request: HttpRequest) -> QuerySet[Badge]:
        return super().get_queryset(request).select_related(*self.list_select_related)

    def has_revoke_permission(self, request: HttpRequest, obj: Badge | None = None) -> bool:
        """Owners and program admins of the badge's organization (``_allowed``)."""
        return self._allowed(request, obj)

    # --- Columns and read-only fields ---

    @admin.display(description="Recipient", ordering="recipient__email")
    def recipient_email(self, obj: Badge) -> str:
        return person(obj.recipient)

    @admin.display(description="State")
    def state_label(self, obj: Badge) -> str:
        return STATE_LABELS[obj.state]

    @admin.display(description="Verification page")
    def verification_link(self, obj: Badge) -> str:
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            reverse("badges:verify", args=[obj.public_id]),
            services.badge_url(obj),
        )

    @admin.display(description="Application")
    def application_link(self, obj: Badge) -> str:
        if obj.application_id is None:
            return "—"
        return format_html(
            '<a href="{}">Application and its evidence</a>',
            reverse("admin:submissions_application_change", args=[obj.application_id]),
        )

    @admin.display(description="Revoked by")
    def revoked_by_person(self, obj: Badge) -> str:
        return person(obj.revoked_by) if obj.revoked_at else "—"

    @admin.display(description="Status list entry")
    def status_entry(self, obj: Badge) -> str:
        return f"list {obj.status_list.number}, bit {obj.status_index}"

    @admin.display(description="Signing key")
    def signing_key_id(self, obj: Badge) -> str:
        return obj.signing_key.key_id

    @admin.display(description="Credential (as signed)")
    def credential_json(self, obj: Badge) -> str:
        text = json.dumps(obj.credential, indent=2, ensure_ascii=False, sort_keys=False)
        return format_html(
            '<pre class="badge-credential" tabindex="0" aria-label="The signed credential" '
            'style="max-height: 40em; overflow: auto; white-space: pre-wrap;">{}</pre>',
            text,
        )

    # --- The change page's buttons ---

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
            actions = [
                {
                    "label": "Verification page",
                    "url": reverse("badges:verify", args=[obj.public_id]),
                }
            ]
            if not obj.is_revoked and self.has_revoke_permission(request, obj):
                actions.insert(
                    0,
                    {
                        "label": "Revoke this badge",
                        "url": reverse("admin:badges_badge_revoke", args=[obj.pk]),
                    },
                )
            context["object_actions"] = actions
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(require_http_methods(["GET", "POST"])(self.revoke_view))
        return [
            path("<path:object_id>/revoke/", view, name="badges_badge_revoke"),
            *super().get_urls(),
        ]

    # --- Revoking ---

    def _change_url(self, badge: Badge) -> str:
        return reverse("admin:badges_badge_change", args=[badge.pk])

    def revoke_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: the confirmation page asking for the reason; POST: revoke."""
        badge = self.get_object(request, unquote(object_id))
        if badge is None or not self.has_revoke_permission(request, badge):
            raise Http404("No such badge.")
        if badge.is_revoked:
            self.message_user(
                request, f"“{badge.name}” was already revoked; nothing changed.", messages.WARNING
            )
            return HttpResponseRedirect(self._change_url(badge))
        form = RevokeForm(request.POST if request.method == "POST" else None)
        if form.is_valid() and self._revoke(request, [badge], form) == 1:
            self.message_user(
                request,
                f"“{badge.name}” of {badge.recipient.email} is revoked; verification now reports "
                "it revoked and the educator has been e-mailed the reason.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(self._change_url(badge))
        return self._revoke_page(request, [badge], form, bulk=False)

    @admin.action(description="Revoke selected badges", permissions=["revoke"])
    def revoke_selected(
        self, request: HttpRequest, queryset: QuerySet[Badge]
    ) -> HttpResponse | None:
        """The same reason form for several badges (already revoked ones are left out)."""
        badges = list(queryset.filter(revoked_at__isnull=True).select_related("recipient"))
        if not badges:
            self.message_user(request, "The selected badges are already revoked.", messages.INFO)
            return None
        form = RevokeForm(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            done = self._revoke(request, badges, form, per_badge_errors=True)
            if done:
                self.message_user(
                    request,
                    f"Revoked {done} badge(s); their holders have been e-mailed the reason.",
                    messages.SUCCESS,
                )
            return None
        return self._revoke_page(request, badges, form, bulk=True)

    def _revoke(
        self,
        request: HttpRequest,
        badges: list[Badge],
        form: RevokeForm,
        *,
        per_badge_errors: bool = False,
    ) -> int:
        """Revoke each badge; a refusal becomes a form error (one badge) or a message (bulk).
        Returns how many were revoked."""
        done = 0
        for badge in badges:
            try:
                services.badge_revoke(
                    badge=badge,
                    reason=form.cleaned_data["reason"],
                    actor=_acting_user(request),
                )
            except BadgeError as error:
                if per_badge_errors:
                    self.message_user(request, f"“{badge}”: {error.message}", messages.ERROR)
                    continue
                if error.fields:
                    for name, problems in error.fields.items():
                        for problem in problems if isinstance(problems, list) else [problems]:
                            form.add_error(name if name in form.fields else None, str(problem))
                else:
                    form.add_error(None, error.message)
            else:
                done += 1
        return done

    def _revoke_page(
        self, request: HttpRequest, badges: list[Badge], form: RevokeForm, *, bulk: bool
    ) -> HttpResponse:
        title = "Revoke badges" if bulk else f"Revoke “{badges[0].name}”"
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "form": form,
            "badges": badges,
            "bulk": bulk,
            "action_url": "" if bulk else reverse("admin:badges_badge_revoke", args=[badges[0].pk]),
            "back_url": reverse("admin:badges_badge_changelist")
            if bulk
            else self._change_url(badges[0]),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, REVOKE_TEMPLATE, context)


# --- Signing keys -------------------------------------------------------------------------------


@admin.register(SigningKey, site=admin_site)
class SigningKeyAdmin(RecordAdmin):
    """Public halves only: the encrypted private key is in no list, field or page."""

    list_display = ("key_short", "key_state", "created_at", "retired_at")
    list_filter = ("is_active",)
    fields = (
        "key_id",
        "public_key_multibase",
        "key_state",
        "created_at",
        "retired_at",
        "verification_method",
    )
    readonly_fields = fields
    exclude = ("private_key_encrypted",)
    list_select_related = ("organization",)
    actions = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[SigningKey]:
        return (
            super()
            .get_queryset(request)
            .select_related("organization")
            .defer("private_key_encrypted")
            .order_by("-is_active", "-created_at")
        )

    def has_rotate_permission(self, request: HttpRequest) -> bool:
        return bool(administered_org_ids(request))

    @admin.display(description="Key", ordering="key_id")
    def key_short(self, obj: SigningKey) -> str:
        return f"{obj.key_id[:16]}…"

    @admin.display(description="State", ordering="-is_active")
    def key_state(self, obj: SigningKey) -> str:
        return "Active (signs new badges)" if obj.is_active else "Retired (still verifies)"

    @admin.display(description="Verification method")
    def verification_method(self, obj: SigningKey) -> str:
        return documents.verification_method_id(obj.organization, obj.key_id)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(require_http_methods(["GET", "POST"])(self.rotate_view))
        return [
            path("rotate/", view, name="badges_signingkey_rotate"),
            *super().get_urls(),
        ]

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
                f"{organization.name} now signs new badges with key {key.key_id[:16]}…; the "
                "retired key stays published, so badges it signed keep verifying.",
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
            "title": "Rotate the signing key",
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


# --- Failed issuing attempts --------------------------------------------------------------------


class ResolvedFilter(admin.SimpleListFilter):
    title = "resolved"
    parameter_name = "resolved"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "Not yet"), ("yes", "Resolved")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[IssueFailure]
    ) -> QuerySet[IssueFailure]:
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


def _queue_issue(organization_id: int, application_id: int) -> None:
    tasks.badge_issue.delay(organization_id=organization_id, application_id=application_id)


def _queue_pathways(organization_id: int, user_id: int) -> None:
    tasks.pathways_check.delay(organization_id=organization_id, user_id=user_id)


@admin.register(IssueFailure, site=admin_site)
class IssueFailureAdmin(RecordAdmin):
    """Failed attempts stay listed (the task retries on its own, with backoff); a badge issued
    later marks its application's failures resolved."""

    list_display = (
        "created_at",
        "application_link",
        "recipient_email",
        "attempt",
        "error_summary",
        "is_resolved",
    )
    list_filter = (ResolvedFilter, "created_at")
    search_fields = (
        "application__educator__email",
        "recipient__email",
        "application__anonymous_code",
        "error",
    )
    list_select_related = ("application__educator", "application__version", "recipient")
    fields = (
        "created_at",
        "application_link",
        "recipient_email",
        "pathway",
        "attempt",
        "error",
        "resolved_at",
    )
    readonly_fields = fields
    actions = ("retry_now",)
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[IssueFailure]:
        return (
            super()
            .get_queryset(request)
            .select_related(*self.list_select_related, "organization", "pathway")
        )

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return bool(administered_org_ids(request))

    @admin.display(description="Application")
    def application_link(self, obj: IssueFailure) -> str:
        if obj.application is None:
            return f"Pathway certificate: {obj.pathway}" if obj.pathway else "—"
        application = obj.application
        return format_html(
            '<a href="{}">{} ({})</a>',
            reverse("admin:submissions_application_change", args=[application.pk]),
            application.version.title,
            application.anonymous_code,
        )

    @admin.display(description="Recipient")
    def recipient_email(self, obj: IssueFailure) -> str:
        user = obj.recipient or (obj.application.educator if obj.application else None)
        return person(user)

    @admin.display(description="Error")
    def error_summary(self, obj: IssueFailure) -> str:
        return obj.error if len(obj.error) <= 160 else f"{obj.error[:160]}…"

    @admin.display(description="Resolved", boolean=True, ordering="resolved_at")
    def is_resolved(self, obj: IssueFailure) -> bool:
        return obj.resolved_at is not None

    @admin.action(description="Retry now", permissions=["retry"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[IssueFailure]) -> None:
        """Queue the issuing again (after commit) for the unresolved failures; each application
        or person once, however many of their failures are selected."""
        unresolved = list(
            queryset.filter(resolved_at__isnull=True).values_list(
                "organization_id", "application_id", "recipient_id"
            )
        )
        applications = {(org, app) for org, app, _ in unresolved if app is not None}
        people = {(org, user) for org, app, user in unresolved if app is None and user is not None}
        for organization_id, application_id in sorted(applications):
            transaction.on_commit(partial(_queue_issue, organization_id, application_id))
        for organization_id, user_id in sorted(people):
            transaction.on_commit(partial(_queue_pathways, organization_id, user_id))
        queued = len(applications) + len(people)
        if queued:
            self.message_user(
                request,
                f"Queued {queued} badge(s) for issuing again. A badge issued marks its failures "
                "resolved; a new failure appears here if it fails again.",
                messages.SUCCESS,
            )
        else:
            self.message_user(request, "The selected failures are already resolved.", messages.INFO)


# --- Status lists -------------------------------------------------------------------------------


@admin.register(StatusList, site=admin_site)
class StatusListAdmin(RecordAdmin):
    """The organization's revocation lists, without their bits (the signed list is public at its
    URL)."""

    list_display = ("number", "purpose", "size", "used_bits", "revoked_count", "signed_at")
    fields = (
        "number",
        "purpose",
        "size",
        "used_bits",
        "revoked_count",
        "signed_at",
        "public_url",
    )
    readonly_fields = fields
    list_select_related = ("organization",)
    actions = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[StatusList]:
        return (
            super()
            .get_queryset(request)
            .select_related("organization")
            .defer("bits", "credential")
            .annotate(revoked=Count("badges", filter=Q(badges__revoked_at__isnull=False)))
        )

    @admin.display(description="Bits used", ordering="next_index")
    def used_bits(self, obj: StatusList) -> int:
        return obj.next_index

    @admin.display(description="Revoked badges", ordering="revoked")
    def revoked_count(self, obj: StatusList) -> int:
        return int(getattr(obj, "revoked", 0))

    @admin.display(description="Public URL")
    def public_url(self, obj: StatusList) -> str:
        path_ = reverse("badges:status_list", args=[obj.organization.slug, obj.number])
        return format_html('<a href="{}">{}</a>', path_, documents.site_url(path_))


# --- The application's badge, on the Application admin of submissions --------------------------


class ApplicationWithBadgeAdmin(ApplicationAdmin):
    """``submissions``' Application admin plus a link to the application's badge."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return (*super().get_readonly_fields(request, obj), "badge_link")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        return [*fields, "badge_link"] if "badge_link" not in fields else fields

    @admin.display(description="Badge")
    def badge_link(self, obj: Application) -> str:
        badge = (
            Badge.objects.filter(application_id=obj.pk)
            .only("pk", "name", "revoked_at", "valid_until")
            .first()
        )
        if badge is None:
            return "Not issued"
        return format_html(
            '<a href="{}">{}</a> ({})',
            reverse("admin:badges_badge_change", args=[badge.pk]),
            badge.name,
            STATE_LABELS[badge.state].lower(),
        )


admin_site.unregister(Application)
admin_site.register(Application, ApplicationWithBadgeAdmin)
