"""Admin of how people become members and how an organization's systems reach Tessera: API
tokens (owners only; the secret shown once, on the page after making it), member e-mail domains,
and requests to join (approved or declined in bulk). Every change goes through the services,
which audit it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from credentials_site.exceptions import ApplicationError

from .. import selectors, services
from ..admin_site import admin_site
from ..models import MemberEmailDomain, MembershipRequest, OrganizationToken, User
from .base import TenantAdmin, TenantFormMixin, adopt_saved
from .people import _organization

# --- API tokens -------------------------------------------------------------------------------


class OrganizationTokenForm(TenantFormMixin):
    scopes = forms.MultipleChoiceField(
        choices=OrganizationToken.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("What the token may do. A nightly member sync needs both."),
    )

    class Meta:
        model = OrganizationToken
        fields = ("organization", "name", "scopes")


@admin.register(OrganizationToken, site=admin_site)
class OrganizationTokenAdmin(TenantAdmin):
    """Owners make and revoke tokens; nobody edits one or sees its secret again."""

    form = OrganizationTokenForm
    list_display = (
        "name",
        "key_prefix",
        "scopes",
        "created_by",
        "created_at",
        "last_used_at",
        "state",
    )
    list_filter = ("revoked_at",)
    list_select_related = ("created_by", "organization")
    readonly_fields = (
        "name",
        "key_prefix",
        "scopes",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    )
    actions = ("revoke",)

    def _owned(self, request: HttpRequest) -> list[int]:
        return selectors.organization_ids_owned_by(user=request.user)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).filter(organization__in=self._owned(request))

    def _allowed(self, request: HttpRequest, obj: Any = None) -> bool:
        owned = self._owned(request)
        return bool(owned) and (obj is None or obj.organization_id in owned)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return self.readonly_fields
        return super().get_fields(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a token is made, used and revoked; never edited

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked instead, so that the audit trail keeps naming it

    @admin.display(description=_("State"))
    def state(self, obj: OrganizationToken) -> str:
        return gettext("Revoked") if obj.revoked_at else gettext("Active")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        made = services.organization_token_create(
            organization=_organization(request, obj),
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            actor=request.user,  # type: ignore[arg-type]
        )
        adopt_saved(obj, made.token)
        obj._new_secret = made.secret  # for response_add, in this request only

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Nothing more: the service saved the token."""

    def response_add(
        self, request: HttpRequest, obj: Any, post_url_continue: str | None = None
    ) -> HttpResponse:
        """The one page that shows the secret; it is not stored anywhere to show it again."""
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("API token made"),
            "opts": self.opts,
            "token": obj,
            "secret": obj._new_secret,
            "changelist_url": reverse("admin:programs_organizationtoken_changelist"),
        }
        return TemplateResponse(request, "admin/programs/token_created.html", context)

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[OrganizationToken]) -> None:
        revoked = 0
        for token in queryset:
            try:
                services.organization_token_revoke(token=token, actor=request.user)  # type: ignore[arg-type]
            except ApplicationError as error:
                self.message_user(request, f"{token}: {error.message}", messages.ERROR)
            else:
                revoked += 1
        if revoked:
            self.message_user(
                request,
                ngettext(
                    "%(count)d token(s) revoked: they now answer 401.",
                    "%(count)d token(s) revoked: they now answer 401.",
                    revoked,
                )
                % {"count": revoked},
            )


# --- Member e-mail domains ---------------------------------------------------------------------


@admin.register(MemberEmailDomain, site=admin_site)
class MemberEmailDomainAdmin(TenantAdmin):
    """Everyone with a verified address at a listed domain is a member."""

    list_display = ("domain", "created_at")
    search_fields = ("domain",)
    list_select_related = ("organization",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # remove and add instead (each audited)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        listed = services.member_email_domain_add(
            organization=_organization(request, obj),
            domain=form.cleaned_data["domain"],
            actor=request.user,  # type: ignore[arg-type]
        )
        obj.pk, obj.domain = listed.pk, listed.domain
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.member_email_domain_remove(listed=obj, actor=request.user)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for listed in queryset:
            services.member_email_domain_remove(listed=listed, actor=request.user)  # type: ignore[arg-type]


# --- Requests to join -----------------------------------------------------------------------


@admin.register(MembershipRequest, site=admin_site)
class MembershipRequestAdmin(TenantAdmin):
    """People who asked to join: approve or decline the selected ones (each is e-mailed)."""

    list_display = (
        "user_email",
        "full_name",
        "member_number",
        "school",
        "note",
        "status",
        "created_at",
    )
    list_filter = ("status",)
    search_fields = ("user__email", "user__full_name", "member_number", "school")
    list_select_related = ("user", "organization")
    readonly_fields = (
        "user",
        "status",
        "member_number",
        "school",
        "note",
        "credential",
        "created_at",
        "decided_by",
        "decided_at",
    )
    fields = readonly_fields
    actions = ("approve", "decline")

    @admin.display(description=_("E-mail"), ordering="user__email")
    def user_email(self, obj: MembershipRequest) -> str:
        return obj.user.email

    @admin.display(description=_("Name"))
    def full_name(self, obj: MembershipRequest) -> str:
        return obj.user.full_name

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # people ask on the site

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # decided by the actions

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _decide(
        self, request: HttpRequest, queryset: QuerySet[MembershipRequest], *, approve: bool
    ) -> None:
        decided = 0
        actor: User = request.user  # type: ignore[assignment]
        for membership_request in queryset:
            try:
                services.membership_request_decide(
                    membership_request=membership_request, approve=approve, actor=actor
                )
            except ApplicationError as error:
                self.message_user(request, error.message, messages.WARNING)
            else:
                decided += 1
        if decided:
            if approve:
                done = ngettext(
                    "%(count)d request(s) approved (now members); each person was e-mailed.",
                    "%(count)d request(s) approved (now members); each person was e-mailed.",
                    decided,
                )
            else:
                done = ngettext(
                    "%(count)d request(s) declined; each person was e-mailed.",
                    "%(count)d request(s) declined; each person was e-mailed.",
                    decided,
                )
            self.message_user(request, done % {"count": decided})

    @admin.action(description=_("Approve the selected requests (they become members)"))
    def approve(self, request: HttpRequest, queryset: QuerySet[MembershipRequest]) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description=_("Decline the selected requests"))
    def decline(self, request: HttpRequest, queryset: QuerySet[MembershipRequest]) -> None:
        self._decide(request, queryset, approve=False)
