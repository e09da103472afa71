"""The read models of the reviewer's pages: the queue (with the reviewer's claims and, for
adjudicators, what needs adjudication), the review page, the reviewer's conflicts of interest,
and the "Review queue" link in the site header. Each costs a fixed number of queries, whatever
the number of submissions, claims or evidence items. Who may open them: .permissions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from programs.models import (
    Credential,
    Organization,
    Program,
    RubricCriterion,
    User,
)
from programs.user_facts import user_facts_get
from submissions.models import Application, EvidenceItem, Submission

from .. import selectors
from ..models import Claim, ConflictOfInterest, CriterionScore, Review
from ..selectors import ReviewerScope
from .due import Due, age_text, due_text, time_left_text
from .inputs import QueueFilters, Refusal, ReviewInput
from .permissions import claim_is_live
from .rubric import RubricForm, rubric_criteria, rubric_form

QUEUE_PAGE_SIZE = 25
ADJUDICATION_LIST_SIZE = 25
ASSIGNED_LIST_SIZE = 25


# --- The queue page -----------------------------------------------------------------------------


@dataclass
class QueueRow:
    """One waiting submission as the queue shows it: never a name, only the anonymous code."""

    code: str
    title: str
    program: str
    attempt: int
    max_attempts: int
    age: str
    due: Due
    reviews_required: int


@dataclass
class ClaimRow:
    claim: Claim
    code: str
    title: str
    program: str
    attempt: int
    left: Due
    live: bool


@dataclass
class QueuePage:
    page: Page[Submission]
    rows: list[QueueRow]
    claims: list[ClaimRow]
    programs: list[Program]
    credentials: list[tuple[str, str]]  # (slug, title)
    can_adjudicate: bool
    adjudication_rows: list[QueueRow]
    adjudication_total: int
    # what a program admin assigned to this reviewer, shown first (and taken first by claim
    # next); the rest of the queue leaves them out
    assigned_rows: list[QueueRow]
    assigned_total: int


def _row(submission: Submission, now: dt.datetime) -> QueueRow:
    application = submission.application
    return QueueRow(
        code=application.anonymous_code,
        title=application.version.title,
        program=application.credential.program.name,
        attempt=submission.number,
        max_attempts=application.version.max_attempts,
        age=age_text(submission.submitted_at, now),
        due=due_text(submission.due_at, now),
        reviews_required=submission.reviews_required,
    )


def _claim_row(claim: Claim, now: dt.datetime) -> ClaimRow:
    application = claim.submission.application
    return ClaimRow(
        claim=claim,
        code=application.anonymous_code,
        title=application.version.title,
        program=application.credential.program.name,
        attempt=claim.submission.number,
        left=time_left_text(claim.expires_at, now),
        live=claim_is_live(claim, now),
    )


def filter_choices(
    *, organization: Organization, scope: ReviewerScope
) -> tuple[list[Program], list[tuple[str, str]]]:
    """The programs and credentials this reviewer may filter by (their scope): two queries."""
    programs = Program.objects.filter(organization=organization)
    credentials = Credential.objects.filter(
        organization=organization, current_version__isnull=False
    ).select_related("current_version")
    if scope.program_ids:
        programs = programs.filter(pk__in=scope.program_ids)
        credentials = credentials.filter(program_id__in=scope.program_ids)
    if scope.credential_ids:
        credentials = credentials.filter(pk__in=scope.credential_ids)
        programs = programs.filter(
            pk__in=Credential.objects.filter(pk__in=scope.credential_ids).values("program_id")
        )
    choices = sorted(
        ((c.slug, c.current_version.title) for c in credentials if c.current_version),
        key=lambda choice: choice[1].lower(),
    )
    return list(programs.order_by("name")), choices


def _queue(
    organization: Organization,
    scope: ReviewerScope,
    filters: QueueFilters,
    adjudication: bool,
    assigned: bool | None = None,
) -> QuerySet[Submission]:
    queryset = selectors.queue_page(
        organization=organization,
        scope=scope,
        program=filters.program,
        credential=filters.credential,
        adjudication=adjudication,
        assigned=assigned,
    )
    if filters.newest_first:
        queryset = queryset.order_by("-submitted_at", "-pk")
    return queryset


def queue_page(
    *,
    organization: Organization,
    scope: ReviewerScope,
    filters: QueueFilters,
    page_number: str | None,
) -> QueuePage:
    """The queue (what is assigned to the reviewer first, when anything is: the scope knows),
    the reviewer's claims and (for adjudicators) what needs adjudication."""
    now = timezone.now()
    assigned_rows: list[QueueRow] = []
    assigned_total = 0
    rest: bool | None = None
    if scope.has_assignments:
        rest = False
        assigned = _queue(organization, scope, filters, False, assigned=True)
        assigned_total = assigned.count()
        if assigned_total:
            assigned_rows = [_row(s, now) for s in assigned[:ASSIGNED_LIST_SIZE]]
    page = Paginator(
        _queue(organization, scope, filters, False, assigned=rest), QUEUE_PAGE_SIZE
    ).get_page(page_number)
    claims = [
        _claim_row(c, now)
        for c in selectors.claim_list_active(organization=organization, user=scope.user)
    ]
    adjudication_rows: list[QueueRow] = []
    adjudication_total = 0
    if scope.can_adjudicate:
        waiting = _queue(organization, scope, filters, True)
        adjudication_total = waiting.count()
        if adjudication_total:
            adjudication_rows = [_row(s, now) for s in waiting[:ADJUDICATION_LIST_SIZE]]
    programs, credentials = filter_choices(organization=organization, scope=scope)
    return QueuePage(
        page=page,
        rows=[_row(s, now) for s in page.object_list],
        claims=claims,
        programs=programs,
        credentials=credentials,
        can_adjudicate=scope.can_adjudicate,
        adjudication_rows=adjudication_rows,
        adjudication_total=adjudication_total,
        assigned_rows=assigned_rows,
        assigned_total=assigned_total,
    )


