"""Read queries of applications and evidence."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch
from django.http import Http404
from django.utils.translation import gettext_noop

from credentials_site.tenancy import cross_organization
from programs import selectors as program_selectors
from programs.models import Credential, EvidenceRequirement, Organization, User

from .models import (
    Application,
    ApplicationEvent,
    EvidenceItem,
    QuizResponse,
    SeatBatch,
    Submission,
)


def access_application_by_public_id(
    *, actor: User, organization: Organization, public_id: str
) -> Application:
    """The actor's own application in this organization, or 404 (never 403)."""
    application = (
        Application.objects.filter(organization=organization, public_id=public_id, educator=actor)
        .select_related(
            "organization", "credential", "version", "version__focus_area", "version__organization"
        )
        .first()
        if actor.is_authenticated
        else None
    )
    if application is None:
        raise Http404("No such application.")
    return application


def organizations_buying_seats(*, user: User) -> list[Organization]:
    """The organizations (a district, a school) a person may buy seat codes for: those they
    administer."""
    ids = program_selectors.organization_ids_administered_by(user=user)
    return list(Organization.objects.filter(pk__in=ids).order_by("name"))


def credentials_with_seats_for_sale(*, organization: Organization) -> list[Credential]:
    """The organization's published credentials with a non-member fee: what a seat is sold for."""
    return list(
        Credential.objects.filter(
            organization=organization,
            status=Credential.Status.PUBLISHED,
            current_version__non_member_fee__gt=0,
        )
        .select_related("current_version")
        .order_by("position", "slug")
    )


def access_seat_batch_by_public_id(
    *, actor: User, organization: Organization, public_id: str
) -> SeatBatch:
    """A seat batch of this organization that the actor bought, or bought for an organization
    they administer; else 404 (another organization's batch is one that does not exist)."""
    batch = (
        SeatBatch.objects.filter(organization=organization, public_id=public_id)
        .select_related("credential__current_version", "buyer_organization")
        .first()
        if actor.is_authenticated
        else None
    )
    if batch is None or not (
        batch.created_by_id == actor.pk
        or batch.buyer_organization_id
        in program_selectors.organization_ids_administered_by(user=actor)
    ):
        raise Http404("No such batch of seat codes.")
    return batch


def access_evidence_item_by_public_id(*, application: Application, public_id: str) -> EvidenceItem:
    """An item of an application the caller may open (``access_application_by_public_id``), or
    404: another application's item answers as one that does not exist."""
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


@dataclass
class EvidenceState:
    """What ``services.gaps_of`` needs about one application."""

    requirements: list[EvidenceRequirement] = field(default_factory=list)
    items: list[EvidenceItem] = field(default_factory=list)
    quizzes: dict[int, QuizResponse] = field(default_factory=dict)


# an educator's own applications (My learning), read in every organization
MINE = "an educator's own applications, from every organization"


def evidence_state_for_applications(*, applications: list[Application]) -> dict[int, EvidenceState]:
    """The evidence state of several applications of one educator, across organizations (their
    own data), in three queries whatever their number: for the dashboard's next steps."""
    if not applications:
        return {}
    ids = [a.pk for a in applications]
    by_version: dict[int, list[EvidenceRequirement]] = {}
    states = {a.pk: EvidenceState() for a in applications}
    with cross_organization(MINE):
        for requirement in EvidenceRequirement.objects.filter(
            version_id__in={a.version_id for a in applications}
        ):
            by_version.setdefault(requirement.version_id, []).append(requirement)
        for item in EvidenceItem.objects.filter(
            application_id__in=ids,
            status__in=[EvidenceItem.Status.READY, EvidenceItem.Status.PENDING],
        ):
            states[item.application_id].items.append(item)
        for response in QuizResponse.objects.filter(application_id__in=ids):
            states[response.application_id].quizzes[response.requirement_id] = response
    for application in applications:
        states[application.pk].requirements = by_version.get(application.version_id, [])
    return states


def application_list_for_educator(*, user: User) -> list[Application]:
    """An educator's applications in every organization (their own data, across tenants),
    most recently changed first, with their attempts."""
    with cross_organization(MINE):
        return list(
            Application.objects.filter(educator=user)
            .select_related(
                "organization",
                "credential",
                "version",
                "version__focus_area",
                "version__organization",
            )
            .prefetch_related(
                Prefetch("submissions", queryset=Submission.objects.order_by("number"))
            )
            .order_by("-updated_at")
        )


def application_counts_in_progress(*, credential_id: int) -> dict[int, int]:
    """Applications of a credential still in progress (not yet decided, awarded or withdrawn),
    by version number, in one query: they stay on their version when a new one is published.
    (programs names it in ``settings.PROGRAMS_LOOKUPS``.)"""
    rows = (
        Application.objects.filter(credential_id=credential_id, status__in=Application.IN_PROGRESS)
        .values("version__number")
        .annotate(count=Count("pk"))
        .order_by("-version__number")
    )
    return {row["version__number"]: row["count"] for row in rows}


# --- Progress as colleagues and leaders may see it (issue 21) ----------------------------------

NOT_STARTED, IN_PROGRESS, SUBMITTED, NEEDS_REVISION, AWARDED = (
    "not_started",
    "in_progress",
    "submitted",
    "needs_revision",
    "awarded",
)
# what others (colleagues in a community, a school leader) see of an application: its stage
# only, never evidence, scores or feedback. A closed application (withdrawn, not awarded) reads
# "not started": its outcome is the educator's to tell, and they may apply again.
# the stages' names, translated where they are shown (gettext(PROGRESS_LABELS[stage]))
PROGRESS_LABELS = {
    NOT_STARTED: gettext_noop("Not started"),
    IN_PROGRESS: gettext_noop("In progress"),
    SUBMITTED: gettext_noop("Submitted"),
    NEEDS_REVISION: gettext_noop("Needs revision"),
    AWARDED: gettext_noop("Awarded"),
}
_PROGRESS_OF_STATUS: dict[str, str] = {
    Application.Status.APPLIED: IN_PROGRESS,
    Application.Status.SUBMITTED: SUBMITTED,
    Application.Status.IN_REVIEW: SUBMITTED,
    Application.Status.APPROVED: SUBMITTED,  # the badge is on its way
    Application.Status.NEEDS_REVISION: NEEDS_REVISION,
    Application.Status.AWARDED: AWARDED,
}


def progress_of_status(status: str | None) -> str:
    """The stage (a key of ``PROGRESS_LABELS``) of an application in ``status`` (None: none)."""
    return _PROGRESS_OF_STATUS.get(status, NOT_STARTED) if status else NOT_STARTED


def progress_by_person_and_credential(
    *, organization: Organization, user_ids: list[int], credential_ids: list[int]
) -> dict[tuple[int, int], str]:
    """The stage (a key of ``PROGRESS_LABELS``) of each person's open or awarded application
    for each credential, in one query; a pair with none is absent (not started)."""
    if not user_ids or not credential_ids:
        return {}
    rows = (
        Application.objects.filter(
            organization=organization,
            educator_id__in=user_ids,
            credential_id__in=credential_ids,
            status__in=list(_PROGRESS_OF_STATUS),
        )
        .order_by("updated_at")
        .values_list("educator_id", "credential_id", "status")
    )
    return {(user, credential): _PROGRESS_OF_STATUS[status] for user, credential, status in rows}


def application_latest_for_educator(
    *, organization: Organization, user: User, credential: Credential
) -> Application | None:
    """The educator's latest application for this credential in this organization, if any."""
    return (
        Application.objects.filter(organization=organization, educator=user, credential=credential)
        .order_by("-created_at")
        .first()
    )
