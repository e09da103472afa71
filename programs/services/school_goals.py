"""A school leader's goals, recommended sets and assignments (issue 21; docs/decisions/0030).

Each change is refused whole, with a message naming the field, or made whole and audited.
Assigning asks an educator to earn a credential: it never applies for them, never waives a fee
or a membership, and the educator may decline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from credentials_site.exceptions import ApplicationError

from ..errors import ProgramErrorCode as Code
from ..models import (
    Membership,
    School,
    User,
)
from ..models_schools import GoalRecommendation, SchoolAssignment, SchoolGoal
from ..selectors_schools import credential_get_allowed, school_goal_list
from .audit import audit_record, audit_record_many

TITLE_MAX = 120
DESCRIPTION_MAX = 2000


def _refuse(field: str, message: str, code: str = Code.INVALID) -> ApplicationError:
    return ApplicationError(message, code=code, fields={field: [message]})


# --- Goals ---------------------------------------------------------------------------------------


def _clean_goal(title: str, description: str) -> tuple[str, str]:
    title, description = " ".join(title.split()), description.strip()
    if not title:
        raise _refuse("title", _("Name the goal (for example “Literacy instruction”)."))
    if len(title) > TITLE_MAX:
        raise _refuse(
            "title", _("A goal's name has at most %(count)s characters.") % {"count": TITLE_MAX}
        )
    if len(description) > DESCRIPTION_MAX:
        raise _refuse(
            "description",
            _("A description has at most %(count)s characters.") % {"count": DESCRIPTION_MAX},
        )
    return title, description


@transaction.atomic
def school_goal_save(
    *,
    school: School,
    actor: User,
    title: str,
    description: str = "",
    goal: SchoolGoal | None = None,
) -> SchoolGoal:
    """Add a goal at the end of the school's list, or rename and describe ``goal``."""
    title, description = _clean_goal(title, description)
    if goal is None:
        last = SchoolGoal.objects.filter(school=school).aggregate(last=Max("position"))["last"]
        goal = SchoolGoal.objects.create(
            organization_id=school.organization_id,
            school=school,
            title=title,
            description=description,
            position=(last or 0) + 1,
        )
        action = "school.goal_added"
    else:
        goal = SchoolGoal.objects.select_for_update().get(pk=goal.pk, school=school)
        goal.title, goal.description = title, description
        goal.save(update_fields=["title", "description", "updated_at"])
        action = "school.goal_changed"
    audit_record(
        organization=school.organization, actor=actor, action=action, obj=goal, summary=title
    )
    return goal


@transaction.atomic
def school_goal_move(*, goal: SchoolGoal, actor: User, offset: int) -> None:
    """Move a goal up (-1) or down (+1) the school's list; the ends stay where they are."""
    goals = list(
        SchoolGoal.objects.select_for_update()
        .filter(school_id=goal.school_id)
        .order_by("position", "pk")
    )
    index = next(i for i, g in enumerate(goals) if g.pk == goal.pk)
    other = index + (1 if offset > 0 else -1)
    if 0 <= other < len(goals):
        goals[index], goals[other] = goals[other], goals[index]
    for position, each in enumerate(goals, start=1):
        if each.position != position:
            each.position = position
            each.save(update_fields=["position", "updated_at"])
    audit_record(
        organization=goal.school.organization,
        actor=actor,
        action="school.goal_moved",
        obj=goal,
        summary=f"{goal.title} moved {'up' if offset < 0 else 'down'}",
    )


@transaction.atomic
def school_goal_remove(*, goal: SchoolGoal, actor: User) -> None:
    """Remove a goal and its recommended set (assignments made from it stay)."""
    audit_record(
        organization=goal.school.organization,
        actor=actor,
        action="school.goal_removed",
        obj=goal,
        summary=goal.title,
    )
    goal.delete()


# --- Recommended sets ----------------------------------------------------------------------------


@transaction.atomic
def goal_credential_recommend(
    *, goal: SchoolGoal, credential_id: int | None, actor: User
) -> GoalRecommendation:
    """Add a credential to the goal's set: the school's organization's published one, or another
    organization's public, published one."""
    credential = (
        credential_get_allowed(organization_id=goal.organization_id, pk=credential_id)
        if credential_id
        else None
    )
    if credential is None:
        raise _refuse(
            "credential",
            _("Choose a published credential of your organization or of a public catalog."),
            Code.NOT_ALLOWED,
        )
    if GoalRecommendation.objects.filter(goal=goal, credential_id=credential.pk).exists():
        raise _refuse("credential", _("That credential is already recommended for this goal."))
    last = goal.recommendations.aggregate(last=Max("position"))["last"]
    recommendation = GoalRecommendation.objects.create(
        organization_id=goal.organization_id,
        goal=goal,
        credential_id=credential.pk,
        position=(last or 0) + 1,
    )
    title = credential.current_version.title if credential.current_version else credential.slug
    audit_record(
        organization=goal.school.organization,
        actor=actor,
        action="school.credential_recommended",
        obj=goal,
        summary=f"{title} ({credential.organization.name}) recommended for {goal.title}",
    )
    return recommendation


