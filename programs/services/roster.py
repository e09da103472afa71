"""Roster import and export: a program admin's CSV or XLSX of members, from upload through column
mapping and a dry run to apply (reading files: ``roster_files``), and the roster back out as CSV
(``roster_export``).

- ``roster_import_create`` keeps the uploaded file (bounded: ``ROSTER_MAX_BYTES``, in the
  database) once it can be read: a readable encoding (UTF-8), a real CSV or XLSX, a header row.
  It guesses which column is which from the headers (``HEADER_SYNONYMS``).
- ``roster_import_map`` records the admin's mapping (an e-mail column is required) and whether
  members missing from the file lapse.
- ``roster_import_start`` queues the dry run, or, once a dry run is done, the apply (a Celery
  task: ``programs.tasks.roster_import_run``); ``roster_import_run`` is its body.

Every row goes through the one member rule (``services.members``): ``member_row_clean`` then
``member_upsert_many`` in chunks of ``CHUNK`` rows (a few statements per chunk). The dry run
runs the same code with ``dry_run=True``. The apply is one transaction: a failure part-way
(a crashed worker, the database gone) leaves nothing applied, and the task is idempotent, so
running it again (or applying the same file again) changes nothing more. Rows with errors are
skipped and reported; lapsing never deletes anything and spares every address in the file, even
on a row with errors. An apply is one audit entry (``roster_import.applied``, with the counts)
that links the report of every row as that apply wrote it (``RosterApplyReport``: who was made a
member, what changed for whom, who lapsed), not an entry per member
(docs/decisions/0015-roster-import.md).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import BinaryField, Case, F, Func, Q, Subquery, Value, When
from django.db.models.functions import Length
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from credentials_site.exceptions import ApplicationError

from ..errors import ProgramErrorCode
from ..models import (
    AuditEvent,
    Membership,
    MembershipSource,
    Organization,
    RosterApplyReport,
    RosterImport,
    User,
)
from .members import (
    FIELD_LABELS,
    ROW_FIELDS,
    MemberRow,
    cell_text,
    member_row_clean,
    member_upsert_many,
)
from .roster_export import csv_safe, roster_export_rows
from .roster_files import (
    ROSTER_MAX_BYTES,
    RosterFileError,
    cell_filled,
    roster_file_kind,
    roster_header,
    roster_mapping_guess,
    roster_records,
    roster_records_stream,
)

CHUNK = 5000  # valid rows per call of the member rule (a few statements each)
KEPT_ERRORS = 200  # on the page; the report has every one
PROGRESS_SECONDS = 6 * 3600
REPORT_HEADER = ("row", "email", "outcome", "column", "message")
SLICE = 1024 * 1024  # the kept file is read from the database a slice at a time


@transaction.atomic
def roster_import_create(
    *, organization: Organization, actor: User | None, file_name: str, data: bytes
) -> RosterImport:
    """Keep an uploaded roster once it can be read, with a guess of its column mapping."""
    if not data:
        raise RosterFileError(gettext("The file is empty."))
    if len(data) > ROSTER_MAX_BYTES:
        raise RosterFileError(
            gettext(
                "The file is %(size).1f MB; a roster can be at most %(limit)d MB. "
                "Split it into several files."
            )
            % {"size": len(data) / 1024 / 1024, "limit": ROSTER_MAX_BYTES // 1024 // 1024}
        )
    kind = roster_file_kind(file_name, data)
    records = roster_records(file_kind=kind, data=data)
    first = next((r for r in records if any(cell_filled(v) for v in r)), None)
    if first is None:
        raise RosterFileError(gettext("The file has no rows: the first row names the columns."))
    while first and not cell_filled(first[-1]):
        first.pop()
    headers = [roster_header(value, i) for i, value in enumerate(first)]
    if len(headers) > 200:
        raise RosterFileError(
            gettext(
                "Upload a CSV (.csv) or Excel workbook (.xlsx) file: its first row has "
                "%(count)s columns."
            )
            % {"count": len(headers)}
        )
    roster_import = RosterImport.objects.create(
        organization=organization,
        uploaded_by=actor,
        file_name=file_name[:255],
        file_kind=kind,
        file_data=data,
        headers=headers,
        mapping=roster_mapping_guess(headers),
    )
    AuditEvent.objects.create(
        organization=organization,
        actor=actor,
        action="roster_import.uploaded",
        object_type="RosterImport",
        object_id=str(roster_import.pk),
        summary=f"Roster {roster_import.file_name} uploaded ({len(data)} bytes)"[:300],
    )
    return roster_import


# --- Mapping, and starting a run -----------------------------------------------------------------


def roster_import_map(
    *,
    roster_import: RosterImport,
    mapping: Mapping[str, int | None],
    lapse_missing: bool,
    actor: User | None,
) -> RosterImport:
    """Record which column is which (a column for one field at most; an e-mail column is
    required) and whether members missing from the file lapse. Results of an earlier dry run are
    dropped: a new dry run is needed before applying."""
    with transaction.atomic():
        roster_import = _locked(roster_import)
        _refuse_while_running(roster_import)
        columns = range(len(roster_import.headers))
        cleaned: dict[str, int | None] = {}
        for name in ROW_FIELDS:
            value = mapping.get(name)
            if value is not None and value not in columns:
                raise _mapping_error(name, gettext("Choose one of the file's columns."))
            cleaned[name] = value
        if cleaned["email"] is None:
            raise _mapping_error(
                "email", gettext("Choose the column that holds the e-mail addresses.")
            )
        used = [v for v in cleaned.values() if v is not None]
        for name, value in cleaned.items():
            if value is not None and used.count(value) > 1:
                header = roster_import.headers[value]
                raise _mapping_error(
                    name, gettext("“%(header)s” is chosen for two fields.") % {"header": header}
                )
        roster_import.mapping = cleaned
        roster_import.lapse_missing = lapse_missing
        roster_import.state = RosterImport.State.UPLOADED
        roster_import.counts, roster_import.errors, roster_import.report = {}, [], ""
        roster_import.save(
            update_fields=["mapping", "lapse_missing", "state", "counts", "errors", "report"]
        )
    return roster_import


def _mapping_error(name: str, message: str) -> ApplicationError:
    return ApplicationError(message, code=ProgramErrorCode.INVALID, fields={name: [message]})


def _locked(roster_import: RosterImport) -> RosterImport:
    return (
        RosterImport.objects.select_for_update(of=("self",))
        .select_related("organization")
        .defer("file_data", "report")
        .get(pk=roster_import.pk)
    )


def _refuse_while_running(roster_import: RosterImport) -> None:
    if roster_import.state in RosterImport.RUNNING:
        raise ApplicationError(
            gettext("This roster is being processed: wait until it is done."),
            code=ProgramErrorCode.NOT_EDITABLE,
        )


@transaction.atomic
def roster_import_start(
    *, roster_import: RosterImport, apply: bool, actor: User | None
) -> RosterImport:
    """Queue the dry run, or (after one) the apply, for the worker."""
    from ..tasks import roster_import_run as task

    roster_import = _locked(roster_import)
    _refuse_while_running(roster_import)
    if roster_import.mapping.get("email") is None:
        raise _mapping_error("email", gettext("Choose the column that holds the e-mail addresses."))
    if apply and roster_import.state not in (
        RosterImport.State.CHECKED,
        RosterImport.State.APPLIED,
    ):
        raise ApplicationError(
            gettext("Run the dry run first: it shows what applying will change."),
            code=ProgramErrorCode.INVALID,
        )
    roster_import.state = RosterImport.State.APPLYING if apply else RosterImport.State.CHECKING
    roster_import.failure = ""
    roster_import.save(update_fields=["state", "failure", "updated_at"])
    cache.set(_progress_key(roster_import), {"done": 0, "total": 0}, PROGRESS_SECONDS)
    organization_id, import_id = roster_import.organization_id, roster_import.pk
    transaction.on_commit(
        lambda: task.delay(organization_id=organization_id, roster_import_id=import_id)
    )
    return roster_import


def _progress_key(roster_import: RosterImport) -> str:
    return f"roster-import:{roster_import.public_id}:progress"


def roster_import_progress(*, roster_import: RosterImport) -> dict[str, Any]:
    """What the admin's progress bar shows: state, rows done of about how many, the counts."""
    progress = cache.get(_progress_key(roster_import)) or {}
    running = roster_import.state in RosterImport.RUNNING
    return {
        "state": roster_import.state,
        "state_label": roster_import.get_state_display(),
        "running": running,
        "done": int(progress.get("done", 0)),
        "total": int(progress.get("total", 0)),
        "counts": roster_import.counts,
        "failure": roster_import.failure,
    }


