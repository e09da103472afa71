"""Read queries of the review queue."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    Expression,
    F,
    IntegerField,
    Model,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from credentials_site.tenancy import scoped_sql
from programs.models import Organization, User
from submissions.models import Application, Submission

from .models import Assignment, Claim, Review
from .scopes import ADJUDICATOR_ROLES as ADJUDICATOR_ROLES
from .scopes import REVIEWER_ROLES as REVIEWER_ROLES
from .scopes import ReviewerScope as ReviewerScope
from .scopes import reviewer_scope as reviewer_scope

OPEN_STATUSES = (Application.Status.SUBMITTED, Application.Status.IN_REVIEW)

M = TypeVar("M", bound=Model)


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


# --- The queue's rule, written once ---------------------------------------------------------------
#
# Which submissions a reviewer may take is one set of SQL conditions, built by _queue_rule over a
# submission, its application and (for school and district conflicts) its educator. claim-next
# runs them in its own statement, over aliases s, a and u (queue_sql, claimable_sql), and locks
# the oldest row; the queue page and the API apply them to a queryset, over the aliases Django
# gives those tables (queue_list, through QueueRule); the claim's insert asks the claims
# condition (claims_allow_sql) again once the row is locked (reviews.services); an assignment
# asks each condition on its own to say why a reviewer may not have a submission
# (queue_refusals, reviews.services.assignments). The conditions
# are SQL, not ORM lookups, because claim-next runs them on every click and the ORM took longer to
# build its statement than PostgreSQL takes to answer it (benchmarks/README.md); their tenant
# filter comes from credentials_site.tenancy.scoped_sql, failing closed outside a scope.


def _reserved(submission: str) -> str:
    """How many of the submission's reviews an assignment holds for another reviewer: the
    assignment of someone else who has not taken it yet (no claim of theirs that counts)."""
    s = submission
    return f"""(SELECT count(*) FROM reviews_assignment x
        WHERE x.submission_id = {s}.id AND x.reviewer_id <> %(user)s
          AND NOT EXISTS (SELECT 1 FROM reviews_claim y
              WHERE y.submission_id = {s}.id AND y.reviewer_id = x.reviewer_id
                AND NOT y.is_adjudication
                AND (y.status = %(completed)s
                     OR (y.status = %(active)s AND y.expires_at > statement_timestamp()))))"""  # noqa: S608


def _claims_allow(
    *,
    adjudication: bool,
    submission: str,
    parts: tuple[str, ...] = ("open", "theirs"),
    reserve: bool = True,
) -> str:
    """The claims condition (claims_allow_sql) on the submission ``submission``, or one of its
    ``parts``: ``open`` (it still needs a reviewer, counting those an assignment holds for
    someone else unless ``reserve`` is off) and ``theirs`` (none of the claims is the
    reviewer's: a second review is always someone else's)."""
    taken = "count(*) FILTER (WHERE NOT t.is_adjudication)"
    if reserve:
        taken = f"{taken} + {_reserved(submission)}"
    checks = {
        "open": (
            "NOT coalesce(bool_or(t.is_adjudication AND t.status = %(active)s), false)"
            if adjudication
            else f"{taken} < {submission}.reviews_required"
        ),
        "theirs": "NOT coalesce(bool_or(t.reviewer_id = %(user)s), false)",
    }
    return f"""(SELECT {" AND ".join(checks[part] for part in parts)}
        FROM reviews_claim t
        WHERE t.submission_id = {submission}.id
          AND (t.status = %(completed)s
               OR (t.status = %(active)s AND t.expires_at > statement_timestamp())))"""  # noqa: S608


def _assigned_to_user(submission: str) -> str:
    return f"""EXISTS (SELECT 1 FROM reviews_assignment m
        WHERE m.submission_id = {submission}.id AND m.reviewer_id = %(user)s)"""  # noqa: S608


def claims_allow_sql(*, adjudication: bool) -> str:
    """SQL condition on the submission ``s``: the claims on it still let the reviewer take it.
    Of the claims that count (completed, or active and within their time) none is theirs, and
    it has fewer independent ones than it needs (or, for adjudication, no adjudicator yet),
    counting the one an assignment holds for another reviewer who has not taken it yet.
    Bound parameters: ``user``, ``active`` and ``completed`` (claim_params).

    A lapsed claim is expired by the next claim-next or the beat; it does not hold the
    submission back in the meantime. A submitted review always comes with a completed claim
    (only submitting completes one), so the claims alone say how many reviews are taken."""
    return _claims_allow(adjudication=adjudication, submission="s")


def claim_params(*, user: User) -> dict[str, Any]:
    """The bound parameters of claims_allow_sql."""
    return {
        "user": user.pk,
        "active": Claim.Status.ACTIVE.value,
        "completed": Claim.Status.COMPLETED.value,
    }


def _joins_educator(scope: ReviewerScope) -> bool:
    """The rule reads the educator's row: their school or district is a declared conflict."""
    user = scope.user
    return bool(
        (scope.conflict_school and user.school) or (scope.conflict_district and user.district)
    )


