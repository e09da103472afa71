"""Who may open the reviewer's pages and files: each ``access_<thing>_by_<key>(actor=...)``
fetches with the check in one step and answers 404 (never 403) to anyone else, in any
organization. A reviewer who loses the role loses their claims' pages and files too.

The name a reviewer sees for an evidence file is decided here as well: in blind review a file's
own name (which often carries its author's) becomes the anonymous code and the file's number."""

from __future__ import annotations

import datetime as dt
import mimetypes
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from programs.models import Organization, User
from submissions.models import EvidenceItem

from .. import selectors
from ..calibration import _exemplars_for
from ..models import CalibrationExemplar, Claim
from ..selectors import ReviewerScope

_CLAIM_RELATED = (
    "submission",
    "submission__application",
    "submission__application__educator",
    "submission__application__version",
    "submission__application__credential__program",
)
EXEMPLAR_RELATED = (
    "submission__application__version",
    "submission__application__credential__program",
)


@dataclass(frozen=True)
class EvidenceFile:
    """One evidence file a reviewer may open, under the name they see (and download)."""

    item: EvidenceItem
    name: str


# --- Pages --------------------------------------------------------------------------------------


def access_scope_by_organization(*, actor: User, organization: Organization) -> ReviewerScope:
    """The actor's reviewer scope in this organization, or 404 (a non-reviewer learns nothing)."""
    scope = selectors.reviewer_scope(organization=organization, user=actor)
    if scope is None:
        raise Http404("No such page.")
    return scope


def access_claim_by_public_id(
    *,
    actor: User,
    organization: Organization,
    public_id: str,
    scope: ReviewerScope | None = None,
) -> Claim:
    """The actor's own claim in this organization (with its submission, application, educator,
    version and program), or 404. ``scope``: the actor's reviewer scope when the caller checked
    it already (the API does, for every request); otherwise it is checked here."""
    if scope is None:
        access_scope_by_organization(actor=actor, organization=organization)
    claim = (
        Claim.objects.filter(organization=organization, public_id=public_id, reviewer=actor)
        .select_related(*_CLAIM_RELATED)
        .first()
        if actor.is_authenticated
        else None
    )
    if claim is None:
        raise Http404("No such review.")
    return claim


def claim_is_live(claim: Claim, now: dt.datetime | None = None) -> bool:
    """Active and not past its time (an expired claim waits for the sweep, but is over)."""
    return claim.status == Claim.Status.ACTIVE and claim.expires_at > (now or timezone.now())


def access_exemplar_by_public_id(
    *, actor: User, organization: Organization, public_id: str
) -> CalibrationExemplar:
    """An active exemplar the actor is asked to score (scored already or not), or 404: for
    someone who is not a reviewer here, another organization's exemplar, one outside their
    programs, of their own work, that they agreed the scores of, or no longer in use."""
    scope = access_scope_by_organization(actor=actor, organization=organization)
    exemplar = (
        _exemplars_for(organization=organization, reviewer=actor, scope=scope)
        .filter(public_id=public_id)
        .select_related(*EXEMPLAR_RELATED)
        .first()
    )
    if exemplar is None:
        raise Http404("No such calibration example.")
    return exemplar


# --- Files --------------------------------------------------------------------------------------


def access_claim_file_by_public_id(
    *, actor: User, organization: Organization, public_id: str, item_public_id: str
) -> EvidenceFile:
    """A file (``item_public_id``) of the claimed submission, for the reviewer holding the claim
    (live) or who decided with it (completed); 404 for anyone else, another organization or a
    removed file."""
    if not actor.is_authenticated:
        raise Http404("No such file.")
    claim = access_claim_by_public_id(actor=actor, organization=organization, public_id=public_id)
    if not (claim_is_live(claim) or claim.status == Claim.Status.COMPLETED):
        raise Http404("No such file.")
    application = claim.submission.application
    return _file_of(
        organization=organization,
        submission_id=claim.submission_id,
        item_public_id=item_public_id,
        blind=bool(application.credential.program.blind_review),
        code=application.anonymous_code,
    )


def access_exemplar_file_by_public_id(
    *, actor: User, organization: Organization, public_id: str, item_public_id: str
) -> EvidenceFile:
    """A file (``item_public_id``) of an exemplar, named blind (always), for a reviewer asked to
    score it; 404 for anyone else, another organization or a removed file."""
    exemplar = access_exemplar_by_public_id(
        actor=actor, organization=organization, public_id=public_id
    )
    return _file_of(
        organization=organization,
        submission_id=exemplar.submission_id,
        item_public_id=item_public_id,
        blind=True,
        code=exemplar.submission.application.anonymous_code,
    )


def _files(submission_id: int) -> QuerySet[EvidenceItem]:
    """The submission's files in the order the pages number them."""
    return EvidenceItem.objects.filter(
        submissions=submission_id, kind=EvidenceItem.Kind.FILE
    ).order_by("created_at", "pk")


def _file_of(
    *, organization: Organization, submission_id: int, item_public_id: str, blind: bool, code: str
) -> EvidenceFile:
    item = (
        _files(submission_id)
        .filter(organization=organization, public_id=item_public_id, purged_at__isnull=True)
        .exclude(storage_key="")
        .first()
    )
    if item is None:
        raise Http404("No such file.")
    number = 1
    if blind:  # the number the page shows it under: one query, only when the name needs it
        numbers = _files(submission_id).values_list("pk", flat=True)
        number = next((n for n, pk in enumerate(numbers, start=1) if pk == item.pk), 1)
    return EvidenceFile(
        item=item, name=evidence_filename(item, blind=blind, code=code, number=number)
    )


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
