"""The admin API's applications and decisions (docs/decisions/0033): an organization's own
systems (its CRM, its professional-learning record) read who applied and what was decided,
under ``/api/v1/orgs/<slug>/admin/applications/`` and ``…/admin/decisions/``, filtered, and
walked through with a cursor (``next``), newest first. Scope ``applications:read`` (or a program
admin signed in). Evidence, scores and reviewers' comments are not part of it: the decision's
summary is what the educator was told.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers

from credentials_site.inputs import QueryInput
from credentials_site.pagination import CursorPagination
from programs.models import OrganizationToken
from programs.serializers import ErrorOutput
from programs.token_api import NO_SCOPE, ORG_SLUG, UNAUTHENTICATED, AdminOrTokenApi

from .models import Application, Submission

TAG = "Admin API: applications"
# a decided attempt's outcome (reviews.models.Review.Decision's values)
OUTCOMES = [
    ("approve", "approve"),
    ("needs_revision", "needs_revision"),
    ("not_awarded", "not_awarded"),
]
READ = OrganizationToken.Scope.APPLICATIONS_READ
INVALID_QUERY = OpenApiResponse(
    ErrorOutput, description=_("A filter, the cursor or the limit is not valid (fields names it).")
)
NOT_FOUND = OpenApiResponse(
    ErrorOutput,
    description=_(
        "No such organization, the token is another organization's, or the caller "
        "administers no such organization."
    ),
)


class ApplicationFilterInput(QueryInput):
    credential = serializers.SlugField(
        required=False, max_length=50, help_text=_("A credential's slug: only its applications.")
    )
    status = serializers.ChoiceField(
        choices=Application.Status.choices, required=False, help_text=_("Only in this state.")
    )
    updated_after = serializers.DateTimeField(
        required=False, help_text=_("Only applications changed after this moment (ISO 8601).")
    )
    submitted_after = serializers.DateTimeField(required=False)
    submitted_before = serializers.DateTimeField(required=False)


class DecisionFilterInput(QueryInput):
    credential = serializers.SlugField(
        required=False, max_length=50, help_text=_("A credential's slug: only its decisions.")
    )
    outcome = serializers.ChoiceField(
        choices=OUTCOMES, required=False, help_text=_("Only decisions with this outcome.")
    )
    decided_after = serializers.DateTimeField(required=False)
    decided_before = serializers.DateTimeField(required=False)


class ApplicationOutput(serializers.Serializer[Application]):
    id = serializers.UUIDField(source="public_id")
    educator_email = serializers.EmailField(source="educator.email")
    educator_name = serializers.CharField(source="educator.full_name")
    credential = serializers.SlugField(source="credential.slug")
    version = serializers.IntegerField(source="version.number")
    status = serializers.ChoiceField(choices=Application.Status.choices)
    attempt = serializers.IntegerField()
    was_member = serializers.BooleanField()
    fee_status = serializers.ChoiceField(choices=Application.FeeStatus.choices)
    applied_at = serializers.DateTimeField(source="created_at")
    submitted_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(
        allow_null=True, help_text=_("When the latest attempt was decided, if it was.")
    )
    outcome = serializers.CharField(
        allow_null=True, help_text=_("The latest decided attempt's outcome, if any.")
    )
    badge_id = serializers.UUIDField(
        allow_null=True, help_text=_("The badge issued for it (verification: /badges/<id>/).")
    )
    updated_at = serializers.DateTimeField()


class DecisionOutput(serializers.Serializer[Submission]):
    application_id = serializers.UUIDField(source="application.public_id")
    educator_email = serializers.EmailField(source="application.educator.email")
    credential = serializers.SlugField(source="application.credential.slug")
    attempt = serializers.IntegerField(source="number")
    outcome = serializers.ChoiceField(choices=OUTCOMES)
    summary = serializers.CharField(
        source="feedback_summary", help_text=_("What the educator was told, in summary.")
    )
    submitted_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField()


def _list_responses(output: type[serializers.Serializer[Any]]) -> dict[int, Any]:
    """What an admin list answers (its page, or the house error format)."""
    return {
        200: output(many=True),
        400: INVALID_QUERY,
        401: UNAUTHENTICATED,
        403: NO_SCOPE,
        404: NOT_FOUND,
    }


class _AdminListApi(AdminOrTokenApi, generics.ListAPIView):  # type: ignore[type-arg]
    required_scope = READ
    filter_backends = ()
    pagination_class = CursorPagination
    http_method_names = ["get", "head", "options"]
    filters: type[QueryInput]

    def filtered(self) -> dict[str, Any]:
        params = self.filters(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return {name: value for name, value in params.validated_data.items() if value is not None}


@extend_schema(tags=[TAG], parameters=[ORG_SLUG])
class ApplicationListApi(_AdminListApi):
    """The organization's applications, newest first, each with its latest decision and its
    badge."""

    serializer_class = ApplicationOutput
    filters = ApplicationFilterInput

    @extend_schema(
        operation_id="admin_application_list",
        parameters=[ApplicationFilterInput],
        responses=_list_responses(ApplicationOutput),
    )
    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Application]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no organization
            return Application.objects.none()
        f = self.filtered()
        decided = Submission.objects.filter(application=OuterRef("pk")).exclude(outcome="")
        latest = decided.order_by("-number")
        queryset = (
            Application.objects.filter(organization=self.organization)
            .select_related("educator", "credential", "version")
            .annotate(
                decided_at=Subquery(latest.values("decided_at")[:1]),
                outcome=Subquery(latest.values("outcome")[:1]),
                badge_id=F("badge__public_id"),
            )
        )
        if "credential" in f:
            queryset = queryset.filter(credential__slug=f["credential"])
        if "status" in f:
            queryset = queryset.filter(status=f["status"])
        if "updated_after" in f:
            queryset = queryset.filter(updated_at__gt=f["updated_after"])
        if "submitted_after" in f:
            queryset = queryset.filter(submitted_at__gt=f["submitted_after"])
        if "submitted_before" in f:
            queryset = queryset.filter(submitted_at__lt=f["submitted_before"])
        return queryset


class _DecisionCursor(CursorPagination):
    ordering = ("-decided_at", "-pk")


@extend_schema(tags=[TAG], parameters=[ORG_SLUG])
class DecisionListApi(_AdminListApi):
    """The organization's decisions (one per decided attempt), newest first."""

    serializer_class = DecisionOutput
    filters = DecisionFilterInput
    pagination_class = _DecisionCursor

    @extend_schema(
        operation_id="admin_decision_list",
        parameters=[DecisionFilterInput],
        responses=_list_responses(DecisionOutput),
    )
    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Submission]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no organization
            return Submission.objects.none()
        f = self.filtered()
        queryset = (
            Submission.objects.filter(organization=self.organization, decided_at__isnull=False)
            .exclude(outcome="")
            .select_related("application__educator", "application__credential")
        )
        if "credential" in f:
            queryset = queryset.filter(application__credential__slug=f["credential"])
        if "outcome" in f:
            queryset = queryset.filter(outcome=f["outcome"])
        if "decided_after" in f:
            queryset = queryset.filter(decided_at__gt=f["decided_after"])
        if "decided_before" in f:
            queryset = queryset.filter(decided_at__lt=f["decided_before"])
        return queryset
