"""What a reviewer may see, and how much of it.

The reviewer's pages (reviews/views.py) are thin: they ask this module who may open a page (404,
never 403, for anyone else, in any organization) and for the read model they render. The read
models decide what about the educator is shown: in a blind-review program nothing but the
anonymous code, not even the names of their files. Each page costs a fixed number of queries,
whatever the number of submissions, claims or evidence items.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from credentials_site.tenancy import cross_organization
from programs.models import (
    Credential,
    EvidenceRequirement,
    Organization,
    Program,
    RubricCriterion,
    StaffRole,
    User,
)
from programs.selectors import STAFF_ROLES_BY_USER
from submissions.models import Application, EvidenceItem, QuizResponse, Submission

from . import selectors
from .models import Claim, ConflictOfInterest, CriterionScore, Review
from .selectors import ReviewerScope

QUEUE_PAGE_SIZE = 25
ADJUDICATION_LIST_SIZE = 25
INLINE_PREFIXES = ("image/", "audio/", "video/", "application/pdf")
MEDIA_URL_SECONDS = 4 * 60 * 60


# --- Who may open the reviewer's pages --------------------------------------------------------


def access_scope_by_organization(*, organization: Organization, user: User) -> ReviewerScope:
    """The user's reviewer scope in this organization, or 404 (a non-reviewer learns nothing)."""
    scope = selectors.reviewer_scope(organization=organization, user=user)
    if scope is None:
        raise Http404("No such page.")
    return scope


def access_claim_by_public_id(*, organization: Organization, user: User, public_id: str) -> Claim:
    """The reviewer's own claim in this organization, or 404; a reviewer who lost the role
    loses their claims' pages too."""
    access_scope_by_organization(organization=organization, user=user)
    return selectors.claim_access(organization=organization, public_id=public_id, user=user)


def claim_is_live(claim: Claim, now: dt.datetime | None = None) -> bool:
    """Active and not past its time (an expired claim waits for the sweep, but is over)."""
    return claim.status == Claim.Status.ACTIVE and claim.expires_at > (now or timezone.now())


def access_evidence_file_by_ids(
    *, organization: Organization, user: User, claim_public_id: str, item_public_id: str
) -> tuple[Claim, EvidenceItem]:
    """A file of the claimed submission, for the reviewer holding the claim (live) or who
    decided with it (completed); 404 for anyone else, another organization or a removed file."""
    if not user.is_authenticated:
        raise Http404("No such file.")
    claim = access_claim_by_public_id(
        organization=organization, user=user, public_id=claim_public_id
    )
    if not (claim_is_live(claim) or claim.status == Claim.Status.COMPLETED):
        raise Http404("No such file.")
    item = (
        EvidenceItem.objects.filter(
            organization=organization,
            public_id=item_public_id,
            submissions=claim.submission_id,
            kind=EvidenceItem.Kind.FILE,
            purged_at__isnull=True,
        )
        .exclude(storage_key="")
        .first()
    )
    if item is None:
        raise Http404("No such file.")
    return claim, item


def is_blind(claim: Claim) -> bool:
    return bool(claim.submission.application.credential.program.blind_review)


def evidence_filename(item: EvidenceItem, *, blind: bool, code: str, number: int) -> str:
    """The name a reviewer sees (and downloads). A file's own name often carries its author's
    name, so in blind review it becomes the anonymous code and the file's number."""
    if not blind:
        return item.display_name or f"evidence-{number}"
    extension = ""
    if "." in item.display_name:
        extension = "." + item.display_name.rsplit(".", 1)[1].lower()[:8]
    elif item.content_type:
        extension = mimetypes.guess_extension(item.content_type) or ""
    return f"{code}-file-{number}{extension}"


def opens_inline(item: EvidenceItem) -> bool:
    return item.content_type.startswith(INLINE_PREFIXES)


def signed_url_seconds(item: EvidenceItem) -> int | None:
    """How long a signed link lives: the default (minutes) for most files, but a classroom video
    is watched and sought through for much longer, and browsers keep requesting the address the
    first redirect gave them, so audio and video get hours."""
    if item.content_type.startswith(("video/", "audio/")):
        return MEDIA_URL_SECONDS
    return None


def file_numbers(claim: Claim) -> dict[int, int]:
    """{item pk: n}: the n-th file of the submission, as numbered on the review page."""
    ids = (
        EvidenceItem.objects.filter(submissions=claim.submission_id, kind=EvidenceItem.Kind.FILE)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
    )
    return {pk: n for n, pk in enumerate(ids, start=1)}


# --- Time in words ------------------------------------------------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def business_days_between(start: dt.date, end: dt.date) -> int:
    """Working days (Monday to Friday) after ``start`` up to and including ``end``."""
    days = (end - start).days
    if days <= 0:
        return 0
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    for offset in range(1, rest + 1):
        if (start + dt.timedelta(days=weeks * 7 + offset)).weekday() < 5:
            count += 1
    return count


