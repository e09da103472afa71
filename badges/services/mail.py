"""The educator's e-mails about a badge: issued, revoked, about to expire, re-signed (its
organization's signing key was compromised).

Each is its own Celery task (``badges.badge_mail``), queued when the change commits: issuing
does not wait for the mail server, and a mail server that is down is retried with backoff
instead of the e-mail being lost. A worker that dies after sending may send one twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from credentials_site.mail import in_language_of, mail_send

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
    with in_language_of(badge.recipient):
        message = build(badge)
        if message is None:
            return False
        subject, template, context = message
        mail_send(
            template=template,
            subject=subject,
            to=[badge.recipient.email],
            context={
                "badge": badge,
                "name": _name(badge),
                "badge_url": badge_url(badge),
                **context,
            },
            organization=badge.organization,
        )
    return True


Message = tuple[str, str, dict[str, Any]]  # subject, template (templates/mail/), context


def _name(badge: Badge) -> str:
    return " ".join(badge.name.split())  # a line break in a subject is refused


def _contact(badge: Badge) -> str:
    return badge.organization.contact_email or badge.organization.issuer_email


def _issued(badge: Badge) -> Message:
    until = timezone.localdate(badge.valid_until).isoformat() if badge.valid_until else ""
    mine = documents.site_url(reverse("badges:backpack"))
    subject = _("Your badge: %(name)s") % {"name": _name(badge)}
    return subject, "badge_issued", {"until": until, "mine": mine}


def _revoked(badge: Badge) -> Message:
    return (
        _("Your badge “%(name)s” was revoked") % {"name": _name(badge)},
        "badge_revoked",
        {"contact": _contact(badge)},
    )


def _expiring(badge: Badge) -> Message | None:
    """Not for a badge revoked in the meantime."""
    if badge.is_revoked or badge.valid_until is None:
        return None
    until = timezone.localdate(badge.valid_until).isoformat()
    subject = _("Your badge “%(name)s” expires on %(date)s") % {"name": _name(badge), "date": until}
    return subject, "badge_expiring", {"until": until}


def _resigned(badge: Badge) -> Message | None:
    """Not for a badge revoked in the meantime (its verification page says so)."""
    if badge.is_revoked:
        return None
    mine = documents.site_url(reverse("badges:backpack"))
    return (
        _("Your badge “%(name)s” was re-signed: download it again") % {"name": _name(badge)},
        "badge_resigned",
        {"mine": mine, "contact": _contact(badge)},
    )


_MESSAGES: dict[str, Callable[[Badge], Message | None]] = {
    ISSUED: _issued,
    REVOKED: _revoked,
    EXPIRING: _expiring,
    RESIGNED: _resigned,
}
