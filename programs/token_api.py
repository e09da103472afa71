"""What every API call made with an organization API token (``Authorization: Bearer tsr_…``)
shares: the authentication, the scope check, the base view and the OpenAPI parts of their
answers. The member sync (``members_api``) and the admin API (``programs.admin_api``,
``submissions.admin_api``, ``badges.admin_api``) build on it.

No token, an unknown one or a revoked one: 401. Another organization's token: 404 (as any other
organization's object). A token without the operation's scope: 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from credentials_site.tenancy import request_organization

from . import selectors, services
from .models import Organization, OrganizationToken
from .serializers import ErrorOutput


class OrganizationTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer tsr_…``: the request acts as the token (``request.auth``), with
    no user. A Bearer credential that is no active token is refused (401)."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, OrganizationToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                gettext("Send one token: Authorization: Bearer tsr_…")
            )
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(gettext("This is not an API token.")) from None
        token = services.organization_token_authenticate(secret=secret)
        if token is None:
            raise exceptions.AuthenticationFailed(
                gettext("This API token is not valid or was revoked.")
            )
        return AnonymousUser(), token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class OrganizationTokenSchema(OpenApiAuthenticationExtension):
    target_class = OrganizationTokenAuthentication
    name = "organizationToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "tsr_…",
            "description": gettext(
                "An organization API token, made by an owner in the admin (API "
                "tokens); it acts in that organization only, within its scopes."
            ),
        }


class TokenScope(BasePermission):
    """The request's token is this organization's (else 404) and has the view's scope (else
    403); its use is then recorded (at most once a minute)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        token = request.auth
        if not isinstance(token, OrganizationToken):
            return False  # no token: 401
        if token.organization_id != request_organization(request).pk:
            raise exceptions.NotFound(gettext("No such organization."))
        scope = view.get_required_scope()  # type: ignore[attr-defined]
        if scope not in token.scopes:
            raise exceptions.PermissionDenied(
                gettext("This token lacks the scope %(scope)s.") % {"scope": scope}
            )
        services.organization_token_touch(token=token)
        return True


class TokenApi(APIView):
    """An operation made with an organization API token; ``required_scope`` names its scope,
    or per HTTP method (``{"GET": read, "PUT": write}``; HEAD and OPTIONS as GET)."""

    authentication_classes: tuple[Any, ...] = (OrganizationTokenAuthentication,)
    permission_classes: tuple[Any, ...] = (TokenScope,)
    required_scope: str | dict[str, str]

    def get_required_scope(self) -> str:
        if isinstance(self.required_scope, str):
            return self.required_scope
        method = self.request.method or "GET"
        return self.required_scope["GET" if method in ("HEAD", "OPTIONS") else method]

    @property
    def organization(self) -> Organization:
        return request_organization(self.request)

    @property
    def token(self) -> OrganizationToken:
        return self.request.auth  # type: ignore[return-value]


class AdminOrToken(BasePermission):
    """A program admin or owner of the URL's organization, signed in (anyone else signed in:
    404), or an organization API token of it with the view's scope (``TokenScope``)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if isinstance(request.auth, OrganizationToken):
            return TokenScope().has_permission(request, view)
        if not request.user.is_authenticated:
            return False
        administered = selectors.organization_ids_administered_by(user=request.user)
        if request_organization(request).pk not in administered:
            raise exceptions.NotFound()
        return True


class AdminOrTokenApi(TokenApi):
    """An operation a program admin makes signed in, or their organization's system with an
    API token; services see the signed-in person as the actor, or none for a token (the
    token's use is recorded on it)."""

    authentication_classes = (
        OrganizationTokenAuthentication,
        *api_settings.DEFAULT_AUTHENTICATION_CLASSES,
    )
    permission_classes = (AdminOrToken,)

    @property
    def actor(self) -> Any:
        user = self.request.user
        return user if user.is_authenticated else None


# --- The OpenAPI parts of their answers ---------------------------------------------------------

ORG_SLUG = OpenApiParameter(
    "org_slug", OpenApiTypes.STR, OpenApiParameter.PATH, description=_("The organization.")
)
UNAUTHENTICATED = OpenApiResponse(
    ErrorOutput, description=_("No API token, or one that is not valid or was revoked.")
)
NO_SCOPE = OpenApiResponse(ErrorOutput, description=_("The token lacks the operation's scope."))
NOT_FOUND = OpenApiResponse(
    ErrorOutput, description=_("No such organization, or the token is another organization's.")
)
INVALID = OpenApiResponse(ErrorOutput, description=_("The input is not valid (fields names it)."))
