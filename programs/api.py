"""The public catalog through the API (read-only).

One class per operation; each parses its query parameters, calls a selector and renders. The
tenancy middleware has already resolved the organization from ``org_slug`` (an unknown one is a
JSON 404 before DRF runs) and entered its scope.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from credentials_site.pagination import WindowCountPagination
from credentials_site.tenancy import request_organization

from . import selectors
from .models import Credential, FocusArea, Organization, Pathway
from .serializers import (
    CredentialDetailFilterInput,
    CredentialDetailOutput,
    CredentialListFilterInput,
    CredentialListOutput,
    ErrorOutput,
    FocusAreaOutput,
    OrganizationDetailOutput,
    OrganizationOutput,
    PathwayOutput,
)

TAG = "Catalog"

ORG_SLUG = OpenApiParameter(
    "org_slug",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description=_("The organization's slug, as in /o/<slug>/ on the site."),
)
CREDENTIAL_SLUG = OpenApiParameter(
    "credential_slug",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description=_("The credential's slug within its organization."),
)
NOT_FOUND = OpenApiResponse(ErrorOutput, description=_("No such organization or credential."))
INVALID = OpenApiResponse(
    ErrorOutput, description=_("A query parameter is not valid (fields names it, e.g. page).")
)
NOT_FOUND_OR_PAGE = OpenApiResponse(
    ErrorOutput, description=_("No such organization, or a page past the last (fields: page).")
)


class _PublicReadApi(generics.GenericAPIView):
    """Anyone may read; there is nothing to write (other methods answer 405)."""

    permission_classes = (AllowAny,)
    filter_backends = ()  # query parameters are parsed explicitly, into selector arguments
    http_method_names = ["get", "head", "options"]

    @property
    def organization(self) -> Organization:
        return request_organization(self.request)

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if getattr(self.request, "organization", None) is not None:
            context["organization"] = self.organization
        return context


@extend_schema(
    tags=[TAG],
    responses={
        200: OrganizationOutput(many=True),
        400: INVALID,
        404: OpenApiResponse(ErrorOutput, description=_("A page past the last (fields: page).")),
    },
)
class OrganizationListApi(_PublicReadApi, generics.ListAPIView):
    """Organizations that publish a catalog."""

    serializer_class = OrganizationOutput

    def get_queryset(self) -> list[Organization]:  # type: ignore[override]
        # the counts read across organizations (a named bypass): evaluated there, as a list
        return selectors.organization_list_public()


@extend_schema(
    tags=[TAG], parameters=[ORG_SLUG], responses={200: OrganizationDetailOutput, 404: NOT_FOUND}
)
class OrganizationDetailApi(_PublicReadApi):
    """One organization, with the issuer profile on the badges it awards."""

    serializer_class = OrganizationDetailOutput

    def get(self, request: Request, org_slug: str) -> Response:
        published_count = selectors.credential_list_published(
            organization=self.organization
        ).count()
        context = {**self.get_serializer_context(), "published_count": published_count}
        return Response(OrganizationDetailOutput(self.organization, context=context).data)


@extend_schema(
    tags=[TAG],
    parameters=[ORG_SLUG],
    responses={200: FocusAreaOutput(many=True), 400: INVALID, 404: NOT_FOUND_OR_PAGE},
)
class FocusAreaListApi(_PublicReadApi, generics.ListAPIView):
    """The organization's focus areas, with how many published credentials each has."""

    serializer_class = FocusAreaOutput

    def get_queryset(self) -> QuerySet[FocusArea]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no organization
            return FocusArea.objects.none()
        # The count annotation drops the model's default ordering (a GROUP BY query); restore it
        # so pages are stable.
        return selectors.focus_area_list(organization=self.organization).order_by(
            "position", "name"
        )


@extend_schema(
    tags=[TAG],
    parameters=[ORG_SLUG, CredentialListFilterInput],
    responses={200: CredentialListOutput(many=True), 400: INVALID, 404: NOT_FOUND_OR_PAGE},
)
class CredentialListApi(_PublicReadApi, generics.ListAPIView):
    """The organization's published credentials, filtered and paginated."""

    serializer_class = CredentialListOutput
    pagination_class = WindowCountPagination

    def get_queryset(self) -> QuerySet[Credential]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no organization
            return Credential.objects.none()
        params = CredentialListFilterInput(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        filters = selectors.CatalogFilters(**params.validated_data)  # trimmed by the fields
        return selectors.credential_list_published(organization=self.organization, filters=filters)


@extend_schema(
    tags=[TAG],
    parameters=[ORG_SLUG, CREDENTIAL_SLUG, CredentialDetailFilterInput],
    responses={200: CredentialDetailOutput, 400: INVALID, 404: NOT_FOUND},
)
class CredentialDetailApi(_PublicReadApi):
    """A credential's current published version in full, or an earlier one by number."""

    serializer_class = CredentialDetailOutput

    def get(self, request: Request, org_slug: str, credential_slug: str) -> Response:
        params = CredentialDetailFilterInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        version = selectors.credential_version_get_public(
            organization=self.organization,
            credential_slug=credential_slug,
            number=params.validated_data.get("version"),
        )
        history = selectors.credential_version_history(credential=version.credential)
        context = {**self.get_serializer_context(), "history": history}
        return Response(CredentialDetailOutput(version, context=context).data)


@extend_schema(
    tags=[TAG],
    parameters=[ORG_SLUG],
    responses={200: PathwayOutput(many=True), 400: INVALID, 404: NOT_FOUND_OR_PAGE},
)
class PathwayListApi(_PublicReadApi, generics.ListAPIView):
    """The organization's published pathways and the credentials each stacks."""

    serializer_class = PathwayOutput

    def get_queryset(self) -> QuerySet[Pathway]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no organization
            return Pathway.objects.none()
        return selectors.pathway_list_published(organization=self.organization)
