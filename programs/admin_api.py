"""The admin API's credentials (docs/decisions/0033): an organization's own systems (or a program
admin signed in) create credentials, edit their drafts and publish them, under
``/api/v1/orgs/<slug>/admin/credentials/…``.

A draft is read and written as the credential builder's document (the one the admin's builder
page autosaves: ``services.credential_version_builder_document`` / ``_save``), so the API and
the page share one format and one validation: a field error comes back under its path in the
document (``requirements.0.title``). Publishing runs the same checks as the admin's Publish.
Scopes: ``credentials:read`` to read, ``credentials:write`` to create, edit and publish.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from credentials_site.exceptions import ApplicationError, NotFoundError
from credentials_site.inputs import StrictInput

from . import services
from .errors import ProgramErrorCode
from .models import Credential, CredentialVersion, OrganizationToken, Program
from .serializers import ErrorOutput
from .token_api import INVALID, NO_SCOPE, ORG_SLUG, UNAUTHENTICATED, AdminOrTokenApi

TAG = "Admin API: credentials"
READ = OrganizationToken.Scope.CREDENTIALS_READ
WRITE = OrganizationToken.Scope.CREDENTIALS_WRITE
SCOPES: dict[str, str] = {"GET": READ, "POST": WRITE, "PUT": WRITE}

CREDENTIAL_SLUG = OpenApiParameter(
    "credential_slug", OpenApiTypes.STR, OpenApiParameter.PATH, description=_("The credential.")
)
NOT_FOUND = OpenApiResponse(
    ErrorOutput,
    description=_(
        "No such organization or credential, the token is another organization's, "
        "the caller administers no such organization, or (draft) the credential has no draft."
    ),
)
DOCUMENT_EXAMPLE = OpenApiExample(
    "A draft (abridged)",
    value={
        "version": {
            "title": "Formative Assessment Basics",
            "summary": "Check understanding during a lesson and adjust.",
            "title_es": "Fundamentos de la evaluación formativa",
            "summary_es": "Compruebe la comprensión durante la clase y ajuste.",
            "competency": "The educator uses formative assessment to adjust instruction.",
            "credit_hours": "15.0",
            "focus_area": 3,
            "categories": [7],
            "audiences": [1],
        },
        "requirements": [
            {"key": "r1", "kind": "file", "title": "Lesson plan", "instructions": "Upload it."}
        ],
        "criteria": [
            {
                "title": "Alignment",
                "requirement": "r1",
                "levels": [
                    {"score": 1, "label": "Emerging", "description": "…"},
                    {"score": 3, "label": "Proficient", "description": "…"},
                ],
            }
        ],
    },
    response_only=False,
)


class CredentialOutput(serializers.Serializer[Credential]):
    slug = serializers.SlugField()
    public_id = serializers.UUIDField()
    program = serializers.SlugField(source="program.slug")
    status = serializers.ChoiceField(choices=Credential.Status.choices)
    current_version = serializers.IntegerField(
        source="current_version.number",
        allow_null=True,
        help_text=_("The number of the version in the catalog; null before the first publish."),
    )
    draft_version = serializers.SerializerMethodField(
        help_text=_("The number of the draft being edited, or null.")
    )
    updated_at = serializers.DateTimeField()

    def get_draft_version(self, credential: Credential) -> int | None:
        drafts = getattr(credential, "drafts", [])
        return drafts[0].number if drafts else None


class CredentialCreateInput(StrictInput):
    program = serializers.SlugField(help_text=_("The slug of one of the organization's programs."))
    slug = serializers.SlugField(max_length=50, help_text=_("The credential's address: unique."))
    title = serializers.CharField(max_length=200)
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    competency = serializers.CharField(required=False, allow_blank=True, default="")


class DraftOutput(serializers.Serializer[dict[str, Any]]):
    credential = serializers.SlugField()
    number = serializers.IntegerField(help_text=_("The draft's version number."))
    document = serializers.DictField(help_text=_("The draft as the credential builder edits it."))


class PublishOutput(serializers.Serializer[dict[str, Any]]):
    credential = serializers.SlugField()
    number = serializers.IntegerField(help_text=_("The version now in the catalog."))
    state = serializers.CharField()


def _credential(organization: Any, slug: str) -> Credential:
    credential = (
        Credential.objects.filter(organization=organization, slug=slug)
        .select_related("program", "current_version")
        .first()
    )
    if credential is None:
        message = gettext("No such credential.")
        raise NotFoundError(message, fields={"credential_slug": [message]})
    return credential


def _draft(credential: Credential) -> CredentialVersion:
    draft = CredentialVersion.objects.filter(
        credential=credential, state=CredentialVersion.State.DRAFT
    ).first()
    if draft is None:
        message = gettext(
            "“%(credential)s” has no draft: POST to its draft/ to start one from the latest "
            "version."
        ) % {"credential": credential.slug}
        raise NotFoundError(message, fields={"credential_slug": [message]})
    return draft


def _draft_body(credential: Credential, version: CredentialVersion) -> dict[str, Any]:
    document = services.credential_version_builder_document(version=version)
    return {"credential": credential.slug, "number": version.number, "document": document}


@extend_schema(tags=[TAG], parameters=[ORG_SLUG])
class CredentialListCreateApi(AdminOrTokenApi, generics.ListAPIView):
    """The organization's credentials, in catalog order, whatever their state; or (POST) a new
    credential with its first draft."""

    required_scope = SCOPES
    serializer_class = CredentialOutput
    filter_backends = ()
    parser_classes = (JSONParser,)
    http_method_names = ["get", "head", "post", "options"]

    def get_queryset(self) -> QuerySet[Credential]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no organization
            return Credential.objects.none()
        return (
            Credential.objects.filter(organization=self.organization)
            .select_related("program", "current_version")
            .prefetch_related(
                Prefetch(
                    "versions",
                    queryset=CredentialVersion.objects.filter(
                        state=CredentialVersion.State.DRAFT
                    ).only("pk", "credential_id", "number"),
                    to_attr="drafts",
                )
            )
            .order_by("position", "pk")
        )

    @extend_schema(
        operation_id="admin_credential_list",
        responses={
            200: CredentialOutput(many=True),
            400: OpenApiResponse(ErrorOutput, description=_("The page is not a whole number.")),
            401: UNAUTHENTICATED,
            403: NO_SCOPE,
            404: OpenApiResponse(
                ErrorOutput,
                description=_(
                    "No such organization, another's token, the caller administers no "
                    "such organization, or a page past the last (fields: page)."
                ),
            ),
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="admin_credential_create",
        request=CredentialCreateInput,
        examples=[
            OpenApiExample(
                "A new credential",
                value={
                    "program": "classroom-practice",
                    "slug": "formative-assessment",
                    "title": "Formative Assessment Basics",
                },
                request_only=True,
            )
        ],
        responses={
            201: DraftOutput,
            400: INVALID,
            401: UNAUTHENTICATED,
            403: NO_SCOPE,
            404: NOT_FOUND,
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = CredentialCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        program = Program.objects.filter(
            organization=self.organization, slug=values["program"]
        ).first()
        if program is None:
            message = gettext("“%(program)s” is not one of this organization's programs.") % {
                "program": values["program"]
            }
            raise ApplicationError(
                message, code=ProgramErrorCode.INVALID, fields={"program": [message]}
            )
        try:
            with transaction.atomic():
                version = services.credential_create(
                    organization=self.organization,
                    program_id=program.pk,
                    slug=values["slug"],
                    title=values["title"],
                    summary=values["summary"],
                    competency=values["competency"],
                    actor=self.actor,
                )
        except IntegrityError:
            message = gettext(
                "A credential of this organization already has the slug “%(slug)s”."
            ) % {"slug": values["slug"]}
            raise ApplicationError(
                message, code=ProgramErrorCode.INVALID, fields={"slug": [message]}
            ) from None
        credential = _credential(self.organization, values["slug"])
        body = DraftOutput(_draft_body(credential, version)).data
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(tags=[TAG], parameters=[ORG_SLUG, CREDENTIAL_SLUG])
class CredentialDraftApi(AdminOrTokenApi):
    """A credential's draft: read it (GET), start one from the latest version (POST: the
    existing draft if there is one), or replace it whole (PUT, the builder's document: every
    field error under its path, nothing saved unless all is valid)."""

    required_scope = SCOPES
    parser_classes = (JSONParser,)
    http_method_names = ["get", "head", "post", "put", "options"]

    @extend_schema(
        operation_id="admin_credential_draft_read",
        responses={200: DraftOutput, 401: UNAUTHENTICATED, 403: NO_SCOPE, 404: NOT_FOUND},
    )
    def get(self, request: Request, org_slug: str, credential_slug: str) -> Response:
        credential = _credential(self.organization, credential_slug)
        return Response(DraftOutput(_draft_body(credential, _draft(credential))).data)

    @extend_schema(
        operation_id="admin_credential_draft_start",
        request=None,
        responses={
            200: DraftOutput,
            201: DraftOutput,
            401: UNAUTHENTICATED,
            403: NO_SCOPE,
            404: NOT_FOUND,
        },
    )
    def post(self, request: Request, org_slug: str, credential_slug: str) -> Response:
        credential = _credential(self.organization, credential_slug)
        had_draft = CredentialVersion.objects.filter(
            credential=credential, state=CredentialVersion.State.DRAFT
        ).exists()
        with transaction.atomic():
            draft = services.credential_version_create_draft(
                credential=credential, actor=self.actor
            )
        code = status.HTTP_200_OK if had_draft else status.HTTP_201_CREATED
        return Response(DraftOutput(_draft_body(credential, draft)).data, status=code)

    @extend_schema(
        operation_id="admin_credential_draft_save",
        request=OpenApiTypes.OBJECT,
        examples=[DOCUMENT_EXAMPLE],
        responses={
            200: DraftOutput,
            400: INVALID,
            401: UNAUTHENTICATED,
            403: NO_SCOPE,
            404: NOT_FOUND,
        },
    )
    def put(self, request: Request, org_slug: str, credential_slug: str) -> Response:
        credential = _credential(self.organization, credential_slug)
        draft = _draft(credential)
        with transaction.atomic():
            saved = services.credential_version_builder_save(
                version=draft, data=request.data, actor=self.actor
            )
        return Response(DraftOutput(_draft_body(credential, saved)).data)


@extend_schema(tags=[TAG], parameters=[ORG_SLUG, CREDENTIAL_SLUG])
class CredentialPublishApi(AdminOrTokenApi):
    """Publish the credential's draft: it becomes the catalog's version (the previous one is
    superseded and stays readable). A draft that is not ready is refused with what is missing
    (``fields.version``), as the admin's Publish says it."""

    required_scope = WRITE
    http_method_names = ["post", "options"]

    @extend_schema(
        operation_id="admin_credential_publish",
        request=None,
        responses={
            200: PublishOutput,
            400: OpenApiResponse(
                ErrorOutput,
                description=_("incomplete: what the draft lacks (fields: version)."),
            ),
            401: UNAUTHENTICATED,
            403: NO_SCOPE,
            404: NOT_FOUND,
        },
    )
    def post(self, request: Request, org_slug: str, credential_slug: str) -> Response:
        credential = _credential(self.organization, credential_slug)
        draft = _draft(credential)
        with transaction.atomic():
            version = services.credential_version_publish(version=draft, actor=self.actor)
        return Response(
            PublishOutput(
                {"credential": credential.slug, "number": version.number, "state": version.state}
            ).data
        )
