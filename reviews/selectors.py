"""Read queries of the review queue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Now
from django.http import Http404
from django_scopes import ScopeError, get_scope

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
OPEN_STATUSES = (Application.Status.SUBMITTED, Application.Status.IN_REVIEW)


@dataclass(frozen=True)
class ReviewerScope:
    """What one person may review in one organization: their limits, the conflicts of interest
    they declared there (the queue leaves those submissions out), and whether the organization
    asks reviewers to calibrate at all."""

    user: User
    program_ids: frozenset[int]  # empty: every program
    credential_ids: frozenset[int]  # empty: every credential
    can_adjudicate: bool
    conflict_person_ids: frozenset[int]  # educators they declared a conflict with
    conflict_school: bool  # never educators of their own school
    conflict_district: bool  # never educators of their own district
    # the organization has active calibration exemplars; without any, no reviewer has one to
    # score (reviews.calibration.calibration_pending says which, when there are)
    calibration_active: bool


def _tenant_allows(organization: Organization) -> bool:
    """The statements written by hand here bypass the tenant models' scoped managers, so they
    check as those do: outside any organization's scope a ScopeError (fail closed), and under
    another organization's scope nothing to read (False)."""
    current = get_scope()
    if not current.get("_enabled", True):  # scopes_disabled()
        return True
    if "organization" not in current:
        raise ScopeError("A scope on dimension(s) organization needs to be active for this query.")
    allowed = current["organization"]
    if allowed is None:
        return True
    if isinstance(allowed, list | tuple | set | frozenset):
        return organization.pk in allowed
    return bool(organization.pk == allowed)


# One statement: a row per reviewer role here, each with the role's program and credential
# limits; the conflicts and the calibration flag are the same on every row. (Hand-written: it
# runs on every reviewer page and every claim-next, and the ORM's version of these sub-queries
# took longer to build than PostgreSQL takes to answer.)
_SCOPE_SQL = """
SELECT r.role,
    ARRAY(SELECT rp.program_id FROM programs_staffrole_programs rp
          WHERE rp.staffrole_id = r.id),
    ARRAY(SELECT rc.credential_id FROM programs_staffrole_credentials rc
          WHERE rc.staffrole_id = r.id),
    ARRAY(SELECT k.kind FROM reviews_conflictofinterest k
          WHERE k.organization_id = %(organization)s AND k.reviewer_id = %(user)s),
    ARRAY(SELECT k.person_id FROM reviews_conflictofinterest k
          WHERE k.organization_id = %(organization)s AND k.reviewer_id = %(user)s
            AND k.kind = %(person)s AND k.person_id IS NOT NULL),
    EXISTS(SELECT 1 FROM reviews_calibrationexemplar e
           WHERE e.organization_id = %(organization)s AND e.is_active)
FROM programs_staffrole r
WHERE r.organization_id = %(organization)s AND r.user_id = %(user)s AND r.role = ANY(%(roles)s)
"""


def reviewer_scope(*, organization: Organization, user: User) -> ReviewerScope | None:
    """The person's reviewer scope here, or None when they hold no reviewer role: one query."""
    if not user.is_authenticated or not _tenant_allows(organization):
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            _SCOPE_SQL,
            {
                "organization": organization.pk,
                "user": user.pk,
                "person": ConflictOfInterest.Kind.PERSON.value,
                "roles": [role.value for role in REVIEWER_ROLES],
            },
        )
        roles = cursor.fetchall()
    if not roles:
        return None
    unlimited = any(role != StaffRole.Role.REVIEWER for role, *_ in roles)
    programs: set[int] = set()
    credentials: set[int] = set()
    if not unlimited:
        for _, program_ids, credential_ids, *_ in roles:
            programs.update(program_ids)
            credentials.update(credential_ids)
    _, _, _, conflict_kinds, conflict_people, calibration_active = roles[0]  # same on every row
    return ReviewerScope(
        user=user,
        program_ids=frozenset(programs),
        credential_ids=frozenset(credentials),
        can_adjudicate=any(role in ADJUDICATOR_ROLES for role, *_ in roles),
        conflict_person_ids=frozenset(conflict_people),
        conflict_school=ConflictOfInterest.Kind.SCHOOL in conflict_kinds,
        conflict_district=ConflictOfInterest.Kind.DISTRICT in conflict_kinds,
        calibration_active=bool(calibration_active),
    )


