"""Issuing the badge of an approved application, idempotently.

Idempotency (STYLE 18): ``badge_issue`` locks the application row, returns the badge it already
made, and the one-to-one ``Badge.application`` is the database's last word. A crash anywhere
before commit leaves nothing behind; the task retries or the sweep finds the approval again."""

from __future__ import annotations

import datetime as dt
import hashlib
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
from django.utils.translation import gettext as _

from credentials_site.tenancy import scoped_sql
from programs import services as program_services
from programs.models import CredentialVersion, Organization, Pathway, RubricCriterion, User
from submissions import services as submission_services
from submissions.decisions import decided_scores
from submissions.models import Application, EvidenceItem

from .. import canon_templates, dataintegrity, documents
from ..errors import BadgeError
from ..errors import BadgeErrorCode as Code
from ..models import Badge, IssueFailure, SigningKey, StatusList
from ._prepared import execute_prepared
from ._urls import achievement_image_url, badge_url, status_list_url
from .award import award_evidence
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


def _evidence(rows: list[list[Any]], badge_public_id: Any) -> list[dict[str, Any]]:
    """Evidence entries of the items the educator marked public (``evidence`` of the issuing
    statement: kind, text, url, public id, file name, content type, requirement title)."""
    out: list[dict[str, Any]] = []
    for kind, text, url, public_id, display_name, content_type, title in rows:
        entry: dict[str, Any] = {"type": ["Evidence"], "name": title}
        if kind == EvidenceItem.Kind.TEXT:
            entry["narrative"] = text
        elif kind == EvidenceItem.Kind.LINK:
            entry["id"] = url
        else:
            entry["id"] = documents.site_url(
                reverse("badges:evidence", args=[badge_public_id, public_id])
            )
            entry["description"] = display_name
            if content_type:
                entry["genre"] = content_type
        out.append(entry)
    return out


def _scores(feedback: Any) -> dict[int, int]:
    """Criterion id → score of each rated criterion, from a decided attempt's ``feedback``
    rows (none without one); a malformed row raises (submissions.decisions)."""
    if feedback is None:
        return {}
    return {c: score for c, score in decided_scores(feedback).items() if score is not None}


# The statuses an application gets a badge in: APPROVED, and AWARDED (a badge issued, then
# lost with its transaction, may be issued again). Both the locked read below and
# ``badge_issue`` use them.
_ISSUABLE = (Application.Status.APPROVED, Application.Status.AWARDED)


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
    evidence: list[list[Any]]  # its public evidence items (_evidence)
    award: Any  # [narrative, evidence URL, date] of a bulk award's record, or None

    @property
    def issuable(self) -> bool:
        return self.badge_pk is None and self.application.status in _ISSUABLE


@dataclass
class _Bits:
    """Status bits the issuing statement took: ``first`` up to ``stop`` (excluded) of a list."""

    status_list_id: int
    number: int
    first: int
    stop: int