def _queue_conditions(
    *,
    organization: Organization,
    scope: ReviewerScope,
    program: str,
    credential: str,
    adjudication: bool,
    skipped: list[int] | None,
    whole_queue: bool,
    s: str,
    a: str,
    u: str,
    assigned: bool | None = None,
    explain: bool = False,
) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """The conditions (each named, and their bound parameters) that a submission ``s`` with its
    application ``a`` and, when _joins_educator, its educator ``u`` meet when this reviewer may
    take it; the first is the tenant filter's ``{tenant}`` (see _queue_rule).

    Never their own, never one they already reviewed or hold, never a conflicted one, never one
    outside their program and credential limits or the filters, and only while it still needs
    a reviewer (double review needs two) or, with ``adjudication``, an adjudicator. ``skipped``:
    submissions to leave out (claim-next's, taken by others after it found them).

    ``whole_queue``: the caller reads every eligible row (the page's count), so the
    organization is repeated on the applications, for PostgreSQL to read only its open ones by
    index (without it, it hashed every organization's: four times as long at 20 organizations,
    and growing with them). A caller that reads the first rows (claim-next, a page of the
    queue) leaves it out: it stops at them in the oldest-first index, and there the same
    condition made the planner expect as many times fewer rows as there are organizations and
    sort the organization's whole queue instead. It is a hint to the planner, not a rule: an
    application and its submissions are always of one organization.

    ``assigned``: only the submissions assigned to this reviewer (True), or all but those
    (False). ``explain``: the claims condition in its two parts, and not counting an
    assignment to someone else (an assignment is being moved: queue_refusals).

    Returned as a list of (what it checks, SQL condition): _queue_rule joins them; the
    assignment check (queue_refusals) reads each on its own to say why."""
    user = scope.user
    params: dict[str, Any] = {
        "organization": organization.pk,
        "adjudication": adjudication,
        "open": [status.value for status in OPEN_STATUSES],
        **claim_params(user=user),
    }
    claims: list[tuple[str, str]] = (
        [
            (
                "full",
                _claims_allow(
                    adjudication=adjudication, submission=s, parts=("open",), reserve=False
                ),
            ),
            ("theirs", _claims_allow(adjudication=adjudication, submission=s, parts=("theirs",))),
        ]
        if explain
        else [
            (
                "claims",
                claims_allow_sql(adjudication=adjudication)
                if s == "s"
                else _claims_allow(adjudication=adjudication, submission=s),
            )
        ]
    )
    where: list[tuple[str, str]] = [
        ("", "{tenant}"),
        ("", f"{s}.organization_id = %(organization)s"),
        ("decided", f"{s}.outcome = ''"),
        ("adjudication", f"{s}.needs_adjudication = %(adjudication)s"),
        *([("", f"{a}.organization_id = %(organization)s")] if whole_queue else []),
        ("attempt", f"{a}.attempt = {s}.number"),
        ("status", f"{a}.status = ANY(%(open)s)"),
        ("own", f"{a}.educator_id <> %(user)s"),
        *claims,
    ]
    if assigned is not None:
        where.append(("", ("" if assigned else "NOT ") + _assigned_to_user(s)))
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
        where.append(("limits", f"EXISTS ({credentials})"))  # once, before any row is read
        where.append(("limits", f"{a}.credential_id = ANY(ARRAY({credentials}))"))
    if scope.conflict_person_ids:
        params["people"] = sorted(scope.conflict_person_ids)
        where.append(("conflict", f"{a}.educator_id <> ALL(%(people)s)"))
    if scope.conflict_school and user.school:
        params["school"] = user.school
        where.append(("conflict", f"UPPER({u}.school) <> UPPER(%(school)s)"))
    if scope.conflict_district and user.district:
        params["district"] = user.district
        where.append(("conflict", f"UPPER({u}.district) <> UPPER(%(district)s)"))
    if skipped:
        params["skipped"] = list(skipped)
        where.append(("", f"{s}.id <> ALL(%(skipped)s)"))
    return where, params


