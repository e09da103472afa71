"""Celery tasks of submissions: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from credentials_site.tenancy import TenantTask, fan_out
from programs.models import Organization

from . import services


@shared_task(name="submissions.evidence_sweep", base=TenantTask, max_retries=3)
def evidence_sweep(*, organization_id: int) -> dict[str, int]:
    return services.evidence_sweep(organization=Organization.objects.get(pk=organization_id))


@shared_task(name="submissions.evidence_sweep_all")
def evidence_sweep_all() -> int:
    """Beat, hourly, per organization: expire abandoned uploads; delete removed or rejected files
    (never those of a decided attempt) and, once their grace period is over, the evidence of
    applications withdrawn before a decision (see services.evidence_sweep)."""
    return fan_out(evidence_sweep)


@shared_task(name="submissions.storage_orphans_sweep", max_retries=3)
def storage_orphans_sweep() -> dict[str, int]:
    """Beat, daily: evidence objects and multipart uploads that no live item or submitted
    attempt refers to, and spent upload slots (see services.storage_orphans_sweep)."""
    return services.storage_orphans_sweep()


@shared_task(name="submissions.school_assignments_remind", base=TenantTask, max_retries=3)
def school_assignments_remind(*, organization_id: int) -> int:
    from .services.school_reminders import school_assignments_remind as remind

    return remind(organization=Organization.objects.get(pk=organization_id))


@shared_task(name="submissions.school_assignments_remind_all")
def school_assignments_remind_all() -> int:
    """Beat, hourly, per organization: reminders a week and a day before an assignment's target
    date, each sent once (services.school_reminders)."""
    return fan_out(school_assignments_remind)