# --- The run (the Celery task's body) ------------------------------------------------------------


@dataclass
class _Run:
    counts: dict[str, int] = field(
        default_factory=lambda: {
            "rows": 0,
            "created": 0,
            "updated": 0,
            "unchanged": 0,
            "errors": 0,
            "lapsed": 0,
        }
    )
    errors: list[dict[str, Any]] = field(default_factory=list)
    # the report, on disk until the run ends (a worker's memory stays flat whatever the file)
    report: IO[str] = field(default_factory=io.StringIO)
    seen: dict[str, int] = field(default_factory=dict)  # every address in the file → its row

    def __post_init__(self) -> None:
        self.writer = csv.writer(self.report)
        self.writer.writerow(REPORT_HEADER)

    def line(self, number: int | str, email: str, outcome: str, column: str, message: str) -> None:
        self.writer.writerow([csv_safe(v) for v in (number, email, outcome, column, message)])


class _StoredFile(io.RawIOBase):
    """The kept file, read from the database a slice at a time (``substring`` of the bytea, one
    ``SLICE`` per statement, however little a reader asks for at once): a 20 MB roster is never
    in the worker's memory whole, nor hex-encoded on its way."""

    def __init__(self, roster_import_id: int) -> None:
        self.rows = RosterImport.objects.filter(pk=roster_import_id)
        self.size = int(self.rows.values_list(Length("file_data"), flat=True).get())
        self.position = 0
        self.slice_start, self.slice = 0, b""  # the last slice read

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.size - self.position)
        if count <= 0:
            return 0
        offset = self.position - self.slice_start
        if not 0 <= offset < len(self.slice):
            # a text reader asks for 8 KB at a time: fetch a whole slice, serve it from memory
            part = Func(
                F("file_data"),
                Value(self.position + 1),
                Value(max(count, SLICE)),
                function="substring",
                output_field=BinaryField(),
            )
            self.slice = bytes(self.rows.values_list(part, flat=True).get())
            self.slice_start, offset = self.position, 0
        count = min(count, len(self.slice) - offset)
        memoryview(buffer).cast("B")[:count] = memoryview(self.slice)[offset : offset + count]
        self.position += count
        return count


