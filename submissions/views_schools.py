"""A school leader's workspace (goals, recommended sets, assigning) and progress page, and the
educator's answer to an assignment (issue 21; docs/decisions/0030).

Every leader page starts from ``school_get_led_by``: a school the user does not lead, of this
organization or any other, answers 404. The progress page reads application states only
(``submissions.schools``). A refused form re-renders the workspace with the message beside the
field, answering 400, and nothing changes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from credentials_site.exceptions import ApplicationError
from credentials_site.tenancy import request_organization
from programs import selectors as program_selectors
from programs import selectors_schools, services
from programs.models import School, User

from . import schools
from .services import seats


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _school(request: HttpRequest, school_id: int) -> School:
    return program_selectors.school_get_led_by(
        organization=request_organization(request), user=request.user, pk=school_id
    )


def _workspace_url(school: School, anchor: str = "") -> str:
    url = reverse(
        "submissions:school",
        kwargs={"org_slug": school.organization.slug, "school_id": school.pk},
    )
    return f"{url}#{anchor}" if anchor else url


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@login_required
@require_safe
def school_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization = request_organization(request)
    led = list(program_selectors.school_list_led_by(organization=organization, user=request.user))
    if not led:
        raise Http404("No school of yours here.")
    return render(
        request, "submissions/schools/list.html", {"organization": organization, "schools": led}
    )


def _render_workspace(
    request: HttpRequest,
    school: School,
    *,
    problem: ApplicationError | None = None,
    posted: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    goals = selectors_schools.school_goal_list(school=school)
    recommended = {r.credential_id: r.credential for g in goals for r in g.recommendations.all()}
    query = request.GET.get("q", "").strip()[:200]
    return render(
        request,
        "submissions/schools/workspace.html",
        {
            "organization": school.organization,
            "school": school,
            "goals": goals,
            "recommended": sorted(
                recommended.values(),
                key=lambda c: c.current_version.title if c.current_version else c.slug,
            ),
            "staff": list(program_selectors.school_members(school=school)),
            "seat_batches": seats.seat_batch_list_for_assigning(
                organization_id=school.organization_id
            ),
            "query": query,
            "results": selectors_schools.school_catalog_search(school=school, q=query),
            "problem": problem,
            "errors": {k: " ".join(v) for k, v in (problem.fields if problem else {}).items()},
            "posted": posted or {},
            "today": timezone.localdate().isoformat(),
        },
        status=status,
    )


@login_required
@require_safe
def school_workspace(request: HttpRequest, org_slug: str, school_id: int) -> HttpResponse:
    return _render_workspace(request, _school(request, school_id))


def _done(request: HttpRequest, school: School, message: str, anchor: str) -> HttpResponse:
    messages.success(request, message)
    return redirect(_workspace_url(school, anchor))


@login_required
@require_POST
def goal_add(request: HttpRequest, org_slug: str, school_id: int) -> HttpResponse:
    school = _school(request, school_id)
    try:
        goal = services.school_goal_save(
            school=school,
            actor=_user(request),
            title=request.POST.get("title", ""),
            description=request.POST.get("description", ""),
        )
    except ApplicationError as error:
        return _render_workspace(
            request, school, problem=error, posted={"new": request.POST}, status=400
        )
    return _done(
        request, school, _("Goal “%(title)s” added.") % {"title": goal.title}, f"goal-{goal.pk}"
    )


@login_required
@require_POST
def goal_change(request: HttpRequest, org_slug: str, school_id: int, goal_id: int) -> HttpResponse:
    school = _school(request, school_id)
    goal = selectors_schools.school_goal_get(school=school, pk=goal_id)
    action = request.POST.get("action", "save")
    try:
        if action in ("up", "down"):
            services.school_goal_move(
                goal=goal, actor=_user(request), offset=-1 if action == "up" else 1
            )
            moved = (
                _("Goal “%(title)s” moved up.")
                if action == "up"
                else _("Goal “%(title)s” moved down.")
            )
            return _done(request, school, moved % {"title": goal.title}, f"goal-{goal.pk}")
        if action == "remove":
            services.school_goal_remove(goal=goal, actor=_user(request))
            return _done(
                request, school, _("Goal “%(title)s” removed.") % {"title": goal.title}, "goals"
            )
        services.school_goal_save(
            school=school,
            actor=_user(request),
            goal=goal,
            title=request.POST.get("title", ""),
            description=request.POST.get("description", ""),
        )
    except ApplicationError as error:
        return _render_workspace(
            request, school, problem=error, posted={str(goal.pk): request.POST}, status=400
        )
    return _done(request, school, _("Goal saved."), f"goal-{goal.pk}")


@login_required
@require_POST
def goal_recommend(
    request: HttpRequest, org_slug: str, school_id: int, goal_id: int
) -> HttpResponse:
    school = _school(request, school_id)
    goal = selectors_schools.school_goal_get(school=school, pk=goal_id)
    try:
        if request.POST.get("remove"):
            services.goal_recommendation_remove(
                goal=goal, recommendation_id=_int(request.POST["remove"]) or 0, actor=_user(request)
            )
            return _done(
                request,
                school,
                _("Taken out of “%(title)s”.") % {"title": goal.title},
                f"goal-{goal.pk}",
            )
        services.goal_credential_recommend(
            goal=goal, credential_id=_int(request.POST.get("credential")), actor=_user(request)
        )
    except ApplicationError as error:
        return _render_workspace(request, school, problem=error, status=400)
    return _done(
        request,
        school,
        _("Recommended for “%(title)s”.") % {"title": goal.title},
        f"goal-{goal.pk}",
    )


@login_required
@require_POST
def school_assign(request: HttpRequest, org_slug: str, school_id: int) -> HttpResponse:
    school = _school(request, school_id)
    raw_date = request.POST.get("target_date", "").strip()
    try:
        try:
            target = dt.date.fromisoformat(raw_date) if raw_date else None
        except ValueError:
            message = _("Give the target date as a date (for example 2027-05-31).")
            raise ApplicationError(message, fields={"target_date": [message]}) from None
        done = seats.school_assign_with_seats(
            school=school,
            batch_id=_int(request.POST.get("seat_batch")),
            actor=_user(request),
            credential_id=_int(request.POST.get("credential")),
            goal_id=_int(request.POST.get("goal")),
            membership_ids=[
                i for i in (_int(v) for v in request.POST.getlist("assignees")) if i is not None
            ],
            everyone=request.POST.get("everyone") == "on",
            target_date=target,
        )
    except ApplicationError as error:
        return _render_workspace(
            request,
            school,
            problem=error,
            posted={"assign": request.POST, "assignees": request.POST.getlist("assignees")},
            status=400,
        )
    message = _("Assigned: %(count)s new.") % {"count": len(done.made)}
    if done.made and done.made[0].seat_code:
        message += " " + _("Each comes with a seat code: they owe no fee.")
    if done.already:
        message += " " + _("%(count)s already had it and were left as they were.") % {
            "count": done.already
        }
    return _done(request, school, message, "assign")


@login_required
@require_safe
def school_progress(request: HttpRequest, org_slug: str, school_id: int) -> HttpResponse:
    school = _school(request, school_id)
    return render(
        request,
        "submissions/schools/progress.html",
        {
            "organization": school.organization,
            "school": school,
            **schools.school_progress(school=school),
        },
    )


@login_required
@require_POST
def assignment_answer(request: HttpRequest, org_slug: str, public_id: UUID) -> HttpResponse:
    assignment = selectors_schools.assignment_get_for_user(
        organization=request_organization(request), user=request.user, public_id=str(public_id)
    )
    answer = request.POST.get("answer")
    if answer not in ("accept", "decline"):
        messages.error(request, _("Choose Accept or Decline."))
    else:
        try:
            services.school_assignment_respond(
                assignment=assignment, user=_user(request), accept=answer == "accept"
            )
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("Accepted: apply from the credential's page when you are ready.")
                if answer == "accept"
                else _("Declined. %(school)s sees that you declined.")
                % {"school": assignment.school.name},
            )
    return redirect(reverse("submissions:dashboard") + "#assignments")
