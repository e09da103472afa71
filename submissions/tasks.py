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
    """Beat, hourly: expire abandoned uploads and delete removed or rejected files, per org."""
    return fan_out(evidence_sweep)


@shared_task(name="submissions.storage_orphans_sweep", max_retries=3)
def storage_orphans_sweep() -> dict[str, int]:
    """Beat, daily: objects and multipart uploads that no evidence item refers to."""
    return services.storage_orphans_sweep()
