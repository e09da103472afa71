"""The educator's e-mails about a badge: issued, revoked, about to expire, re-signed (its
organization's signing key was compromised).

Each is its own Celery task (``badges.badge_mail``), queued when the change commits: issuing
does not wait for the mail server, and a mail server that is down is retried with backoff
instead of the e-mail being lost. A worker that dies after sending may send one twice."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .. import documents
from ..models import Badge
from ._urls import badge_url

logger = logging.getLogger(__name__)

ISSUED, REVOKED, EXPIRING, RESIGNED = "issued", "revoked", "expiring", "resigned"


def mail_on_commit(badge: Badge, kind: str) -> None:
    """Queue the e-mail about ``badge`` once the current transaction commits. A broker that
    is down then is logged (``robust``): the change is committed and stays."""
    organization_id, badge_id = badge.organization_id, badge.pk

    def queue() -> None:
        from .. import tasks

        tasks.badge_mail.delay(organization_id=organization_id, badge_id=badge_id, kind=kind)

    transaction.on_commit(queue, robust=True)


def mail_many_on_commit(badges: list[Badge], kind: str) -> None:
    """``mail_on_commit`` for many badges of one organization: one message
    (``badges.badge_mail_many``) instead of one per badge."""
    if not badges:
        return
    organization_id, badge_ids = badges[0].organization_id, [badge.pk for badge in badges]

    def queue() -> None:
        from .. import tasks

        tasks.badge_mail_many.delay(organization_id=organization_id, badge_ids=badge_ids, kind=kind)

    transaction.on_commit(queue, robust=True)


def badge_mail_send(*, badge_id: int, kind: str) -> bool:
    """Send the e-mail of ``kind`` about the badge (in its organization's scope); whether one
    was sent. A mail server error is raised, for the task to retry."""
    build = _MESSAGES.get(kind)
    if build is None:  # a message queued by another version of Tessera: no retry helps
        logger.error("No e-mail of kind %r (badge %s)", kind, badge_id)
        return False
    badge = Badge.objects.select_related("recipient", "organization").filter(pk=badge_id).first()
    if badge is None:  # deleted since (with its organization or educator): nobody to tell
        logger.warning("No badge %s to e-mail about (%s)", badge_id, kind)
        return False
    message = build(badge)
    if message is None:
        return False
    subject, body = message
    send_mail(
        subject=subject,
        message=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[badge.recipient.email],
    )
    return True


def _name(badge: Badge) -> str:
    return " ".join(badge.name.split())  # a line break in a subject is refused


def _issued(badge: Badge) -> tuple[str, str]:
    name = _name(badge)
    mine = documents.site_url(reverse("badges:backpack"))
    until = (
        f"Valid until {timezone.localdate(badge.valid_until).isoformat()}.\n"
        if badge.valid_until
        else ""
    )
    return (
        f"Your badge: {name}",
        f"Congratulations! {badge.organization.name} awarded you the badge “{name}”.\n"
        f"{until}\n"
        f"Its public verification page (share it with anyone): {badge_url(badge)}\n"
        f"Add it to LinkedIn, copy an e-mail signature or download it: {mine}\n",
    )


def _revoked(badge: Badge) -> tuple[str, str]:
    name = _name(badge)
    organization = badge.organization
    contact = organization.contact_email or organization.issuer_email
    questions = f"Questions? Contact {contact}.\n" if contact else ""
    note = (
        f"A note for you only (not shown publicly): {badge.revocation_note}\n\n"
        if badge.revocation_note
        else ""
    )
    return (
        f"Your badge “{name}” was revoked",
        f"{organization.name} revoked your badge “{name}”.\n\n"
        f"Reason: {badge.revocation_reason}\n"
        "(This reason is shown to anyone who checks the badge.)\n\n"
        f"{note}"
        "Its verification page and every verifier now report it as revoked: "
        f"{badge_url(badge)}\n"
        f"{questions}",
    )


def _expiring(badge: Badge) -> tuple[str, str] | None:
    """Not for a badge revoked in the meantime."""
    if badge.is_revoked or badge.valid_until is None:
        return None
    name = _name(badge)
    until = timezone.localdate(badge.valid_until).isoformat()
    return (
        f"Your badge “{name}” expires on {until}",
        f"Your badge “{name}” from {badge.organization.name} expires on {until}.\n"
        f"See it: {badge_url(badge)}\n"
        "To keep the credential current, apply again from the organization's catalog.\n",
    )


def _resigned(badge: Badge) -> tuple[str, str] | None:
    """Not for a badge revoked in the meantime (its verification page says so)."""
    if badge.is_revoked:
        return None
    name = _name(badge)
    organization = badge.organization
    mine = documents.site_url(reverse("badges:backpack"))
    contact = organization.contact_email or organization.issuer_email
    questions = f"Questions? Contact {contact}.\n" if contact else ""
    return (
        f"Your badge “{name}” was re-signed: download it again",
        f"{organization.name} replaced a signing key that may have been exposed, and signed "
        f"your badge “{name}” again with its new key. Nothing else about the badge changed.\n\n"
        "Copies saved before now (a downloaded image or JSON file, a copy in a digital "
        "wallet) were signed with the old key and no longer verify. Download the badge again "
        f"and replace them: {mine}\n\n"
        f"Its verification page already shows the new copy: {badge_url(badge)}\n"
        "Links to the verification page, LinkedIn and your e-mail signature keep working.\n"
        f"{questions}",
    )


_MESSAGES: dict[str, Callable[[Badge], tuple[str, str] | None]] = {
    ISSUED: _issued,
    REVOKED: _revoked,
    EXPIRING: _expiring,
    RESIGNED: _resigned,
}
