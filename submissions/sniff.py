"""What a file really is, from its first bytes; never from its name or the browser's claim."""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
from dataclasses import dataclass

import filetype
from django.utils.translation import gettext, gettext_noop

from programs.models import FileKind

SNIFF_BYTES = 8192

# MIME type → the kind of evidence it counts as.
KIND_BY_MIME: dict[str, str] = {
    "application/pdf": FileKind.DOCUMENT,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": FileKind.DOCUMENT,
    "application/msword": FileKind.DOCUMENT,
    "application/vnd.oasis.opendocument.text": FileKind.DOCUMENT,
    "application/rtf": FileKind.DOCUMENT,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        FileKind.PRESENTATION
    ),
    "application/vnd.ms-powerpoint": FileKind.PRESENTATION,
    "application/vnd.oasis.opendocument.presentation": FileKind.PRESENTATION,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": FileKind.SPREADSHEET,
    "application/vnd.ms-excel": FileKind.SPREADSHEET,
    "application/vnd.oasis.opendocument.spreadsheet": FileKind.SPREADSHEET,
    "text/csv": FileKind.SPREADSHEET,
    "image/jpeg": FileKind.IMAGE,
    "image/png": FileKind.IMAGE,
    "image/gif": FileKind.IMAGE,
    "image/webp": FileKind.IMAGE,
    "image/heic": FileKind.IMAGE,
    "image/heif": FileKind.IMAGE,
    "image/avif": FileKind.IMAGE,
    "audio/mpeg": FileKind.AUDIO,
    "audio/mp4": FileKind.AUDIO,
    "audio/x-m4a": FileKind.AUDIO,
    "audio/m4a": FileKind.AUDIO,
    "audio/x-wav": FileKind.AUDIO,
    "audio/wav": FileKind.AUDIO,
    "audio/ogg": FileKind.AUDIO,
    "audio/webm": FileKind.AUDIO,
    "audio/aac": FileKind.AUDIO,
    "audio/x-flac": FileKind.AUDIO,
    "video/mp4": FileKind.VIDEO,
    "video/quicktime": FileKind.VIDEO,
    "video/webm": FileKind.VIDEO,
    "video/x-m4v": FileKind.VIDEO,
    "video/x-msvideo": FileKind.VIDEO,
    "video/mpeg": FileKind.VIDEO,
}

# Also PDF counts as a presentation (slides exported to PDF).
EXTRA_KINDS: dict[str, set[str]] = {"application/pdf": {FileKind.PRESENTATION}}

# Names people understand, for messages.
FRIENDLY: dict[str, str] = {
    "application/pdf": gettext_noop("a PDF document"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": gettext_noop(
        "a Word document"
    ),
    "application/msword": gettext_noop("a Word document"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": gettext_noop(
        "an Excel spreadsheet"
    ),
    "application/vnd.ms-excel": gettext_noop("an Excel spreadsheet"),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        gettext_noop("a PowerPoint presentation")
    ),
    "application/vnd.ms-powerpoint": gettext_noop("a PowerPoint presentation"),
    "image/jpeg": gettext_noop("a JPEG image"),
    "image/png": gettext_noop("a PNG image"),
    "audio/mpeg": gettext_noop("an MP3 recording"),
    "video/mp4": gettext_noop("an MP4 video"),
    "video/quicktime": gettext_noop("a QuickTime (MOV) video"),
    "application/zip": gettext_noop("a ZIP archive"),
    "application/x-rar-compressed": gettext_noop("a RAR archive"),
    "application/x-7z-compressed": gettext_noop("a 7-Zip archive"),
    "application/gzip": gettext_noop("a gzip archive"),
    "application/x-tar": gettext_noop("a tar archive"),
    "application/x-executable": gettext_noop("a program (executable)"),
    "application/x-msdownload": gettext_noop("a Windows program (executable)"),
    "application/x-mach-binary": gettext_noop("a macOS program (executable)"),
    "application/x-sh": gettext_noop("a shell script"),
    "text/html": gettext_noop("an HTML page"),
    "image/svg+xml": gettext_noop("an SVG drawing (which can carry scripts)"),
    "text/plain": gettext_noop("a plain-text file"),
    "text/csv": gettext_noop("a CSV table"),
    "application/octet-stream": gettext_noop("a file of unknown type"),
}

# Never accepted as evidence, whatever the requirement: they run code in a browser or on a PC.
DANGEROUS = {
    "text/html",
    "image/svg+xml",
    "application/x-executable",
    "application/x-msdownload",
    "application/x-mach-binary",
    "application/x-sh",
    "application/javascript",
    "application/x-shockwave-flash",
}

