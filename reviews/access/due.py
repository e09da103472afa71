"""Time in words on the reviewer's pages: how long a submission has waited, the time left before
the program's turnaround target (in business days), and the time left on a claim."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


@dataclass(frozen=True)
class Due:
    text: str
    overdue: bool


def business_days_between(start: dt.date, end: dt.date) -> int:
    """Working days (Monday to Friday) after ``start`` up to and including ``end``."""
    days = (end - start).days
    if days <= 0:
        return 0
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    for offset in range(1, rest + 1):
        if (start + dt.timedelta(days=weeks * 7 + offset)).weekday() < 5:
            count += 1
    return count


def age_text(since: dt.datetime, now: dt.datetime) -> str:
    """How long a submission has waited: "3 days", "5 hours", "just now"."""
    delta = now - since
    if delta.days >= 1:
        return ngettext("%(n)s day", "%(n)s days", delta.days) % {"n": delta.days}
    hours = delta.seconds // 3600
    if hours:
        return ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours}
    minutes = delta.seconds // 60
    if minutes:
        return ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes}
    return _("just now")


def due_text(due_at: dt.datetime | None, now: dt.datetime) -> Due:
    """Time left before the turnaround target: "2 business days left", "overdue by 1 day"."""
    if due_at is None:
        return Due(_("no target"), overdue=False)
    if due_at > now:
        days = business_days_between(timezone.localdate(now), timezone.localdate(due_at))
        if days == 0:
            return Due(_("due today"), overdue=False)
        left = ngettext("%(n)s business day left", "%(n)s business days left", days)
        return Due(left % {"n": days}, overdue=False)
    late = now - due_at
    if late.days >= 1:
        overdue = ngettext("overdue by %(n)s day", "overdue by %(n)s days", late.days)
        return Due(overdue % {"n": late.days}, overdue=True)
    hours = max(1, late.seconds // 3600)
    overdue = ngettext("overdue by %(n)s hour", "overdue by %(n)s hours", hours)
    return Due(overdue % {"n": hours}, overdue=True)


def time_left_text(expires_at: dt.datetime, now: dt.datetime) -> Due:
    """Time left on a claim: "2 days left", "5 hours left", "expired"."""
    left = expires_at - now
    if left <= dt.timedelta(0):
        return Due(_("expired"), overdue=True)
    hours = left.days * 24 + left.seconds // 3600
    if hours >= 48:
        text = ngettext("%(n)s day left", "%(n)s days left", left.days)
        return Due(text % {"n": left.days}, overdue=False)
    if hours >= 1:
        text = ngettext("%(n)s hour left", "%(n)s hours left", hours)
        return Due(text % {"n": hours}, overdue=hours < 2)
    minutes = max(1, left.seconds // 60)
    text = ngettext("%(n)s minute left", "%(n)s minutes left", minutes)
    return Due(text % {"n": minutes}, overdue=True)
