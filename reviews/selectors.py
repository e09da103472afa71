"""Read queries of the review queue."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Now
from django.http import Http404

from programs.models import Organization, StaffRole, User
from submissions.models import Application, Submission

from .models import Claim, ConflictOfInterest, Review

REVIEWER_ROLES = (
    StaffRole.Role.REVIEWER,
    StaffRole.Role.SENIOR_REVIEWER,
    StaffRole.Role.PROGRAM_ADMIN,
    StaffRole.Role.OWNER,
)
ADJUDICATOR_ROLES = (
    StaffRole.Role.SENIOR_REVIEWER,
    StaffRole.Role.PROGRAM_ADMIN,
    StaffRole.Role.OWNER,
)


@dataclass(frozen=True)
class ReviewerScope:
    """What one person may review in one organization."""

    user: User
    program_ids: frozenset[int]  # empty: every program
    credential_ids: frozenset[int]  # empty: every credential
    can_adjudicate: bool


def reviewer_scope(*, organization: Organization, user: User) -> ReviewerScope | None:
    if not user.is_authenticated:
        return None
    roles = list(
        StaffRole.objects.filter(
            organization=organization, user=user, role__in=REVIEWER_ROLES
        ).prefetch_related("programs", "credentials")
    )
    if not roles:
        return None
    unlimited = any(r.role != StaffRole.Role.REVIEWER for r in roles)
    programs: set[int] = set()
    credentials: set[int] = set()
    if not unlimited:
        for role in roles:
            programs |= {p.pk for p in role.programs.all()}
            credentials |= {c.pk for c in role.credentials.all()}
    return ReviewerScope(
        user=user,
        program_ids=frozenset(programs),
        credential_ids=frozenset(credentials),
        can_adjudicate=any(r.role in ADJUDICATOR_ROLES for r in roles),
    )


def _claims_count() -> Subquery:
    """Active claims still within their time (a lapsed one is expired by the next claim-next
    or the beat, so it does not hold the submission back in the meantime)."""
    return Subquery(
        Claim.objects.filter(
            submission=OuterRef("pk"),
            status=Claim.Status.ACTIVE,
            is_adjudication=False,
            expires_at__gt=Now(),
        )
        .order_by()
        .values("submission")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )


def _reviews_count() -> Subquery:
    return Subquery(
        Review.objects.filter(
            submission=OuterRef("pk"), status=Review.Status.SUBMITTED, is_adjudication=False
        )
        .order_by()
        .values("submission")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )


def queue_list(
    *,
    organization: Organization,
    scope: ReviewerScope,
    program: str = "",
    credential: str = "",
    adjudication: bool = False,
) -> QuerySet[Submission]:
    """Undecided attempts this reviewer may take, oldest first.

    Never their own, never one they already reviewed or hold, never a conflicted one, and only
    while it still needs a reviewer (double review needs two).
    """
    user = scope.user
    qs = (
        Submission.objects.filter(
            organization=organization, outcome="", application__attempt=F("number")
        )
        .filter(
            application__status__in=[Application.Status.SUBMITTED, Application.Status.IN_REVIEW],
            needs_adjudication=adjudication,
        )
        .exclude(application__educator=user)
    )
    if scope.program_ids:
        qs = qs.filter(application__credential__program_id__in=scope.program_ids)
    if scope.credential_ids:
        qs = qs.filter(application__credential_id__in=scope.credential_ids)
    if program:
        qs = qs.filter(application__credential__program__slug=program)
    if credential:
        qs = qs.filter(application__credential__slug=credential)
    mine = Claim.objects.filter(submission=OuterRef("pk"), reviewer=user).filter(
        Q(status=Claim.Status.COMPLETED) | Q(status=Claim.Status.ACTIVE, expires_at__gt=Now())
    )
    qs = qs.exclude(Exists(mine))
    if adjudication:
        open_adjudication = Claim.objects.filter(
            submission=OuterRef("pk"),
            status=Claim.Status.ACTIVE,
            is_adjudication=True,
            expires_at__gt=Now(),
        )
        qs = qs.exclude(Exists(open_adjudication))
    else:
        qs = qs.annotate(
            active_claims=Coalesce(_claims_count(), 0),
            submitted_reviews=Coalesce(_reviews_count(), 0),
        ).filter(reviews_required__gt=F("active_claims") + F("submitted_reviews"))
    conflicts = list(
        ConflictOfInterest.objects.filter(organization=organization, reviewer=user).values_list(
            "kind", "person_id"
        )
    )
    for kind, person_id in conflicts:
        if kind == ConflictOfInterest.Kind.PERSON and person_id:
            qs = qs.exclude(application__educator_id=person_id)
        elif kind == ConflictOfInterest.Kind.SCHOOL and user.school:
            qs = qs.exclude(application__educator__school__iexact=user.school)
        elif kind == ConflictOfInterest.Kind.DISTRICT and user.district:
            qs = qs.exclude(application__educator__district__iexact=user.district)
    return qs.order_by("submitted_at", "pk")


def queue_page(
    *,
    organization: Organization,
    scope: ReviewerScope,
    program: str = "",
    credential: str = "",
    adjudication: bool = False,
) -> QuerySet[Submission]:
    """The queue with what its rows show, in a fixed number of queries."""
    return queue_list(
        organization=organization,
        scope=scope,
        program=program,
        credential=credential,
        adjudication=adjudication,
    ).select_related(
        "application",
        "application__version",
        "application__credential",
        "application__credential__program",
    )


def claim_list_active(*, organization: Organization, user: User) -> QuerySet[Claim]:
    return (
        Claim.objects.filter(organization=organization, reviewer=user, status=Claim.Status.ACTIVE)
        .select_related(
            "submission",
            "submission__application",
            "submission__application__version",
            "submission__application__credential__program",
        )
        .order_by("expires_at")
    )


def claim_access(*, organization: Organization, public_id: str, user: User) -> Claim:
    """The reviewer's own claim, or 404."""
    claim = (
        Claim.objects.filter(organization=organization, public_id=public_id, reviewer=user)
        .select_related(
            "submission",
            "submission__application",
            "submission__application__educator",
            "submission__application__version",
            "submission__application__credential__program",
        )
        .first()
        if user.is_authenticated
        else None
    )
    if claim is None:
        raise Http404("No such review.")
    return claim


def reviews_of_submission(*, submission: Submission) -> QuerySet[Review]:
    return (
        Review.objects.filter(submission=submission, status=Review.Status.SUBMITTED)
        .select_related("reviewer")
        .prefetch_related("scores")
        .order_by("submitted_at")
    )