def age_text(since: dt.datetime, now: dt.datetime) -> str:
    """How long a submission has waited: "3 days", "5 hours", "just now"."""
    delta = now - since
    if delta.days >= 1:
        return _plural(delta.days, "day")
    hours = delta.seconds // 3600
    if hours:
        return _plural(hours, "hour")
    minutes = delta.seconds // 60
    return _plural(minutes, "minute") if minutes else "just now"


@dataclass(frozen=True)
class Due:
    text: str
    overdue: bool


def due_text(due_at: dt.datetime | None, now: dt.datetime) -> Due:
    """Time left before the turnaround target: "2 business days left", "overdue by 1 day"."""
    if due_at is None:
        return Due("no target", overdue=False)
    if due_at > now:
        days = business_days_between(timezone.localdate(now), timezone.localdate(due_at))
        if days == 0:
            return Due("due today", overdue=False)
        return Due(f"{_plural(days, 'business day')} left", overdue=False)
    late = now - due_at
    if late.days >= 1:
        return Due(f"overdue by {_plural(late.days, 'day')}", overdue=True)
    return Due(f"overdue by {_plural(max(1, late.seconds // 3600), 'hour')}", overdue=True)


def time_left_text(expires_at: dt.datetime, now: dt.datetime) -> Due:
    """Time left on a claim: "2 days left", "5 hours left", "expired"."""
    left = expires_at - now
    if left <= dt.timedelta(0):
        return Due("expired", overdue=True)
    hours = left.days * 24 + left.seconds // 3600
    if hours >= 48:
        return Due(f"{_plural(left.days, 'day')} left", overdue=False)
    if hours >= 1:
        return Due(f"{_plural(hours, 'hour')} left", overdue=hours < 2)
    return Due(f"{_plural(max(1, left.seconds // 60), 'minute')} left", overdue=True)


# --- The queue page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    program: str = ""
    credential: str = ""
    newest_first: bool = False

    @property
    def sort(self) -> str:
        return "newest" if self.newest_first else "oldest"


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
    organization: Organization, scope: ReviewerScope, filters: QueueFilters, adjudication: bool
) -> QuerySet[Submission]:
    queryset = selectors.queue_page(
        organization=organization,
        scope=scope,
        program=filters.program,
        credential=filters.credential,
        adjudication=adjudication,
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
    """The queue, the reviewer's claims and (for adjudicators) what needs adjudication."""
    now = timezone.now()
    page = Paginator(_queue(organization, scope, filters, False), QUEUE_PAGE_SIZE).get_page(
        page_number
    )
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
    )


# --- The review page ----------------------------------------------------------------------------


@dataclass
class ReviewInput:
    """What the review form posted (or the saved draft): scores keyed by criterion pk."""

    scores: dict[int, dict[str, Any]] = field(default_factory=dict)
    overall_feedback: str = ""
    decision: str = ""
    revision_request: str = ""


@dataclass
class LevelView:
    score: int
    label: str
    descriptor: str
    passing: bool  # the criterion's passing level (tagged on the form)
    meets: bool  # at or above it (RubricCriterion.reaches_passing)
    checked: bool


@dataclass
class CriterionView:
    criterion: RubricCriterion
    levels: list[LevelView]
    comment: str
    error: str = ""

    @property
    def field(self) -> str:
        return f"criterion_{self.criterion.pk}"

    @property
    def at_passing(self) -> bool:
        return any(level.checked and level.meets for level in self.levels)


@dataclass
class EvidenceView:
    item: EvidenceItem
    number: int
    name: str
    media: str  # video, audio, image, pdf, download
    url: str


@dataclass
class RequirementView:
    number: int
    requirement: EvidenceRequirement
    files: list[EvidenceView]
    texts: list[str]
    links: list[str]
    quiz: QuizResponse | None
    criteria: list[CriterionView]

    @property
    def anchor(self) -> str:
        return f"requirement-{self.number}"

    @property
    def has_evidence(self) -> bool:
        return bool(self.files or self.texts or self.links or self.quiz)


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
    requirements: list[RequirementView]
    general_criteria: list[CriterionView]
    values: ReviewInput
    errors: dict[str, str]
    editable: bool
    last_attempt: bool
    left: Due
    earlier_reviews: list[EarlierReview]
    previous_attempts: list[Submission]
    submitted_at: dt.datetime | None
    due: Due

    @property
    def criteria(self) -> list[CriterionView]:
        return [c for r in self.requirements for c in r.criteria] + self.general_criteria

    @property
    def at_passing(self) -> int:
        """How many criteria are rated at or above their passing level (the form's summary;
        the page's script keeps it live as ratings change)."""
        return sum(1 for c in self.criteria if c.at_passing)

    @property
    def all_passing(self) -> bool:
        """Approve is offered only when every criterion is at its passing level."""
        return self.at_passing == len(self.criteria)


