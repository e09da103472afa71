"""Where badges hears about approvals (submissions sends the signal after commit)."""

from __future__ import annotations

from typing import Any


def queue_badge_issue(*, organization_id: int, application_id: int, **_: Any) -> None:
    from . import tasks

    tasks.badge_issue_queue(organization_id=organization_id, application_id=application_id)
