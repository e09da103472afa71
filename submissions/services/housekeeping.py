"""Periodic clean-up of storage (Celery beat)."""

from __future__ import annotations

import datetime as dt
import logging
import re

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from credentials_site.tenancy import cross_organization
from programs.models import (
    Organization,
)

from .. import storage
from ..models import Application, EvidenceItem
from ._common import GRACE, _event
from .evidence import _copy_to_final, _delete_quietly, _purge

logger = logging.getLogger(__name__)

# The keys storage.new_key() makes: upload slots, and (final/) the app's copies of confirmed
# files. The orphan sweep deletes nothing else, whatever else the bucket may hold (a shared
# bucket, files put there by hand, another feature's prefix).
EVIDENCE_KEY = re.compile(r"org-\d+/app-[0-9a-f-]{36}/(final/)?[0-9a-f]{32}")
# The platform's own sweeps read every organization's evidence (the named bypass of tenancy)
PLATFORM_SWEEP = "a platform sweep of every organization's evidence in storage"


# --- Housekeeping (Celery beat) -------------------------------------------------------------------


def evidence_sweep(*, organization: Organization, now: dt.datetime | None = None) -> dict[str, int]:
    """Hourly, for one organization: expire abandoned uploads (an hour after their slot), delete
    the files of removed and rejected items, and delete the evidence of applications withdrawn
    while an attempt waited for review once their grace period is over
    (``EVIDENCE_WITHDRAWN_RETENTION_DAYS``, see ``application_withdraw``). Counts: uploads
    expired, items whose files were deleted, deletions that failed.

    A file sent with an attempt a reviewer decided is never deleted here: it is that decision's
    record (reviewers' and program admins' pages show it), even once removed or withdrawn.

    An object that cannot be deleted now is logged and left for the next run; it does not stop
    the others.
    """
    now = now or timezone.now()
    counts = {"expired": 0, "purged": 0, "failed": 0}
    with transaction.atomic():
        expired = list(
            EvidenceItem.objects.select_for_update(skip_locked=True).filter(
                organization=organization,
                status=EvidenceItem.Status.PENDING,
                slot_expires_at__lt=now - GRACE,
            )
        )
        for item in expired:
            item.status = EvidenceItem.Status.REJECTED
            # stored in English (no reader's language here): the page translates it when shown
            item.rejection_reason = gettext_noop("The upload was not finished in time.")
            item.save(update_fields=["status", "rejection_reason", "updated_at"])
        counts["expired"] = len(expired)
    to_purge = (
        EvidenceItem.objects.filter(
            organization=organization,
            status__in=[EvidenceItem.Status.REJECTED, EvidenceItem.Status.REMOVED],
            purged_at__isnull=True,
        )
        .exclude(storage_key="")
        # files of a submitted attempt are its record (or, withdrawn undecided, deleted below)
        .filter(submissions__isnull=True)
    )
    for item in to_purge.iterator():
        _purge_counted(item, counts)
    due = Application.objects.filter(
        organization=organization,
        status=Application.Status.WITHDRAWN,
        evidence_delete_after__lte=now,
        evidence_deleted_at__isnull=True,
    )
    for application_pk in list(due.values_list("pk", flat=True)):
        _withdrawn_evidence_delete(application_pk, now=now, counts=counts)
    return counts


def _purge_counted(item: EvidenceItem, counts: dict[str, int]) -> bool:
    try:
        _purge(item)
    except Exception:  # storage unreachable or refusing: the next run retries
        logger.warning("could not purge evidence item %s", item.pk, exc_info=True)
        counts["failed"] += 1
        return False
    counts["purged"] += 1
    return True


def _withdrawn_evidence_delete(
    application_pk: int, *, now: dt.datetime, counts: dict[str, int]
) -> None:
    """The grace period of an application withdrawn while an attempt waited for review is over:
    every item is removed, its objects deleted (final copy, upload slot, open multipart upload)
    and its written answer or link erased, except the evidence of an attempt a reviewer decided
    (an earlier one, before a revision). Once nothing is left, the application records when, and
    its timeline says so; until then the next run retries."""
    with transaction.atomic():
        application = (
            Application.objects.select_for_update(skip_locked=True)
            .filter(pk=application_pk, evidence_deleted_at__isnull=True)
            .first()
        )
        if application is None:  # done meanwhile, or another run holds it
            return
        items = EvidenceItem.objects.filter(application=application)
        items.filter(status__in=[EvidenceItem.Status.PENDING, EvidenceItem.Status.READY]).update(
            status=EvidenceItem.Status.REMOVED, updated_at=now
        )
        decided = Q(submissions__decided_at__isnull=False)
        # written answers and links of the undecided attempt go too
        items.exclude(decided).exclude(kind=EvidenceItem.Kind.FILE).update(text="", url="")
        files = list(items.filter(purged_at__isnull=True).exclude(storage_key="").exclude(decided))
        deleted = sum(_purge_counted(item, counts) for item in files)
        if deleted < len(files):
            return
        kept = items.filter(decided, purged_at__isnull=True).exclude(storage_key="").distinct()
        application.evidence_deleted_at = now
        application.save(update_fields=["evidence_deleted_at", "updated_at"])
        _event(
            application,
            actor=None,
            kind="evidence_deleted",
            message="Evidence deleted from storage, as announced when the application was "
            "withdrawn"
            + ("; files of a decided attempt are kept as its record" if kept.exists() else ""),
            files=deleted,
        )


