"""What a file is, from its first bytes (no database, no storage)."""

from __future__ import annotations

import io
import zipfile

import pytest

from submissions import sniff
from tests.submissions.conftest import MP4, PDF, PNG, ZIP

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"


def zipped(*names: str, mimetype: str | None = None) -> bytes:
    """An archive made the way office suites make theirs, in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if mimetype:  # OpenDocument: the first entry, stored, names the type
            archive.writestr(zipfile.ZipInfo("mimetype"), mimetype, zipfile.ZIP_STORED)
        for name in names:
            archive.writestr(name, "<?xml version='1.0'?><x>" + "y" * 200 + "</x>")
    return buffer.getvalue()


def ftyp(major: bytes, *compatible: bytes, rest: bytes = b"") -> bytes:
    """An ISO base media file (MP4, MOV, M4A, HEIC) starting with its ftyp box."""
    body = b"ftyp" + major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return (len(body) + 4).to_bytes(4, "big") + body + rest + b"\x00" * 400


EBML = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + b"\x00" * 20
MP4_SOUND_ONLY = b"\x00\x00\x00\x21hdlr" + b"\x00" * 8 + b"soun"

CASES = [
    # (name, first bytes, MIME, kinds)
    ("pdf", PDF, "application/pdf", {"document", "presentation"}),
    (
        "docx",
        zipped("[Content_Types].xml", "_rels/.rels", "word/document.xml"),
        DOCX,
        {"document"},
    ),
    (
        "xlsx",
        zipped("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml"),
        XLSX,
        {"spreadsheet"},
    ),
    (
        "pptx",
        zipped("[Content_Types].xml", "_rels/.rels", "ppt/presentation.xml"),
        PPTX,
        {"presentation"},
    ),
    (
        # Word part after six others: past where `filetype` looks, found by our own reading
        "docx with its parts in another order",
        zipped(
            "[Content_Types].xml",
            "_rels/.rels",
            "docProps/app.xml",
            "docProps/core.xml",
            "customXml/item1.xml",
            "customXml/itemProps1.xml",
            "word/document.xml",
        ),
        DOCX,
        {"document"},
    ),
    ("odt", zipped("content.xml", mimetype=ODT), ODT, {"document"}),
    ("csv", b"name,score\nAna,3\nBo,4\n", "text/csv", {"spreadsheet"}),
    ("csv with semicolons", b"\xef\xbb\xbfname;score\nAna;3\n", "text/csv", {"spreadsheet"}),
    ("png", PNG, "image/png", {"image"}),
    ("jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 100, "image/jpeg", {"image"}),
    ("gif", b"GIF89a\x01\x00\x01\x00" + b"\x00" * 100, "image/gif", {"image"}),
    ("webp", b"RIFF\x24\x08\x00\x00WEBPVP8 " + b"\x00" * 100, "image/webp", {"image"}),
    ("heic", ftyp(b"heic", b"mif1", b"heic"), "image/heic", {"image"}),
    ("mp3", b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 100, "audio/mpeg", {"audio"}),
    ("m4a", ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"), "audio/mp4", {"audio"}),
    ("mp4 with only sound", ftyp(b"mp42", b"isom", rest=MP4_SOUND_ONLY), "audio/mp4", {"audio"}),
    ("wav", b"RIFF\x24\x08\x00\x00WAVEfmt " + b"\x00" * 100, "audio/x-wav", {"audio"}),
    ("webm audio recording", EBML + b"\x86\x86A_OPUS", "audio/webm", {"audio"}),
    ("webm video", EBML + b"\x86\x85V_VP8\x86\x86A_OPUS", "video/webm", {"video"}),
    ("mp4", MP4, "video/mp4", {"video"}),
    ("mov", ftyp(b"qt  ", b"qt  "), "video/quicktime", {"video"}),
    # nothing any requirement accepts
    ("zip", ZIP, "application/zip", set()),
    ("plain text", "Notes on my lesson, in Español.\n".encode(), "text/plain", set()),
    ("empty", b"", "application/x-empty", set()),
    ("html", b"\xef\xbb\xbf \r\n\t<!DOCTYPE html><html><script>", "text/html", set()),
    ("html without doctype", b"\n\n  <HTML><body onload=x()>", "text/html", set()),
    (
        "svg with xml prolog",
        b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- drawn -->\n<svg xmlns="http://www.w3.org/2000/svg">',
        "image/svg+xml",
        set(),
    ),
    ("windows program", b"MZ\x90\x00\x03\x00" + b"\x00" * 60, "application/x-msdownload", set()),
    (
        "macos program",
        b"\xcf\xfa\xed\xfe\x07\x00" + b"\x00" * 60,
        "application/x-mach-binary",
        set(),
    ),
    ("linux program", b"\x7fELF\x02\x01\x01" + b"\x00" * 60, "application/x-executable", set()),
    ("shell script", b"#!/bin/sh\nrm -rf ~\n", "application/x-sh", set()),
]


@pytest.mark.parametrize(
    ("head", "mime", "kinds"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_file_is_known_by_its_first_bytes(head: bytes, mime: str, kinds: set[str]) -> None:
    # when the first bytes are sniffed
    found = sniff.sniff(head[: sniff.SNIFF_BYTES])
    # then the type and the kinds of evidence it counts as come from the bytes alone
    assert found.mime == mime
    assert set(found.kinds) == kinds


def test_text_cut_in_the_middle_of_a_character_is_still_text() -> None:
    # given the first bytes of a long French text, ending inside a two-byte "ç" or "é"
    text = ("Une leçon réussie. " * 1000).encode()
    cut = next(n for n in range(sniff.SNIFF_BYTES, 0, -1) if text[n - 1] == 0xC3)
    head = text[:cut]
    # then it is plain text, not "a file of unknown type"
    assert sniff.sniff(head).mime == "text/plain"


def test_prose_with_commas_is_not_a_csv_table() -> None:
    found = sniff.sniff(b"First, we read.\nThen we wrote, drew, and talked.\n")
    assert found.mime == "text/plain"


@pytest.mark.parametrize(
    ("head", "words"),
    [
        (ZIP, "a ZIP archive"),
        (b"<html><body>", "an HTML page"),
        (b"<svg onload=alert(1)>", "an SVG drawing"),
        (b"\x7fELF", "a program (executable)"),
        (b"MZ", "a Windows program"),
        (MP4, "an MP4 video"),
        (b"hello", "a plain-text file"),
    ],
)
def test_a_refusal_says_what_the_file_really_is(head: bytes, words: str) -> None:
    message = sniff.rejection_message(["document"], sniff.sniff(head))
    assert message is not None and words in message


def test_a_refusal_names_what_the_requirement_accepts() -> None:
    message = sniff.rejection_message(["document", "image"], sniff.sniff(MP4))
    assert message == (
        "This requirement accepts documents (PDF, Word) or images; "
        "the file you sent is an MP4 video."
    )


def test_an_accepted_file_has_no_refusal() -> None:
    assert sniff.rejection_message(["presentation"], sniff.sniff(PDF)) is None


def test_html_is_refused_even_where_anything_would_do() -> None:
    everything = ["document", "presentation", "spreadsheet", "image", "audio", "video"]
    message = sniff.rejection_message(everything, sniff.sniff(b"<!doctype html>"))
    assert message == "This file is an HTML page, which cannot be accepted as evidence."


def test_an_empty_file_is_refused_with_how_to_fix_it() -> None:
    message = sniff.rejection_message(["document"], sniff.sniff(b""))
    assert message == "The file is empty (0 bytes). Choose the file again and re-upload it."


class TestDisplayName:
    @pytest.mark.parametrize(
        ("raw", "shown"),
        [
            ("Lesson plan.pdf", "Lesson plan.pdf"),
            ("../../etc/passwd", "passwd"),
            ("..\\..\\Windows\\system.ini", "system.ini"),
            ("C:\\Users\\ana\\Desktop\\Plan (final).docx", "Plan (final).docx"),
            ("report\x00.pdf", "report.pdf"),
            ("two\nlines\r.pdf", "twolines.pdf"),
            # the right-to-left override would show "invoice_fdp.exe" as "invoice_exe.pdf"
            ("invoice_\u202efdp.exe", "invoice_fdp_exe"),
            ("<b>Plan</b> & notes.png", "b_ & notes.png"),  # "/" ends a folder name
            ("<img src=x onerror=alert(1)>.png", "_img src_x onerror_alert(1)_.png"),
            ("Réflexion été.pdf", "Réflexion été.pdf"),
            ("plan...pdf", "plan.pdf"),
            (".hidden", "hidden"),
            ("", "file"),
            ("..", "file"),
            ("   ", "file"),
            ("\u202e", "file"),
        ],
    )
    def test_names_are_safe_to_show(self, raw: str, shown: str) -> None:
        assert sniff.display_name(raw) == shown

    def test_very_long_names_keep_their_extension(self) -> None:
        name = sniff.display_name("Unit plan " * 40 + ".docx")
        assert len(name) <= 120
        assert name.startswith("Unit plan Unit plan")
        assert name.endswith(".docx")

    def test_very_long_names_without_an_extension_are_cut(self) -> None:
        assert sniff.display_name("a" * 300) == "a" * 120
