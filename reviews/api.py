"""The reviewer's API: the queue, claims (claim next, release), saving and submitting a review.

One class per operation; each parses its input, calls one service or selector and renders. Only
people with a reviewer role in the URL's organization may use it: anyone else gets 404 (as for
another organization's data), an anonymous caller 403. A claim is its reviewer's alone: another
reviewer's claim, or one of another organization, answers 404. Session authentication enforces
CSRF (the browser sends X-CSRFToken); tokens work too.

The queue is anonymous in every program. A claim shows the educator's name, e-mail, school and
district only while it is live (active or completed) and only when the program does not ask for
blind review; otherwise ``educator`` is null. Evidence files are linked to the reviewer's web
page for the file (``/o/<org>/review/claims/<claim>/items/<item>/file/``), which checks access
and redirects to a short-lived signed link.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from credentials_site.tenancy import request_organization
from programs.models import Organization, User
from programs.serializers import ErrorOutput
from submissions import steps
from submissions.models import Application, EvidenceItem, QuizResponse, Submission

from . import access, selectors, services
from .models import Claim, CriterionScore, Review
from .serializers import (
    ClaimCreateInput,
    ClaimEnvelopeOutput,
    ClaimSummaryOutput,
    QueueFilterInput,
    QueueItemOutput,
    ReviewInput,
    ReviewSaveOutput,
    ReviewSubmitOutput,
)

TAG = "Review"

ORG = OpenApiParameter(
    "org_slug", OpenApiTypes.STR, OpenApiParameter.PATH, description=_("The organization.")
)
CLAIM = OpenApiParameter(
    "claim_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description=_("The claim's id.")
)

NOT_FOUND = OpenApiResponse(
    ErrorOutput,
    description=_(
        "No such organization or claim, the claim is another reviewer's, or the caller "
        "has no reviewer role in this organization."
    ),
)
NOT_FOUND_OR_PAGE = OpenApiResponse(
    ErrorOutput,
    description=_(
        "No such organization, the caller has no reviewer role in it, or a page past "
        "the last (fields: page)."
    ),
)
NOT_AUTHENTICATED = OpenApiResponse(ErrorOutput, description=_("Not signed in, or no CSRF token."))
CLAIM_REFUSED = OpenApiResponse(
    ErrorOutput,
    description=_(
        "not_claimed: the claim was released or expired; claim_expired: it lapsed just "
        "now and the submission went back to the queue; already_decided; invalid: a rating is not "
        "on the criterion's scale (fields: criterion_<id>)."
    ),
)


class _ReviewerApi(APIView):
    """A reviewer of the URL's organization; 404 for anyone else who is signed in."""

    permission_classes = (IsAuthenticated,)

    @property
    def organization(self) -> Organization:
        return request_organization(self.request)

    @property
    def user(self) -> User:
        return cast(User, self.request.user)  # IsAuthenticated: never anonymous here

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.scope = access.access_scope_by_organization(
            actor=self.user, organization=self.organization
        )

    def claim(self, public_id: str | None = None) -> Claim:
        """The caller's claim from the URL (or ``public_id``), or 404."""
        return access.access_claim_by_public_id(
            actor=self.user,
            organization=self.organization,
            public_id=public_id or self.kwargs["claim_id"],
            scope=self.scope,
        )

    # --- What a claim shows (a fixed number of queries, whatever the size of the rubric) ---

    def steps_of(self, application: Application) -> dict[str, Any]:
        requirements = steps.requirement_list(application=application)
        return {
            "requirements": requirements,
            "steps": {r.pk: n for n, r in enumerate(requirements, start=1)},
        }

    def review_context(self, review: Review | None, application: Application) -> dict[str, Any]:
        scores: list[CriterionScore] = []
        if review is not None:
            scores = list(
                CriterionScore.objects.filter(review=review)
                .select_related("criterion")
                .prefetch_related("criterion__levels")
                .order_by("criterion__position", "criterion__pk")
            )
        return {"request": self.request, "scores": scores, **self.steps_of(application)}

    def claim_context(self, claim: Claim) -> dict[str, Any]:
        now = timezone.now()
        submission = claim.submission
        application = submission.application
        live = claim.status == Claim.Status.COMPLETED or (
            claim.status == Claim.Status.ACTIVE and claim.expires_at > now
        )
        review = Review.objects.filter(claim=claim).first()
        context = self.review_context(review, application)
        items: list[EvidenceItem] = []
        quizzes: list[QuizResponse] = []
        prior_reviews: list[Review] = []
        if live:
            items = list(
                EvidenceItem.objects.filter(submissions=submission)
                .select_related("requirement")
                .order_by("requirement__position", "requirement__pk", "created_at", "pk")
            )
            quizzes = list(
                QuizResponse.objects.filter(application=application).select_related("requirement")
            )
            if claim.is_adjudication:
                prior_reviews = list(
                    selectors.reviews_of_submission(submission=submission).filter(
                        is_adjudication=False
                    )
                )
        blind = application.credential.program.blind_review
        org_slug = self.organization.slug

        def file_url(item: EvidenceItem) -> str:
            path = f"/o/{org_slug}/review/claims/{claim.public_id}/items/{item.public_id}/file/"
            return self.request.build_absolute_uri(path)

        return {
            **context,
            "now": now,
            "review": review,
            "items": items,
            "quizzes": quizzes,
            "prior_reviews": prior_reviews,
            "educator": application.educator if live and not blind else None,
            "file_url": file_url,
        }

    def claim_response(
        self, claim: Claim, status_code: int = status.HTTP_200_OK, *, reload: bool = True
    ) -> Response:
        if reload:  # a service returns the bare row; the claim page needs its related rows
            claim = self.claim(str(claim.public_id))
        body = ClaimEnvelopeOutput({"claim": claim}, context=self.claim_context(claim))
        return Response(body.data, status=status_code)