def _media(item: EvidenceItem) -> str:
    content_type = item.content_type
    if content_type.startswith("video/"):
        return "video"
    if content_type.startswith("audio/"):
        return "audio"
    if content_type.startswith("image/"):
        return "image"
    if content_type == "application/pdf":
        return "pdf"
    return "download"


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


def _criterion_view(
    criterion: RubricCriterion, values: ReviewInput, errors: dict[str, str]
) -> CriterionView:
    entry = values.scores.get(criterion.pk, {})
    chosen = entry.get("score")
    return CriterionView(
        criterion=criterion,
        levels=[
            LevelView(
                score=level.score,
                label=level.label,
                descriptor=level.descriptor,
                passing=level.score == criterion.passing_score,
                meets=criterion.reaches_passing(level.score),
                checked=chosen is not None and str(chosen) == str(level.score),
            )
            for level in criterion.levels.all()
        ],
        comment=str(entry.get("comment") or ""),
        error=errors.get(f"criterion_{criterion.pk}", ""),
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
    posted: ReviewInput | None = None,
    errors: dict[str, list[str]] | None = None,
    file_url: Any = None,
) -> ReviewPage:
    """Everything the review page shows, in a fixed number of queries.

    ``posted``: what a refused form sent, shown again instead of the saved draft.
    ``file_url(item)``: the address of an evidence file (the view builds it from its URLs).
    """
    now = timezone.now()
    submission = claim.submission
    application = submission.application
    version = application.version
    program = application.credential.program
    blind = bool(program.blind_review)
    flat_errors = {key: " ".join(messages) for key, messages in (errors or {}).items()}

    requirements = list(EvidenceRequirement.objects.filter(version_id=version.pk))
    criteria = list(
        RubricCriterion.objects.filter(version_id=version.pk).prefetch_related("levels")
    )
    items = list(
        EvidenceItem.objects.filter(submissions=submission.pk).order_by("created_at", "pk")
    )
    quizzes = {
        q.requirement_id: q
        for q in QuizResponse.objects.filter(
            application_id=application.pk,
            requirement__in=[r.pk for r in requirements if r.kind == EvidenceRequirement.Kind.QUIZ],
        )
    }
    review = (
        Review.objects.filter(claim=claim)
        .prefetch_related(Prefetch("scores", queryset=CriterionScore.objects.order_by("pk")))
        .first()
    )
    values = posted if posted is not None else _saved_input(review)

    by_requirement: dict[int | None, list[CriterionView]] = defaultdict(list)
    for criterion in criteria:
        by_requirement[criterion.requirement_id].append(
            _criterion_view(criterion, values, flat_errors)
        )
    files_by_requirement: dict[int, list[EvidenceView]] = defaultdict(list)
    texts: dict[int, list[str]] = defaultdict(list)
    links: dict[int, list[str]] = defaultdict(list)
    file_number = 0
    for item in items:
        if item.kind == EvidenceItem.Kind.FILE:
            file_number += 1
            if item.purged_at is not None or not item.storage_key:
                continue
            files_by_requirement[item.requirement_id].append(
                EvidenceView(
                    item=item,
                    number=file_number,
                    name=evidence_filename(
                        item, blind=blind, code=application.anonymous_code, number=file_number
                    ),
                    media=_media(item),
                    url=file_url(item) if file_url else "",
                )
            )
        elif item.kind == EvidenceItem.Kind.TEXT and item.text:
            texts[item.requirement_id].append(item.text)
        elif item.kind == EvidenceItem.Kind.LINK and item.url:
            links[item.requirement_id].append(item.url)

    requirement_views = [
        RequirementView(
            number=number,
            requirement=requirement,
            files=files_by_requirement.get(requirement.pk, []),
            texts=texts.get(requirement.pk, []),
            links=links.get(requirement.pk, []),
            quiz=quizzes.get(requirement.pk),
            criteria=by_requirement.get(requirement.pk, []),
        )
        for number, requirement in enumerate(requirements, start=1)
    ]
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
        requirements=requirement_views,
        general_criteria=by_requirement.get(None, []),
        values=values,
        errors=flat_errors,
        editable=claim_is_live(claim, now),
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

_CACHE_ATTRIBUTE = "_reviewing_organizations"


def reviewing_organizations(*, request: HttpRequest) -> list[Organization]:
    """The organizations whose review queue the signed-in user may open: one query, once per
    request, none for anonymous visitors. The user's own roles, across organizations (like
    their own applications on My learning), hence the named bypass of tenancy."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    cached: list[Organization] | None = getattr(request, _CACHE_ATTRIBUTE, None)
    if cached is None:
        with cross_organization(STAFF_ROLES_BY_USER):
            roles = StaffRole.objects.filter(user=user, role__in=selectors.REVIEWER_ROLES)
            ids = roles.values("organization_id")
            cached = list(Organization.objects.filter(pk__in=ids, is_active=True).order_by("name"))
        setattr(request, _CACHE_ATTRIBUTE, cached)
    return cached
