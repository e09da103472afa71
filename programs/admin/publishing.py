"""Preview a version and publish it with care (the version admin's own pages).

- ``<version>/preview/``: the credential's public page as educators will see it, at desktop and
  phone width, in two frames of
- ``<version>/preview/page/``: that public page for this version, draft or not, rendered for a
  visitor who is not signed in, with a “Preview — not public” banner; its links and forms do
  nothing; never indexed, never stored, never in the public page cache; only this site may frame
  it.
- ``<version>/publish/``: GET, the confirmation (what still blocks, what changes since the
  published version, the applications in progress that stay on it); POST publishes.

Same tenancy and roles as the version's change page: another organization's version is 404.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from csp.constants import NONE, SELF
from csp.decorators import csp_replace
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods, require_safe

from credentials_site.exceptions import ApplicationError

from .. import selectors, services
from ..models import Credential, CredentialVersion
from ..views import credential_page_context
from .artwork import artwork_preview

PREVIEW_TEMPLATE = "admin/programs/credentialversion/preview.html"
PREVIEW_PAGE_TEMPLATE = "admin/programs/credentialversion/preview_page.html"
CONFIRM_TEMPLATE = "admin/programs/credentialversion/publish_confirm.html"

# the widths the preview shows the page at: (label, width, height) in CSS pixels
PREVIEW_WIDTHS = ((_("Desktop"), 1280, 900), (_("Phone"), 390, 844))

_LINK = re.compile(r'(<a\b[^>]*?\shref=")(?!#)[^"]*(")')
_FORM_ACTION = re.compile(r'(<form\b[^>]*?\saction=")[^"]*(")')
_FORM_METHOD = re.compile(r'(<form\b[^>]*?\smethod=")post(")', re.IGNORECASE)


def inert(html: str) -> str:
    """The page with its links pointing nowhere and its forms going nowhere (a preview must not
    apply, sign in or leave; the page's CSP ``form-action 'none'`` stops the forms as well)."""
    html = _LINK.sub(r"\1#\2", html)
    html = _FORM_ACTION.sub(r"\1#\2", html)
    return _FORM_METHOD.sub(r"\1get\2", html)


def _as_published(version: CredentialVersion) -> list[CredentialVersion]:
    """Show the version as it will read once published, in memory only (nothing is saved):
    the current version of a credential in the catalog, the others replaced. Returns the
    versions list of the page."""
    history = [
        item
        for item in selectors.credential_version_history(credential=version.credential)
        if item.pk != version.pk
    ]
    for item in history:
        item.state = CredentialVersion.State.SUPERSEDED
    version.state = CredentialVersion.State.PUBLISHED
    version.published_at = version.published_at or timezone.now()
    version.credential.status = Credential.Status.PUBLISHED
    return sorted([version, *history], key=lambda item: -item.number)


class PublishingAdminMixin:
    """The preview and publish pages of ``CredentialVersionAdmin``."""

    def get_urls(self) -> list[URLPattern]:
        site = self.admin_site  # type: ignore[attr-defined]
        publish = site.admin_view(require_http_methods(["GET", "HEAD", "POST"])(self.publish_view))
        preview = site.admin_view(require_safe(self.preview_view))
        # only this site may frame the page (the preview's frames); no form on it goes anywhere
        framable = csp_replace({"frame-ancestors": [SELF], "form-action": [NONE]})
        page = site.admin_view(
            xframe_options_sameorigin(framable(require_safe(self.preview_page_view)))  # type: ignore[arg-type]
        )
        return [
            path("<path:object_id>/publish/", publish, name="programs_credentialversion_publish"),
            path("<path:object_id>/preview/", preview, name="programs_credentialversion_preview"),
            path(
                "<path:object_id>/preview/page/",
                page,
                name="programs_credentialversion_preview_page",
            ),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def _version(self, request: HttpRequest, object_id: str) -> CredentialVersion:
        version = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if version is None or not self.has_view_permission(request, version):  # type: ignore[attr-defined]
            raise Http404("No such version.")
        return version  # type: ignore[no-any-return]

    def _context(self, request: HttpRequest, version: CredentialVersion, **extra: Any) -> Any:
        return {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "opts": self.opts,  # type: ignore[attr-defined]
            "version": version,
            "change_url": reverse("admin:programs_credentialversion_change", args=[version.pk]),
            "preview_url": reverse("admin:programs_credentialversion_preview", args=[version.pk]),
            "publish_url": reverse("admin:programs_credentialversion_publish", args=[version.pk]),
            **extra,
        }

    # --- Preview --------------------------------------------------------------------------------

    def preview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        version = self._version(request, object_id)
        page_url = reverse("admin:programs_credentialversion_preview_page", args=[version.pk])
        frames = [
            {"label": label, "width": width, "height": height, "url": page_url}
            for label, width, height in PREVIEW_WIDTHS
        ]
        context = self._context(
            request,
            version,
            title=gettext("Preview of “%(title)s” (version %(number)s)")
            % {"title": version.title, "number": version.number},
            frames=frames,
            page_url=page_url,
        )
        response = TemplateResponse(request, PREVIEW_TEMPLATE, context)
        response["X-Robots-Tag"] = "noindex"
        return response

    def preview_page_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        found = self._version(request, object_id)
        version = selectors.credential_version_get_preview(
            organization_ids=[found.organization_id], pk=found.pk
        )
        history = _as_published(version)
        # rendered for a visitor who is not signed in: the page most educators first see, and
        # nothing is looked up or made for the admin (no membership by e-mail domain)
        visitor = copy.copy(request)
        visitor.user = AnonymousUser()
        context = credential_page_context(
            request=visitor, organization=version.organization, version=version, history=history
        )
        # a draft has no public image address; the admin's messages wait for the admin's pages
        context.update(
            {"badge_image_url": artwork_preview(version), "user": visitor.user, "messages": []}
        )
        response = TemplateResponse(visitor, PREVIEW_PAGE_TEMPLATE, context)
        response.render()
        response.content = inert(response.content.decode()).encode()
        response["X-Robots-Tag"] = "noindex"
        response["Cache-Control"] = "private, no-store"
        return response

    # --- Publish ------------------------------------------------------------------------------

    def publish_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: the confirmation. POST (its form): publish this draft, or say why not yet."""
        version = self._version(request, object_id)
        if request.method == "POST":
            if self._publish(request, version):  # type: ignore[attr-defined]
                return HttpResponseRedirect(
                    reverse("admin:programs_credential_change", args=[version.credential_id])
                )
            # refused (the draft changed since the confirmation): its page says why
            return HttpResponseRedirect(
                reverse("admin:programs_credentialversion_change", args=[version.pk])
            )
        check = services.credential_version_publish_check(version=version)
        context = self._context(
            request,
            check.version,
            title=gettext("Publish “%(title)s” (version %(number)s)?")
            % {"title": check.version.title, "number": check.version.number},
            check=check,
            can_publish=not check.problems and self.has_change_permission(request, check.version),  # type: ignore[attr-defined]
        )
        return TemplateResponse(request, CONFIRM_TEMPLATE, context)

    def _publish(self, request: HttpRequest, version: CredentialVersion) -> bool:
        try:
            services.credential_version_publish(version=version, actor=request.user)  # type: ignore[arg-type]
        except ApplicationError as error:
            self.message_user(  # type: ignore[attr-defined]
                request,
                gettext("“%(title)s” version %(number)s: %(message)s")
                % {"title": version.title, "number": version.number, "message": error.message},
                messages.ERROR,
            )
            return False
        self.message_user(  # type: ignore[attr-defined]
            request,
            gettext(
                "“%(title)s” version %(number)s is now in the catalog; earlier versions "
                "stay readable."
            )
            % {"title": version.title, "number": version.number},
        )
        return True
