"""What a file really is, from its first bytes; never from its name or the browser's claim."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import filetype

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
    "image/jpeg": FileKind.IMAGE,
    "image/png": FileKind.IMAGE,
    "image/gif": FileKind.IMAGE,
    "image/webp": FileKind.IMAGE,
    "image/heic": FileKind.IMAGE,
    "image/heif": FileKind.IMAGE,
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
    "application/pdf": "a PDF document",
    "application/zip": "a ZIP archive",
    "application/x-rar-compressed": "a RAR archive",
    "application/x-7z-compressed": "a 7-Zip archive",
    "application/gzip": "a gzip archive",
    "application/x-tar": "a tar archive",
    "application/x-executable": "a program (executable)",
    "application/x-msdownload": "a Windows program (executable)",
    "application/x-mach-binary": "a macOS program (executable)",
    "application/x-sh": "a shell script",
    "text/html": "an HTML page",
    "image/svg+xml": "an SVG drawing (which can carry scripts)",
    "text/plain": "a plain-text file",
    "application/octet-stream": "a file of unknown type",
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
    FileKind.DOCUMENT: "documents (PDF, Word)",
    FileKind.PRESENTATION: "presentations (PowerPoint, PDF)",
    FileKind.SPREADSHEET: "spreadsheets (Excel)",
    FileKind.IMAGE: "images",
    FileKind.AUDIO: "audio",
    FileKind.VIDEO: "video",
}


@dataclass(frozen=True)
class Sniffed:
    mime: str
    kinds: frozenset[str]

    @property
    def friendly(self) -> str:
        if self.mime in FRIENDLY:
            return FRIENDLY[self.mime]
        kind = next(iter(self.kinds), None)
        if kind:
            return f"{KIND_WORDS[kind].split(' (')[0].rstrip('s')} file ({self.mime})"
        return f"a {self.mime} file"


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
        mime = "text/plain" if _looks_like_text(head) else "application/octet-stream"
        return Sniffed(mime, frozenset())
    mime = guess.mime
    if mime == "video/mp4" and b"M4A " in head[:32]:
        mime = "audio/mp4"
    kinds = set()
    if mime in KIND_BY_MIME:
        kinds.add(KIND_BY_MIME[mime])
    kinds |= EXTRA_KINDS.get(mime, set())
    return Sniffed(mime, frozenset(kinds))


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in head


def describe_kinds(kinds: list[str]) -> str:
    words = [KIND_WORDS.get(kind, kind) for kind in kinds]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def rejection_message(accepted: list[str], found: Sniffed) -> str | None:
    """None when the file is acceptable; otherwise what to tell the educator."""
    if found.mime == "application/x-empty":
        return "The file is empty (0 bytes). Choose the file again and re-upload it."
    if found.mime in DANGEROUS:
        return f"This file is {found.friendly}, which cannot be accepted as evidence."
    if not found.kinds & set(accepted):
        return (
            f"This requirement accepts {describe_kinds(accepted)}; "
            f"the file you sent is {found.friendly}."
        )
    return None


_UNSAFE = re.compile(r"[^\w.\- ()+,&'\[\]]+", re.UNICODE)


def display_name(raw: str) -> str:
    """A filename safe to show: no path, no control characters, at most 120 characters."""
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
    return name