def roster_import_run(*, roster_import_id: int) -> RosterImport:
    """Run the dry run or the apply that ``roster_import_start`` queued (the task's body; run
    again after a crash, it starts over and changes nothing more)."""
    roster_import = (
        RosterImport.objects.select_related("organization", "uploaded_by")
        .defer("file_data", "report")
        .get(pk=roster_import_id)
    )
    if roster_import.state not in RosterImport.RUNNING:
        return roster_import  # done already (a duplicate delivery)
    apply = roster_import.state == RosterImport.State.APPLYING
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as report:
        try:
            if apply:
                with transaction.atomic():
                    run = _run(roster_import, report, dry_run=False)
            else:
                run = _run(roster_import, report, dry_run=True)
        except RosterFileError as error:
            return _finish(roster_import, failure=error.message)
        except Exception as error:
            # the transaction rolled back: say so on the page rather than run forever, then
            # let the task fail (logged)
            _finish(
                roster_import,
                failure=gettext(
                    "The run stopped (%(error)s); nothing was changed. Run it again; if it "
                    "stops again, tell the platform's operators."
                )
                % {"error": type(error).__name__},
            )
            raise
        return _finish(roster_import, run=run, applied=apply)


def _run(roster_import: RosterImport, report: IO[str], *, dry_run: bool) -> _Run:
    organization = roster_import.organization
    actor = roster_import.uploaded_by
    stored = _StoredFile(roster_import.pk)
    records, total = roster_records_stream(
        file_kind=roster_import.file_kind,
        file=io.BufferedReader(stored, buffer_size=SLICE),
        size=stored.size,
    )
    mapping = {k: v for k, v in roster_import.mapping.items() if v is not None}
    headers = roster_import.headers
    run = _Run(report=report)
    key = _progress_key(roster_import)
    today = timezone.localdate()
    # rows in file order, each valid (a MemberRow) or not (its problems: (column, message))
    chunk: list[tuple[int, str, MemberRow | list[tuple[str, str]]]] = []
    valid = 0

    def flush() -> None:
        rows = [item for _, _, item in chunk if isinstance(item, MemberRow)]
        result = member_upsert_many(
            organization=organization,
            rows=rows,
            actor=actor,
            source=MembershipSource.ROSTER,
            dry_run=dry_run,
            today=today,
            audit=False,  # the apply's one entry, with its report of every row (``_finish``)
            place_in_schools=False,  # all of them at once, after the last chunk
        )
        outcomes = iter(zip(result.outcomes, result.changes, strict=True))
        for number, email, item in chunk:
            if isinstance(item, MemberRow):
                outcome, changes = next(outcomes)
                run.counts[outcome] += 1
                run.line(number, email, outcome, "", _changes_text(changes))
            else:
                for column, message in item:
                    run.line(number, email, "error", column, message)
        chunk.clear()
        cache.set(key, {"done": run.counts["rows"], "total": total}, PROGRESS_SECONDS)

    for number, record in _numbered(records):
        values = {name: record[i] if i < len(record) else None for name, i in mapping.items()}
        run.counts["rows"] += 1
        row, problems = member_row_clean(values)
        email = row.email if row is not None else cell_text(values.get("email")).lower()
        if email and email in run.seen and "email" not in problems:
            problems["email"] = gettext("Also on row %(row)s: each person once in a roster.") % {
                "row": run.seen[email]
            }
        if email:
            run.seen.setdefault(email, number)
        if problems or row is None:
            run.counts["errors"] += 1
            named = [
                (headers[mapping[name]] if name in mapping else str(FIELD_LABELS[name]), message)
                for name, message in problems.items()
            ]
            for column, message in named:
                if len(run.errors) < KEPT_ERRORS:
                    run.errors.append({"row": number, "column": column, "message": message})
            chunk.append((number, email, named))
            continue
        chunk.append((number, email, row))
        valid += 1
        if valid >= CHUNK:
            flush()
            valid = 0
    if chunk:
        flush()
    if not dry_run:
        # the schools the roster names, and its members in them (decision 0029): once for the
        # whole organization, by the worker after the apply (three set-based statements over
        # every member; not three per chunk, nor holding the apply's progress)
        _school_links_sync_on_commit(organization)
    if roster_import.lapse_missing:
        _lapse_missing(roster_import, run, dry_run=dry_run, today=today)
    cache.set(key, {"done": run.counts["rows"], "total": run.counts["rows"]}, PROGRESS_SECONDS)
    return run


