"""Bulk award: a program admin's CSV of people who earned a credential outside review (past
earners brought over, a cohort recognised), checked then applied.

- ``bulk_award_create`` reads the file (UTF-8 CSV with the columns of ``COLUMNS``; a file that
  cannot be read is refused whole) and keeps it with its dry run: per row and column, what is
  wrong (an address, a credential this organization has not published, a date unparseable or in
  the future, a link that is not http(s)), and how many rows would be awarded.
- ``bulk_award_apply`` checks the file again and, in one transaction, makes the members through
  the one member rule (``member_upsert_many``: accounts made and invited as needed), an approved
  application and an ``AwardRecord`` per good row, then queues the worker's batch issuing
  (``badges.badge_issue_batch``). The badge carries the row's narrative, link and date as
  evidence (issuing reads the record).

Idempotent by (credential, e-mail): a row whose award exists is counted ``already`` and makes
nothing; applying the same file again issues nothing new (it re-queues only records still
without their badge)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from programs import services as program_services
from programs.models import Credential, MembershipSource, Organization, User
from programs.services.members import MemberRow, member_row_clean, member_upsert_many
from submissions.models import Application

from ..errors import BadgeError
from ..errors import BadgeErrorCode as Code
from ..models import Badge
from ..models_award import AwardRecord, BulkAward

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
KEPT_ERRORS = 200
NARRATIVE_MAX = 5000
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")
# column → the headers that name it (lower case, spaces and punctuation squeezed)
COLUMNS = {
    "email": ("email", "e-mail", "email address", "e-mail address"),
    "name": ("name", "full name", "recipient", "recipient name"),
    "credential": ("credential", "credential slug", "badge", "slug"),
    "date": ("date", "date awarded", "awarded", "awarded on", "issued on"),
    "evidence_url": ("evidence url", "evidence", "evidence link", "url"),
    "narrative": ("narrative", "award narrative"),
}
REQUIRED = ("email", "name", "credential", "date")
# the columns as people read them (the admin's error table, the refusal of a missing column)
LABELS = {
    "email": gettext_lazy("E-mail"),
    "name": gettext_lazy("Name"),
    "credential": gettext_lazy("Credential"),
    "date": gettext_lazy("Date awarded"),
    "evidence_url": gettext_lazy("Evidence URL"),
    "narrative": gettext_lazy("Narrative"),
}
_URL = URLValidator(schemes=["http", "https"])


@dataclass(frozen=True)
class AwardRow:
    row: int  # its line in the file
    email: str
    name: str
    credential: Credential
    awarded_on: dt.date
    evidence_url: str
    narrative: str


@dataclass
class Checked:
    rows: list[AwardRow]  # to award
    already: int
    errors: list[dict[str, Any]]  # {row, field, column, message}
    total: int

    @property
    def counts(self) -> dict[str, int]:
        error_rows = len({e["row"] for e in self.errors})
        return {
            "rows": self.total,
            "award": len(self.rows),
            "already": self.already,
            "errors": error_rows,
        }


def _header_key(text: str) -> str:
    return " ".join(text.strip().lower().replace("_", " ").split())


def _records(data: bytes) -> tuple[dict[str, int], list[list[str]]]:
    """The column of each field, and the rows; a file that is not a readable CSV with the
    required columns raises ``BadgeError`` (nothing kept)."""
    if not data.strip():
        raise BadgeError(_("The file is empty."), code=Code.INVALID, fields={"file": [_("Empty.")]})
    if len(data) > MAX_BYTES:
        raise BadgeError(too_big(len(data)), code=Code.INVALID)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadgeError(
            _(
                "The file is not UTF-8 text (byte %(byte)s cannot be read). Save it "
                "from your spreadsheet as “CSV UTF-8” and upload it again."
            )
            % {"byte": error.start + 1},
            code=Code.INVALID,
        ) from error
    if "\x00" in text:
        raise BadgeError(_("This is not a CSV file (it holds binary data)."), code=Code.INVALID)
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise BadgeError(
            _("This is not a readable CSV file: %(error)s.") % {"error": error}, code=Code.INVALID
        ) from error
    header = next((r for r in rows if any(c.strip() for c in r)), None)
    if header is None:
        raise BadgeError(_("The file has no rows."), code=Code.INVALID)
    keys = [_header_key(h) for h in header]
    columns: dict[str, int] = {}
    for name, synonyms in COLUMNS.items():
        found = next((i for i, key in enumerate(keys) if key in synonyms), None)
        if found is not None:
            columns[name] = found
    missing = [str(LABELS[name]) for name in REQUIRED if name not in columns]
    if missing:
        raise BadgeError(
            _(
                "The first row must name the columns; missing: %(missing)s. Expected "
                "columns: email, name, credential, date (and optionally evidence_url, narrative)."
            )
            % {"missing": ", ".join(missing)},
            code=Code.INVALID,
        )
    body = rows[rows.index(header) + 1 :]
    if len(body) > MAX_ROWS:
        raise BadgeError(
            _("The file has %(rows)s rows; at most %(max)s. Split it.")
            % {"rows": len(body), "max": MAX_ROWS},
            code=Code.INVALID,
        )
    return columns, body


def too_big(size: int) -> str:
    """The refusal of a file over ``MAX_BYTES`` (the admin's upload says it before reading)."""
    return _("The file is %(size).1f MB; at most %(max)s MB. Split it into several files.") % {
        "size": size / 1024 / 1024,
        "max": MAX_BYTES // 1024 // 1024,
    }


def _date(text: str, today: dt.date) -> dt.date:
    if not text:
        raise ValueError(_("The date it was awarded is required."))
    for date_format in DATE_FORMATS:
        try:
            value = dt.datetime.strptime(text, date_format).date()  # noqa: DTZ007 (a date)
        except ValueError:
            continue
        if value > today:
            raise ValueError(_("%(date)s is in the future.") % {"date": value.isoformat()})
        return value
    raise ValueError(
        _("“%(text)s” is not a date as YYYY-MM-DD (or MM/DD/YYYY).") % {"text": text[:40]}
    )


def bulk_award_check(*, organization: Organization, data: bytes) -> Checked:
    """The dry run: what applying ``data`` would award, and what is wrong, row by row."""
    columns, body = _records(data)
    credentials = {
        c.slug: c
        for c in Credential.objects.filter(
            organization=organization,
            status=Credential.Status.PUBLISHED,
            current_version__isnull=False,
        )
    }
    today = timezone.localdate()
    good: list[AwardRow] = []
    errors: list[dict[str, Any]] = []
    seen: set[tuple[int, str]] = set()
    total = 0
    for number, record in enumerate(body, start=2):
        if not any(cell.strip() for cell in record):
            continue
        total += 1
        cells = {
            name: (record[i].strip() if i < len(record) else "") for name, i in columns.items()
        }
        wrong: dict[str, str] = {}
        _row, member_errors = member_row_clean({"email": cells["email"]})
        if member_errors:
            wrong["email"] = member_errors["email"]
        if len(cells["name"]) > 200:
            wrong["name"] = _("Keep it to %(max)s characters.") % {"max": 200}
        credential = credentials.get(cells["credential"])
        if credential is None:
            wrong["credential"] = _(
                "“%(credential)s” is not a published credential of %(organization)s (use its slug)."
            ) % {"credential": cells["credential"][:60], "organization": organization.name}
        awarded_on = None
        try:
            awarded_on = _date(cells["date"], today)
        except ValueError as error:
            wrong["date"] = str(error)
        url = cells.get("evidence_url", "")
        if url:
            try:
                _URL(url)
            except ValidationError:
                wrong["evidence_url"] = _("“%(url)s” is not an http(s) address.") % {
                    "url": url[:60]
                }
        narrative = cells.get("narrative", "")
        if len(narrative) > NARRATIVE_MAX:
            wrong["narrative"] = _("Keep it to %(max)s characters.") % {"max": NARRATIVE_MAX}
        email = cells["email"].lower()
        if not wrong and credential is not None:
            if (credential.pk, email) in seen:
                wrong["email"] = _("This address has this credential on an earlier row.")
            seen.add((credential.pk, email))
        if wrong or credential is None or awarded_on is None:
            errors += [
                {"row": number, "field": name, "column": str(LABELS[name]), "message": message}
                for name, message in wrong.items()
            ]
            continue
        good.append(AwardRow(number, email, cells["name"], credential, awarded_on, url, narrative))
    already = _already(organization, good)
    errors += _conflicts(
        organization, [r for r in good if (r.credential.pk, r.email) not in already]
    )
    conflicted = {e["row"] for e in errors}
    to_award = [
        r for r in good if (r.credential.pk, r.email) not in already and r.row not in conflicted
    ]
    return Checked(
        rows=to_award,
        already=sum(1 for r in good if (r.credential.pk, r.email) in already),
        errors=sorted(errors, key=lambda e: e["row"]),
        total=total,
    )


def _already(organization: Organization, rows: Sequence[AwardRow]) -> set[tuple[int, str]]:
    emails = sorted({r.email for r in rows})
    return set(
        AwardRecord.objects.filter(organization=organization, email__in=emails).values_list(
            "credential_id", "email"
        )
    )


def _conflicts(organization: Organization, rows: Sequence[AwardRow]) -> list[dict[str, Any]]:
    """Rows whose person already has an application (or a badge) for the credential outside
    a bulk award: awarding again would make a second one."""
    emails = sorted({r.email for r in rows})
    if not emails:
        return []
    open_ones = set(
        Application.objects.annotate(address=Lower("educator__email"))
        .filter(organization=organization, address__in=emails)
        .exclude(status__in=Application.CLOSED)
        .values_list("credential_id", "educator__email")
    )
    taken = {(credential, email.lower()) for credential, email in open_ones}
    return [
        {
            "row": r.row,
            "field": "email",
            "column": str(LABELS["email"]),
            "message": _("This person already has an application or a badge for this credential."),
        }
        for r in rows
        if (r.credential.pk, r.email) in taken
    ]


@transaction.atomic
def bulk_award_create(
    *, organization: Organization, actor: User | None, file_name: str, data: bytes
) -> BulkAward:
    """Keep an uploaded file once it can be read, with its dry run."""
    checked = bulk_award_check(organization=organization, data=data)
    award = BulkAward.objects.create(
        organization=organization,
        uploaded_by=actor,
        file_name=file_name[:255],
        file_data=data,
        counts=checked.counts,
        errors=checked.errors[:KEPT_ERRORS],
    )
    program_services.audit_record(
        organization=organization,
        actor=actor,
        action="bulk_award.uploaded",
        obj=award,
        summary=f"Bulk award {award.file_name}: {checked.counts}"[:300],
    )
    return award


def bulk_award_apply(*, award: BulkAward, actor: User | None) -> BulkAward:
    """Award the good rows (checked again, now) and queue their badges; nothing is half done:
    one transaction makes the members, applications and records."""
    try:
        return _apply(award, actor)
    except IntegrityError as error:  # another file, or an application, took a row meanwhile
        raise BadgeError(
            _(
                "Some of these people were awarded (or applied) at the same moment; nothing was "
                "changed. Apply again: what is awarded already is skipped."
            ),
            code=Code.INVALID,
        ) from error


def _apply(award: BulkAward, actor: User | None) -> BulkAward:
    from ..tasks import badge_issue_batch as issue_task

    with transaction.atomic():
        award = (
            BulkAward.objects.select_for_update().select_related("organization").get(pk=award.pk)
        )
        organization = award.organization
        checked = bulk_award_check(organization=organization, data=bytes(award.file_data))
        rows = checked.rows
        people = {r.email: r for r in rows}
        member_rows = []
        for email, r in people.items():
            given, _space, family = r.name.partition(" ")
            member_rows.append(
                MemberRow(
                    email=email,
                    given_name=given[:100],
                    family_name=family[:100],
                    supplied=frozenset({"email", "given_name", "family_name"}),
                )
            )
        member_upsert_many(
            organization=organization,
            rows=member_rows,
            actor=actor,
            source=MembershipSource.ADMIN,
        )
        # accounts are found by address in any case (the member rule's)
        users = {
            u.email.lower(): u
            for u in User.objects.annotate(address=Lower("email")).filter(address__in=list(people))
        }
        applications = Application.objects.bulk_create(
            [
                Application(
                    organization=organization,
                    educator=users[r.email],
                    credential=r.credential,
                    version_id=cast(int, r.credential.current_version_id),  # published: set
                    status=Application.Status.APPROVED,
                )
                for r in rows
            ]
        )
        AwardRecord.objects.bulk_create(
            [
                AwardRecord(
                    organization=organization,
                    award=award,
                    credential=r.credential,
                    email=r.email,
                    application=application,
                    awarded_on=r.awarded_on,
                    evidence_url=r.evidence_url,
                    narrative=r.narrative,
                    row=r.row,
                )
                for r, application in zip(rows, applications, strict=True)
            ]
        )
        award.state = BulkAward.State.APPLIED
        award.applied_at = timezone.now()
        award.counts = {**checked.counts, "awarded": len(rows)}
        award.errors = checked.errors[:KEPT_ERRORS]
        award.save(update_fields=["state", "applied_at", "counts", "errors", "updated_at"])
        program_services.audit_record(
            organization=organization,
            actor=actor,
            action="bulk_award.applied",
            obj=award,
            summary=f"Bulk award {award.file_name}: {len(rows)} awarded",
        )
        # every record of this file still without its badge (the new ones, and any an earlier
        # apply left to the worker)
        pending = list(
            AwardRecord.objects.filter(award=award)
            .exclude(Exists(Badge.objects.filter(application_id=OuterRef("application_id"))))
            .values_list("application_id", flat=True)
        )
        if pending:
            organization_id = organization.pk
            transaction.on_commit(
                lambda: issue_task.delay(organization_id=organization_id, application_ids=pending)
            )
    return award


def bulk_award_progress(*, award: BulkAward) -> dict[str, Any]:
    """What the admin's progress bar shows: badges issued of the file's records."""
    records = AwardRecord.objects.filter(award=award)
    total = records.count()
    issued = Badge.objects.filter(application_id__in=records.values("application_id")).count()
    return {
        "state": award.state,
        "running": award.state == BulkAward.State.APPLIED and issued < total,
        "done": issued,
        "total": total,
        "counts": award.counts,
    }


def award_evidence(award: Any) -> list[dict[str, Any]]:
    """The evidence entry of a bulk-awarded badge (issuing): the row's narrative, link and
    date; ``award`` is ``[narrative, evidence_url, awarded_on]`` or None."""
    if not award:
        return []
    narrative, url, awarded_on = award
    entry: dict[str, Any] = {"type": ["Evidence"], "name": "Award"}
    if url:
        entry["id"] = url
    entry["description"] = f"Awarded on {awarded_on}."
    if narrative:
        entry["narrative"] = narrative
    return [entry]
