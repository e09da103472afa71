"""Helpers shared by the submission services."""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from typing import Any

from credentials_site.exceptions import ApplicationError
from programs.models import (
    EvidenceRequirement,
    User,
)

from ..errors import SubmissionErrorCode as Code
from ..models import Application, ApplicationEvent

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 100_000
GRACE = dt.timedelta(hours=1)


def _event(
    application: Application, *, actor: User | None, kind: str, message: str, **data: Any
) -> ApplicationEvent:
    return ApplicationEvent.objects.create(
        organization_id=application.organization_id,
        application=application,
        actor=actor,
        kind=kind,
        message=message[:300],
        data=data,
    )


def _locked(application: Application) -> Application:
    return Application.objects.select_for_update().get(pk=application.pk)


def _require_editable(application: Application) -> None:
    if not application.is_editable:
        raise ApplicationError(
            f"This application is {application.get_status_display().lower()} and can no longer "
            "be changed.",
            code=Code.NOT_EDITABLE,
        )


def _require_kind(
    requirement: EvidenceRequirement, kind: str, application: Application | None = None
) -> None:
    if application is not None and requirement.version_id != application.version_id:
        raise ApplicationError(
            "That requirement is not part of this application.", code=Code.INVALID
        )
    if requirement.kind != kind:
        raise ApplicationError(
            f"“{requirement.title}” asks for {requirement.get_kind_display().lower()}, not this.",
            code=Code.WRONG_KIND,
        )


def word_count(text: str) -> int:
    return len(re.findall(r"\S+", text))


def _human(size: int) -> str:
    """A size for a message, rounded up, so a file over a limit never reads as the limit itself
    (1 MB + 1 byte is "1.1 MB", not "1.0 MB")."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            if unit == "bytes":
                return f"{size} bytes"
            return f"{math.ceil(value * 10) / 10:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


def add_business_days(start: dt.datetime, days: int) -> dt.datetime:
    """``days`` working days (Monday to Friday) after ``start``, at the same time of day."""
    current = start
    added = 0
    while added < days:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            added += 1
    return current
