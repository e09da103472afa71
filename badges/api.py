"""The badges API: the educator's own badges (from every organization), an organization's badges
and revocation for its program admins, and the public issuer documents.

One class per operation; each parses its input, calls one service or selector and renders.

- ``me/badges/``: the signed-in person's badges only; anyone else's badge answers 404.
- ``orgs/<slug>/badges/``: program admins and owners of that organization only; anyone else who
  is signed in (an educator, a reviewer, another organization's admin) gets 404, as for another
  organization's data; an anonymous caller 403. Another organization's badge is 404.
- ``orgs/<slug>/status/<n>`` and ``orgs/<slug>/issuer``: public, as on the website
  (``/o/<slug>/status/<n>``, ``/o/<slug>/issuer``).

Signing keys never leave the server: only the signed credential (whose proof names the public
verification method) is returned. Session authentication enforces CSRF (the browser sends
X-CSRFToken); tokens work too.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from credentials_site.tenancy import request_organization
from programs.models import OrganizationToken, User
from programs.serializers import ErrorOutput
from programs.token_api import NO_SCOPE, UNAUTHENTICATED, AdminOrTokenApi

from . import documents, selectors, services
from .models import Badge, StatusList
from .serializers import (
    BadgeDetailOutput,
    BadgeListFilterInput,
    BadgeOutput,
    BadgeRevokeInput,
    BadgeRevokeOutput,
    OrganizationBadgeOutput,
)

TAG = "Badges"

ORG = OpenApiParameter(
    "org_slug", OpenApiTypes.STR, OpenApiParameter.PATH, description=_("The organization.")
)
BADGE = OpenApiParameter(
    "public_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description=_("The badge's opaque id.")
)

NOT_AUTHENTICATED = OpenApiResponse(ErrorOutput, description=_("Not signed in, or no CSRF token."))
INVALID_QUERY = OpenApiResponse(
    ErrorOutput, description=_("A query parameter is not valid (fields names it, e.g. page).")
)
NOT_MINE = OpenApiResponse(ErrorOutput, description=_("No such badge among the caller's."))
NOT_FOUND = OpenApiResponse(
    ErrorOutput,
    description=_(
        "No such organization or badge, the badge is another organization's, or the "
        "caller is not a program admin or owner of this organization."
    ),
)


class _MineApi(APIView):
    permission_classes = (IsAuthenticated,)

    @property
    def user(self) -> User:
        return cast(User, self.request.user)  # IsAuthenticated: never anonymous here


class _ProgramAdminApi(AdminOrTokenApi):
    """A program admin or owner of the URL's organization signed in (404 for anyone else
    signed in), or an organization API token of it with the operation's scope."""

    required_scope: dict[str, str] = {
        "GET": OrganizationToken.Scope.BADGES_READ,
        "POST": OrganizationToken.Scope.BADGES_WRITE,
    }


# --- My badges -------------------------------------------------------------------------------


