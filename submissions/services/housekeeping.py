"""Periodic clean-up of storage (Celery beat)."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from programs.models import (
    Organization,
)

from .. import storage
from ..models import EvidenceItem
from .evidence import _purge

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 100_000
GRACE = dt.timedelta(hours=1)


# --- Housekeeping (Celery beat) -------------------------------------------------------------------


def evidence_sweep(*, organization: Organization, now: dt.datetime | None = None) -> dict[str, int]:
    """Expire abandoned uploads and delete objects no item should keep, for one organization."""
    now = now or timezone.now()
    counts = {"expired": 0, "purged": 0}
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
    to_purge = EvidenceItem.objects.filter(
        organization=organization,
        status__in=[EvidenceItem.Status.REJECTED, EvidenceItem.Status.REMOVED],
        purged_at__isnull=True,
    ).exclude(storage_key="")
    for item in to_purge:
        _purge(item)
        counts["purged"] += 1
    return counts


def storage_orphans_sweep(*, older_than: dt.timedelta = dt.timedelta(days=1)) -> dict[str, int]:
    """Delete objects and abort multipart uploads that no live item refers to (platform-wide)."""
    cutoff = timezone.now() - older_than
    live = set(
        EvidenceItem.objects.with_scopes_disabled()  # a platform sweep over every tenant's keys
        .filter(purged_at__isnull=True)
        .exclude(storage_key="")
        .exclude(status__in=[EvidenceItem.Status.REJECTED, EvidenceItem.Status.REMOVED])
        .values_list("storage_key", flat=True)
    )
    counts = {"objects": 0, "uploads": 0}
    for key, modified in storage.list_keys():
        if key not in live and modified < cutoff:
            storage.delete(key=key)
            counts["objects"] += 1
    for key, upload_id, initiated in storage.list_multipart_uploads():
        if key not in live and initiated < cutoff:
            storage.multipart_abort(key=key, upload_id=upload_id)
            counts["uploads"] += 1
    return counts
