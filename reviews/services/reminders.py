"""Reminders (Celery beat): reviewers whose claims are about to end, and program admins about
submissions past their turnaround target; each once, e-mailed after commit."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from programs.models import Organization, StaffRole
from submissions.models import Application, Submission

from ..models import Claim

REMIND_BEFORE_EXPIRY = dt.timedelta(hours=6)


def _queue_url(organization: Organization) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/o/{organization.slug}/review/"


def _when(moment: dt.datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M %Z}"


def _send_later(messages: list[tuple[str, str, str]]) -> None:
    """Send (subject, body, recipient) e-mails once the transaction has committed."""

    def send() -> None:
        for subject, body, recipient in messages:
            send_mail(
                subject=subject,
                message=body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[recipient],
                fail_silently=True,
            )

    transaction.on_commit(send)


def claims_remind(*, organization: Organization, now: dt.datetime | None = None) -> int:
    """E-mail each reviewer whose active claims expire within six hours, once per claim (one
    e-mail per reviewer listing them). Returns how many claims were reminded about.

    The e-mail names the credential and the anonymous code only, never the educator."""
    now = now or timezone.now()
    with transaction.atomic():
        claims = list(
            Claim.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                organization=organization,
                status=Claim.Status.ACTIVE,
                reminded_at__isnull=True,
                expires_at__gt=now,
                expires_at__lte=now + REMIND_BEFORE_EXPIRY,
            )
            .select_related("reviewer", "submission__application__version")
            .order_by("reviewer_id", "expires_at")
        )
        if not claims:
            return 0
        Claim.objects.filter(pk__in=[c.pk for c in claims]).update(reminded_at=now, updated_at=now)
        by_reviewer: dict[int, list[Claim]] = {}
        for claim in claims:
            by_reviewer.setdefault(claim.reviewer_id, []).append(claim)
        label = organization.short_name or organization.name
        messages = []
        for mine in by_reviewer.values():
            lines = [
                _("- “%(title)s” (%(code)s, attempt %(number)s): your claim ends %(when)s")
                % {
                    "title": c.submission.application.version.title,
                    "code": c.submission.application.anonymous_code,
                    "number": c.submission.number,
                    "when": _when(c.expires_at),
                }
                for c in mine
            ]
            n = len(mine)
            messages.append(
                (
                    ngettext(
                        "%(organization)s: %(count)s review you claimed goes back to the queue "
                        "soon",
                        "%(organization)s: %(count)s reviews you claimed go back to the queue soon",
                        n,
                    )
                    % {"organization": label, "count": n},
                    _(
                        "Finish and submit your review, or release the claim, before it ends; "
                        "otherwise the submission goes back to the queue and your draft is "
                        "discarded."
                    )
                    + "\n\n"
                    + "\n".join(lines)
                    + f"\n\n{_queue_url(organization)}\n",
                    mine[0].reviewer.email,
                )
            )
        _send_later(messages)
    return len(claims)


def overdue_notify(*, organization: Organization, now: dt.datetime | None = None) -> int:
    """E-mail the organization's program admins and owners (or, if it has none, its contact
    address) about undecided submissions past their turnaround target, once per submission:
    one e-mail per person listing them. Returns how many submissions were reported."""
    now = now or timezone.now()
    with transaction.atomic():
        overdue = list(
            Submission.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                organization=organization,
                outcome="",
                due_at__lte=now,
                overdue_notified_at__isnull=True,
                application__attempt=F("number"),
                application__status__in=[
                    Application.Status.SUBMITTED,
                    Application.Status.IN_REVIEW,
                ],
            )
            .select_related("application__version")
            .order_by("due_at", "pk")
        )
        if not overdue:
            return 0
        recipients = sorted(
            set(
                StaffRole.objects.filter(
                    organization=organization,
                    role__in=StaffRole.ADMIN_ROLES,
                    user__is_active=True,
                ).values_list("user__email", flat=True)
            )
        )
        if not recipients and organization.contact_email:
            recipients = [organization.contact_email]
        if not recipients:
            return 0  # nobody to tell: try again on the next run
        Submission.objects.filter(pk__in=[s.pk for s in overdue]).update(
            overdue_notified_at=now, updated_at=now
        )
        lines = []
        for submission in overdue:
            due = submission.due_at or now  # never empty here: filtered on
            late = (now - due).days
            lines.append(
                _(
                    "- “%(title)s” (%(code)s, attempt %(number)s): submitted %(submitted)s, "
                    "due %(due)s"
                )
                % {
                    "title": submission.application.version.title,
                    "code": submission.application.anonymous_code,
                    "number": submission.number,
                    "submitted": f"{submission.submitted_at:%d %b %Y}",
                    "due": f"{due:%d %b %Y}",
                }
                + (
                    ngettext(", %(count)s day late", ", %(count)s days late", late)
                    % {"count": late}
                    if late >= 1
                    else ""
                )
                + (_(", waiting for adjudication") if submission.needs_adjudication else "")
            )
        n = len(overdue)
        label = organization.short_name or organization.name
        subject = ngettext(
            "%(organization)s: %(count)s submission past the turnaround target",
            "%(organization)s: %(count)s submissions past the turnaround target",
            n,
        ) % {"organization": label, "count": n}
        body = (
            ngettext(
                "This submission has not been decided within the program's turnaround target:",
                "These submissions have not been decided within the program's turnaround target:",
                n,
            )
            + "\n\n"
            + "\n".join(lines)
            + "\n\n"
            + _("The review queue: %(url)s") % {"url": _queue_url(organization)}
            + "\n"
        )
        _send_later([(subject, body, recipient) for recipient in recipients])
    return n
