"""The educator's application API: the summary, evidence uploads (the browser's uploader, Uppy),
written answers, links, the quiz, and submitting.

One class per operation; each parses its input, calls one service or selector and renders. Only
the application's educator may use it: anyone else gets 404
(``selectors.access_application_by_public_id``),
an anonymous caller 403. Session authentication enforces CSRF (the browser sends X-CSRFToken).

Files never pass through Django: a slot says where the browser sends the bytes (a presigned POST,
or presigned parts of a multipart upload), ``confirm`` checks what arrived, and ``file`` redirects
to a short-lived presigned GET.
"""

from __future__ import annotations

from typing import Any, cast

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from credentials_site.exceptions import ApplicationError
from credentials_site.tenancy import request_organization
from programs.models import EvidenceRequirement, Organization, User
from programs.serializers import ErrorOutput

from . import selectors, services, steps, storage
from .errors import SubmissionErrorCode
from .models import Application, EvidenceItem
from .serializers import (
    ApplicationDetailOutput,
    ApplicationSubmitOutput,
    EvidenceItemPrivacyInput,
    ItemOutput,
    LinkInput,
    QuizAnswerInput,
    QuizResultOutput,
    TextAnswerInput,
    TextAnswerOutput,
    UploadCompleteInput,
    UploadMultipartSlotOutput,
    UploadPartOutput,
    UploadPartUrlOutput,
    UploadPostSlotOutput,
    UploadSlotInput,
)

APPLICATION_TAG = "Applications"
EVIDENCE_TAG = "Evidence"

PATH = [
    OpenApiParameter(
        "org_slug", OpenApiTypes.STR, OpenApiParameter.PATH, description=_("The organization.")
    ),
    OpenApiParameter(
        "application_id",
        OpenApiTypes.UUID,
        OpenApiParameter.PATH,
        description=_("The application's id."),
    ),
]
ITEM = OpenApiParameter(
    "item_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description=_("The evidence item's id.")
)
STEP = OpenApiParameter(
    "step",
    OpenApiTypes.INT,
    OpenApiParameter.PATH,
    description=_("The requirement's 1-based position among the application's steps."),
)
PART = OpenApiParameter(
    "part_number", OpenApiTypes.INT, OpenApiParameter.PATH, description=_("1 to 10,000.")
)

NOT_FOUND = OpenApiResponse(
    ErrorOutput, description=_("No such application or item, or not the caller's.")
)
REFUSED = OpenApiResponse(
    ErrorOutput, description=_("The input is not valid, or a rule refused it (see code).")
)
NOT_AUTHENTICATED = OpenApiResponse(ErrorOutput, description=_("Not signed in, or no CSRF token."))

UPLOAD_SLOT = PolymorphicProxySerializer(
    component_name="UploadSlot",
    serializers={"POST": UploadPostSlotOutput, "MULTIPART": UploadMultipartSlotOutput},
    resource_type_field_name="method",
)


class _EducatorApi(APIView):
    """The caller's own application, from the URL; 404 for anyone else's."""

    permission_classes = (IsAuthenticated,)

    @property
    def organization(self) -> Organization:
        return request_organization(self.request)

    @property
    def user(self) -> User:
        return cast(User, self.request.user)  # IsAuthenticated: never anonymous here

    def application(self) -> Application:
        return selectors.access_application_by_public_id(
            actor=self.user,
            organization=self.organization,
            public_id=self.kwargs["application_id"],
        )

    def item(self, application: Application) -> EvidenceItem:
        return selectors.access_evidence_item_by_public_id(
            application=application, public_id=self.kwargs["item_id"]
        )

    def requirement(self, application: Application, step: int) -> EvidenceRequirement:
        requirement = steps.requirement_for_step(application=application, step=step)
        if requirement is None:
            raise ApplicationError(
                gettext("This application has no step %(step)s.") % {"step": step},
                code=SubmissionErrorCode.INVALID,
                fields={"step": [gettext("No step %(step)s.") % {"step": step}]},
            )
        return requirement

    def item_context(
        self, application: Application, step_of: dict[int, int] | None = None
    ) -> dict[str, Any]:
        """What ``EvidenceItemOutput`` needs: each item's step and its file link."""
        if step_of is None:
            step_of = steps.step_map(application=application)

        def file_url(item: EvidenceItem) -> str:
            path = reverse(
                "submissions_api:evidence-file",
                kwargs={
                    "org_slug": self.organization.slug,
                    "application_id": application.public_id,
                    "item_id": item.public_id,
                },
            )
            return self.request.build_absolute_uri(path)

        return {"request": self.request, "steps": step_of, "file_url": file_url}

    def item_response(
        self, application: Application, item: EvidenceItem, step_of: dict[int, int] | None = None
    ) -> Response:
        context = self.item_context(application, step_of)
        return Response(ItemOutput({"item": item}, context=context).data)


