"""Helpers shared by the submission services."""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from typing import Any

from django.utils.translation import gettext as _

from credentials_site.exceptions import ApplicationError
from programs import services as program_services
from programs.models import (
    EvidenceRequirement,
    User,
    WebhookEventType,
)

from ..errors import SubmissionErrorCode as Code
from ..models import Application, ApplicationEvent

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 100_000
GRACE = dt.timedelta(hours=1)


def _event(
    application: Application, *, actor: User | None, kind: str, message: str, **data: Any
) -> ApplicationEvent:
    event = ApplicationEvent.objects.create(
        organization_id=application.organization_id,
        application=application,
        actor=actor,
        kind=kind,
        message=message[:300],
        data=data,
    )
    _webhook(application, kind)
    return event


# The application events that the organization's webhooks hear of (programs.services.webhooks):
# written in the same transaction as the change, delivered in order per application.
_WEBHOOK_EVENTS = {
    "submitted": WebhookEventType.APPLICATION_SUBMITTED,
    "resubmitted": WebhookEventType.APPLICATION_SUBMITTED,
    "approved": WebhookEventType.DECISION_MADE,
    "not_awarded": WebhookEventType.DECISION_MADE,
    "needs_revision": WebhookEventType.DECISION_MADE,
    "fee_payment": WebhookEventType.PAYMENT_RECORDED,
    "fee_refunded": WebhookEventType.PAYMENT_RECORDED,
}


def _webhook(application: Application, kind: str) -> None:
    event_type = _WEBHOOK_EVENTS.get(kind)
    if event_type is None:
        return

    def data() -> dict[str, Any]:
        return _webhook_data(application, kind, event_type)

    program_services.webhook_event_emit(
        organization_id=application.organization_id,
        type=event_type,
        data=data,
        application_id=application.pk,
    )


def _webhook_data(application: Application, kind: str, event_type: str) -> dict[str, Any]:
    """The event's ``data``: the application (opaque id, credential, educator, state), and for
    a decision its outcome and summary, for a payment the ledger entry."""
    row = (
        Application.objects.select_related("educator", "credential", "version")
        .filter(pk=application.pk)
        .first()
    ) or application
    data: dict[str, Any] = {
        "application": {
            "id": str(row.public_id),
            "status": row.status,
            "attempt": row.attempt,
            "credential": {"slug": row.credential.slug, "title": row.version.title},
            "educator": {"email": row.educator.email, "name": row.educator.full_name},
        }
    }
    if event_type == WebhookEventType.DECISION_MADE:
        decided = row.submissions.filter(number__lte=row.attempt).order_by("-number").first()
        data["decision"] = {
            "outcome": "needs_revision"
            if kind == "needs_revision"
            else ("approve" if kind == "approved" else "not_awarded"),
            "summary": decided.feedback_summary if decided is not None else "",
            "decided_at": decided.decided_at.isoformat()
            if decided is not None and decided.decided_at
            else None,
        }
    elif event_type == WebhookEventType.PAYMENT_RECORDED:
        entry = row.payment_entries.order_by("-id").first()
        if entry is not None:
            data["payment"] = {
                "kind": entry.kind,
                "amount": f"{entry.amount:.2f}",
                "currency": entry.currency,
                "reference": entry.reference,
            }
    return data


def _locked(application: Application) -> Application:
    return Application.objects.select_for_update().get(pk=application.pk)


def _require_editable(application: Application) -> None:
    if not application.is_editable:
        raise ApplicationError(
            _("This application is %(status)s and can no longer be changed.")
            % {"status": application.get_status_display().lower()},
            code=Code.NOT_EDITABLE,
        )


def _require_kind(
    requirement: EvidenceRequirement, kind: str, application: Application | None = None
) -> None:
    if application is not None and requirement.version_id != application.version_id:
        raise ApplicationError(
            _("That requirement is not part of this application."), code=Code.INVALID
        )
    if requirement.kind != kind:
        raise ApplicationError(
            _("“%(title)s” asks for %(kind)s, not this.")
            % {"title": requirement.title, "kind": requirement.get_kind_display().lower()},
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
