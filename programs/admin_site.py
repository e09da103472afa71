"""The admin panel: program admins (by role, not ``is_staff``) see only their organizations."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from allauth.account.adapter import get_adapter
from allauth.decorators import rate_limit
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.utils import unquote
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import NoReverseMatch, URLPattern, URLResolver, path, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from credentials_site import public_cache

from . import selectors
from .models import Organization

AdminView = TypeVar("AdminView", bound=Callable[..., HttpResponseBase])

# Pages of an app's own beside its models on the admin index (and in the side bar): (app label,
# name, its object name, URL name, the model whose view permission opens the page). The page
# checks that permission itself; the link is only shown to those it would admit.
EXTRA_LINKS = (
    ("reviews", _("Queue health"), "QueueHealth", "admin:reviews_queue_health", "review"),
    (
        "reviews",
        _("Rebalance work"),
        "RebalanceWork",
        "admin:reviews_assignment_rebalance",
        "queuesubmission",
    ),
)


def administered_org_ids(request: HttpRequest) -> list[int]:
    """Organizations this request's user administers, computed once per request."""
    cached: list[int] | None = getattr(request, "_administered_org_ids", None)
    if cached is None:
        cached = selectors.organization_ids_administered_by(user=request.user)
        request._administered_org_ids = cached  # type: ignore[attr-defined]
    return cached


def organization_chosen(request: HttpRequest) -> tuple[Organization, list[Organization]]:
    """The organization an admin page of one organization works on, ``?org=<slug>`` among
    those the user administers (the first by name without it), and all of those; an
    organization they do not administer answers 404."""
    organizations = list(
        Organization.objects.filter(pk__in=administered_org_ids(request)).order_by("name")
    )
    slug = request.GET.get("org", "")
    chosen = (
        next((o for o in organizations if o.slug == slug), None)
        if slug
        else (organizations[0] if organizations else None)
    )
    if chosen is None:
        raise Http404("No such organization.")
    return chosen, organizations


class AdminLoginForm(AdminAuthenticationForm):
    """Django's admin login admits only ``is_staff``; this one also admits program admins and
    owners, once they have confirmed their e-mail address (as the site's own login requires)."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": _(
            "Please enter the correct %(username)s and password of an account that "
            "administers an organization."
        ),
        "unverified": _(
            "Confirm your e-mail address first: sign in on the site, follow the link in the "
            "e-mail we send you, then come back here."
        ),
    }

    def clean(self) -> dict[str, Any]:
        """As Django's, but through allauth's adapter, so that a wrong password counts against
        the address and the account in the one limiter ``/accounts/login/`` uses, and a
        lockout refuses here too (programs.security)."""
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            self.user_cache = get_adapter(self.request).authenticate(
                self.request, email=username, password=password
            )
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data

    def confirm_login_allowed(self, user: Any) -> None:
        AuthenticationForm.confirm_login_allowed(self, user)  # refuses inactive accounts
        if user.is_staff or user.is_superuser:
            return
        if not selectors.organization_ids_administered_by(user=user):
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )
        from allauth.account.models import EmailAddress

        if not EmailAddress.objects.filter(
            user=user, email__iexact=user.email, verified=True
        ).exists():
            raise ValidationError(self.error_messages["unverified"], code="unverified")


class TesseraAdminSite(admin.AdminSite):
    site_header = _("Tessera administration")
    site_title = _("Tessera admin")
    index_title = _("Your organization's programs")
    login_form = AdminLoginForm

    @method_decorator(rate_limit(action="login"))
    @method_decorator(never_cache)
    @method_decorator(login_not_required)
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """Sign-in posts are limited per address as on ``/accounts/login/`` (allauth's
        ``login`` rate, in the shared cache)."""
        return super().login(request, extra_context)

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        if not (user.is_active and user.is_authenticated):
            return False
        return bool(user.is_superuser or administered_org_ids(request))

    def get_app_list(
        self, request: HttpRequest, app_label: str | None = None
    ) -> list[dict[str, Any]]:
        app_list: list[dict[str, Any]] = super().get_app_list(request, app_label)
        if app_label is not None:  # an app's own page lists its extra pages itself
            return app_list
        apps = {app["app_label"]: app for app in app_list}
        for label, name, object_name, url_name, model_name in EXTRA_LINKS:
            app = apps.get(label)
            if app is None:
                continue
            gate = next((m for m in app["models"] if m["object_name"].lower() == model_name), None)
            if gate is None or not gate["perms"].get("view"):
                continue
            try:
                url = reverse(url_name, current_app=self.name)
            except NoReverseMatch:
                continue
            app["models"].append(
                {
                    "name": name,
                    "object_name": object_name,
                    "perms": {"add": False, "change": False, "delete": False, "view": True},
                    "admin_url": url,
                    "add_url": None,
                    "view_only": True,
                }
            )
        return app_list

    def admin_view(self, view: AdminView, cacheable: bool = False) -> AdminView:
        """Every admin page, as Django's; and whatever a change made here (a model saved or
        deleted, an action, a publish, a revocation, a key rotated), the public pages of the
        organizations this user administers are forgotten once it commits, under their slugs
        before and after it (credentials_site.public_cache). Admin changes are rare; a
        forgotten page costs one render."""
        guarded = super().admin_view(view, cacheable)

        @wraps(guarded)
        def changing(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method in ("GET", "HEAD", "OPTIONS"):
                return guarded(request, *args, **kwargs)
            before = _public_slugs(request)
            try:
                return guarded(request, *args, **kwargs)
            finally:
                public_cache.changed(organizations=before | _public_slugs(request))

        return cast(AdminView, changing)

    def get_urls(self) -> list[URLPattern | URLResolver]:
        urls = super().get_urls()
        view = self.admin_view(self.view_on_site)
        return [
            path("r/<int:content_type_id>/<path:object_id>/", view, name="view_on_site")
            if getattr(pattern, "name", None) == "view_on_site"
            else pattern
            for pattern in urls
        ]

    def view_on_site(
        self, request: HttpRequest, content_type_id: int, object_id: str
    ) -> HttpResponse:
        """Django's "view on site" redirect looks objects up unscoped, which would tell a program
        admin where any organization's object lives (draft credentials included): only follow it
        for objects this user's admin shows."""
        from django.contrib.contenttypes.models import ContentType
        from django.contrib.contenttypes.views import shortcut

        try:
            model = ContentType.objects.get_for_id(content_type_id).model_class()
        except ContentType.DoesNotExist:
            raise Http404("No such object.") from None
        model_admin = self._registry.get(model) if model is not None else None
        obj = model_admin.get_object(request, unquote(object_id)) if model_admin else None
        if model_admin is None or obj is None or not model_admin.has_view_permission(request, obj):
            raise Http404("No such object.")
        return shortcut(request, content_type_id, object_id)


def _public_slugs(request: HttpRequest) -> set[str]:
    ids = selectors.organization_ids_administered_by(user=request.user)
    return selectors.organization_slugs(ids=ids) if ids else set()


admin_site = TesseraAdminSite(name="admin")