# --- The application ---------------------------------------------------------------------------


class ApplicationDetailApi(_EducatorApi):
    """The application: its steps with their limits, the evidence so far, and what is left to do
    before it can be submitted."""

    @extend_schema(
        tags=[APPLICATION_TAG],
        parameters=PATH,
        operation_id="application_detail",
        responses={200: ApplicationDetailOutput, 403: NOT_AUTHENTICATED, 404: NOT_FOUND},
    )
    def get(self, request: Request, **kwargs: Any) -> Response:
        application = self.application()
        requirements = steps.requirement_list(application=application)
        step_of = {requirement.pk: n for n, requirement in enumerate(requirements, start=1)}
        context = {
            **self.item_context(application, step_of),
            "requirements": requirements,
            "items": steps.evidence_item_list(application=application),
            "gaps": services.application_gaps(application=application),
        }
        return Response(ApplicationDetailOutput(application, context=context).data)


class ApplicationSubmitApi(_EducatorApi):
    """Submit (or resubmit) the application for review; every gap is reported at once."""

    @extend_schema(
        tags=[APPLICATION_TAG],
        parameters=PATH,
        operation_id="application_submit",
        request=None,
        responses={
            200: ApplicationSubmitOutput,
            400: OpenApiResponse(
                ErrorOutput,
                description=_(
                    "incomplete: fields has one message per unfinished step (step_<n>, "
                    "step_fee); not_editable: already submitted; name_required: the account has "
                    "no name for the badge yet (fields.full_name)."
                ),
            ),
            403: NOT_AUTHENTICATED,
            404: NOT_FOUND,
        },
    )
    def post(self, request: Request, **kwargs: Any) -> Response:
        submission = services.application_submit(application=self.application(), actor=self.user)
        return Response(ApplicationSubmitOutput(submission.application).data)


# --- Uploads -----------------------------------------------------------------------------------


class UploadSlotCreateApi(_EducatorApi):
    """Ask where to send a file. The declared name, size and type are checked against the step's
    limits; files above 100 MB get a multipart upload."""

    @extend_schema(
        tags=[EVIDENCE_TAG],
        parameters=PATH,
        operation_id="upload_slot_create",
        request=UploadSlotInput,
        responses={201: UPLOAD_SLOT, 400: REFUSED, 403: NOT_AUTHENTICATED, 404: NOT_FOUND},
    )
    def post(self, request: Request, **kwargs: Any) -> Response:
        application = self.application()
        data = UploadSlotInput(data=request.data)
        data.is_valid(raise_exception=True)
        step = data.validated_data["step"]
        requirement = self.requirement(application, step)
        slot = services.evidence_upload_slot(
            application=application,
            requirement=requirement,
            filename=data.validated_data["filename"],
            size=data.validated_data["size"],
            content_type=data.validated_data["content_type"],
            actor=self.user,
        )
        context = self.item_context(application, {requirement.pk: step})
        body: dict[str, Any]
        if slot.method == "MULTIPART":
            body = {
                "item": slot.item,
                "method": slot.method,
                "key": slot.key,
                "upload_id": slot.upload_id,
                "part_size": slot.part_size,
            }
            output: Any = UploadMultipartSlotOutput(body, context=context)
        else:
            body = {
                "item": slot.item,
                "method": slot.method,
                "url": slot.url,
                "fields": slot.fields,
            }
            output = UploadPostSlotOutput(body, context=context)
        return Response(output.data, status=status.HTTP_201_CREATED)