def _school_links_sync_on_commit(organization: Organization) -> None:
    from ..tasks import school_links_sync as sync

    organization_id = organization.pk
    transaction.on_commit(lambda: sync.delay(organization_id=organization_id))


def _changes_text(changes: Mapping[str, list[Any]]) -> str:
    """What an update changes, for the report (the audit trail of a roster's apply)."""
    return "; ".join(
        f"{column}: {_report_value(before)} → {_report_value(after)}"
        for column, (before, after) in changes.items()
    )


def _report_value(value: Any) -> str:
    if value is None or value == "":
        return gettext("(blank)")
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _numbered(records: Iterable[list[Any]]) -> Iterator[tuple[int, list[Any]]]:
    """Data rows with their row number as a spreadsheet shows it (the header is row 1); blank
    rows are skipped."""
    header_seen = False
    for number, record in enumerate(records, start=1):
        if not any(cell_filled(v) for v in record):
            continue
        if not header_seen:
            header_seen = True
            continue
        yield number, record


def _lapse_missing(
    roster_import: RosterImport, run: _Run, *, dry_run: bool, today: dt.date
) -> None:
    """Active members whose address is nowhere in the file lapse (their membership ends today
    at the latest); nobody is deleted. Each is a line of the report, which the apply's audit
    entry links."""
    organization = roster_import.organization
    active = Membership.objects.filter(
        organization=organization, status=Membership.Status.ACTIVE
    ).values_list("pk", "user__email")
    missing = [(pk, email) for pk, email in active if email.lower() not in run.seen]
    run.counts["lapsed"] = len(missing)
    not_in_file = gettext("Not in this file")
    for _pk, email in missing:
        run.line("", email, "lapsed", "", not_in_file)
    if dry_run or not missing:
        return
    for start in range(0, len(missing), CHUNK):
        part = missing[start : start + CHUNK]
        Membership.objects.filter(pk__in=[pk for pk, _ in part]).update(
            status=Membership.Status.LAPSED,
            member_until=Case(
                When(Q(member_until__isnull=True) | Q(member_until__gt=today), then=Value(today)),
                default="member_until",
            ),
            updated_at=timezone.now(),
        )


