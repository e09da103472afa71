"""Reading a roster file: CSV (UTF-8) or XLSX, its kind, its records streamed, and a guess of
which column is which from the headers. A file that cannot be read is a ``RosterFileError`` with
a message that says what to do; nothing is kept."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from typing import IO, Any

from django.utils.translation import gettext

from credentials_site.exceptions import ApplicationError

from ..errors import ProgramErrorCode
from .members import ROW_FIELDS

ROSTER_MAX_BYTES = 20 * 1024 * 1024

HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "years_experience": (
        "yearsofexperience",
        "yearsexperience",
        "experience",
        "years",
        "yearsteaching",
        "teachingyears",
    ),
    "school_level": ("schoollevel", "level", "gradelevel", "gradeband"),
    "title_i": ("titlei", "title1", "titleischool", "title1school"),
    "email": ("email", "emailaddress", "mail", "workemail", "schoolemail", "memberemail"),
    "given_name": ("givenname", "firstname", "first", "forename", "given"),
    "family_name": ("familyname", "lastname", "last", "surname", "family"),
    "school": ("school", "schoolname", "building", "campus", "site"),
    "district": ("district", "districtname", "schooldistrict", "lea", "organization"),
    "position": ("position", "role", "title", "jobtitle", "roleposition", "job"),
    "member_number": (
        "membernumber",
        "member",
        "memberno",
        "memberid",
        "membershipnumber",
        "membershipid",
        "number",
        "id",
    ),
    "starts_on": (
        "membershipstart",
        "start",
        "startdate",
        "membersince",
        "joined",
        "since",
        "startson",
    ),
    "expires_on": (
        "membershipexpiry",
        "expiry",
        "expires",
        "expiration",
        "expirationdate",
        "expirydate",
        "enddate",
        "end",
        "validuntil",
        "memberuntil",
        "expireson",
    ),
}


class RosterFileError(ApplicationError):
    """The file cannot be read as a roster: nothing is kept or changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code=ProgramErrorCode.INVALID, fields={"file": [message]})


# --- Reading a file ------------------------------------------------------------------------------


def roster_file_kind(file_name: str, data: bytes) -> str:
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if data[:4] == b"\xd0\xcf\x11\xe0":
        raise RosterFileError(
            gettext(
                "Excel 97-2003 workbooks (.xls) cannot be read: save it as .xlsx or as CSV UTF-8."
            )
        )
    if data[:4] == b"PK\x03\x04":
        if extension not in ("xlsx", ""):
            raise _wrong_kind(extension)
        return "xlsx"
    if extension not in ("csv", "txt", "tsv", ""):
        raise _wrong_kind(extension)
    return "csv"


def _wrong_kind(extension: str) -> RosterFileError:
    return RosterFileError(
        gettext(
            "Upload a CSV (.csv) or Excel workbook (.xlsx) file (this is a .%(extension)s file)."
        )
        % {"extension": extension}
    )


def _csv_text(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        byte = data[error.start : error.start + 1].hex()
        raise RosterFileError(
            gettext(
                "The file is not UTF-8 text: byte 0x%(byte)s at position %(position)s is not "
                "UTF-8. Save it from your spreadsheet as “CSV UTF-8 (comma delimited)” (or as "
                ".xlsx) and upload it again."
            )
            % {"byte": byte, "position": error.start}
        ) from None
    if "\x00" in text:
        raise RosterFileError(
            gettext(
                "Upload a CSV (.csv) or Excel workbook (.xlsx) file: this one holds binary data."
            )
        )
    return text


def _csv_stream(file: IO[bytes], head: bytes) -> Iterator[list[Any]]:
    """The records of a file already known to be UTF-8 text (checked at upload), decoded as they
    are read: the file is never held whole, as bytes or as text."""
    stream = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")  # type: ignore[type-var]
    reader = csv.reader(stream, _dialect(head.decode("utf-8-sig", errors="ignore")))
    try:
        yield from reader
    except (csv.Error, UnicodeDecodeError) as error:
        raise RosterFileError(_unreadable_line(reader.line_num, error)) from None


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        return csv.excel


def _csv_records(text: str) -> Iterator[list[Any]]:
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text))
    try:
        yield from reader
    except csv.Error as error:
        raise RosterFileError(_unreadable_line(reader.line_num, error)) from None


def _unreadable_line(number: int, error: Exception) -> str:
    return gettext(
        "Upload a CSV (.csv) or Excel workbook (.xlsx) file: line %(line)s cannot be read "
        "(%(error)s)."
    ) % {"line": number, "error": error}


def _xlsx_records(file: IO[bytes]) -> tuple[Iterator[list[Any]], int]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        total = int(sheet.max_row or 0)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError, TypeError) as error:
        raise RosterFileError(
            gettext(
                "Upload a CSV (.csv) or Excel workbook (.xlsx) file: this workbook cannot be "
                "read (%(error)s)."
            )
            % {"error": type(error).__name__}
        ) from None

    def records() -> Iterator[list[Any]]:
        try:
            for values in sheet.iter_rows(values_only=True):
                yield list(values)
        finally:
            workbook.close()

    return records(), total


def roster_records(*, file_kind: str, data: bytes) -> Iterator[list[Any]]:
    """The records of an uploaded file (the header first), checked as they are read: a CSV must
    be UTF-8 text."""
    if file_kind == "xlsx":
        return _xlsx_records(io.BytesIO(data))[0]
    return _csv_records(_csv_text(data))


def roster_records_stream(
    *, file_kind: str, file: IO[bytes], size: int
) -> tuple[Iterator[list[Any]], int]:
    """The records of a file read at upload already, streamed from ``file`` (seekable), and
    about how many there are (for a progress bar)."""
    if file_kind == "xlsx":
        return _xlsx_records(file)
    head = file.read(65536)
    file.seek(0)
    if len(head) >= size:
        return _csv_stream(file, head), head.count(b"\n") + 1
    return _csv_stream(file, head), size * head.count(b"\n") // max(len(head), 1) + 1


def _normal(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def roster_mapping_guess(headers: list[str]) -> dict[str, int | None]:
    """Which column each field is, from the headers (each column for one field at most)."""
    normal = [_normal(h) for h in headers]
    mapping: dict[str, int | None] = {}
    taken: set[int] = set()
    for name in ROW_FIELDS:
        found = None
        for synonym in HEADER_SYNONYMS[name]:
            found = next((i for i, h in enumerate(normal) if h == synonym and i not in taken), None)
            if found is not None:
                break
        mapping[name] = found
        if found is not None:
            taken.add(found)
    return mapping


def roster_header(value: Any, index: int) -> str:
    text = " ".join(str(value).split()) if value is not None else ""
    return text[:100] or gettext("Column %(number)s") % {"number": index + 1}


def cell_filled(value: Any) -> bool:
    return value is not None and str(value).strip() != ""