@transaction.atomic
def goal_recommendation_remove(*, goal: SchoolGoal, recommendation_id: int, actor: User) -> None:
    """Take a credential out of the goal's set (a recommendation of another goal: refused)."""
    deleted, _rows = GoalRecommendation.objects.filter(goal=goal, pk=recommendation_id).delete()
    if not deleted:
        raise _refuse("recommendation", _("That credential is not in this goal's set."))
    audit_record(
        organization=goal.school.organization,
        actor=actor,
        action="school.recommendation_removed",
        obj=goal,
        summary=f"a credential taken out of {goal.title}'s set",
    )


# --- Assignments ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assigned:
    made: list[SchoolAssignment]
    already: int


def _assignees(school: School, membership_ids: Sequence[int], everyone: bool) -> list[Membership]:
    staff = Membership.objects.filter(
        organization_id=school.organization_id, school_links__school=school
    ).select_related("user")
    if everyone:
        chosen = list(staff)
        if not chosen:
            raise _refuse("assignees", _("This school has no staff on the roster yet."))
        return chosen
    wanted = set(membership_ids)
    if not wanted:
        raise _refuse("assignees", _("Choose at least one staff member, or all staff."))
    chosen = list(staff.filter(pk__in=wanted))
    if len(chosen) != len(wanted):
        raise _refuse("assignees", _("Someone you chose is not on this school's staff."))
    return chosen


def _assigned_credentials(
    school: School, credential_id: int | None, goal_id: int | None
) -> tuple[list[int], SchoolGoal | None]:
    goal = None
    if goal_id:
        goal = SchoolGoal.objects.filter(school=school, pk=goal_id).first()
        if goal is None:
            raise _refuse("goal", _("Choose one of this school's goals."))
    if credential_id:
        if credential_get_allowed(organization_id=school.organization_id, pk=credential_id):
            return [credential_id], goal
        raise _refuse(
            "credential",
            _(
                "That credential cannot be assigned: choose a published credential of your "
                "organization or of a public catalog."
            ),
            Code.NOT_ALLOWED,
        )
    if goal is None:
        raise _refuse("credential", _("Choose a credential, or a goal to assign its whole set."))
    ids = [
        r.credential_id
        for g in school_goal_list(school=school)
        if g.pk == goal.pk
        for r in g.recommendations.all()
    ]
    if not ids:
        raise _refuse("goal", _("This goal has no recommended credentials to assign yet."))
    return ids, goal


@transaction.atomic
def school_assign(
    *,
    school: School,
    actor: User,
    credential_id: int | None,
    goal_id: int | None = None,
    membership_ids: Sequence[int] = (),
    everyone: bool = False,
    target_date: dt.date | None = None,
) -> Assigned:
    """Ask staff members of the school to earn a credential (or every credential of a goal's
    set), by an optional target date. Someone already asked for a credential keeps their
    assignment as it is (counted in ``already``)."""
    if target_date is not None and target_date < timezone.localdate():
        raise _refuse("target_date", _("The target date cannot be in the past."))
    credential_ids, goal = _assigned_credentials(school, credential_id, goal_id)
    assignees = _assignees(school, membership_ids, everyone)
    existing = set(
        SchoolAssignment.objects.filter(
            school=school,
            credential_id__in=credential_ids,
            membership__in=assignees,
        ).values_list("membership_id", "credential_id")
    )
    made = SchoolAssignment.objects.bulk_create(
        [
            SchoolAssignment(
                organization_id=school.organization_id,
                school=school,
                goal=goal,
                credential_id=credential,
                membership=member,
                assigned_by=actor,
                target_date=target_date,
            )
            for credential in credential_ids
            for member in assignees
            if (member.pk, credential) not in existing
        ]
    )
    audit_record_many(
        organization=school.organization,
        actor=actor,
        action="school.assigned",
        records=[(a, f"credential {a.credential_id} assigned in {school}") for a in made],
    )
    return Assigned(made=made, already=len(existing))


@transaction.atomic
def school_assignment_respond(
    *, assignment: SchoolAssignment, user: User, accept: bool
) -> SchoolAssignment:
    """The educator accepts or declines (and may change their mind). Only they may answer."""
    assignment = (
        SchoolAssignment.objects.select_for_update()
        .select_related("membership", "school__organization")
        .get(pk=assignment.pk)
    )
    if assignment.membership.user_id != user.pk:
        raise _refuse("assignment", _("Only the person asked may answer."), Code.NOT_ALLOWED)
    state = SchoolAssignment.State.ACCEPTED if accept else SchoolAssignment.State.DECLINED
    if assignment.state != state:
        assignment.state = state
        assignment.responded_at = timezone.now()
        assignment.save(update_fields=["state", "responded_at", "updated_at"])
        audit_record(
            organization=assignment.school.organization,
            actor=user,
            action=f"school.assignment_{state}",
            obj=assignment,
            summary=f"{user.email} {state} credential {assignment.credential_id}",
        )
    return assignment


__all__ = [
    "Assigned",
    "goal_credential_recommend",
    "goal_recommendation_remove",
    "school_assign",
    "school_assignment_respond",
    "school_goal_move",
    "school_goal_remove",
    "school_goal_save",
]