class UploadPartSignApi(_EducatorApi):
    """A short-lived URL to PUT one part of a multipart upload to."""

    @extend_schema(
        tags=[EVIDENCE_TAG],
        parameters=[*PATH, ITEM, PART],
        operation_id="upload_part_sign",
        request=None,
        responses={200: UploadPartUrlOutput, 400: REFUSED, 403: NOT_AUTHENTICATED, 404: NOT_FOUND},
    )
    def post(self, request: Request, part_number: int, **kwargs: Any) -> Response:
        item = self.item(self.application())
        url = services.evidence_multipart_sign(item=item, part_number=part_number, actor=self.user)
        return Response(UploadPartUrlOutput({"url": url}).data)


class UploadPartsListApi(_EducatorApi):
    """The parts already in storage, so an interrupted upload resumes where it stopped."""

    @extend_schema(
        tags=[EVIDENCE_TAG],
        parameters=[*PATH, ITEM],
        operation_id="upload_parts_list",
        responses={
            200: UploadPartOutput(many=True),
            400: REFUSED,
            403: NOT_AUTHENTICATED,
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, **kwargs: Any) -> Response:
        item = self.item(self.application())
        parts = services.evidence_multipart_parts(item=item, actor=self.user)
        return Response(UploadPartOutput(parts, many=True).data)  # type: ignore[arg-type]


class UploadCompleteApi(_EducatorApi):
    """Join the uploaded parts into one object (then ``confirm`` it)."""

    parser_classes = (JSONParser,)  # lists and objects have no form encoding

    @extend_schema(
        tags=[EVIDENCE_TAG],
        parameters=[*PATH, ITEM],
        operation_id="upload_complete",
        request=UploadCompleteInput,
        responses={200: ItemOutput, 400: REFUSED, 403: NOT_AUTHENTICATED, 404: NOT_FOUND},
    )
    def post(self, request: Request, **kwargs: Any) -> Response:
        application = self.application()
        item = self.item(application)
        data = UploadCompleteInput(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.evidence_multipart_complete(
            item=item, parts=data.validated_data["parts"], actor=self.user
        )
        return self.item_response(application, item)


class UploadConfirmApi(_EducatorApi):
    """Check what arrived in storage (real size, type from its first bytes) and accept it."""

    @extend_schema(
        tags=[EVIDENCE_TAG],
        parameters=[*PATH, ITEM],
        operation_id="upload_confirm",
        request=None,
        responses={
            200: ItemOutput,
            400: OpenApiResponse(
                ErrorOutput,
                description=_(
                    "rejected: the bytes are not what the step accepts (the file is "
                    "deleted; message says why); not_uploaded: nothing arrived yet; slot_expired."
                ),
            ),
            403: NOT_AUTHENTICATED,
            404: NOT_FOUND,
        },
    )
    def post(self, request: Request, **kwargs: Any) -> Response:
        application = self.application()
        item = services.evidence_upload_confirm(item=self.item(application), actor=self.user)
        return self.item_response(application, item)


# --- Evidence items ----------------------------------------------------------------------------


class EvidenceItemRemoveApi(_EducatorApi):
    @extend_schema(
        tags=[EVIDENCE_TAG],
        parameters=[*PATH, ITEM],
        operation_id="evidence_item_remove",
        description=_("Remove an item; its file is deleted from storage after the change commits."),
        responses={204: None, 400: REFUSED, 403: NOT_AUTHENTICATED, 404: NOT_FOUND},
    )
    def delete(self, request: Request, **kwargs: Any) -> Response:
        services.evidence_item_remove(item=self.item(self.application()), actor=self.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EvidenceItemPrivacyApi(_EducatorApi):
    @extend_schema(
        tags=[EVIDENCE_TAG],
        parameters=[*PATH, ITEM],
        operation_id="evidence_item_privacy",
        description=_(
            "Say whether students can be identified in a file, whether consent is on "
            "file, and who may see it."
        ),
        request=EvidenceItemPrivacyInput,
        responses={200: ItemOutput, 400: REFUSED, 403: NOT_AUTHENTICATED, 404: NOT_FOUND},
    )
    def patch(self, request: Request, **kwargs: Any) -> Response:
        application = self.application()
        item = self.item(application)
        data = EvidenceItemPrivacyInput(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.evidence_item_privacy(
            item=item,
            students_identifiable=data.validated_data["students_identifiable"],
            consent_on_file=data.validated_data["consent_on_file"],
            visibility=data.validated_data.get("visibility", item.visibility),
            actor=self.user,
        )
        return self.item_response(application, item)


class EvidenceItemApi(EvidenceItemRemoveApi, EvidenceItemPrivacyApi):
    """DELETE and PATCH of one item share its URL."""


class EvidenceFileApi(_EducatorApi):
    """View or download a ready file: images, audio, video and PDF open in the browser."""

    @extend_schema(
        tags=[EVIDENCE_TAG],
        parameters=[*PATH, ITEM],
        operation_id="evidence_file",
        responses={
            302: OpenApiResponse(
                description=_(
                    "Redirect to a short-lived link to the file in storage (it supports "
                    "Range requests, so video and audio can seek)."
                )
            ),
            403: NOT_AUTHENTICATED,
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, **kwargs: Any) -> Response:
        item = self.item(self.application())
        if item.kind != EvidenceItem.Kind.FILE or item.status != EvidenceItem.Status.READY:
            return Response(
                {
                    "code": "not_found",
                    "message": gettext("This file is not available."),
                    "fields": {},
                },
                status=status.HTTP_404_NOT_FOUND,
            )
        url = storage.evidence_file_url(item)
        return Response(
            status=status.HTTP_302_FOUND,
            headers={"Location": url, "Cache-Control": "private, no-store"},
        )


# --- Written answers, links, quizzes -----------------------------------------------------------


class TextAnswerSaveApi(_EducatorApi):
    """Save the written answer of a step (a draft: word limits are checked at submit)."""

    @extend_schema(
        tags=[EVIDENCE_TAG],
        parameters=[*PATH, STEP],
        operation_id="text_answer_save",
        request=TextAnswerInput,
        responses={200: TextAnswerOutput, 400: REFUSED, 403: NOT_AUTHENTICATED, 404: NOT_FOUND},
    )
    def put(self, request: Request, step: int, **kwargs: Any) -> Response:
        application = self.application()
        requirement = self.requirement(application, step)
        data = TextAnswerInput(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.evidence_text_save(
            application=application,
            requirement=requirement,
            text=data.validated_data["text"],
            actor=self.user,
        )
        context = self.item_context(application, {requirement.pk: step})
        body = {"item": item, "words": services.word_count(item.text)}
        return Response(TextAnswerOutput(body, context=context).data)


class LinkSaveApi(_EducatorApi):
    """Save the link of a step."""

    @extend_schema(
        tags=[EVIDENCE_TAG],
        parameters=[*PATH, STEP],
        operation_id="link_save",
        request=LinkInput,
        responses={200: ItemOutput, 400: REFUSED, 403: NOT_AUTHENTICATED, 404: NOT_FOUND},
    )
    def put(self, request: Request, step: int, **kwargs: Any) -> Response:
        application = self.application()
        requirement = self.requirement(application, step)
        data = LinkInput(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.evidence_link_save(
            application=application,
            requirement=requirement,
            url=data.validated_data["url"],
            actor=self.user,
        )
        return self.item_response(application, item, {requirement.pk: step})


class QuizAnswerApi(_EducatorApi):
    """Grade the quiz of a step. Only the score is returned, never which answers were right;
    it may be retaken until the application is submitted."""

    parser_classes = (JSONParser,)  # lists and objects have no form encoding

    @extend_schema(
        tags=[EVIDENCE_TAG],
        parameters=[*PATH, STEP],
        operation_id="quiz_answer",
        request=QuizAnswerInput,
        responses={
            200: QuizResultOutput,
            400: OpenApiResponse(
                ErrorOutput,
                description=_("incomplete: fields names each unanswered question."),
            ),
            403: NOT_AUTHENTICATED,
            404: NOT_FOUND,
        },
    )
    def post(self, request: Request, step: int, **kwargs: Any) -> Response:
        application = self.application()
        requirement = self.requirement(application, step)
        data = QuizAnswerInput(data=request.data)
        data.is_valid(raise_exception=True)
        response = services.quiz_answer(
            application=application,
            requirement=requirement,
            answers=data.validated_data["answers"],
            actor=self.user,
        )
        return Response(QuizResultOutput(response).data)