# --- The queue ---------------------------------------------------------------------------------


class QueueListApi(_ReviewerApi, generics.ListAPIView):
    """The submissions the caller may review now: never their own, one they already reviewed or
    hold, or one they declared a conflict of interest with, or one assigned to someone else.
    Those assigned to the caller come first. Anonymous: no educator identity."""

    serializer_class = QueueItemOutput
    filter_backends = ()

    @extend_schema(
        tags=[TAG],
        operation_id="review_queue_list",
        parameters=[ORG, QueueFilterInput],
        responses={
            200: QueueItemOutput(many=True),
            400: OpenApiResponse(
                ErrorOutput, description=_("A query parameter is not valid (fields names it).")
            ),
            403: NOT_AUTHENTICATED,
            404: NOT_FOUND_OR_PAGE,
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Submission]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no organization
            return Submission.objects.none()
        params = QueueFilterInput(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        queue = selectors.queue_page(
            organization=self.organization,
            scope=self.scope,
            program=params.validated_data["program"],
            credential=params.validated_data["credential"],
        )
        order = ["submitted_at", "pk"]
        if params.validated_data["order"] == "newest":
            order = ["-submitted_at", "-pk"]
        if self.scope.has_assignments:  # what is assigned to the caller first
            order.insert(0, "-assigned_to_you")
        return queue.order_by(*order)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": timezone.now()}


# --- Claims ------------------------------------------------------------------------------------


class ClaimListApi(_ReviewerApi):
    @extend_schema(
        tags=[TAG],
        operation_id="review_claim_list",
        parameters=[ORG],
        description=_("The caller's active claims, the soonest to expire first."),
        responses={200: ClaimSummaryOutput(many=True), 403: NOT_AUTHENTICATED, 404: NOT_FOUND},
    )
    def get(self, request: Request, **kwargs: Any) -> Response:
        now = timezone.now()
        claims = selectors.claim_list_active(organization=self.organization, user=self.user)
        claims = claims.filter(expires_at__gt=now)  # lapsed ones are back in the queue
        output = ClaimSummaryOutput(claims, many=True, context={"now": now})  # type: ignore[arg-type]
        return Response(output.data)


class ClaimCreateApi(_ReviewerApi):
    @extend_schema(
        tags=[TAG],
        operation_id="review_claim_create",
        parameters=[ORG],
        description=_(
            "Claim the oldest submission the caller may review (optionally of one "
            "program or credential, or one waiting for adjudication). Two reviewers claiming at "
            "once never get the same one. The claim lapses after the program's claim time."
        ),
        request=ClaimCreateInput,
        responses={
            201: ClaimEnvelopeOutput,
            400: OpenApiResponse(
                ErrorOutput,
                description=_(
                    "queue_empty: nothing is waiting for the caller; not_a_reviewer: "
                    "only program admins and senior reviewers adjudicate."
                ),
            ),
            403: NOT_AUTHENTICATED,
            404: NOT_FOUND,
        },
    )
    def post(self, request: Request, **kwargs: Any) -> Response:
        data = ClaimCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        claim = services.review_claim_next(
            organization=self.organization,
            reviewer=self.user,
            program=data.validated_data["program"],
            credential=data.validated_data["credential"],
            adjudication=data.validated_data["adjudication"],
        )
        return self.claim_response(claim, status.HTTP_201_CREATED)


class ClaimListCreateApi(ClaimListApi, ClaimCreateApi):
    """GET and POST of claims/ share their URL."""


class ClaimDetailApi(_ReviewerApi):
    """One of the caller's claims with everything needed to review it."""

    @extend_schema(
        tags=[TAG],
        operation_id="review_claim_detail",
        parameters=[ORG, CLAIM],
        responses={200: ClaimEnvelopeOutput, 403: NOT_AUTHENTICATED, 404: NOT_FOUND},
    )
    def get(self, request: Request, **kwargs: Any) -> Response:
        return self.claim_response(self.claim(), reload=False)


class ClaimReleaseApi(_ReviewerApi):
    """Give the submission back to the queue; the draft review is discarded."""

    @extend_schema(
        tags=[TAG],
        operation_id="review_claim_release",
        parameters=[ORG, CLAIM],
        request=None,
        responses={
            200: ClaimEnvelopeOutput,
            400: CLAIM_REFUSED,
            403: NOT_AUTHENTICATED,
            404: NOT_FOUND,
        },
    )
    def post(self, request: Request, **kwargs: Any) -> Response:
        claim = services.review_claim_release(claim=self.claim(), reviewer=self.user)
        return self.claim_response(claim)


# --- The review --------------------------------------------------------------------------------


class ReviewSaveApi(_ReviewerApi):
    """Save the review as a draft: ratings may be missing; those given must be on the scale."""

    parser_classes = (JSONParser,)  # lists and objects have no form encoding

    @extend_schema(
        tags=[TAG],
        operation_id="review_save_draft",
        parameters=[ORG, CLAIM],
        request=ReviewInput,
        responses={
            200: ReviewSaveOutput,
            400: CLAIM_REFUSED,
            403: NOT_AUTHENTICATED,
            404: NOT_FOUND,
        },
    )
    def put(self, request: Request, **kwargs: Any) -> Response:
        claim = self.claim()
        data = ReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        review = services.review_save_draft(
            claim=claim,
            reviewer=self.user,
            scores=ReviewInput.scores_by_criterion(data.validated_data),
            overall_feedback=data.validated_data["overall_feedback"],
            revision_request=data.validated_data["revision_request"],
            decision=data.validated_data["decision"],
        )
        context = self.review_context(review, claim.submission.application)
        return Response(ReviewSaveOutput({"review": review}, context=context).data)


class ReviewSubmitApi(_ReviewerApi):
    """Submit the review and its decision. Every gap is reported at once and nothing is saved
    while any remains. A single review decides the application; in double review it waits for
    the second, and two that disagree go to an adjudicator."""

    parser_classes = (JSONParser,)  # lists and objects have no form encoding

    @extend_schema(
        tags=[TAG],
        operation_id="review_submit",
        parameters=[ORG, CLAIM],
        request=ReviewInput,
        responses={
            200: ReviewSubmitOutput,
            400: OpenApiResponse(
                ErrorOutput,
                description=_(
                    "incomplete: fields has one message per gap (criterion_<id>, "
                    "overall_feedback, decision, revision_request); already_decided: the claim or "
                    "the submission is decided; not_claimed / claim_expired: the claim is no "
                    "longer active; own_submission; invalid: a rating is not on the scale; "
                    "below_passing: approve while a criterion is below its passing level (fields "
                    "names each one)."
                ),
            ),
            403: NOT_AUTHENTICATED,
            404: NOT_FOUND,
        },
    )
    def post(self, request: Request, **kwargs: Any) -> Response:
        claim = self.claim()
        data = ReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        review = services.review_submit(
            claim=claim,
            reviewer=self.user,
            scores=ReviewInput.scores_by_criterion(data.validated_data),
            overall_feedback=data.validated_data["overall_feedback"],
            revision_request=data.validated_data["revision_request"],
            decision=data.validated_data["decision"],
        )
        application = claim.submission.application
        application.refresh_from_db(fields=["status"])
        context = self.review_context(review, application)
        body = {"review": review, "application_status": application.status}
        return Response(ReviewSubmitOutput(body, context=context).data)
