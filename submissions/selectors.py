"""Read queries of applications and evidence."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from programs.models import Organization, User

from .models import Application, ApplicationEvent, EvidenceItem, QuizResponse, Submission


def application_access(*, organization: Organization, public_id: str, user: User) -> Application:
    """The educator's own application in this organization, or 404 (never 403)."""
    application = (
        Application.objects.filter(organization=organization, public_id=public_id, educator=user)
        .select_related("organization", "credential", "version", "version__focus_area")
        .first()
        if user.is_authenticated
        else None
    )
    if application is None:
        raise Http404("No such application.")
    return application


def evidence_item_access(*, application: Application, public_id: str) -> EvidenceItem:
    item = (
        EvidenceItem.objects.filter(application=application, public_id=public_id)
        .select_related("requirement")
        .first()
    )
    if item is None:
        raise Http404("No such evidence item.")
    return item


def application_workspace(*, application: Application) -> dict[str, object]:
    """Everything the application page shows, in a fixed number of queries."""
    items = list(
        EvidenceItem.objects.filter(
            application=application,
            status__in=[
                EvidenceItem.Status.PENDING,
                EvidenceItem.Status.READY,
                EvidenceItem.Status.REJECTED,
            ],
        ).order_by("created_at")
    )
    quizzes = {q.requirement_id: q for q in QuizResponse.objects.filter(application=application)}
    submissions = list(Submission.objects.filter(application=application).order_by("number"))
    events = list(
        ApplicationEvent.objects.filter(application=application)
        .select_related("actor")
        .order_by("-created_at", "-pk")[:50]
    )
    return {"items": items, "quizzes": quizzes, "submissions": submissions, "events": events}


def application_list_for_educator(*, user: User) -> QuerySet[Application]:
    """An educator's applications in every organization (their own data, across tenants)."""
    return (
        Application.objects.with_scopes_disabled()
        .filter(educator=user)
        .select_related("organization", "credential", "version", "version__focus_area")
        .prefetch_related(
            Prefetch(
                "submissions",
                queryset=Submission.objects.with_scopes_disabled().order_by("number"),
            )
        )
        .order_by("-updated_at")
    )
