"""Assignments: a program admin chooses who reviews a submission (one, or a batch), moves a
reviewer's untaken work to others when they are away, or clears it.

Whom a submission may go to is the queue's own rule (reviews.selectors, read condition by
condition by selectors.queue_refusals) plus the calibration gate claim-next applies
(calibration.calibration_require): an assignment is refused for exactly the reasons the
reviewer could not claim the submission, named per submission. An assignment holds one of the
submission's reviews for its reviewer: the queue offers it to no one else
(docs/decisions/0018-reviewer-assignment.md). Each change locks the submissions (as claim-next
does before it claims), runs in one transaction and is recorded in the audit trail."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credentials_site.exceptions import ApplicationError
from programs.models import Organization, StaffRole, User
from programs.services import audit_record_many
from submissions.models import Submission

from .. import calibration, selectors
from ..errors import ReviewErrorCode as Code
from ..models import Assignment, Claim
from ..selectors import ReviewerScope

# why the queue's rule keeps a reviewer from a submission (selectors.queue_refusals), as a
# program admin reads it; %(who)s is the reviewer
REASONS = {
    "decided": gettext_lazy("it has already been decided"),
    "adjudication": gettext_lazy("it is waiting for adjudication, not for a review"),
    "attempt": gettext_lazy("a newer attempt has replaced it"),
    "status": gettext_lazy("it is not waiting for review"),
    "own": gettext_lazy("it is %(who)s's own submission"),
    "full": gettext_lazy("it already has every reviewer it needs (someone holds a claim on it)"),
    "theirs": gettext_lazy(
        "%(who)s has already reviewed or claimed it, and a second review must be someone else's"
    ),
    "limits": gettext_lazy("it is outside the programs or credentials %(who)s reviews"),
    "conflict": gettext_lazy("%(who)s declared a conflict of interest with its educator"),
}


def _who(user: User) -> str:
    return user.email


def submission_code(submission: Submission) -> str:
    """How a program admin tells submissions apart without the educator's name (needs the
    application loaded)."""
    return _("%(code)s attempt %(number)s") % {
        "code": submission.application.anonymous_code,
        "number": submission.number,
    }


def _require_admin(organization: Organization, actor: User | None) -> None:
    """Program admins and owners assign work (``actor`` None: the platform itself)."""
    if actor is None or actor.is_superuser:
        return
    if not StaffRole.objects.filter(
        organization=organization, user=actor, role__in=StaffRole.ADMIN_ROLES
    ).exists():
        raise ApplicationError(
            _("Only program admins assign submissions to reviewers."), code=Code.NOT_A_REVIEWER
        )


def _assignable_scope(organization: Organization, reviewer: User) -> ReviewerScope:
    """The reviewer's scope here: refused when they are no reviewer of this organization, or
    have calibration examples still to score (the gate claim-next applies)."""
    scope = selectors.reviewer_scope(organization=organization, user=reviewer)
    if scope is None:
        raise ApplicationError(
            _("%(who)s is not a reviewer of %(organization)s.")
            % {"who": _who(reviewer), "organization": organization.name},
            code=Code.NOT_A_REVIEWER,
            fields={"reviewer": [_("Choose one of this organization's reviewers.")]},
        )
    calibration.calibration_require(organization=organization, scope=scope, who=_who(reviewer))
    return scope


def _lock(organization: Organization, submissions: Iterable[Submission]) -> list[Submission]:
    """The submissions, locked in key order, with their applications; another organization's
    (or a missing one) is refused as not found."""
    wanted = sorted({s.pk for s in submissions})
    if not wanted:
        raise ApplicationError(_("Choose at least one submission."), code=Code.INVALID)
    locked = list(
        Submission.objects.select_for_update(of=("self",))
        .filter(organization=organization, pk__in=wanted)
        .select_related("application")
        .order_by("pk")
    )
    if len(locked) != len(wanted):
        raise ApplicationError(_("No such submission."), code=Code.INVALID)
    return locked


def _refusals(
    organization: Organization, scope: ReviewerScope, submissions: Sequence[Submission]
) -> dict[int, list[str]]:
    """Why the reviewer may not have each submission (none: they may), in a person's words."""
    who = _who(scope.user)
    found = selectors.queue_refusals(
        organization=organization, scope=scope, submission_ids=[s.pk for s in submissions]
    )
    return {
        pk: [str(REASONS[name]) % {"who": who} for name in names] for pk, names in found.items()
    }


