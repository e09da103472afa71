"""The dashboard's tables as CSV, streamed (``StreamingHttpResponse``: flat web memory however
many rows) and safe to open in a spreadsheet (the roster export's cell escaping, ``csv_safe``)."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from types import SimpleNamespace
from typing import Any

from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _

from credentials_site.tenancy import tenant_scope
from programs.models import Organization
from programs.services.roster import csv_safe

from . import selectors
from .selectors import Dashboard, InsightFilters

TABLES = ("funnel", "credentials", "criteria", "turnaround", "backlog", "reviewers", "badges")


class _Echo:
    """A file-like object whose write returns the line: csv.writer yields lines one by one."""

    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> str:
    if isinstance(value, dt.timedelta):
        return f"{value.total_seconds() / 86400:.2f}"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return csv_safe(value)


def stream_csv(
    rows: Iterable[Iterable[Any]], filename: str, *, organization: Organization | None = None
) -> StreamingHttpResponse:
    """``rows`` (cells as given) streamed as a CSV download. With ``organization``, they are
    read in its scope: the body is sent after the view (and the middleware's scope) returned,
    so lazy rows enter it themselves."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        with tenant_scope(organization) if organization is not None else nullcontext():
            for row in rows:
                yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_response(
    rows: Iterable[Iterable[Any]], filename: str, *, organization: Organization
) -> StreamingHttpResponse:
    """A dashboard table: durations in days, times in ISO 8601, every other cell made safe."""
    cells = ([_cell(v) for v in row] for row in rows)
    return stream_csv(cells, filename, organization=organization)


def table_rows(name: str, board: Dashboard | SimpleNamespace) -> Iterator[list[Any]]:
    """One of the dashboard's tables (``TABLES``) as rows, header first; durations in days.
    ``board``: the dashboard, or just the section the table reads
    (``selectors.table_section``)."""
    if name == "funnel":
        yield ["step", "count", "percent_of_previous", "median_days_from_previous"]
        for step in board.funnel:
            yield [step.label, step.count, step.of_previous, step.median_from_previous]
    elif name == "credentials":
        yield [
            "credential",
            "program",
            "applications",
            "first_attempt_pass_rate",
            "final_pass_rate",
            "mean_attempts_to_pass",
            "median_days_to_badge",
        ]
        for row in board.credentials:
            yield [
                row.title,
                row.program,
                row.applications,
                row.first_pass_rate,
                row.final_pass_rate,
                row.attempts_to_pass,
                row.median_to_badge,
            ]
    elif name == "criteria":
        yield [
            "credential",
            "criterion",
            "level_score",
            "level",
            "ratings",
            "percent_below_passing_in_needs_revision",
        ]
        for criterion in board.criteria:
            for score, label, count in criterion.levels:
                yield [
                    criterion.credential,
                    criterion.title,
                    score,
                    label or _("Not rated"),
                    count,
                    criterion.below_in_revision_rate,
                ]
    elif name == "turnaround":
        yield ["month", "decided", "with_target", "within_target", "percent_within", "median_days"]
        for month in board.turnaround:
            yield [
                month.month.strftime("%Y-%m"),
                month.decided,
                month.with_target,
                month.within_target,
                month.within_rate,
                month.median,
            ]
    elif name == "backlog":
        yield ["waiting_for", "waiting", "past_target"]
        for bucket in board.ageing:
            yield [bucket.label, bucket.waiting, bucket.past_target]
    elif name == "reviewers":
        yield ["reviewer", "roles", "active_claims", "reviews_last_30_days", "last_review_at"]
        for reviewer in board.reviewers:
            yield [
                reviewer.name,
                "; ".join(str(role) for role in reviewer.roles),
                reviewer.active_claims,
                reviewer.reviews_recent,
                reviewer.last_review_at,
            ]
    elif name == "badges":
        yield ["measure", "count"]
        yield [_("Issued in the period"), board.badges.issued]
        yield [_("Revoked in the period"), board.badges.revoked]
        yield [_("Active now"), board.badges.active]
        yield [
            _("Expiring in the next %(days)s days") % {"days": board.badges.expiring_days},
            board.badges.expiring_soon,
        ]
        yield [_("Views of their verification pages"), board.engagement.views]
        yield [_("Shares by their earners"), board.engagement.shares]


def applications_rows(
    *, organization: Organization, filters: InsightFilters
) -> Iterator[list[Any]]:
    return selectors.application_export_rows(organization=organization, filters=filters)
