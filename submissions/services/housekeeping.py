"""Periodic clean-up of storage (Celery beat)."""

from __future__ import annotations

import datetime as dt
import logging
import re

from django.db import transaction
from django.utils import timezone

from programs.models import (
    Organization,
)

from .. import storage
from ..models import EvidenceItem
from ._common import GRACE
from .evidence import _purge

logger = logging.getLogger(__name__)

# The keys storage.new_key() makes. The orphan sweep deletes nothing else, whatever else the
# bucket may hold (a shared bucket, files put there by hand, another feature's prefix).
EVIDENCE_KEY = re.compile(r"org-\d+/app-[0-9a-f-]{36}/[0-9a-f]{32}")


# --- Housekeeping (Celery beat) -------------------------------------------------------------------


def evidence_sweep(*, organization: Organization, now: dt.datetime | None = None) -> dict[str, int]:
    """Expire abandoned uploads and delete objects no item should keep, for one organization.

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
            item.rejection_reason = "The upload was not finished in time."
            item.save(update_fields=["status", "rejection_reason", "updated_at"])
        counts["expired"] = len(expired)
    to_purge = (
        EvidenceItem.objects.filter(
            organization=organization,
            status__in=[EvidenceItem.Status.REJECTED, EvidenceItem.Status.REMOVED],
            purged_at__isnull=True,
        )
        .exclude(storage_key="")
        .filter(submissions__isnull=True)  # files of a submitted attempt are its record
    )
    for item in to_purge.iterator():
        try:
            _purge(item)
        except Exception:  # storage unreachable or refusing: the next run retries
            logger.warning("could not purge evidence item %s", item.pk, exc_info=True)
            counts["failed"] += 1
        else:
            counts["purged"] += 1
    return counts


def storage_orphans_sweep(*, older_than: dt.timedelta = dt.timedelta(days=1)) -> dict[str, int]:
    """Delete evidence objects and abort multipart uploads that no live item refers to
    (platform-wide). Only keys shaped like evidence keys are touched."""
    cutoff = timezone.now() - older_than
    items = (
        EvidenceItem.objects.with_scopes_disabled()  # a platform sweep over every tenant's keys
        .filter(purged_at__isnull=True)
        .exclude(storage_key="")
        .exclude(status__in=[EvidenceItem.Status.REJECTED, EvidenceItem.Status.REMOVED])
    )
    kept_for_record = (
        EvidenceItem.objects.with_scopes_disabled()
        .filter(purged_at__isnull=True, submissions__isnull=False)
        .exclude(storage_key="")
    )
    live = set(items.values_list("storage_key", flat=True)) | set(
        kept_for_record.values_list("storage_key", flat=True)
    )
    live_uploads = set(
        items.filter(status=EvidenceItem.Status.PENDING)
        .exclude(upload_id="")
        .values_list("storage_key", "upload_id")
    )
    counts = {"objects": 0, "uploads": 0}
    for key, modified in storage.list_keys():
        if EVIDENCE_KEY.fullmatch(key) and key not in live and modified < cutoff:
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