def _queue_rule(**conditions: Any) -> tuple[str, dict[str, Any]]:
    """The conditions of _queue_conditions as one SQL expression, tenant filter applied, and
    its bound parameters."""
    where, params = _queue_conditions(**conditions)
    # Every row read is the organization's (s.organization_id, and through it the rest), so the
    # tenant filter applies to the organization itself: a condition PostgreSQL checks once.
    # On the column it would repeat the organization's and halve the planner's row estimate
    # again, enough for it to trade the page's hash joins for nested loops.
    return scoped_sql(
        "(" + "\n  AND ".join(sql for _, sql in where) + ")", params, tenant="%(organization)s"
    )


def queue_sql(
    *,
    organization: Organization,
    scope: ReviewerScope,
    program: str = "",
    credential: str = "",
    adjudication: bool = False,
    columns: str = "s.id",
    skipped: list[int] | None = None,
    assigned: bool | None = None,
) -> tuple[str, dict[str, Any]]:
    """``SELECT <columns>`` of the undecided attempts this reviewer may take (_queue_rule), as
    one statement over ``submissions_submission s`` joined to its ``submissions_application
    a`` (and its educator ``programs_user u`` when the rule reads it), with its bound parameters;
    unordered. ``assigned``: see _queue_conditions."""
    conditions, params = _queue_rule(
        organization=organization,
        scope=scope,
        program=program,
        credential=credential,
        adjudication=adjudication,
        skipped=skipped,
        whole_queue=False,
        s="s",
        a="a",
        u="u",
        assigned=assigned,
    )
    educator = "\nJOIN programs_user u ON u.id = a.educator_id" if _joins_educator(scope) else ""
    sql = f"""SELECT {columns}
FROM submissions_submission s
JOIN submissions_application a ON a.id = s.application_id{educator}
WHERE {conditions}"""  # noqa: S608 - every value is a bound parameter; only fixed clauses are joined
    return sql, params


_NAMED_PARAMETER = re.compile(r"%\((\w+)\)s")