@cross_organization(PLATFORM_SWEEP)
def storage_orphans_sweep(*, older_than: dt.timedelta = dt.timedelta(days=1)) -> dict[str, int]:
    """Delete evidence objects and abort multipart uploads that no live item refers to
    (platform-wide). Only keys shaped like evidence keys are touched.

    An object a live item or a submitted attempt refers to (its final copy, or the slot of an
    upload in progress or of a file confirmed before final keys existed) is never deleted. Other
    objects are deleted once older than ``older_than`` (one may be between "slot created" and
    "item committed"); the slot of a confirmed file at once, whatever its age, since no upload
    may go there any more (bytes posted there after the confirm, with a signature still valid,
    are nobody's evidence)."""
    cutoff = timezone.now() - older_than
    items = (
        EvidenceItem.objects.filter(  # a platform sweep over every tenant's keys
            purged_at__isnull=True
        )
        .exclude(storage_key="")
        .exclude(status__in=[EvidenceItem.Status.REJECTED, EvidenceItem.Status.REMOVED])
    )
    kept_for_record = EvidenceItem.objects.filter(
        purged_at__isnull=True, submissions__isnull=False
    ).exclude(storage_key="")
    live = set(items.values_list("storage_key", flat=True)) | set(
        kept_for_record.values_list("storage_key", flat=True)
    )
    spent_slots = set(
        EvidenceItem.objects.exclude(status=EvidenceItem.Status.PENDING)
        .exclude(slot_key="")
        .exclude(slot_key=F("storage_key"))
        .values_list("slot_key", flat=True)
    )
    live_uploads = set(
        items.filter(status=EvidenceItem.Status.PENDING)
        .exclude(upload_id="")
        .values_list("storage_key", "upload_id")
    )
    counts = {"objects": 0, "uploads": 0}
    for key, modified in storage.list_keys():
        if (
            EVIDENCE_KEY.fullmatch(key)
            and key not in live
            and (modified < cutoff or key in spent_slots)
        ):
            storage.delete(key=key)
            counts["objects"] += 1
    for key, upload_id, initiated in storage.list_multipart_uploads():
        if (
            EVIDENCE_KEY.fullmatch(key)
            and (key, upload_id) not in live_uploads
            and initiated < cutoff
        ):
            storage.multipart_abort(key=key, upload_id=upload_id)
            counts["uploads"] += 1
    return counts


@cross_organization(PLATFORM_SWEEP)
def evidence_legacy_finalize() -> dict[str, int]:
    """Move files confirmed before final keys existed (still at the slot key the browser had a
    signature for) to final keys, like a confirm does today (platform-wide, idempotent): each is
    copied only if its bytes still have the ETag recorded when it was checked. One whose bytes
    changed since, or that is missing, is left as it is and logged, for an administrator to look
    at; until it is moved, every read still goes to its storage_key, as before."""
    counts = {"moved": 0, "changed": 0}
    legacy = (
        EvidenceItem.objects.filter(
            kind=EvidenceItem.Kind.FILE, purged_at__isnull=True, storage_key=F("slot_key")
        )
        .filter(Q(status=EvidenceItem.Status.READY) | Q(submissions__isnull=False))
        .exclude(storage_key="")
        .exclude(status=EvidenceItem.Status.PENDING)
        .distinct()
    )
    for pk in list(legacy.values_list("pk", flat=True)):
        with transaction.atomic():
            item = (
                EvidenceItem.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("application")
                .filter(pk=pk, storage_key=F("slot_key"))
                .first()
            )
            if item is None:
                continue
            try:
                final, _ = _copy_to_final(
                    item, source=item.storage_key, etag=item.etag, size=item.size or 0
                )
            except storage.ObjectChanged:
                logger.warning(
                    "evidence item %s (%s) changed in storage after it was checked, or is "
                    "missing; left at %s",
                    item.pk,
                    item.public_id,
                    item.storage_key,
                )
                counts["changed"] += 1
                continue
            item.storage_key = final
            item.save(update_fields=["storage_key", "updated_at"])
        _delete_quietly(item.slot_key)
        counts["moved"] += 1
    return counts