# --- The review page ----------------------------------------------------------------------------


@dataclass
class EarlierReview:
    """A submitted review, shown to the adjudicator beside the other one."""

    number: int
    review: Review
    reviewer: str
    scores: list[tuple[str, str, str]]  # (criterion title, level, comment)


@dataclass
class Identity:
    """The educator, shown only when the program does not review blind."""

    name: str
    email: str
    school: str
    district: str


@dataclass
class ReviewPage:
    claim: Claim
    submission: Submission
    application: Application
    program: Program
    title: str
    max_attempts: int
    blind: bool
    identity: Identity | None
    form: RubricForm  # the evidence and the rubric, step by step, with what was entered
    last_attempt: bool
    left: Due
    earlier_reviews: list[EarlierReview]
    previous_attempts: list[Submission]
    submitted_at: dt.datetime | None
    due: Due


def _saved_input(review: Review | None) -> ReviewInput:
    if review is None:
        return ReviewInput()
    return ReviewInput(
        scores={
            s.criterion_id: {"score": s.score, "comment": s.comment}
            for s in review.scores.all()  # prefetched
        },
        overall_feedback=review.overall_feedback,
        decision=review.decision,
        revision_request=review.revision_request,
    )


def _earlier_reviews(
    submission: Submission, criteria: list[RubricCriterion]
) -> list[EarlierReview]:
    """The submitted (non-adjudication) reviews, for the adjudicator: two queries."""
    levels = {(c.pk, level.score): level.label for c in criteria for level in c.levels.all()}
    earlier = []
    reviews = [
        r for r in selectors.reviews_of_submission(submission=submission) if not r.is_adjudication
    ]
    for number, review in enumerate(reviews, start=1):
        by_criterion = {s.criterion_id: s for s in review.scores.all()}
        rows = []
        for criterion in criteria:
            score = by_criterion.get(criterion.pk)
            if score is None or score.score is None:
                rows.append((criterion.title, "—", score.comment if score else ""))
                continue
            label = levels.get((criterion.pk, score.score), "")
            rows.append((criterion.title, f"{label} ({score.score})", score.comment))
        earlier.append(
            EarlierReview(
                number=number,
                review=review,
                reviewer=review.reviewer.full_name or review.reviewer.email,
                scores=rows,
            )
        )
    return earlier


def review_page(
    *,
    claim: Claim,
    file_url: Callable[[EvidenceItem], str] | None = None,
    refusal: Refusal | None = None,
) -> ReviewPage:
    """Everything the review page shows, in a fixed number of queries.

    ``file_url(item)``: the address of an evidence file (the view builds it from its URLs).
    ``refusal``: a refused form, shown again instead of the saved draft.
    """
    now = timezone.now()
    submission = claim.submission
    application = submission.application
    version = application.version
    program = application.credential.program
    blind = bool(program.blind_review)

    criteria = rubric_criteria(version_id=version.pk)
    review = (
        Review.objects.filter(claim=claim)
        .prefetch_related(Prefetch("scores", queryset=CriterionScore.objects.order_by("pk")))
        .first()
    )
    form = rubric_form(
        submission=submission,
        criteria=criteria,
        saved=_saved_input(review),
        refusal=refusal,
        editable=claim_is_live(claim, now),
        blind=blind,
        file_url=file_url,
    )
    identity = None
    if not blind:
        educator = application.educator
        identity = Identity(
            name=educator.full_name,
            email=educator.email,
            school=educator.school,
            district=educator.district,
        )
    previous = list(
        Submission.objects.filter(application_id=application.pk, number__lt=submission.number)
        .exclude(outcome="")
        .order_by("-number")
    )
    return ReviewPage(
        claim=claim,
        submission=submission,
        application=application,
        program=program,
        title=version.title,
        max_attempts=version.max_attempts,
        blind=blind,
        identity=identity,
        form=form,
        last_attempt=application.attempt >= version.max_attempts,
        left=time_left_text(claim.expires_at, now),
        earlier_reviews=_earlier_reviews(submission, criteria) if claim.is_adjudication else [],
        previous_attempts=previous,
        submitted_at=review.submitted_at if review is not None else None,
        due=due_text(submission.due_at, now),
    )


# --- Conflicts of interest ----------------------------------------------------------------------


def conflict_list(*, organization: Organization, user: User) -> list[ConflictOfInterest]:
    return list(
        ConflictOfInterest.objects.filter(organization=organization, reviewer=user)
        .select_related("person")
        .order_by("kind", "person__email", "pk")
    )


# --- The "Review queue" link in the site header -------------------------------------------------


def reviewing_organizations(*, request: HttpRequest) -> list[Organization]:
    """The organizations whose review queue the signed-in user may open, none for anonymous
    visitors: from their cached facts (programs.user_facts: no query once kept, and never
    stale: a change of their roles changes the key)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    facts = user_facts_get(user=user)
    return facts.person.organizations_with(selectors.REVIEWER_ROLES)