# Types the browser may declare for each kind (checked when a slot is asked for).
DECLARED_OK_PREFIX: dict[str, tuple[str, ...]] = {
    FileKind.IMAGE: ("image/",),
    FileKind.AUDIO: ("audio/",),
    FileKind.VIDEO: ("video/",),
}

KIND_WORDS: dict[str, str] = {
    FileKind.DOCUMENT: gettext_noop("documents (PDF, Word)"),
    FileKind.PRESENTATION: gettext_noop("presentations (PowerPoint, PDF)"),
    FileKind.SPREADSHEET: gettext_noop("spreadsheets (Excel, CSV)"),
    FileKind.IMAGE: gettext_noop("images"),
    FileKind.AUDIO: gettext_noop("audio"),
    FileKind.VIDEO: gettext_noop("video"),
}


@dataclass(frozen=True)
class Sniffed:
    mime: str
    kinds: frozenset[str]

    @property
    def friendly(self) -> str:
        if self.mime in FRIENDLY:
            return gettext(FRIENDLY[self.mime])
        kind = next((kind for kind in KIND_NOUN if kind in self.kinds), None)
        if kind:
            return gettext(KIND_NOUN[kind]) + f" ({self.mime})"
        return gettext("a file of type %(mime)s") % {"mime": self.mime}


# "The file you sent is ..." (in FileKind order, so a file of several kinds reads the same always).
KIND_NOUN: dict[str, str] = {
    FileKind.DOCUMENT: gettext_noop("a document"),
    FileKind.PRESENTATION: gettext_noop("a presentation"),
    FileKind.SPREADSHEET: gettext_noop("a spreadsheet"),
    FileKind.IMAGE: gettext_noop("an image"),
    FileKind.AUDIO: gettext_noop("an audio recording"),
    FileKind.VIDEO: gettext_noop("a video"),
}


_HTML = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<script|<iframe)", re.I)
_SVG = re.compile(
    rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*(<!doctype\s+svg[^>]*>\s*)?<svg", re.I | re.S
)


def sniff(head: bytes) -> Sniffed:
    """Identify a file from its first bytes."""
    if not head:
        return Sniffed("application/x-empty", frozenset())
    if head.startswith(b"\x7fELF"):
        return Sniffed("application/x-executable", frozenset())
    if head.startswith(b"MZ"):
        return Sniffed("application/x-msdownload", frozenset())
    if head[:4] in (
        b"\xcf\xfa\xed\xfe",
        b"\xce\xfa\xed\xfe",
        b"\xfe\xed\xfa\xcf",
        b"\xca\xfe\xba\xbe",
    ):
        return Sniffed("application/x-mach-binary", frozenset())
    if head.startswith(b"#!"):
        return Sniffed("application/x-sh", frozenset())
    stripped = head.lstrip(b"\xef\xbb\xbf")
    if _SVG.match(stripped):
        return Sniffed("image/svg+xml", frozenset())
    if _HTML.match(stripped):
        return Sniffed("text/html", frozenset())
    guess = filetype.guess(head)
    if guess is None:
        if not _looks_like_text(head):
            return Sniffed("application/octet-stream", frozenset())
        if _looks_like_csv(head):
            return Sniffed("text/csv", frozenset({FileKind.SPREADSHEET}))
        return Sniffed("text/plain", frozenset())
    mime = guess.mime
    if mime == "application/zip":
        mime = _office_zip(head) or mime
    elif mime == "video/mp4" and (b"M4A " in head[:32] or _only_sound(head, _MP4_HANDLERS)):
        mime = "audio/mp4"
    elif mime == "video/webm" and _only_sound(head, _WEBM_CODECS):
        mime = "audio/webm"
    kinds = set()
    if mime in KIND_BY_MIME:
        kinds.add(KIND_BY_MIME[mime])
    kinds |= EXTRA_KINDS.get(mime, set())
    return Sniffed(mime, frozenset(kinds))