@transaction.atomic
def assignment_assign(
    *,
    organization: Organization,
    submissions: Submission | Sequence[Submission],
    reviewer: User,
    actor: User | None,
    note: str = "",
) -> list[Assignment]:
    """Assign one submission or a batch to the reviewer: all of them, or none when any is
    refused (the message names each refused submission and why). A submission assigned to
    someone else moves to this reviewer; one already theirs stays as it is."""
    _require_admin(organization, actor)
    scope = _assignable_scope(organization, reviewer)
    batch = [submissions] if isinstance(submissions, Submission) else list(submissions)
    locked = _lock(organization, batch)
    refused = _refusals(organization, scope, locked)
    problems = [
        f"{submission_code(s)}: {'; '.join(refused[s.pk])}" for s in locked if refused[s.pk]
    ]
    if problems:
        raise ApplicationError(
            _("Not assigned to %(who)s: %(problems)s.")
            % {"who": _who(reviewer), "problems": " — ".join(problems)},
            code=Code.NOT_ASSIGNABLE,
            fields={"reviewer": problems},
        )
    existing = {
        a.submission_id: a
        for a in Assignment.objects.select_for_update().filter(submission__in=locked)
    }
    assignments: list[Assignment] = []
    moved: list[Assignment] = []
    created: list[Assignment] = []
    for submission in locked:
        assignment = existing.get(submission.pk)
        if assignment is not None and assignment.reviewer_id == reviewer.pk:
            assignments.append(assignment)
            continue
        if assignment is None:
            assignment = Assignment(organization=organization)
            created.append(assignment)
        else:
            moved.append(assignment)
        assignment.submission = submission
        assignment.reviewer, assignment.assigned_by, assignment.note = reviewer, actor, note[:200]
        assignments.append(assignment)
    Assignment.objects.bulk_create(created)
    for assignment in moved:
        assignment.save(update_fields=["reviewer", "assigned_by", "note", "updated_at"])
    audit_record_many(
        organization=organization,
        actor=actor,
        action="assignment.assigned",
        records=[
            (a, f"{submission_code(a.submission)} assigned to {_who(reviewer)}")
            for a in [*created, *moved]
        ],
    )
    return assignments


def _untaken(organization: Organization) -> Q:
    """Assignments whose reviewer has not taken the submission (no claim of theirs that counts)
    and that still wait for a decision: the work that can move."""
    taken = Claim.objects.filter(
        submission=OuterRef("submission"),
        reviewer=OuterRef("reviewer"),
        is_adjudication=False,
    ).filter(
        Q(status=Claim.Status.COMPLETED)
        | Q(status=Claim.Status.ACTIVE, expires_at__gt=timezone.now())
    )
    return Q(organization=organization, submission__outcome="") & ~Q(Exists(taken))


