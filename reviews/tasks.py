"""Celery tasks of reviews: thin wrappers around services. Each beat entry fans out one task per
active organization, which runs in that organization's tenant scope (TenantTask).

The per-organization sweeps are idempotent (each marks what it did in the transaction that does
it), so a database that drops the connection or fails over is simply tried again, with backoff,
instead of waiting for the next beat (a day, for the overdue notices)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError

from credentials_site.tenancy import TenantTask, fan_out
from programs.models import Organization

from . import services

# what a sweep retries on: the database going away, not a bug
RETRY_ON_DATABASE: dict[str, Any] = {
    "base": TenantTask,
    "autoretry_for": (OperationalError, InterfaceError),
    "max_retries": 3,
    "retry_backoff": True,
}


@shared_task(name="reviews.claims_expire", **RETRY_ON_DATABASE)
def claims_expire(*, organization_id: int) -> int:
    return services.claims_expire(organization=Organization.objects.get(pk=organization_id))


@shared_task(name="reviews.claims_expire_all")
def claims_expire_all() -> int:
    """Beat: claims past their time go back to the queue, per organization."""
    return fan_out(claims_expire)


@shared_task(name="reviews.remind_claims_near_expiry", **RETRY_ON_DATABASE)
def remind_claims_near_expiry(*, organization_id: int) -> int:
    return services.claims_remind(organization=Organization.objects.get(pk=organization_id))


@shared_task(name="reviews.remind_claims_near_expiry_all")
def remind_claims_near_expiry_all() -> int:
    """Beat: e-mail reviewers whose claims end within six hours (once per claim)."""
    return fan_out(remind_claims_near_expiry)


@shared_task(name="reviews.remind_overdue", **RETRY_ON_DATABASE)
def remind_overdue(*, organization_id: int) -> int:
    return services.overdue_notify(organization=Organization.objects.get(pk=organization_id))


@shared_task(name="reviews.remind_overdue_all")
def remind_overdue_all() -> int:
    """Beat: e-mail program admins about submissions past the turnaround target (once each)."""
    return fan_out(remind_overdue)