def _taken_count() -> Subquery:
    """Independent reviews taken: claims still within their time, and completed ones (a
    submitted review always comes with a completed claim, and only submitting completes one).
    A lapsed claim is expired by the next claim-next or the beat, so it does not hold the
    submission back in the meantime."""
    return Subquery(
        Claim.objects.filter(submission=OuterRef("pk"), is_adjudication=False)
        .filter(
            Q(status=Claim.Status.COMPLETED) | Q(status=Claim.Status.ACTIVE, expires_at__gt=Now())
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
    while it still needs a reviewer (double review needs two). claim-next takes the first row
    of the same rules written as one statement (claimable_sql): change both together.
    """
    user = scope.user
    qs = Submission.objects.filter(
        organization=organization,
        outcome="",
        needs_adjudication=adjudication,
        # redundant with the submission's organization, but it lets PostgreSQL read the
        # organization's open applications by index instead of every organization's
        application__organization=organization,
        application__attempt=F("number"),
        application__status__in=OPEN_STATUSES,
    ).exclude(application__educator=user)
    if scope.program_ids:
        qs = qs.filter(application__credential__program_id__in=scope.program_ids)
    if scope.credential_ids:
        qs = qs.filter(application__credential_id__in=scope.credential_ids)
    if program:
        qs = qs.filter(application__credential__program__slug=program)
    if credential:
        qs = qs.filter(application__credential__slug=credential)
    if scope.conflict_person_ids:
        qs = qs.exclude(application__educator_id__in=scope.conflict_person_ids)
    if scope.conflict_school and user.school:
        qs = qs.exclude(application__educator__school__iexact=user.school)
    if scope.conflict_district and user.district:
        qs = qs.exclude(application__educator__district__iexact=user.district)
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
        qs = qs.alias(taken=Coalesce(_taken_count(), 0)).filter(reviews_required__gt=F("taken"))
    return qs.order_by("submitted_at", "pk")


# claim-next reads the submission's columns itself (queue_oldest_locked); Any, as django-stubs
# leaves out Field.get_db_converters
_SUBMISSION_FIELDS: list[Any] = list(Submission._meta.concrete_fields)
_SUBMISSION_COLUMNS = ", ".join(f"s.{field.column}" for field in _SUBMISSION_FIELDS)
_SUBMISSION_ATTNAMES = [field.attname for field in _SUBMISSION_FIELDS]


@dataclass(frozen=True)
class Claimable:
    """The submission claim-next locked, with what its claim needs."""

    submission: Submission
    claim_hours: int  # the program's
    criterion_ids: list[int]  # the rubric's, for the draft review's empty scores
    lapsed_claims: bool  # active claims past their time are on it, to expire first


def claims_allow_sql(*, adjudication: bool) -> str:
    """SQL condition on the submission ``s``: the claims on it still let the reviewer take it.
    Of the claims that count (completed, or active and within their time) none is theirs, and
    it has fewer independent ones than it needs (or, for adjudication, no adjudicator yet).
    Bound parameters: ``user``, ``active`` and ``completed`` (as claimable_sql's).

    claimable_sql looks with it for a row; review_claim_next's insert asks it again once the
    row is locked, in a statement of its own, which sees every claim committed before then."""
    still_open = (
        "NOT coalesce(bool_or(t.is_adjudication AND t.status = %(active)s), false)"
        if adjudication
        else "count(*) FILTER (WHERE NOT t.is_adjudication) < s.reviews_required"
    )
    return f"""(SELECT {still_open} AND NOT coalesce(bool_or(t.reviewer_id = %(user)s), false)
        FROM reviews_claim t
        WHERE t.submission_id = s.id
          AND (t.status = %(completed)s
               OR (t.status = %(active)s AND t.expires_at > statement_timestamp())))"""  # noqa: S608


def claimable_sql(
    *,
    organization: Organization,
    scope: ReviewerScope,
    program: str = "",
    credential: str = "",
    adjudication: bool = False,
    skipped: list[int] | None = None,
    skip_locked: bool = True,
) -> tuple[str, dict[str, Any]]:
    """claim-next's statement: the first row of queue_list(...) locked FOR UPDATE (SKIP
    LOCKED unless told to wait), with what the claim needs besides the submission: the
    program's claim time, the rubric's criteria, and whether active claims past their time
    are on it. queue_oldest_locked runs it.

    The same rules as queue_list, written by hand: at 100,000 submissions the ORM took several
    times longer to build and compile this statement than PostgreSQL takes to plan and run it
    (see benchmarks/README.md). tests/reviews/test_services_claims.py checks that both give the
    same submissions in the same order, for every rule.

    One difference: submissions sent at the very same microsecond come in either order, where
    queue_list orders them by key. Ordering by ``submitted_at`` alone is what the partial index
    ``submission_undecided`` (organization, submitted_at) gives as it is read, so PostgreSQL
    stops at the first eligible row; adding the key made it sort batches of 32 eligible rows
    first (an incremental sort), each with its joins and sub-queries."""
    user = scope.user
    params: dict[str, Any] = {
        "organization": organization.pk,
        "user": user.pk,
        "adjudication": adjudication,
        "open": [status.value for status in OPEN_STATUSES],
        "active": Claim.Status.ACTIVE.value,
        "completed": Claim.Status.COMPLETED.value,
    }
    where = [
        "s.organization_id = %(organization)s",
        "s.outcome = ''",
        "s.needs_adjudication = %(adjudication)s",
        "a.attempt = s.number",
        "a.status = ANY(%(open)s)",
        "a.educator_id <> %(user)s",
        claims_allow_sql(adjudication=adjudication),
    ]
    # The reviewer's limits and the filters all narrow which credentials the claim may come
    # from: one list of them (of this organization, as an application's credential always is),
    # worked out once. When it is empty there is nothing to look for; otherwise the planner's
    # guess of how many rows it keeps stays high enough for it to walk the oldest-first index
    # (joining the credential table instead, each organization's handful among all of them,
    # made it guess a row or two and sort the organization's whole queue).
    credential_conditions = []
    if scope.program_ids:
        params["programs"] = sorted(scope.program_ids)
        credential_conditions.append("c.program_id = ANY(%(programs)s)")
    if scope.credential_ids:
        params["credentials"] = sorted(scope.credential_ids)
        credential_conditions.append("c.id = ANY(%(credentials)s)")
    if program:
        params["program"] = program
        credential_conditions.append(
            "c.program_id IN (SELECT p.id FROM programs_program p"
            " WHERE p.organization_id = %(organization)s AND p.slug = %(program)s)"
        )
    if credential:
        params["credential"] = credential
        credential_conditions.append("c.slug = %(credential)s")
    if credential_conditions:
        narrowed = " AND ".join(["c.organization_id = %(organization)s", *credential_conditions])
        credentials = f"SELECT c.id FROM programs_credential c WHERE {narrowed}"  # noqa: S608
        where.append(f"EXISTS ({credentials})")  # evaluated once, before any row is read
        where.append(f"a.credential_id = ANY(ARRAY({credentials}))")
    if scope.conflict_person_ids:
        params["people"] = sorted(scope.conflict_person_ids)
        where.append("a.educator_id <> ALL(%(people)s)")
    joins_educator = False  # their school or district: a join of the educator's row
    if scope.conflict_school and user.school:
        params["school"] = user.school
        where.append("UPPER(u.school) <> UPPER(%(school)s)")
        joins_educator = True
    if scope.conflict_district and user.district:
        params["district"] = user.district
        where.append("UPPER(u.district) <> UPPER(%(district)s)")
        joins_educator = True
    if skipped:
        params["skipped"] = list(skipped)
        where.append("s.id <> ALL(%(skipped)s)")
    conditions = "\n  AND ".join(where)
    educator = "\nJOIN programs_user u ON u.id = a.educator_id" if joins_educator else ""
    lock = "FOR UPDATE OF s SKIP LOCKED" if skip_locked else "FOR UPDATE OF s"
    sql = f"""
SELECT {_SUBMISSION_COLUMNS},
    (SELECT p.claim_hours FROM programs_credential c JOIN programs_program p ON p.id = c.program_id
     WHERE c.id = a.credential_id) AS claim_hours,
    ARRAY(SELECT r.id FROM programs_rubriccriterion r WHERE r.version_id = a.version_id
          ORDER BY r.position, r.id) AS criterion_ids,
    EXISTS(SELECT 1 FROM reviews_claim l WHERE l.submission_id = s.id
           AND l.status = %(active)s AND l.expires_at <= statement_timestamp()) AS lapsed_claims
FROM submissions_submission s
JOIN submissions_application a ON a.id = s.application_id{educator}
WHERE {conditions}
ORDER BY s.submitted_at
LIMIT 1
{lock}"""  # noqa: S608 - every value is a bound parameter; only fixed clauses are joined
    return sql, params


def queue_oldest_locked(
    *,
    organization: Organization,
    scope: ReviewerScope,
    program: str = "",
    credential: str = "",
    adjudication: bool = False,
    skipped: list[int] | None = None,
    skip_locked: bool = True,
) -> Claimable | None:
    """The first submission of queue_list(...), locked until the end of the caller's
    transaction (claimable_sql), or None."""
    if not _tenant_allows(organization):
        return None
    sql, params = claimable_sql(
        organization=organization,
        scope=scope,
        program=program,
        credential=credential,
        adjudication=adjudication,
        skipped=skipped,
        skip_locked=skip_locked,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    n = len(_SUBMISSION_FIELDS)
    values = list(row[:n])
    for i, field in enumerate(_SUBMISSION_FIELDS):  # as the ORM would (JSON text to objects)
        for convert in field.get_db_converters(connection):
            values[i] = convert(values[i], field, connection)
    submission = Submission.from_db(connection.alias, _SUBMISSION_ATTNAMES, values)
    claim_hours, criterion_ids, lapsed_claims = row[n:]
    return Claimable(
        submission=submission,
        claim_hours=claim_hours,
        criterion_ids=list(criterion_ids),
        lapsed_claims=lapsed_claims,
    )


def queue_page(
    *,
    organization: Organization,
    scope: ReviewerScope,
    program: str = "",
    credential: str = "",
    adjudication: bool = False,
) -> QuerySet[Submission]:
    """The queue with what its rows show, in a fixed number of queries: ``submitted_reviews``
    counts the reviews submitted so far (double review)."""
    return (
        queue_list(
            organization=organization,
            scope=scope,
            program=program,
            credential=credential,
            adjudication=adjudication,
        )
        .select_related(
            "application",
            "application__version",
            "application__credential",
            "application__credential__program",
        )
        .annotate(submitted_reviews=Coalesce(_reviews_count(), 0))
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