def _finish(
    roster_import: RosterImport,
    *,
    run: _Run | None = None,
    applied: bool = False,
    failure: str = "",
) -> RosterImport:
    with transaction.atomic():
        roster_import = _locked(roster_import)
        now = timezone.now()
        if run is None:
            roster_import.state = RosterImport.State.FAILED
            roster_import.failure = failure
        else:
            roster_import.state = (
                RosterImport.State.APPLIED if applied else RosterImport.State.CHECKED
            )
            roster_import.counts = run.counts
            roster_import.errors = run.errors
            run.report.seek(0)
            roster_import.report = run.report.read()
            if applied:
                roster_import.applied_at = now
            else:
                roster_import.checked_at = now
        roster_import.save(
            update_fields=[
                "state",
                "failure",
                "counts",
                "errors",
                "report",
                "applied_at",
                "checked_at",
                "updated_at",
            ]
        )
        if applied and run is not None:
            _applied_record(roster_import, run)
    return roster_import


def _applied_record(roster_import: RosterImport, run: _Run) -> None:
    """The audit trail of an apply: its report (who was made a member, changed, left unchanged
    or lapsed, and the rows with errors), kept as it is whatever the import does next, and one
    audit entry with the counts that links it (not an entry per member)."""
    kept = RosterApplyReport.objects.create(
        organization=roster_import.organization,
        roster_import=roster_import,
        file_name=roster_import.file_name,
        counts=run.counts,
    )
    # copied in the database, not sent again (a 100,000-row report is some 6 MB)
    RosterApplyReport.objects.filter(pk=kept.pk).update(
        report=Subquery(RosterImport.objects.filter(pk=roster_import.pk).values("report")[:1])
    )
    link = reverse("admin:roster_apply_report", args=[kept.pk])
    counts = ", ".join(f"{v} {k}" for k, v in run.counts.items())
    AuditEvent.objects.create(
        organization=roster_import.organization,
        actor=roster_import.uploaded_by,
        action="roster_import.applied",
        object_type="RosterImport",
        object_id=str(roster_import.pk),
        summary=f"Roster {roster_import.file_name} applied: {counts}"[:300],
        data={**run.counts, "report": link, "report_id": kept.pk},
    )


__all__ = [
    "ROSTER_MAX_BYTES",
    "RosterFileError",
    "csv_safe",
    "roster_export_rows",
    "roster_import_create",
    "roster_import_map",
    "roster_import_progress",
    "roster_import_run",
    "roster_import_start",
    "roster_mapping_guess",
]
