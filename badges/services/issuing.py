"""Issuing the badge of an approved application, idempotently.

Idempotency (STYLE 18): ``badge_issue`` locks the application row, returns the badge it already
made, and the one-to-one ``Badge.application`` is the database's last word. A crash anywhere
before commit leaves nothing behind; the task retries or the sweep finds the approval again."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import time
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone

from credentials_site.tenancy import scoped_sql
from programs import services as program_services
from programs.models import CredentialVersion, Organization, Pathway, RubricCriterion, User
from submissions import services as submission_services
from submissions.decisions import decided_scores
from submissions.models import Application, EvidenceItem

from .. import dataintegrity, documents
from ..errors import BadgeError
from ..errors import BadgeErrorCode as Code
from ..models import (
    Badge,
    IssueFailure,
)
from ._urls import achievement_image_url, badge_url, status_list_url
from .mail import ISSUED, mail_on_commit
from .signing import _sign, _signing_key
from .status import _status_allocate

M = TypeVar("M", bound=Model)


def _valid_until(version: CredentialVersion, issued_at: dt.datetime) -> dt.datetime | None:
    if version.expiry_policy != CredentialVersion.ExpiryPolicy.MONTHS or not version.expiry_months:
        return None
    months = issued_at.month - 1 + version.expiry_months
    year, month = issued_at.year + months // 12, months % 12 + 1
    day = min(issued_at.day, 28)
    return issued_at.replace(year=year, month=month, day=day)


def _evidence(application: Application, badge_public_id: Any) -> list[dict[str, Any]]:
    """Evidence entries, only for items the educator marked public."""
    items = (
        EvidenceItem.objects.filter(
            application=application,
            visibility=EvidenceItem.Visibility.PUBLIC,
            status=EvidenceItem.Status.READY,
        )
        .select_related("requirement")
        .only(
            "kind",
            "text",
            "url",
            "public_id",
            "display_name",
            "content_type",
            "requirement__title",
        )
        .order_by("requirement__position", "created_at")
    )
    out: list[dict[str, Any]] = []
    for item in items:
        entry: dict[str, Any] = {"type": ["Evidence"], "name": item.requirement.title}
        if item.kind == EvidenceItem.Kind.TEXT:
            entry["narrative"] = item.text
        elif item.kind == EvidenceItem.Kind.LINK:
            entry["id"] = item.url
        else:
            entry["id"] = documents.site_url(
                reverse("badges:evidence", args=[badge_public_id, item.public_id])
            )
            entry["description"] = item.display_name
            if item.content_type:
                entry["genre"] = item.content_type
        out.append(entry)
    return out


def _scores(feedback: Any) -> dict[int, int]:
    """Criterion id → score of each rated criterion, from a decided attempt's ``feedback``
    rows (none without one); a malformed row raises (submissions.decisions)."""
    if feedback is None:
        return {}
    return {c: score for c, score in decided_scores(feedback).items() if score is not None}


@dataclass
class _IssueRead:
    """What issuing reads about an application, under its row lock, in one statement."""

    application: Application  # id, organization, status, attempt, educator, version, credential
    educator: User  # id, email, full name and whether badges carry it, public id
    profile_is_public: bool
    version_stamp: dt.datetime  # the version's and the organization's ``updated_at``: the
    organization_stamp: dt.datetime  # key of the worker's copy of the two (_version_parts)
    badge_pk: int | None  # the badge it already has
    decided_feedback: Any  # the rubric scores of the decided attempt
    active_key_pk: int | None
    has_open_failure: bool  # a failure of an earlier try is still open
    in_pathway: bool  # a published pathway of the organization contains the credential


# Written by hand: at ~15 ms an issue, the ORM took ~3 ms to build and compile this statement
# with its sub-queries, and PostgreSQL ~1.3 ms to plan the seven-table join of select_related
# (benchmarks/issue.py). ``{tenant}`` is the tenant scope's filter, applied by scoped_sql.
_ISSUE_READ_SQL = """
    SELECT a.id, a.organization_id, a.status, a.attempt, a.educator_id, a.version_id,
           a.credential_id,
           u.email, u.full_name, u.name_on_badges_public, u.public_id,
           coalesce(p.is_public, false),
           v.updated_at, o.updated_at,
           (SELECT b.id FROM badges_badge b WHERE b.application_id = a.id),
           (SELECT s.feedback FROM submissions_submission s
             WHERE s.application_id = a.id AND s.number = a.attempt),
           (SELECT k.id FROM badges_signingkey k
             WHERE k.organization_id = a.organization_id AND k.is_active),
           EXISTS (SELECT FROM badges_issuefailure f
                    WHERE f.application_id = a.id AND f.resolved_at IS NULL),
           EXISTS (SELECT FROM programs_pathway_credentials pc
                     JOIN programs_pathway pw ON pw.id = pc.pathway_id
                    WHERE pw.organization_id = a.organization_id AND pw.is_published
                      AND pc.credential_id = a.credential_id)
      FROM submissions_application a
      JOIN programs_user u ON u.id = a.educator_id
      JOIN programs_credentialversion v ON v.id = a.version_id
      JOIN programs_organization o ON o.id = a.organization_id
      LEFT JOIN badges_backpackprofile p ON p.user_id = a.educator_id
     WHERE a.id = %(application)s AND {tenant}
       FOR UPDATE OF a
