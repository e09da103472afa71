"""Issuing many badges at once: a bulk award, a pathway backfill, the sweep's approvals.

``badge_issue_batch`` issues a list of approvals a chunk at a time, each chunk one transaction
with bulk statements: the issuing statement of ``badge_issue`` (issuing.py) locks the chunk's
applications and takes their status bits in one round trip, then one INSERT of the badges, one
UPDATE of the applications and one INSERT each of their events and audit records; the e-mails
are one message (``badges.badge_mail_many``). The credentials are the ones ``badge_issue``
makes (the same builder), their proofs sharing one ``created`` time so that the proof options
are canonicalized once per chunk, and each credential canonicalized from the template of its
shape (``canon_templates``: the same N-Quads without running JSON-LD expansion per badge;
docs/decisions/0025-canonical-templates-for-batch-signing.md).

Idempotency is ``badge_issue``'s: one badge per application, ever. An application that has its
badge is counted and skipped; a crash or an error in a chunk rolls the whole chunk back (its
status bits too), and running the list again issues what is missing and nothing twice. After
an error (not a crash) the chunk's approvals are issued one by one with ``badge_issue``, so one
that cannot be issued is recorded for the admins and does not hold back the others."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from programs import services as program_services
from submissions import services as submission_services
from submissions.models import Application

from .. import dataintegrity
from ..errors import BadgeError
from ..errors import BadgeErrorCode as Code
from ..models import Badge, IssueFailure, StatusList
from .issuing import (
    BEFORE_COMMIT,
    _applications_for_issue,
    _applications_grouped_for_issue,
    _badge_or_waiting,
    _badge_signed,
    _Bits,
    _fault_point,
    _issued_summary,
    _IssueRead,
    _parts_of,
    _queue_pathway_check,
    _status_list_of,
    badge_issue,
    issue_failure_record,
)
from .mail import ISSUED, mail_many_on_commit
from .signing import _signing_key
from .status import _status_allocate_many

logger = logging.getLogger(__name__)

CHUNK_SIZE = 100  # badges per transaction
# a chunk that issued badges: signed, saved, awarded, audited; not committed
BATCH_BEFORE_COMMIT = "badge_issue_batch.before_commit"


@dataclass
class BatchIssued:
    """What a batch did, by application id."""

    issued: list[int] = field(default_factory=list)
    existing: list[int] = field(default_factory=list)  # had their badge already
    refused: list[int] = field(default_factory=list)  # not approved
    missing: list[int] = field(default_factory=list)  # not in this organization (or gone)
    failed: list[int] = field(default_factory=list)  # an error: recorded, left for the sweep


def badge_issue_batch(
    *,
    application_ids: Sequence[int],
    chunk_size: int = CHUNK_SIZE,
    timing: dataintegrity.Timing | None = None,
) -> BatchIssued:
    """Issue the badges of the approved applications among ``application_ids`` (of the
    organization in scope), ``chunk_size`` per transaction, in id order."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    ids = sorted(set(application_ids))
    result = BatchIssued()
    for start in range(0, len(ids), chunk_size):
        chunk = ids[start : start + chunk_size]
        try:
            _issue_chunk(chunk, result, timing=timing)
        except BadgeError:
            raise
        except Exception:
            # rolled back whole; one approval that cannot be issued must not hold back the
            # others: each is tried on its own
            logger.warning(
                "A chunk of %s failed; issuing them one by one", len(chunk), exc_info=True
            )
            _issue_one_by_one(chunk, result)
    return result


def _issue_one_by_one(ids: list[int], result: BatchIssued) -> None:
    """``badge_issue`` for each; one that fails is recorded (``IssueFailure``, for the admins)
    and left for the sweep, which retries it as any approval."""
    for application_id in ids:
        try:
            with transaction.atomic():
                existing = Badge.objects.filter(application_id=application_id).exists()
                badge_issue(application_id=application_id)
        except Application.DoesNotExist:
            result.missing.append(application_id)
        except BadgeError:
            result.refused.append(application_id)
        except Exception as error:
            logger.warning("Approval %s could not be issued", application_id, exc_info=True)
            issue_failure_record(
                organization=Application.objects.get(pk=application_id).organization,
                application_id=application_id,
                attempt=1,
                error=f"{type(error).__name__}: {error}",
            )
            result.failed.append(application_id)
        else:
            (result.existing if existing else result.issued).append(application_id)


def _issue_chunk(
    ids: list[int], result: BatchIssued, *, timing: dataintegrity.Timing | None
) -> None:
    with transaction.atomic():
        reads, bits = _applications_for_issue(ids)
        if len({read.application.organization_id for read in reads}) > 1:
            raise BadgeError(
                _("A batch issues the badges of one organization at a time."), code=Code.INVALID
            )
        found = {read.application.pk for read in reads}
        issuable = [read for read in reads if read.issuable]
        chunk = BatchIssued(
            issued=[read.application.pk for read in issuable],
            existing=[read.application.pk for read in reads if read.badge_pk is not None],
            refused=[r.application.pk for r in reads if r.badge_pk is None and not r.issuable],
            missing=[pk for pk in ids if pk not in found],
        )
        if issuable:
            _issue_reads(issuable, bits, timing=timing)
            _fault_point(BATCH_BEFORE_COMMIT)  # tests only: a worker is killed here
    result.issued += chunk.issued
    result.existing += chunk.existing
    result.refused += chunk.refused
    result.missing += chunk.missing


