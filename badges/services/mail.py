"""The educator's e-mails about a badge: issued, revoked, about to expire."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone

from .. import documents
from ..models import (
    Badge,
)
from ._urls import badge_url

logger = logging.getLogger(__name__)


def _badge_for_mail(pk: int) -> Badge:
    """The badge an e-mail is about. E-mails run after commit, wherever that happens, so the
    badge is read by its primary key outside any tenant scope."""
    from django_scopes import scopes_disabled

    with scopes_disabled():
        return Badge.objects.select_related("recipient", "organization").get(pk=pk)


def _mail_recipient(badge: Badge, *, subject: str, message: str, what: str) -> None:
    """A mail server that is down is logged, never raised into the request or task that
    committed."""
    try:
        send_mail(
            subject=subject,
            message=message,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[badge.recipient.email],
        )
    except Exception:
        logger.exception("Could not e-mail badge %s %s to its recipient", badge.pk, what)


def _notify_issued(pk: int, *, badge: Badge | None = None) -> None:
    """After commit. ``badge``: the committed row as its issuing service built it (recipient
    and organization loaded), so it is not read again."""
    if badge is None:
        badge = _badge_for_mail(pk)
    name = " ".join(badge.name.split())  # a line break in a subject is refused
    mine = documents.site_url(reverse("badges:backpack"))
    until = (
        f"Valid until {timezone.localdate(badge.valid_until).isoformat()}.\n"
        if badge.valid_until
        else ""
    )
    _mail_recipient(
        badge,
        subject=f"Your badge: {name}",
        message=(
            f"Congratulations! {badge.organization.name} awarded you the badge “{name}”.\n"
            f"{until}\n"
            f"Its public verification page (share it with anyone): {badge_url(badge)}\n"
            f"Add it to LinkedIn, copy an e-mail signature or download it: {mine}\n"
        ),
        what="issued",
    )


def _notify_revoked(pk: int) -> None:
    """After commit."""
    badge = _badge_for_mail(pk)
    name = " ".join(badge.name.split())
    organization = badge.organization
    contact = organization.contact_email or organization.issuer_email
    questions = f"Questions? Contact {contact}.\n" if contact else ""
    _mail_recipient(
        badge,
        subject=f"Your badge “{name}” was revoked",
        message=(
            f"{organization.name} revoked your badge “{name}”.\n\n"
            f"Reason: {badge.revocation_reason}\n\n"
            "Its verification page and every verifier now report it as revoked: "
            f"{badge_url(badge)}\n"
            f"{questions}"
        ),
        what="revoked",
    )


def _notify_expiring(pk: int) -> None:
    """After commit; not for a badge revoked in the meantime."""
    badge = _badge_for_mail(pk)
    if badge.is_revoked or badge.valid_until is None:
        return
    name = " ".join(badge.name.split())
    until = timezone.localdate(badge.valid_until).isoformat()
    _mail_recipient(
        badge,
        subject=f"Your badge “{name}” expires on {until}",
        message=(
            f"Your badge “{name}” from {badge.organization.name} expires on {until}.\n"
            f"See it: {badge_url(badge)}\n"
            "To keep the credential current, apply again from the organization's catalog.\n"
        ),
        what="expiring",
    )
