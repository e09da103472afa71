"""The monthly summary e-mail of the program dashboard (issue 20): on the first of each month,
beat sends the owners and program admins of each organization that asked for it
(``Organization.insights_monthly_email``, off by default) last month's headline numbers and a
link to the dashboard, as a plain-text and an HTML part.

Once per organization, month and admin: each e-mail is claimed (an ``InsightSummaryMail`` row,
unique on the three) in the transaction that sends it. A retry after a mail server error sends
only what was not sent; a second run, or two at once (the second waits on the first's row),
sends nothing. A worker that dies between the mail server's answer and the commit may send
one twice (no mail server takes part in a transaction)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from credentials_site.mail import mail_send
from programs.models import Organization, StaffRole, User
from reviews import health

from .. import documents
from . import aggregates, selectors
from .aggregates import InsightSummaryMail
from .selectors import InsightFilters

logger = logging.getLogger(__name__)


def month_before(today: dt.date) -> dt.date:
    """The first day of the month before ``today``'s."""
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def month_last_day(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


@dataclass(frozen=True)
class MonthSummary:
    month: dt.date
    applied: int
    submitted: int
    decided: int
    within_target_rate: float | None
    issued: int
    revoked: int
    waiting_now: int
    past_target_now: int

    @property
    def within_target_text(self) -> str:
        return selectors.rate_text(self.within_target_rate)


def month_summary(*, organization: Organization, month: dt.date) -> MonthSummary:
    """The headline numbers of ``month`` (its first day): applications made, attempts decided
    and the share decided by their target, badges issued and revoked, and the backlog now."""
    filters = InsightFilters(date_from=month, date_to=month_last_day(month))
    now = timezone.now()
    steps = {
        step.key: step.count
        for step in selectors.funnel(organization=organization, filters=filters)
    }
    months = selectors.turnaround_months(organization=organization, filters=filters)
    badges = selectors.badge_summary(organization=organization, filters=filters, now=now)
    backlog = health.queue_backlog(organization=organization, now=now)
    decided = sum(m.decided for m in months)
    with_target = sum(m.with_target for m in months)
    within = sum(m.within_target for m in months)
    return MonthSummary(
        month=month,
        applied=steps["applied"],
        submitted=steps["submitted"],
        decided=decided,
        within_target_rate=selectors._rate(within, with_target),
        issued=badges.issued,
        revoked=badges.revoked,
        waiting_now=backlog.waiting,
        past_target_now=backlog.past_target,
    )


def summary_recipients(*, organization: Organization) -> list[User]:
    """The organization's owners and program admins who can receive e-mail, each once."""
    return list(
        User.objects.filter(
            is_active=True,
            staff_roles__organization=organization,
            staff_roles__role__in=StaffRole.ADMIN_ROLES,
        )
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


def summary_send(*, organization: Organization, month: dt.date) -> int:
    """E-mail ``month``'s summary to each admin who has not had it; how many were sent. Nothing
    when the organization did not ask for it. A mail server error is raised (for the task to
    retry) after the e-mails already sent were recorded."""
    if not organization.insights_monthly_email or not organization.is_active:
        return 0
    build = aggregates.insights_build_get(organization=organization)
    if build is None or build.built_at.date() <= month_last_day(month):
        aggregates.insights_rebuild(organization=organization)  # the whole month in the facts
    summary = month_summary(organization=organization, month=month)
    dashboard = documents.site_url(
        reverse("badges:insights:dashboard", kwargs={"org_slug": organization.slug})
    )
    query = f"?date_from={month:%Y-%m-%d}&date_to={month_last_day(month):%Y-%m-%d}"
    sent = 0
    for user in summary_recipients(organization=organization):
        with transaction.atomic():
            _claim, created = InsightSummaryMail.objects.get_or_create(
                organization=organization, month=month, user=user
            )
            if not created:
                continue  # sent by an earlier run (or one that just finished)
            with translation.override(user.language or settings.LANGUAGE_CODE):
                subject = _("%(organization)s: your program in %(month)s") % {
                    "organization": organization.name,
                    "month": date_format(month, "F Y"),
                }
                mail_send(
                    template="insights_summary",
                    subject=subject,
                    to=[user.email],
                    context={
                        "summary": summary,
                        "dashboard_url": dashboard + query,
                        "user": user,
                    },
                    organization=organization,
                )
        sent += 1
    logger.info("Insight summary of %s for %s: %s sent", month, organization.slug, sent)
    return sent