def assignment_load(
    *, organization: Organization, reviewers: Iterable[User]
) -> dict[int, tuple[int, int]]:
    """Each reviewer's workload: (untaken assignments, active claims). Two queries."""
    ids = [r.pk for r in reviewers]
    assigned = dict(
        Assignment.objects.filter(_untaken(organization), reviewer_id__in=ids)
        .values_list("reviewer_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    claimed = dict(
        Claim.objects.filter(
            organization=organization,
            reviewer_id__in=ids,
            status=Claim.Status.ACTIVE,
            expires_at__gt=timezone.now(),
        )
        .values_list("reviewer_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {pk: (assigned.get(pk, 0), claimed.get(pk, 0)) for pk in ids}


@dataclass
class Rebalanced:
    """What a rebalance moved, and what it left with the reviewer who is away (and why)."""

    moved: list[Assignment] = field(default_factory=list)
    kept: list[tuple[Submission, str]] = field(default_factory=list)


@transaction.atomic
def assignment_rebalance(
    *,
    organization: Organization,
    from_reviewer: User,
    to_reviewers: Sequence[User],
    actor: User | None,
) -> Rebalanced:
    """Spread the untaken work assigned to a reviewer who is away over the others, oldest
    first, each submission to the least loaded of them who may have it (the same rule as
    assignment_assign). A submission none of them may have stays where it is, and the result
    says why; a submission the away reviewer has claimed stays too (their claim lapses back
    in time, and a later rebalance moves it)."""
    _require_admin(organization, actor)
    targets = [r for r in dict.fromkeys(to_reviewers) if r.pk != from_reviewer.pk]
    if not targets:
        raise ApplicationError(
            _("Choose at least one other reviewer to take the work."),
            code=Code.INVALID,
            fields={"to_reviewers": [_("Choose at least one other reviewer.")]},
        )
    scopes = [_assignable_scope(organization, reviewer) for reviewer in targets]
    result = Rebalanced()
    theirs = list(
        Assignment.objects.filter(_untaken(organization), reviewer=from_reviewer).values_list(
            "submission_id", flat=True
        )
    )
    if not theirs:
        return result
    # the submissions first, then their assignments: the order assignment_assign locks them in
    submissions = _lock(organization, [Submission(pk=pk) for pk in theirs])
    assignments = list(
        Assignment.objects.select_for_update(of=("self",))
        .filter(_untaken(organization), reviewer=from_reviewer, submission_id__in=theirs)
        .order_by("submission__submitted_at", "pk")
    )
    by_pk = {s.pk: s for s in submissions}
    refused = {scope.user.pk: _refusals(organization, scope, submissions) for scope in scopes}
    load = {
        pk: sum(work)
        for pk, work in assignment_load(organization=organization, reviewers=targets).items()
    }
    for assignment in assignments:
        submission = by_pk[assignment.submission_id]
        open_to = [r for r in targets if not refused[r.pk][submission.pk]]
        if not open_to:
            why = "; ".join(reason for r in targets for reason in refused[r.pk][submission.pk])
            result.kept.append((submission, why))
            continue
        chosen = min(open_to, key=lambda r: (load[r.pk], targets.index(r)))
        load[chosen.pk] += 1
        assignment.submission = submission
        assignment.reviewer, assignment.assigned_by = chosen, actor
        assignment.save(update_fields=["reviewer", "assigned_by", "updated_at"])
        result.moved.append(assignment)
    audit_record_many(
        organization=organization,
        actor=actor,
        action="assignment.rebalanced",
        records=[
            (
                a,
                f"{submission_code(a.submission)} moved from {_who(from_reviewer)} "
                f"to {_who(a.reviewer)}",
            )
            for a in result.moved
        ],
    )
    return result


@transaction.atomic
def assignment_clear(
    *,
    organization: Organization,
    submissions: Submission | Sequence[Submission],
    actor: User | None,
) -> int:
    """Take the assignments off these submissions: back in everyone's queue. Returns how many
    there were."""
    _require_admin(organization, actor)
    batch = [submissions] if isinstance(submissions, Submission) else list(submissions)
    locked = _lock(organization, batch)
    assignments = list(
        Assignment.objects.select_for_update(of=("self",))
        .filter(submission__in=locked)
        .select_related("reviewer")
    )
    by_pk = {s.pk: s for s in locked}
    audit_record_many(
        organization=organization,
        actor=actor,
        action="assignment.cleared",
        records=[
            (
                a,
                f"{submission_code(by_pk[a.submission_id])} no longer assigned to "
                f"{_who(a.reviewer)}",
            )
            for a in assignments
        ],
    )
    Assignment.objects.filter(pk__in=[a.pk for a in assignments]).delete()
    return len(assignments)