def _issue_reads(
    issuable: list[_IssueRead], bits: _Bits | None, *, timing: dataintegrity.Timing | None
) -> list[Badge]:
    parts = [_parts_of(read) for read in issuable]
    organization = parts[0].organization
    key = _signing_key(organization, issuable[0].active_key_pk)
    slots: list[tuple[StatusList, int]] = []
    if bits is not None:  # taken by the issuing statement, in id order
        status_list = _status_list_of(bits, organization)
        slots = [(status_list, index) for index in range(bits.first, bits.stop)]
    if len(slots) < len(issuable):  # no list yet, or the newest filled up
        slots += _status_allocate_many(organization, len(issuable) - len(slots))
    created = timezone.now().replace(microsecond=0)  # one proof time: options canonicalized once
    badges = [
        _badge_signed(
            read,
            part,
            key=key,
            status_list=slot[0],
            index=slot[1],
            created=created,
            timing=timing,
            templated=True,  # many badges of a version: canon_templates
        )
        for read, part, slot in zip(issuable, parts, slots, strict=True)
    ]
    Badge.objects.bulk_create(badges)
    submission_services.applications_mark_awarded(
        applications=[read.application for read in issuable]
    )
    failed = [read.application.pk for read in issuable if read.has_open_failure]
    if failed:
        IssueFailure.objects.filter(application_id__in=failed, resolved_at__isnull=True).update(
            resolved_at=timezone.now()
        )
    program_services.audit_record_many(
        organization=organization,
        actor=None,
        action="badge.issued",
        records=[
            (badge, _issued_summary(badge, read.educator))
            for badge, read in zip(badges, issuable, strict=True)
        ],
    )
    mail_many_on_commit(badges, ISSUED)
    users = sorted({read.educator.pk for read in issuable if read.in_pathway})
    if users:
        organization_id = organization.pk

        def queue() -> None:
            for user in users:
                _queue_pathway_check(organization_id, user)

        transaction.on_commit(queue)
    return badges


def badge_issue_grouped(*, application_id: int, others: int) -> Badge:
    """The worker's issuing of one approval (``badges.badge_issue``): ``badge_issue``'s
    result, and in the same transaction the badges of up to ``others`` approvals of its
    organization still waiting for theirs (approved, no badge, no failure open), so that a
    burst of approvals is issued as batches while a lone approval is still issued at once,
    by ``badge_issue`` itself.

    The approvals taken along are locked with ``SKIP LOCKED`` (one being issued elsewhere is
    left there) and issued as the batch path issues a chunk (``_issue_reads``); once committed,
    workers are told to drop their own waiting messages (``tasks.badge_issue_discard``), and
    one that runs all the same finds its badge with one read. Exactly once is
    ``badge_issue``'s: the row lock, the badge looked for under it, the one-to-one
    ``Badge.application``. A crash rolls the group back whole and the redelivered message
    does it again; after an error the others are issued one by one (``_issue_one_by_one``: a
    failing one is recorded for the admins, and no longer taken along), then this approval
    alone with ``badge_issue``, whose error is the task's."""
    badge_pk, waiting = _badge_or_waiting(application_id)
    if badge_pk is not None:  # issued already: with an earlier approval's group, or redelivered
        return Badge.objects.get(pk=badge_pk)
    if others > 0 and waiting:
        picked: list[int] = []
        badge: Badge | None = None
        try:
            badge = _issue_group(application_id, others, picked)
        except Exception:
            logger.warning(
                "Issuing approval %s with %s others failed; issuing them one by one",
                application_id,
                len(picked),
                exc_info=True,
            )
            _issue_one_by_one(picked, BatchIssued())
        if badge is not None:
            return badge
    # alone (none waiting), or not issued in the group: locked by another transaction
    # (badge_issue waits for it and returns its badge), not approved (refused), not in this
    # scope, or an error
    return badge_issue(application_id=application_id)


def _issue_group(application_id: int, others: int, picked: list[int]) -> Badge | None:
    """One transaction: the approval and the others (their ids added to ``picked``); the
    approval's badge, or ``None`` when the group did not issue it."""
    with transaction.atomic():
        reads, bits = _applications_grouped_for_issue(application_id, others=others)
        picked += [read.application.pk for read in reads if read.application.pk != application_id]
        issuable = [read for read in reads if read.issuable]
        if not issuable:
            return None
        badges = _issue_reads(issuable, bits, timing=None)
        along = [r.application.pk for r in issuable if r.application.pk != application_id]
        if along:  # their own messages, still waiting, need not run
            transaction.on_commit(lambda: _discard_messages(along), robust=True)
        _fault_point(BEFORE_COMMIT)  # tests only: the worker is killed here
    return next((b for b in badges if b.application_id == application_id), None)


def _discard_messages(application_ids: list[int]) -> None:
    from .. import tasks

    tasks.badge_issue_discard(application_ids)