# Written by hand: at ~15 ms an issue, the ORM took ~3 ms to build and compile this statement
# with its sub-queries, and PostgreSQL ~1.3 ms to plan the seven-table join of select_related
# (benchmarks/issue.py). One statement, one round trip, for one application (badge_issue) or
# a chunk of them (badge_issue_batch): the applications locked in id order (``FOR UPDATE OF
# a``) with everything issuing reads about each, and, when some still need a badge, as many
# bits as they need taken from the organization's newest status list (its row locked, after
# the applications, to commit: a rolled-back issue gives its bits back). Each ``{...}`` is the
# tenant scope's filter, applied by scoped_sql.
_ISSUE_READ_TEMPLATE = """
    WITH @picked@app AS MATERIALIZED (
        SELECT a.id, a.organization_id, a.status, a.attempt, a.educator_id, a.version_id,
               a.credential_id,
               u.email, u.full_name, u.name_on_badges_public, u.public_id,
               coalesce(p.is_public, false) AS profile_is_public,
               v.updated_at AS version_stamp, o.updated_at AS organization_stamp,
               (SELECT b.id FROM badges_badge b WHERE b.application_id = a.id) AS badge_pk,
               (SELECT s.feedback FROM submissions_submission s
                 WHERE s.application_id = a.id AND s.number = a.attempt) AS feedback,
               (SELECT k.id FROM badges_signingkey k
                 WHERE k.organization_id = a.organization_id AND k.is_active) AS active_key,
               EXISTS (SELECT FROM badges_issuefailure f
                        WHERE f.application_id = a.id AND f.resolved_at IS NULL) AS open_failure,
               EXISTS (SELECT FROM programs_pathway_credentials pc
                         JOIN programs_pathway pw ON pw.id = pc.pathway_id
                        WHERE pw.organization_id = a.organization_id AND pw.is_published
                          AND pc.credential_id = a.credential_id) AS in_pathway,
               (SELECT coalesce(json_agg(json_build_array(e.kind, e.text, e.url, e.public_id,
                                                          e.display_name, e.content_type,
                                                          r.title)
                                         ORDER BY r.position, e.created_at, e.id), '[]')
                  FROM submissions_evidenceitem e
                  JOIN programs_evidencerequirement r ON r.id = e.requirement_id
                 WHERE e.application_id = a.id AND e.visibility = %(public)s
                   AND e.status = %(ready)s) AS evidence,
               (SELECT json_build_array(w.narrative, w.evidence_url, w.awarded_on)
                  FROM badges_awardrecord w WHERE w.application_id = a.id) AS award
          FROM submissions_application a
          JOIN programs_user u ON u.id = a.educator_id
          JOIN programs_credentialversion v ON v.id = a.version_id
          JOIN programs_organization o ON o.id = a.organization_id
          LEFT JOIN badges_backpackprofile p ON p.user_id = a.educator_id
         WHERE a.id = ANY(@applications@) AND {tenant}
         ORDER BY a.id
           FOR UPDATE OF a@skip@
    ), wanted AS (
        SELECT count(*) AS n, min(organization_id) AS organization_id FROM app
         WHERE badge_pk IS NULL AND status = ANY(%(issuable)s)
    ), newest AS (
        SELECT s.id, s.number, s.next_index, s.size FROM badges_statuslist s, wanted
         WHERE wanted.n > 0 AND s.organization_id = wanted.organization_id
           AND s.purpose = 'revocation' AND {status_tenant}
         ORDER BY s.number DESC LIMIT 1
           FOR UPDATE OF s
    ), bits AS (
        UPDATE badges_statuslist s
           SET next_index = least(newest.size, newest.next_index + wanted.n),
               updated_at = %(now)s
          FROM newest, wanted
         WHERE s.id = newest.id AND newest.next_index < newest.size
     RETURNING s.id, s.number, newest.next_index, s.next_index
    )
    SELECT app.*, bits.* FROM app LEFT JOIN bits ON true ORDER BY app.id
"""
_ISSUE_READ_SQL = (
    _ISSUE_READ_TEMPLATE.replace("@picked@", "")
    .replace("@applications@", "%(applications)s")
    .replace("@skip@", "")
)
# The approvals of an approval's organization waiting for their badge: approved, without a
# badge, without an open failure (a failing one is its own task's and the sweep's to retry).
_WAITING_SQL = """
        SELECT o.id FROM submissions_application o
         WHERE o.organization_id = (SELECT s.organization_id FROM submissions_application s
                                     WHERE s.id = %(application)s)
           AND o.status = %(approved)s AND o.id <> %(application)s AND {others_tenant}
           AND NOT EXISTS (SELECT FROM badges_badge b WHERE b.application_id = o.id)
           AND NOT EXISTS (SELECT FROM badges_issuefailure f
                            WHERE f.application_id = o.id AND f.resolved_at IS NULL)"""
_PICKED_SQL = f"""picked AS MATERIALIZED ({_WAITING_SQL}
         ORDER BY o.id
         LIMIT %(others)s
           FOR UPDATE OF o SKIP LOCKED
    ), """
# Read first (``batch.badge_issue_grouped``): the badge the approval has, and whether others wait.
_BADGE_OR_WAITING_SQL = f"""
    SELECT (SELECT b.id FROM badges_badge b WHERE b.application_id = %(application)s),
           EXISTS ({_WAITING_SQL})
"""  # noqa: S608 - constants only; the values are parameters
# The same statement for an approval and, with it, others of its organization waiting for
# their badge (``batch.badge_issue_grouped``): up to ``%(others)s`` approved applications
# without a badge and without an open failure, oldest first, and the approval itself, each
# locked only if no other transaction holds it (``SKIP LOCKED``: the statement never waits
# while holding rows, so it cannot deadlock with a batch that does). An approval already
# locked elsewhere is being issued there, or is left to its own task.
_ISSUE_GROUP_SQL = (
    _ISSUE_READ_TEMPLATE.replace("@picked@", _PICKED_SQL)
    .replace("@applications@", "array_append(ARRAY(SELECT id FROM picked), %(application)s)")
    .replace("@skip@", " SKIP LOCKED")
)
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
    "evidence",
    "award",
]


