"""Celery tasks of reviews: thin wrappers around services. Each beat entry fans out one task per
active organization, which runs in that organization's tenant scope (TenantTask)."""

from __future__ import annotations

from celery import shared_task

from credentials_site.tenancy import TenantTask, fan_out
from programs.models import Organization

from . import services


@shared_task(name="reviews.claims_expire", base=TenantTask, max_retries=3, retry_backoff=True)
def claims_expire(*, organization_id: int) -> int:
    return services.claims_expire(organization=Organization.objects.get(pk=organization_id))


@shared_task(name="reviews.claims_expire_all")
def claims_expire_all() -> int:
    """Beat: claims past their time go back to the queue, per organization."""
    return fan_out(claims_expire)


@shared_task(
    name="reviews.remind_claims_near_expiry", base=TenantTask, max_retries=3, retry_backoff=True
)
def remind_claims_near_expiry(*, organization_id: int) -> int:
    return services.claims_remind(organization=Organization.objects.get(pk=organization_id))


@shared_task(name="reviews.remind_claims_near_expiry_all")
def remind_claims_near_expiry_all() -> int:
    """Beat: e-mail reviewers whose claims end within six hours (once per claim)."""
    return fan_out(remind_claims_near_expiry)


@shared_task(name="reviews.remind_overdue", base=TenantTask, max_retries=3, retry_backoff=True)
def remind_overdue(*, organization_id: int) -> int:
    return services.overdue_notify(organization=Organization.objects.get(pk=organization_id))


@shared_task(name="reviews.remind_overdue_all")
def remind_overdue_all() -> int:
    """Beat: e-mail program admins about submissions past the turnaround target (once each)."""
    return fan_out(remind_overdue)
