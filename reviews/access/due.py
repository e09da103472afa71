"""Time in words on the reviewer's pages: how long a submission has waited, the time left before
the program's turnaround target (in business days), and the time left on a claim."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone


@dataclass(frozen=True)
class Due:
    text: str
    overdue: bool


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


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
        return _plural(delta.days, "day")
    hours = delta.seconds // 3600
    if hours:
        return _plural(hours, "hour")
    minutes = delta.seconds // 60
    return _plural(minutes, "minute") if minutes else "just now"


def due_text(due_at: dt.datetime | None, now: dt.datetime) -> Due:
    """Time left before the turnaround target: "2 business days left", "overdue by 1 day"."""
    if due_at is None:
        return Due("no target", overdue=False)
    if due_at > now:
        days = business_days_between(timezone.localdate(now), timezone.localdate(due_at))
        if days == 0:
            return Due("due today", overdue=False)
        return Due(f"{_plural(days, 'business day')} left", overdue=False)
    late = now - due_at
    if late.days >= 1:
        return Due(f"overdue by {_plural(late.days, 'day')}", overdue=True)
    return Due(f"overdue by {_plural(max(1, late.seconds // 3600), 'hour')}", overdue=True)


def time_left_text(expires_at: dt.datetime, now: dt.datetime) -> Due:
    """Time left on a claim: "2 days left", "5 hours left", "expired"."""
    left = expires_at - now
    if left <= dt.timedelta(0):
        return Due("expired", overdue=True)
    hours = left.days * 24 + left.seconds // 3600
    if hours >= 48:
        return Due(f"{_plural(left.days, 'day')} left", overdue=False)
    if hours >= 1:
        return Due(f"{_plural(hours, 'hour')} left", overdue=hours < 2)
    return Due(f"{_plural(max(1, left.seconds // 60), 'minute')} left", overdue=True)
