"""Celery tasks of badges: thin wrappers around services. Issuing is idempotent (services), so
it acknowledges late and is re-delivered if a worker dies mid-task."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.utils import timezone

from credentials_site.tenancy import TenantTask, fan_out
from programs.models import Organization, User

from . import services
from .directory import index
from .errors import BadgeError
from .insights import aggregates, summary
from .models import KeyCompromise
from .recognition import digest

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """The delays of a task's manual retries: exponential from ``first`` seconds up to
    ``maximum``, with full jitter. (Celery's own ``retry_backoff`` applies only to
    ``autoretry_for``, which these tasks do not use: they record each failure, then retry.)"""

    first: int
    maximum: int

    def countdown(self, task: Any) -> int:
        return int(
            get_exponential_backoff_interval(
                factor=self.first,
                retries=task.request.retries,
                maximum=self.maximum,
                full_jitter=True,
            )
        )


# Tasks that must not be lost: acknowledged once done (re-delivered if the worker dies), retried
# by hand after a Backoff's delays.
RELIABLE: dict[str, Any] = {
    "base": TenantTask,
    "bind": True,
    "max_retries": 8,
    "acks_late": True,
    "reject_on_worker_lost": True,
}
BACKOFF = Backoff(first=5, maximum=600)  # issuing, pathway certificates, re-signing
MAIL_BACKOFF = Backoff(first=30, maximum=3600)  # a mail server down: about a day in all


@shared_task(name="badges.badge_issue", throws=(BadgeError,), **RELIABLE)
def badge_issue(self: Any, *, organization_id: int, application_id: int) -> str:
    try:
        # with it, approvals of the organization still waiting for their badge (a burst of
        # approvals becomes batches; their own messages then find their badge)
        badge = services.badge_issue_grouped(
            application_id=application_id, others=settings.BADGE_ISSUE_GROUP_SIZE - 1
        )
        return str(badge.public_id)
    except BadgeError:
        raise
    except Exception as exc:
        services.issue_failure_record(
            organization=Organization.objects.get(pk=organization_id),
            application_id=application_id,
            attempt=self.request.retries + 1,
            error=f"{type(exc).__name__}: {exc}",
        )
        raise self.retry(exc=exc, countdown=BACKOFF.countdown(self)) from exc


def badge_issue_queue(*, organization_id: int, application_id: int) -> None:
    """Queue the issuing of an approval. Its result (the badge's public id) is not stored:
    nobody who queues it this way reads it, and storing it was one more round trip to Redis
    for every badge. (``badge_issue.delay`` still stores it, for who waits on it.)"""
    badge_issue.apply_async(
        kwargs={"organization_id": organization_id, "application_id": application_id},
        ignore_result=True,
        task_id=badge_issue_task_id(application_id),
    )


def badge_issue_task_id(application_id: int) -> str:
    """The id of every message ``badge_issue_queue`` sends for an approval (the approval's,
    the sweep's, an admin's retry), so that ``badge_issue_discard`` can name them."""
    return f"badges.badge_issue:{application_id}"


def badge_issue_discard(application_ids: list[int]) -> None:
    """Workers drop the waiting messages of approvals whose badge is committed (issued along
    with another approval's: ``services.badge_issue_grouped``) as they receive them, without
    running them: Celery's revoke by id, one broadcast. Only an optimization: a worker that
    did not hear it (started later, or the broadcast lost) runs the message, which finds the
    badge; a badge, once committed, is never issued again, so nothing is lost by dropping."""
    if application_ids:
        badge_issue.app.control.revoke([badge_issue_task_id(pk) for pk in application_ids])


@shared_task(name="badges.badge_mail", ignore_result=True, **RELIABLE)
def badge_mail(self: Any, *, organization_id: int, badge_id: int, kind: str) -> bool:
    """The educator's e-mail about a badge (issued, revoked, expiring); a mail server that is
    down is retried with backoff, for about a day, then logged."""
    try:
        return services.badge_mail_send(badge_id=badge_id, kind=kind)
    except Exception as exc:
        if self.request.retries >= self.max_retries:
            logger.exception("Gave up e-mailing badge %s (%s) to its recipient", badge_id, kind)
            return False
        raise self.retry(exc=exc, countdown=MAIL_BACKOFF.countdown(self)) from exc


@shared_task(name="badges.badge_mail_many", ignore_result=True, **RELIABLE)
def badge_mail_many(self: Any, *, organization_id: int, badge_ids: list[int], kind: str) -> None:
    """The e-mails of a batch (``badge_mail``'s, in one message). A mail server that is down
    is retried with the e-mails not sent yet; after the last retry they are logged."""
    for done, badge_id in enumerate(badge_ids):
        try:
            services.badge_mail_send(badge_id=badge_id, kind=kind)
        except Exception as exc:
            rest = badge_ids[done:]
            if self.request.retries >= self.max_retries:
                logger.exception("Gave up e-mailing %s badges (%s)", len(rest), kind)
                return
            raise self.retry(
                exc=exc,
                countdown=MAIL_BACKOFF.countdown(self),
                kwargs={"organization_id": organization_id, "badge_ids": rest, "kind": kind},
            ) from exc


@shared_task(name="badges.badge_issue_batch", throws=(BadgeError,), ignore_result=True, **RELIABLE)
def badge_issue_batch(self: Any, *, organization_id: int, application_ids: list[int]) -> None:
    """Issue the badges of many approvals (``services.badge_issue_batch``, a chunk per
    transaction). Idempotent, so it acknowledges late; after an error the whole list runs
    again, finding the chunks already committed issued."""
    try:
        services.badge_issue_batch(
            application_ids=application_ids, chunk_size=settings.BADGE_ISSUE_BATCH_SIZE
        )
    except BadgeError:
        raise
    except Exception as exc:
        # no IssueFailure row: nothing would resolve one without its application; an approval
        # still without its badge when the retries are spent is the sweep's (badge_issue)
        logger.warning("Batch of %s approvals failed, retrying: %s", len(application_ids), exc)
        raise self.retry(exc=exc, countdown=BACKOFF.countdown(self)) from exc


@shared_task(name="badges.pathways_check", **RELIABLE)
def pathways_check(self: Any, *, organization_id: int, user_id: int) -> list[str]:
    organization = Organization.objects.get(pk=organization_id)
    user = User.objects.get(pk=user_id)
    try:
        return [
            str(b.public_id) for b in services.pathways_check(organization=organization, user=user)
        ]
    except Exception as exc:
        services.issue_failure_record(
            organization=organization,
            recipient=user,
            attempt=self.request.retries + 1,
            error=f"Pathway certificate: {type(exc).__name__}: {exc}",
        )
        raise self.retry(exc=exc, countdown=BACKOFF.countdown(self)) from exc


@shared_task(name="badges.sweep_unissued", base=TenantTask, max_retries=3)
def sweep_unissued(*, organization_id: int) -> int:
    """Queue the issuing of every approval that has no badge, and every pathway certificate
    someone completed but does not hold."""
    organization = Organization.objects.get(pk=organization_id)
    ids = services.approvals_without_badge(organization=organization)
    for application_id in ids:
        badge_issue_queue(organization_id=organization_id, application_id=application_id)
    for user_id in services.pathway_candidates(organization=organization):
        if services.pathways_completed(organization=organization, user=User(pk=user_id)):
            pathways_check.delay(organization_id=organization_id, user_id=user_id)
    return len(ids)


@shared_task(name="badges.sweep_unissued_all")
def sweep_unissued_all() -> int:
    """Beat: no approval is left without its badge, even if the broker lost the message."""
    return fan_out(sweep_unissued)


@shared_task(name="badges.remind_expiring", base=TenantTask, max_retries=3)
def remind_expiring(*, organization_id: int) -> int:
    return services.badges_remind_expiring(
        organization=Organization.objects.get(pk=organization_id)
    )


@shared_task(name="badges.remind_expiring_all")
def remind_expiring_all() -> int:
    """Beat: e-mail educators 30 days before a badge expires (once per badge)."""
    return fan_out(remind_expiring)


@shared_task(name="badges.key_compromise_resign", **RELIABLE)
def key_compromise_resign(self: Any, *, organization_id: int, compromise_id: int) -> int:
    """One batch of re-signing a compromised key's badges (``BADGE_RESIGN_BATCH_SIZE``), then
    the next batch is queued until none is left. Idempotent (services), so it acknowledges
    late; how many badges the job has re-signed so far."""
    try:
        compromise = services.key_compromise_resign(
            compromise_id=compromise_id, batch_size=settings.BADGE_RESIGN_BATCH_SIZE
        )
    except KeyCompromise.DoesNotExist:  # gone with its organization: nothing to do
        logger.warning("No key compromise %s to re-sign badges of", compromise_id)
        return 0
    except Exception as exc:
        services.key_compromise_failure_record(
            compromise_id=compromise_id, error=f"{type(exc).__name__}: {exc}"
        )
        raise self.retry(exc=exc, countdown=BACKOFF.countdown(self)) from exc
    if compromise.state != KeyCompromise.State.DONE:
        key_compromise_resign.delay(organization_id=organization_id, compromise_id=compromise_id)
    return compromise.done


@shared_task(name="badges.key_compromises_resume", base=TenantTask, max_retries=3)
def key_compromises_resume(*, organization_id: int) -> int:
    ids = services.key_compromises_unfinished(
        organization=Organization.objects.get(pk=organization_id)
    )
    for compromise_id in ids:
        key_compromise_resign.delay(organization_id=organization_id, compromise_id=compromise_id)
    return len(ids)


@shared_task(name="badges.key_compromises_resume_all")
def key_compromises_resume_all() -> int:
    """Beat: no compromised key's re-signing is left half done, even if a message was lost."""
    return fan_out(key_compromises_resume)


@shared_task(name="badges.status_lists_renew", base=TenantTask, max_retries=3)
def status_lists_renew(*, organization_id: int) -> int:
    return services.status_lists_renew(organization=Organization.objects.get(pk=organization_id))


@shared_task(name="badges.status_lists_renew_all")
def status_lists_renew_all() -> int:
    """Beat: re-sign every status list with less than half its validity left."""
    return fan_out(status_lists_renew)


@shared_task(name="badges.insights_rebuild", base=TenantTask, max_retries=3)
def insights_rebuild(*, organization_id: int) -> int:
    """Rebuild one organization's program insight facts (badges.insights.aggregates), with the
    unfiltered and single-filter views' sections stored, so their first view reads one row; how
    long the rebuild took, in milliseconds."""
    organization = Organization.objects.get(pk=organization_id)
    return aggregates.insights_rebuild(organization=organization).duration_ms


@shared_task(name="badges.insights_rebuild_all")
def insights_rebuild_all() -> int:
    """Beat: every organization's program insight facts, rebuilt (decision 0023)."""
    return fan_out(insights_rebuild)


@shared_task(name="badges.insights_summary_mail", **RELIABLE)
def insights_summary_mail(self: Any, *, organization_id: int, month: str = "") -> int:
    """Last month's (or ``month``'s, ``YYYY-MM-DD``) summary e-mail to the organization's
    admins, if it asked for it; each admin's at most once (``insights.summary``). A mail server
    that is down is retried with backoff for the month first asked for."""
    organization = Organization.objects.get(pk=organization_id)
    first = dt.date.fromisoformat(month) if month else summary.month_before(timezone.localdate())
    try:
        return summary.summary_send(organization=organization, month=first)
    except Exception as exc:
        if self.request.retries >= self.max_retries:
            logger.exception("Gave up the insight summary of %s for %s", first, organization)
            return 0
        raise self.retry(
            exc=exc,
            countdown=MAIL_BACKOFF.countdown(self),
            kwargs={"organization_id": organization_id, "month": first.isoformat()},
        ) from exc


@shared_task(name="badges.insights_summary_mail_all")
def insights_summary_mail_all() -> int:
    """Beat, on the first of the month: each organization's summary of the month before (those
    that did not ask for it send nothing)."""
    return fan_out(insights_summary_mail)


# --- The directory and the schools' recognition (decision 0032) -------------------------------


@shared_task(name="badges.directory_refresh_recent", max_retries=3)
def directory_refresh_recent(*, minutes: int = 15) -> int:
    """Beat (every five minutes, looking back further: idempotent): rebuild the directory's
    search entries of the listed people whose badges, memberships or schools changed lately;
    how many people."""
    since = timezone.now() - dt.timedelta(minutes=minutes)
    people = index.directory_people_changed_since(since=since)
    index.directory_entries_refresh(user_ids=people)
    return len(people)


@shared_task(name="badges.directory_refresh_all", max_retries=3)
def directory_refresh_all() -> None:
    """Beat (nightly): rebuild every search entry of the directory (names change in accounts,
    which tell no one)."""
    index.directory_entries_refresh(user_ids=None)


@shared_task(name="badges.recognition_digests_send", base=TenantTask, max_retries=3)
def recognition_digests_send(*, organization_id: int) -> int:
    """One organization's weekly digests to its school leaders (idempotent per leader and week)."""
    return digest.recognition_digests_send(
        organization=Organization.objects.get(pk=organization_id)
    )


@shared_task(name="badges.recognition_digests_send_all")
def recognition_digests_send_all() -> int:
    """Beat (daily; each leader gets one digest a week, on the first run of the week)."""
    return fan_out(recognition_digests_send)