def _positional(sql: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """A statement with ``%(name)s`` parameters as the ORM embeds raw SQL: ``%s`` and a list."""
    values: list[Any] = []

    def take(match: re.Match[str]) -> str:
        values.append(params[match.group(1)])
        return "%s"

    return _NAMED_PARAMETER.sub(take, sql), values


class QueueRule(Expression):
    """_queue_rule as a condition of a queryset of submissions, over the aliases Django gives
    the submission, its application and its educator in that query (so it stays right when the
    query is relabelled, as a subquery is): ``Submission.objects.filter(QueueRule(...))``.
    A query that reads a slice (a page) is planned to stop at its rows, one that reads them all
    (the count) to read the organization's applications by index (``whole_queue``).

    Three columns, one of each table, are resolved as ``F()`` references, which also adds the
    joins; their aliases are what the rule is written over."""

    conditional = True
    output_field = BooleanField()

    def __init__(
        self, rule: Callable[[str, str, str, bool], tuple[str, dict[str, Any]]], educator: bool
    ) -> None:
        super().__init__(output_field=BooleanField())
        self.rule = rule
        # not the related keys: Django reads those from the referring row, without the join
        self.columns: list[Any] = [F("pk"), F("application__attempt")]
        if educator:
            self.columns.append(F("application__educator__school"))

    def get_source_expressions(self) -> list[Any]:
        return self.columns

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.columns = list(exprs)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        aliases = [compiler.compile(column)[0].rsplit(".", 1)[0] for column in self.columns]
        s, a, u = (*aliases, "u")[:3]
        return _positional(*self.rule(s, a, u, not compiler.query.is_sliced))


def queue_list(
    *,
    organization: Organization,
    scope: ReviewerScope,
    program: str = "",
    credential: str = "",
    adjudication: bool = False,
    assigned: bool | None = None,
) -> QuerySet[Submission]:
    """Undecided attempts this reviewer may take (_queue_rule), oldest first. ``assigned``:
    only those assigned to them (True), or all but those (False)."""

    def rule(s: str, a: str, u: str, whole_queue: bool) -> tuple[str, dict[str, Any]]:
        return _queue_rule(
            organization=organization,
            scope=scope,
            program=program,
            credential=credential,
            adjudication=adjudication,
            skipped=None,
            whole_queue=whole_queue,
            s=s,
            a=a,
            u=u,
            assigned=assigned,
        )

    return Submission.objects.filter(
        QueueRule(rule, educator=_joins_educator(scope)), organization=organization
    ).order_by("submitted_at", "pk")


def queue_page(
    *,
    organization: Organization,
    scope: ReviewerScope,
    program: str = "",
    credential: str = "",
    adjudication: bool = False,
    assigned: bool | None = None,
) -> QuerySet[Submission]:
    """The queue with what its rows show, in a fixed number of queries: ``submitted_reviews``
    counts the reviews submitted so far (double review), ``assigned_to_you`` says a program
    admin assigned it to this reviewer (read only for a reviewer who has assignments).

    The rows' versions, credentials and programs come by key for the page's rows only
    (prefetched), not joined: PostgreSQL expects a handful of eligible rows where there are
    hundreds, and joined every one of them against every organization's catalog, so the page
    slowed down as other organizations published credentials (benchmarks/README.md)."""
    return (
        queue_list(
            organization=organization,
            scope=scope,
            program=program,
            credential=credential,
            adjudication=adjudication,
            assigned=assigned,
        )
        .select_related("application")
        .prefetch_related("application__version", "application__credential__program")
        .annotate(
            submitted_reviews=Coalesce(_reviews_count(), 0),
            assigned_to_you=(
                Exists(Assignment.objects.filter(submission=OuterRef("pk"), reviewer=scope.user))
                if scope.has_assignments
                else Value(False)
            ),
        )
    )


def queue_refusals(
    *, organization: Organization, scope: ReviewerScope, submission_ids: list[int]
) -> dict[int, list[str]]:
    """What of the queue's rule keeps this reviewer from each of these submissions of the
    organization: the names of the conditions of _queue_conditions it fails (``decided``,
    ``adjudication``, ``attempt``, ``status``, ``own``, ``full``, ``theirs``, ``limits``,
    ``conflict``), none when they may take it. The claims are read as when an assignment moves
    (``explain``). Submissions not found are left out. One query."""
    where, params = _queue_conditions(
        organization=organization,
        scope=scope,
        program="",
        credential="",
        adjudication=False,
        skipped=None,
        whole_queue=False,
        s="s",
        a="a",
        u="u",
        explain=True,
    )
    named = [(name, condition) for name, condition in where if name]
    filters = [condition for name, condition in where if not name]
    educator = "\nJOIN programs_user u ON u.id = a.educator_id" if _joins_educator(scope) else ""
    columns = ",\n  ".join(f"coalesce({condition}, false)" for _, condition in named)
    sql, params = scoped_sql(
        f"""SELECT s.id,
  {columns}
FROM submissions_submission s
JOIN submissions_application a ON a.id = s.application_id{educator}
WHERE {" AND ".join(filters)} AND s.id = ANY(%(ids)s)""",  # noqa: S608 - only fixed clauses
        {**params, "ids": list(submission_ids)},
        tenant="%(organization)s",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {
        submission_id: list(
            dict.fromkeys(name for (name, _), ok in zip(named, met, strict=True) if not ok)
        )
        for submission_id, *met in rows
    }


# --- claim-next's read ----------------------------------------------------------------------------


def from_row(model: type[M], fields: list[Any], values: Sequence[Any]) -> M:
    """A ``model`` instance from the ``fields`` (concrete fields) a hand-written statement
    read, as the ORM loads one: each field's database converters applied (JSON text to
    objects), and the instance counts as saved."""
    converted = list(values)
    for i, field in enumerate(fields):
        for convert in field.get_db_converters(connection):
            converted[i] = convert(converted[i], field, connection)
    return model.from_db(connection.alias, [field.attname for field in fields], converted)


# the submission's columns, read by claimable_sql; Any, as django-stubs leaves out
# Field.get_db_converters
_SUBMISSION_FIELDS: list[Any] = list(Submission._meta.concrete_fields)
_SUBMISSION_COLUMNS = ", ".join(f"s.{field.column}" for field in _SUBMISSION_FIELDS)
# what claim-next reads: the submission, and what its claim needs
_CLAIMABLE_COLUMNS = f"""{_SUBMISSION_COLUMNS},
    (SELECT p.claim_hours FROM programs_credential c JOIN programs_program p ON p.id = c.program_id
     WHERE c.id = a.credential_id) AS claim_hours,
    ARRAY(SELECT r.id FROM programs_rubriccriterion r WHERE r.version_id = a.version_id
          ORDER BY r.position, r.id) AS criterion_ids,
    EXISTS(SELECT 1 FROM reviews_claim l WHERE l.submission_id = s.id
           AND l.status = %(active)s AND l.expires_at <= statement_timestamp()) AS lapsed_claims"""  # noqa: S608


@dataclass(frozen=True)
class Claimable:
    """The submission claim-next locked, with what its claim needs."""

    submission: Submission
    claim_hours: int  # the program's
    criterion_ids: list[int]  # the rubric's, for the draft review's empty scores
    lapsed_claims: bool  # active claims past their time are on it, to expire first


def claimable_sql(
    *,
    organization: Organization,
    scope: ReviewerScope,
    program: str = "",
    credential: str = "",
    adjudication: bool = False,
    skipped: list[int] | None = None,
    skip_locked: bool = True,
    assigned: bool | None = None,
) -> tuple[str, dict[str, Any]]:
    """claim-next's statement: the oldest row of queue_sql locked FOR UPDATE (SKIP LOCKED
    unless told to wait), with what the claim needs besides the submission: the program's claim
    time, the rubric's criteria, and whether active claims past their time are on it.

    Submissions sent at the very same microsecond come in either order, where queue_list
    orders them by key. Ordering by ``submitted_at`` alone is what the partial index
    ``submission_undecided`` (organization, submitted_at) gives as it is read, so PostgreSQL
    stops at the first eligible row; adding the key made it sort batches of 32 eligible rows
    first (an incremental sort), each with its joins and sub-queries."""
    sql, params = queue_sql(
        organization=organization,
        scope=scope,
        program=program,
        credential=credential,
        adjudication=adjudication,
        columns=_CLAIMABLE_COLUMNS,
        skipped=skipped,
        assigned=assigned,
    )
    lock = "FOR UPDATE OF s SKIP LOCKED" if skip_locked else "FOR UPDATE OF s"
    return f"{sql}\nORDER BY s.submitted_at\nLIMIT 1\n{lock}", params


def queue_oldest_locked(
    *,
    organization: Organization,
    scope: ReviewerScope,
    program: str = "",
    credential: str = "",
    adjudication: bool = False,
    skipped: list[int] | None = None,
    skip_locked: bool = True,
    assigned: bool | None = None,
) -> Claimable | None:
    """The first submission of queue_list(...), locked until the end of the caller's
    transaction (claimable_sql), or None."""
    sql, params = claimable_sql(
        organization=organization,
        scope=scope,
        program=program,
        credential=credential,
        adjudication=adjudication,
        skipped=skipped,
        skip_locked=skip_locked,
        assigned=assigned,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    n = len(_SUBMISSION_FIELDS)
    claim_hours, criterion_ids, lapsed_claims = row[n:]
    return Claimable(
        submission=from_row(Submission, _SUBMISSION_FIELDS, row[:n]),
        claim_hours=claim_hours,
        criterion_ids=list(criterion_ids),
        lapsed_claims=lapsed_claims,
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


def reviews_of_submission(*, submission: Submission) -> QuerySet[Review]:
    return (
        Review.objects.filter(submission=submission, status=Review.Status.SUBMITTED)
        .select_related("reviewer")
        .prefetch_related("scores")
        .order_by("submitted_at")
    )
