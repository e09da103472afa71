"""Celery tasks of programs: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from credentials_site.tenancy import TenantTask, fan_out

from . import services
from .models import Organization


@shared_task(name="programs.membership_lapse_expired", base=TenantTask, max_retries=3)
def membership_lapse_expired(*, organization_id: int) -> int:
    organization = Organization.objects.get(pk=organization_id)
    return services.membership_lapse_expired(organization=organization)


@shared_task(name="programs.membership_lapse_expired_all")
def membership_lapse_expired_all() -> int:
    """Beat, daily: one task per active organization, each in its own tenant scope."""
    return fan_out(membership_lapse_expired)


@shared_task(name="programs.school_links_sync", base=TenantTask, max_retries=3)
def school_links_sync(*, organization_id: int) -> None:
    """After a roster's apply: the schools its rows name, and every member in theirs (0029)."""
    services.school_links_sync(organization=Organization.objects.get(pk=organization_id))


@shared_task(name="programs.member_invitations_send", base=TenantTask, max_retries=3)
def member_invitations_send(*, organization_id: int, user_ids: list[int]) -> int:
    from .services.members import member_invitations_send as send

    organization = Organization.objects.get(pk=organization_id)
    return send(organization=organization, user_ids=user_ids)


@shared_task(
    name="programs.roster_import_run",
    base=TenantTask,
    max_retries=0,
    acks_late=True,  # idempotent: re-delivered after a crash, it starts over and changes nothing
    reject_on_worker_lost=True,
)
def roster_import_run(*, organization_id: int, roster_import_id: int) -> str:
    from .services.roster import roster_import_run as run

    return str(run(roster_import_id=roster_import_id).state)


@shared_task(name="programs.community_digest_send", base=TenantTask, max_retries=3)
def community_digest_send(*, organization_id: int) -> int:
    from .services.communities import community_digest_send as send

    return send(organization=Organization.objects.get(pk=organization_id))


@shared_task(name="programs.community_digest_send_all")
def community_digest_send_all() -> int:
    """Beat, daily: the learning communities' digests, one task per active organization."""
    return fan_out(community_digest_send)


@shared_task(
    name="programs.webhook_delivery_attempt",
    base=TenantTask,
    max_retries=0,  # retries are the delivery's own schedule (next_attempt_at), not Celery's
    acks_late=True,  # idempotent: only a pending, due delivery is sent, under its row lock
    reject_on_worker_lost=True,
)
def webhook_delivery_attempt(*, organization_id: int, delivery_id: int) -> str:
    from .services.webhooks import webhook_delivery_attempt as attempt

    outcome = attempt(delivery_id=delivery_id)
    return outcome.state or outcome.waiting


@shared_task(name="programs.webhook_deliveries_due", base=TenantTask, max_retries=0)
def webhook_deliveries_due(*, organization_id: int) -> int:
    from .services.webhooks import webhook_deliveries_due as due

    return due(organization=Organization.objects.get(pk=organization_id))


@shared_task(name="programs.webhook_deliveries_due_all")
def webhook_deliveries_due_all() -> int:
    """Beat, every minute: each organization's pending deliveries that are due."""
    return fan_out(webhook_deliveries_due)


@shared_task(
    name="programs.lti_scores_send",
    base=TenantTask,
    max_retries=8,
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=3600,
    acks_late=True,  # idempotent: a link already sent is skipped
    reject_on_worker_lost=True,
)
def lti_scores_send(*, organization_id: int, user_id: int, credential_id: int) -> int:
    from .services.lti import lti_scores_send as send

    organization = Organization.objects.get(pk=organization_id)
    return send(organization=organization, user_id=user_id, credential_id=credential_id)