class MyBadgeListApi(_MineApi, generics.ListAPIView):
    """The caller's badges from every organization, newest first (revoked and expired ones
    included, with their state)."""

    serializer_class = BadgeOutput
    filter_backends = ()

    @extend_schema(
        tags=[TAG],
        operation_id="badge_mine_list",
        responses={
            200: BadgeOutput(many=True),
            400: INVALID_QUERY,
            403: NOT_AUTHENTICATED,
            404: OpenApiResponse(
                ErrorOutput, description=_("A page past the last (fields: page).")
            ),
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> list[Badge]:  # type: ignore[override]
        # the caller's badges across organizations: read inside the named bypass, as a list
        if getattr(self, "swagger_fake_view", False):  # schema generation: nobody signed in
            return []
        return selectors.badge_list_for_recipient(user=self.user)


class MyBadgeDetailApi(_MineApi):
    @extend_schema(
        tags=[TAG],
        operation_id="badge_mine_detail",
        parameters=[BADGE],
        description=_("One of the caller's badges, with the signed credential exactly as issued."),
        responses={200: BadgeDetailOutput, 403: NOT_AUTHENTICATED, 404: NOT_MINE},
    )
    def get(self, request: Request, **kwargs: Any) -> Response:
        badge = selectors.access_badge_by_public_id(actor=self.user, public_id=kwargs["public_id"])
        return Response(BadgeDetailOutput(badge).data)


# --- An organization's badges (program admins) ---------------------------------------------------


class BadgeListApi(_ProgramAdminApi, generics.ListAPIView):
    """The organization's badges, newest first, with their earners."""

    serializer_class = OrganizationBadgeOutput
    filter_backends = ()

    @extend_schema(
        tags=[TAG],
        operation_id="badge_list",
        parameters=[ORG, BadgeListFilterInput],
        responses={
            200: OrganizationBadgeOutput(many=True),
            400: INVALID_QUERY,
            401: UNAUTHENTICATED,
            403: NO_SCOPE,
            404: OpenApiResponse(
                ErrorOutput,
                description=_(
                    "No such organization, the caller is not a program admin or owner "
                    "of it, or a page past the last (fields: page)."
                ),
            ),
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Badge]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no organization
            return Badge.objects.none()
        params = BadgeListFilterInput(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return selectors.badge_list_filtered(
            organization=self.organization,
            state=params.validated_data["state"],
            credential=params.validated_data["credential"],
        )


class BadgeRevokeApi(_ProgramAdminApi):
    """Revoke a badge: its bit is set in the organization's signed status list (so every
    verifier sees it), and the educator is e-mailed the public reason and the private note. The
    educator's pathway certificates that require the badge are revoked with it (each with its
    own public reason and e-mail) unless ``keep_certificates``."""

    @extend_schema(
        tags=[TAG],
        operation_id="badge_revoke",
        parameters=[ORG, BADGE],
        request=BadgeRevokeInput,
        responses={
            200: BadgeRevokeOutput,
            400: OpenApiResponse(
                ErrorOutput,
                description=_(
                    "reason_required: no public reason given (fields: reason); "
                    "already_revoked; invalid: the reason or the private note is too long "
                    "(fields: reason, private_note)."
                ),
            ),
            401: UNAUTHENTICATED,
            403: NO_SCOPE,
            404: NOT_FOUND,
        },
    )
    def post(self, request: Request, **kwargs: Any) -> Response:
        badge = selectors.badge_get_for_admin(
            organization=self.organization, public_id=kwargs["public_id"]
        )
        data = BadgeRevokeInput(data=request.data)
        data.is_valid(raise_exception=True)
        revocation = services.badge_revoke(
            badge=badge,
            reason=data.validated_data["reason"],
            private_note=data.validated_data["private_note"],
            keep_certificates=data.validated_data["keep_certificates"],
            actor=self.actor,
        )
        rows = {
            b.pk: b
            for b in selectors.badge_list_filtered(organization=self.organization).filter(
                pk__in=[badge.pk, *(c.pk for c in revocation.certificates)]
            )
        }
        certificates = [rows[c.pk] for c in revocation.certificates]
        return Response(
            {
                **OrganizationBadgeOutput(rows[badge.pk]).data,
                "certificates_revoked": [OrganizationBadgeOutput(c).data for c in certificates],
            }
        )


# --- Public issuer documents ----------------------------------------------------------------------


class StatusListDetailApi(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(
        tags=[TAG],
        operation_id="badge_status_list_detail",
        parameters=[
            ORG,
            OpenApiParameter(
                "number",
                OpenApiTypes.INT,
                OpenApiParameter.PATH,
                description=_("The list's number."),
            ),
        ],
        description=_(
            "The organization's signed BitstringStatusListCredential (revocation): a "
            "badge is revoked when its credentialStatus.statusListIndex bit is set."
        ),
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description=_("The signed credential.")),
            404: OpenApiResponse(ErrorOutput, description=_("No such organization or list.")),
        },
    )
    def get(self, request: Request, **kwargs: Any) -> Response:
        organization = request_organization(request)
        try:
            status_list = services.status_list_get(
                organization=organization, number=kwargs["number"]
            )
        except StatusList.DoesNotExist as error:
            raise NotFound() from error
        return Response(status_list.credential)


class IssuerProfileDetailApi(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(
        tags=[TAG],
        operation_id="badge_issuer_profile_detail",
        parameters=[ORG],
        description=_(
            "The organization's Open Badges 3.0 issuer Profile (its id is the "
            "organization's did:web, whose document lists the public keys)."
        ),
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description=_("The issuer Profile.")),
            404: OpenApiResponse(ErrorOutput, description=_("No such organization.")),
        },
    )
    def get(self, request: Request, **kwargs: Any) -> Response:
        organization = request_organization(request)
        return Response({"@context": documents.CONTEXT, **documents.issuer_profile(organization)})