"""
_APPLICATION_FIELDS = [
    "id",
    "organization_id",
    "status",
    "attempt",
    "educator_id",
    "version_id",
    "credential_id",
]
_EDUCATOR_FIELDS = ["email", "full_name", "name_on_badges_public", "public_id"]
# the statement's columns, in order
_READ_COLUMNS = [
    *_APPLICATION_FIELDS,
    *_EDUCATOR_FIELDS,
    "profile_is_public",
    "version_stamp",
    "organization_stamp",
    "badge_pk",
    "decided_feedback",
    "active_key_pk",
    "has_open_failure",
    "in_pathway",
]


def _from_row(model: type[M], values: dict[str, Any]) -> M:
    """A model instance of some of its columns (``attname`` → value) read by hand-written SQL;
    the others are deferred, as with ``only()``."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db("default", names, [values[name] for name in names])


def _application_for_issue(application_id: int) -> _IssueRead:
    """The application under its row lock, with everything issuing reads about it; an
    application outside the tenant scope does not exist (Application.DoesNotExist)."""
    sql, params = scoped_sql(
        _ISSUE_READ_SQL, {"application": application_id}, tenant="a.organization_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        raise Application.DoesNotExist(f"No application {application_id} in this scope.")
    values = dict(zip(_READ_COLUMNS, row, strict=True))
    application = _from_row(Application, {k: values.pop(k) for k in _APPLICATION_FIELDS})
    educator = _from_row(
        User, {"id": application.educator_id} | {k: values.pop(k) for k in _EDUCATOR_FIELDS}
    )
    application.educator = educator
    feedback = values.pop("decided_feedback")
    return _IssueRead(
        application=application,
        educator=educator,
        decided_feedback=json.loads(feedback) if isinstance(feedback, str) else feedback,
        **values,
    )


def _subject_id(educator: User, *, profile_is_public: bool) -> str | None:
    """The educator's stable id, where they have one: the permanent address of the public
    profile they opted into (``/u/id/<public id>/``, which follows handle changes)."""
    if not profile_is_public:
        return None
    return documents.site_url(reverse("badges:profile_permanent", args=[educator.public_id]))


def badge_issue(*, application_id: int, timing: dataintegrity.Timing | None = None) -> Badge:
    """Issue the badge of an approved application, or return the one it already has."""
    with transaction.atomic():
        read = _application_for_issue(application_id)
        application, educator = read.application, read.educator
        if read.badge_pk is not None:  # issued already: only then is the badge read
            return Badge.objects.get(pk=read.badge_pk)
        if application.status not in (Application.Status.APPROVED, Application.Status.AWARDED):
            raise BadgeError(
                f"The application is {application.get_status_display().lower()}; only an "
                "approved application gets a badge.",
                code=Code.NOT_APPROVED,
            )
        parts = _version_parts(
            application.version_id,
            stamps=(read.version_stamp, application.organization_id, read.organization_stamp),
        )
        version, organization, criteria = parts.version, parts.organization, parts.criteria
        achievement = json.loads(parts.achievement_json)  # the badge's own copy
        key = _signing_key(organization, read.active_key_pk)
        status_list, index = _status_allocate(organization)
        badge = Badge(
            organization=organization,
            recipient=educator,
            application=application,
            version=version,
            name=version.title,
            status_list=status_list,
            status_index=index,
            signing_key=key,
            salt=secrets.token_hex(16),
        )
        badge.valid_until = _valid_until(version, badge.issued_at)
        document = documents.open_badge_credential(
            credential_id=badge_url(badge),
            organization=organization,
            achievement=achievement,
            identity=educator.email.lower(),
            salt=badge.salt,
            subject_id=_subject_id(educator, profile_is_public=read.profile_is_public),
            name=educator.name_for_badges,  # as they chose it now; the badge keeps it
            valid_from=badge.issued_at,
            valid_until=badge.valid_until,
            status_list_url=status_list_url(status_list),
            status_index=index,
            result=documents.results(
                version, criteria=criteria, scores=_scores(read.decided_feedback)
            ),
            evidence=_evidence(application, badge.public_id),
        )
        badge.credential = _sign(document, organization=organization, key=key, timing=timing)
        badge.save()
        # under the lock taken above: no second lock, no savepoint
        submission_services.application_mark_awarded(application=application, locked=True)
        if read.has_open_failure:
            IssueFailure.objects.filter(application=application, resolved_at__isnull=True).update(
                resolved_at=timezone.now()
            )
        program_services.audit_record(
            organization=organization,
            actor=None,
            action="badge.issued",
            obj=badge,
            summary=f"Badge “{badge.name}” issued to {educator.email}",
        )
        mail_on_commit(badge, ISSUED)
        if read.in_pathway:  # a badge outside every pathway completes none: no task
            transaction.on_commit(lambda: _queue_pathway_check(organization.pk, educator.pk))
        _fault_point(BEFORE_COMMIT)  # tests only: the worker is killed here (see _fault_point)
    return badge


@dataclass(frozen=True)
class _VersionParts:
    version: CredentialVersion  # with its credential, focus area and organization
    organization: Organization
    criteria: list[RubricCriterion]  # levels prefetched
    achievement_json: str  # the Achievement document; each badge decodes its own copy


# A published credential version never changes (editing one makes a new version), so a worker
# keeps it, its rubric and its Achievement instead of reading and building them for every
# badge. The key holds the version's and the organization's ``updated_at``: an edited issuer
# profile gets a new entry. Draft versions are never kept.
_VERSION_PARTS: dict[tuple[Any, ...], _VersionParts] = {}
_VERSION_PARTS_MAX = 256


def _version_parts(version_id: int, *, stamps: tuple[Any, ...]) -> _VersionParts:
    """``stamps``: the version's ``updated_at``, the organization's id and ``updated_at``, as
    the issuing statement read them."""
    key = (version_id, *stamps)
    parts = _VERSION_PARTS.get(key)
    if parts is not None:
        return parts
    version = CredentialVersion.objects.select_related(
        "credential", "focus_area", "organization"
    ).get(pk=version_id)
    criteria = list(
        RubricCriterion.objects.filter(version=version)
        .prefetch_related("levels")
        .order_by("position", "pk")
    )
    achievement = documents.achievement(
        version, criteria=criteria, image_url=achievement_image_url(version)
    )
    parts = _VersionParts(
        version=version,
        organization=version.organization,
        criteria=criteria,
        achievement_json=json.dumps(achievement),
    )
    if not version.is_editable:
        if len(_VERSION_PARTS) >= _VERSION_PARTS_MAX:
            _VERSION_PARTS.clear()
        _VERSION_PARTS[key] = parts
    return parts


def _queue_pathway_check(organization_id: int, user_id: int) -> None:
    from .. import tasks

    tasks.pathways_check.delay(organization_id=organization_id, user_id=user_id)


def issue_failure_record(
    *,
    organization: Organization,
    error: str,
    attempt: int,
    application_id: int | None = None,
    pathway: Pathway | None = None,
    recipient: User | None = None,
) -> IssueFailure:
    return IssueFailure.objects.create(
        organization=organization,
        application_id=application_id,
        pathway=pathway,
        recipient=recipient,
        attempt=attempt,
        error=error[:4000],
    )


# --- Fault injection, for tests only --------------------------------------------------------------

BEFORE_COMMIT = "badge_issue.before_commit"  # signed, saved, awarded, audited; not committed
FAULT_PAUSE_SECONDS = 60


def _fault_point(name: str) -> None:
    """A place where tests/badges/test_faults_processes.py kills a real worker process. Only
    with ``DJANGO_ENV=test`` and the environment variable ``TESSERA_FAULT_PAUSE`` naming this
    point: the first process to get here creates the file ``TESSERA_FAULT_MARKER`` (its process
    id inside) and waits, its transaction open, to be killed; a later one (the redelivery) goes
    on. Otherwise it does nothing."""
    if os.environ.get("TESSERA_FAULT_PAUSE") != name or settings.DJANGO_ENV != "test":
        return
    try:
        marker = os.open(os.environ["TESSERA_FAULT_MARKER"], os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.write(marker, f"{os.getpid()}\n".encode())
    os.close(marker)
    time.sleep(FAULT_PAUSE_SECONDS)