def _from_row(model: type[M], values: dict[str, Any]) -> M:
    """A model instance of some of its columns (``attname`` → value) read by hand-written SQL;
    the others are deferred, as with ``only()``."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db("default", names, [values[name] for name in names])


# The types of the issuing statement's parameters, for PREPARE.
_ISSUE_READ_TYPES = {
    "applications": "bigint[]",
    "issuable": "text[]",
    "public": "text",
    "ready": "text",
    "now": "timestamptz",
    "_tenant_organizations": "bigint[]",
}
_ISSUE_GROUP_TYPES = {
    **_ISSUE_READ_TYPES,
    "application": "bigint",
    "approved": "text",
    "others": "integer",
}


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _applications_for_issue(application_ids: list[int]) -> tuple[list[_IssueRead], _Bits | None]:
    """The applications in the tenant scope (others do not exist), locked, in id order, with
    everything issuing reads about them; and the status bits taken for those that are
    issuable (``None``: none needed, or the organization has no list with a free bit)."""
    sql, params = scoped_sql(
        _ISSUE_READ_SQL,
        {"applications": list(application_ids), **_read_params()},
        tenant="a.organization_id",
        status_tenant="s.organization_id",
    )
    return _issue_read(sql, params, types=_ISSUE_READ_TYPES)


def _applications_grouped_for_issue(
    application_id: int, *, others: int
) -> tuple[list[_IssueRead], _Bits | None]:
    """``_applications_for_issue`` of the approval and of up to ``others`` approvals of its
    organization waiting for their badge, each only if no other transaction holds its lock
    (``_ISSUE_GROUP_SQL``)."""
    sql, params = scoped_sql(
        _ISSUE_GROUP_SQL,
        {
            "application": application_id,
            "approved": Application.Status.APPROVED,
            "others": others,
            **_read_params(),
        },
        tenant="a.organization_id",
        status_tenant="s.organization_id",
        others_tenant="o.organization_id",
    )
    return _issue_read(sql, params, types=_ISSUE_GROUP_TYPES)


def _badge_or_waiting(application_id: int) -> tuple[int | None, bool]:
    """The primary key of the approval's badge, if it has one; whether other approvals of its
    organization wait for theirs (what ``_applications_grouped_for_issue`` would take)."""
    sql, params = scoped_sql(
        _BADGE_OR_WAITING_SQL,
        {"application": application_id, "approved": Application.Status.APPROVED},
        others_tenant="o.organization_id",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        badge_pk, waiting = cursor.fetchone()
    return badge_pk, waiting


def _read_params() -> dict[str, Any]:
    return {
        "issuable": list(_ISSUABLE),
        "public": EvidenceItem.Visibility.PUBLIC,
        "ready": EvidenceItem.Status.READY,
        "now": timezone.now(),
    }


def _issue_read(
    sql: str, params: dict[str, Any], *, types: dict[str, str]
) -> tuple[list[_IssueRead], _Bits | None]:
    with connection.cursor() as cursor:
        execute_prepared(cursor, sql, params, types=types)
        rows = cursor.fetchall()
    reads: list[_IssueRead] = []
    bits: _Bits | None = None
    for row in rows:
        values = dict(zip(_READ_COLUMNS, row[: len(_READ_COLUMNS)], strict=True))
        if row[len(_READ_COLUMNS)] is not None:
            bits = _Bits(*row[len(_READ_COLUMNS) :])
        application = _from_row(Application, {k: values.pop(k) for k in _APPLICATION_FIELDS})
        educator = _from_row(
            User, {"id": application.educator_id} | {k: values.pop(k) for k in _EDUCATOR_FIELDS}
        )
        application.educator = educator
        feedback, evidence = values.pop("decided_feedback"), values.pop("evidence")
        values["award"] = _json(values["award"])
        reads.append(
            _IssueRead(
                application=application,
                educator=educator,
                decided_feedback=_json(feedback),
                evidence=_json(evidence),
                **values,
            )
        )
    return reads, bits


def _subject_id(educator: User, *, profile_is_public: bool) -> str | None:
    """The educator's stable id, where they have one: the permanent address of the public
    profile they opted into (``/u/id/<public id>/``, which follows handle changes)."""
    if not profile_is_public:
        return None
    return documents.site_url(reverse("badges:profile_permanent", args=[educator.public_id]))


def badge_issue(*, application_id: int, timing: dataintegrity.Timing | None = None) -> Badge:
    """Issue the badge of an approved application, or return the one it already has."""
    with transaction.atomic():
        reads, bits = _applications_for_issue([application_id])
        if not reads:
            raise Application.DoesNotExist(f"No application {application_id} in this scope.")
        [read] = reads
        application, educator = read.application, read.educator
        if read.badge_pk is not None:  # issued already: only then is the badge read
            return Badge.objects.get(pk=read.badge_pk)
        _refuse_unless_issuable(application)
        parts = _parts_of(read)
        organization = parts.organization
        key = _signing_key(organization, read.active_key_pk)
        if bits is not None:
            status_list, index = _status_list_of(bits, organization), bits.first
        else:  # no list yet, or the newest is full
            status_list, index = _status_allocate(organization)
        badge = _badge_signed(
            read, parts, key=key, status_list=status_list, index=index, timing=timing
        )
        badge.save()
        # under the lock taken above: no second lock, no savepoint; one statement
        submission_services.applications_mark_awarded(applications=[application])
        if read.has_open_failure:
            IssueFailure.objects.filter(application=application, resolved_at__isnull=True).update(
                resolved_at=timezone.now()
            )
        program_services.audit_record(
            organization=organization,
            actor=None,
            action="badge.issued",
            obj=badge,
            summary=_issued_summary(badge, educator),
        )
        mail_on_commit(badge, ISSUED)
        program_services.lti_scores_on_commit(  # the LMS that launched the learner gets a score
            organization_id=organization.pk,
            user_id=educator.pk,
            credential_id=application.credential_id,
        )
        if read.in_pathway:  # a badge outside every pathway completes none: no task
            transaction.on_commit(lambda: _queue_pathway_check(organization.pk, educator.pk))
        _fault_point(BEFORE_COMMIT)  # tests only: the worker is killed here (see _fault_point)
    return badge


def _refuse_unless_issuable(application: Application) -> None:
    if application.status not in _ISSUABLE:
        raise BadgeError(
            _("The application is %(status)s; only an approved application gets a badge.")
            % {"status": application.get_status_display().lower()},
            code=Code.NOT_APPROVED,
        )


def _issued_summary(badge: Badge, educator: User) -> str:
    return f"Badge “{badge.name}” issued to {educator.email}"


def _parts_of(read: _IssueRead) -> _VersionParts:
    application = read.application
    return _version_parts(
        application.version_id,
        stamps=(read.version_stamp, application.organization_id, read.organization_stamp),
    )


def _status_list_of(bits: _Bits, organization: Organization) -> StatusList:
    """What a badge needs of the list its bits were taken from; the other columns are
    deferred (read if ever asked for)."""
    status_list = StatusList.from_db(
        "default",
        ["id", "organization_id", "number"],
        [bits.status_list_id, organization.pk, bits.number],
    )
    status_list.organization = organization
    return status_list


def _badge_signed(
    read: _IssueRead,
    parts: _VersionParts,
    *,
    key: SigningKey,
    status_list: StatusList,
    index: int,
    created: dt.datetime | None = None,
    timing: dataintegrity.Timing | None = None,
    templated: bool = False,
) -> Badge:
    """The badge of ``read``'s application, signed, not saved. ``templated``: canonicalized
    from the template of its shape (``canon_templates``: the same N-Quads, for many badges of
    one version at a time)."""
    application, educator = read.application, read.educator
    version, organization = parts.version, parts.organization
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
    if created is not None:
        badge.issued_at = created
    badge.valid_until = _valid_until(version, badge.issued_at)
    document = documents.open_badge_credential(
        credential_id=badge_url(badge),
        organization=organization,
        # the badge's own copy; the same in every badge of the version, so canonicalizing
        # keeps its expansion (dataintegrity.Constant)
        achievement=dataintegrity.Constant(
            json.loads(parts.achievement_json), key=parts.achievement_key
        ),
        identity=educator.email.lower(),
        salt=badge.salt,
        subject_id=_subject_id(educator, profile_is_public=read.profile_is_public),
        name=educator.name_for_badges,  # as they chose it now; the badge keeps it
        valid_from=badge.issued_at,
        valid_until=badge.valid_until,
        status_list_url=status_list_url(status_list),
        status_index=index,
        result=documents.results(
            version, criteria=parts.criteria, scores=_scores(read.decided_feedback)
        ),
        evidence=_evidence(read.evidence, badge.public_id) + award_evidence(read.award),
    )
    badge.credential = _sign(
        document,
        organization=organization,
        key=key,
        timing=timing,
        created=created,
        canonicalize=canon_templates.canonize if templated else None,
    )
    return badge


@dataclass(frozen=True)
class _VersionParts:
    version: CredentialVersion  # with its credential, focus area and organization
    organization: Organization
    criteria: list[RubricCriterion]  # levels prefetched
    achievement_json: str  # the Achievement document; each badge decodes its own copy
    achievement_key: str  # its digest


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
        achievement_key=hashlib.sha256(json.dumps(achievement).encode()).hexdigest(),
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