def _looks_like_text(head: bytes) -> bool:
    """UTF-8 without NUL bytes (the head may end in the middle of a character)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return b"\x00" not in head


def _looks_like_csv(head: bytes) -> bool:
    """At least two lines that split into the same number (two or more) of fields."""
    text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    lines = text.splitlines()
    if len(head) >= SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut short
    lines = [line for line in lines if line.strip()]
    if len(lines) < 2:
        return False
    for delimiter in (",", ";", "\t"):
        counts = {len(row) for row in csv.reader(lines, delimiter=delimiter)}
        if len(counts) == 1 and counts.pop() >= 2:
            return True
    return False


# Office Open XML parts by the folder they live in (any order in the archive).
_OOXML_FOLDERS: dict[bytes, str] = {
    b"word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    b"xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    b"ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


def _office_zip(head: bytes) -> str | None:
    """A Word, Excel or PowerPoint file whose parts are in an order ``filetype`` does not expect:
    look at the names of every entry that starts in the first bytes."""
    for match in re.finditer(rb"PK\x03\x04", head):
        start = match.start()
        if start + 30 > len(head):
            break
        length = int.from_bytes(head[start + 26 : start + 28], "little")
        name = head[start + 30 : start + 30 + length]
        for folder, mime in _OOXML_FOLDERS.items():
            if name.startswith(folder):
                return mime
    return None


# A container whose header names sound tracks and no picture tracks is an audio recording
# (a browser's MediaRecorder makes audio-only WebM; Android recorders make audio-only MP4).
_MP4_HANDLERS = (re.compile(rb"hdlr.{8}vide", re.S), re.compile(rb"hdlr.{8}soun", re.S))
_WEBM_CODECS = (re.compile(rb"\x86[\x81-\xff]V_"), re.compile(rb"\x86[\x81-\xff]A_"))


def _only_sound(head: bytes, patterns: tuple[re.Pattern[bytes], re.Pattern[bytes]]) -> bool:
    video, audio = patterns
    return audio.search(head) is not None and video.search(head) is None


def describe_kinds(kinds: list[str]) -> str:
    words = [gettext(KIND_WORDS[kind]) if kind in KIND_WORDS else kind for kind in kinds]
    if len(words) <= 1:
        return "".join(words)
    return gettext("%(kinds)s or %(last)s") % {"kinds": ", ".join(words[:-1]), "last": words[-1]}


def rejection_message(accepted: list[str], found: Sniffed) -> str | None:
    """None when the file is acceptable; otherwise what to tell the educator."""
    if found.mime == "application/x-empty":
        return gettext("The file is empty (0 bytes). Choose the file again and re-upload it.")
    if found.mime in DANGEROUS:
        return gettext("This file is %(what)s, which cannot be accepted as evidence.") % {
            "what": found.friendly
        }
    if not found.kinds & set(accepted):
        return gettext("This requirement accepts %(kinds)s; the file you sent is %(what)s.") % {
            "kinds": describe_kinds(accepted),
            "what": found.friendly,
        }
    return None


_UNSAFE = re.compile(r"[^\w.\- ()+,&'\[\]]+", re.UNICODE)

# Extensions that run code when the file is opened, or render as a web page that runs scripts.
# Evidence never needs them.
_RISKY_BY_GROUP = {
    "programs, installers, libraries": "exe com scr pif cpl msi msp msc dll sys drv ocx gadget "
    "app run bin elf appimage deb rpm dmg pkg apk xapk dex jar class",
    "scripts and shortcuts": "bat cmd js jse mjs vbs vbe wsf wsh ws hta ps1 psm1 psd1 ps2 sh "
    "bash zsh csh ksh command tool py pyw pl rb php lnk url reg inf",
    "web pages and drawings": "html htm xhtml xht shtml mht mhtml svg svgz xml xsl xslt swf",
    "macro-enabled Office files": "docm dotm xlsm xltm xlam pptm potm ppam sldm",
}
RISKY_EXTENSIONS = frozenset(
    extension for group in _RISKY_BY_GROUP.values() for extension in group.split()
)


def neutralise_name(name: str) -> str:
    """A file name that cannot run when opened: every extension of a program, script or web page
    loses its dot (``report.pdf.exe`` → ``report.pdf_exe``, ``page.html`` → ``page_html``), so
    no system opens it as one. Every other name is left exactly as it was."""
    stem, *extensions = name.split(".")
    return stem + "".join(
        ("_" if extension.lower() in RISKY_EXTENSIONS else ".") + extension
        for extension in extensions
    )


def display_name(raw: str) -> str:
    """A filename safe to show: no path, no control characters, no extension that runs code
    (``neutralise_name``), at most 120 characters."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" .")
    name = re.sub(r"\.{2,}", ".", name)
    if not name:
        name = "file"
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 110 - len(ext)] + dot + ext) if dot and len(ext) <= 8 else name[:120]
    return neutralise_name(name)
