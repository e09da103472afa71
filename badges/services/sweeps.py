"""What beat runs: approvals whose badge was never issued, pathway certificates someone completed
but does not hold, and expiry reminders."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from programs.models import Organization
from submissions.models import Application

from ..models import (
    Badge,
)
from .mail import EXPIRING, mail_on_commit


def approvals_without_badge(
    *, organization: Organization, older_than: dt.timedelta = dt.timedelta(minutes=2)
) -> list[int]:
    """Approved applications whose badge was never issued (a dropped message, a crash)."""
    return list(
        Application.objects.filter(
            organization=organization,
            status=Application.Status.APPROVED,
            badge__isnull=True,
            updated_at__lte=timezone.now() - older_than,
        ).values_list("pk", flat=True)
    )


def pathway_candidates(*, organization: Organization) -> list[int]:
    """Holders of at least one credential badge in pathways' credentials (for the sweep)."""
    return list(
        Badge.objects.filter(
            organization=organization,
            kind=Badge.Kind.CREDENTIAL,
            revoked_at__isnull=True,
            version__credential__pathways__is_published=True,
        )
        .values_list("recipient_id", flat=True)
        .distinct()
    )


def badges_remind_expiring(*, organization: Organization) -> int:
    """E-mail educators whose badges expire within the notice period (once per badge)."""
    now = timezone.now()
    soon = now + dt.timedelta(days=settings.BADGE_EXPIRY_NOTICE_DAYS)
    sent = 0
    due = {
        "revoked_at__isnull": True,
        "expiry_notified_at__isnull": True,
        "valid_until__gt": now,
        "valid_until__lte": soon,
    }
    candidates = list(
        Badge.objects.filter(organization=organization, **due).values_list("pk", flat=True)
    )
    for pk in candidates:
        with transaction.atomic():
            # checked again under the lock: another run may have reminded it, or a program
            # admin revoked it, since the candidates were read
            badge = Badge.objects.select_for_update().filter(pk=pk, **due).first()
            if badge is None:
                continue
            badge.expiry_notified_at = now
            badge.save(update_fields=["expiry_notified_at", "updated_at"])
            mail_on_commit(badge, EXPIRING)
            sent += 1
    return sent
