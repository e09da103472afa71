"""The public catalog through the API (read-only)."""

from __future__ import annotations

from rest_framework import generics
from rest_framework.permissions import AllowAny

from . import selectors
from .serializers import OrganizationOutput


class OrganizationListApi(generics.ListAPIView):  # type: ignore[type-arg]
    """Organizations that publish a catalog."""

    permission_classes = (AllowAny,)
    serializer_class = OrganizationOutput

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.organization_list_public()
