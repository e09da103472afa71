"""Baked badge images: the signed credential carried inside the picture, so that the file an
educator downloads is itself verifiable (Open Badges 3.0 §5.3, "Baking").

- PNG: one ``iTXt`` chunk, keyword ``openbadgecredential``, uncompressed, whose text is the
  credential JSON. Any chunk of that keyword already in the image is dropped first.
- SVG: ``xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"`` on the root and
  ``<openbadges:credential>`` as its first child, the JSON in a CDATA section.
- PNG for Open Badges 2.0 backpacks (OB 2.0 "Baking"): the same kind of chunk with the keyword
  ``openbadges``, whose text is the hosted Assertion's URL (``OB2_KEYWORD``).

Chunks are written by hand (length, type, data, CRC-32) rather than through Pillow, so the
image data is copied byte for byte and never re-encoded.
"""

from __future__ import annotations

import base64
import io
import struct
import zlib
from html import escape
from xml.parsers import expat

from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYWORD = b"openbadgecredential"
OB2_KEYWORD = b"openbadges"
OB3_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
_TEXT_CHUNKS = (b"iTXt", b"tEXt", b"zTXt")


class BakingError(ValueError):
    """The bytes are not an image that can carry (or does carry) a credential."""


# --- PNG ------------------------------------------------------------------------------------


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """``(type, data)`` of every chunk, CRCs checked."""
    if not png.startswith(PNG_SIGNATURE):
        raise BakingError("Not a PNG image.")
    chunks: list[tuple[bytes, bytes]] = []
    offset = len(PNG_SIGNATURE)
    while offset < len(png):
        if offset + 8 > len(png):
            raise BakingError("The PNG image is truncated.")
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        end = offset + 8 + length
        if end + 4 > len(png):
            raise BakingError("The PNG image is truncated.")
        data = png[offset + 8 : end]
        (crc,) = struct.unpack(">I", png[end : end + 4])
        if zlib.crc32(kind + data) != crc:
            raise BakingError(f"The PNG chunk {kind.decode('latin-1')!r} is corrupt.")
        chunks.append((kind, data))
        offset = end + 4
        if kind == b"IEND":
            break
    if not chunks or chunks[0][0] != b"IHDR" or chunks[-1][0] != b"IEND":
        raise BakingError("The PNG image has no IHDR or IEND chunk.")
    return chunks


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _keyword(data: bytes) -> bytes:
    return data.split(b"\x00", 1)[0]


def _itxt_text(data: bytes) -> str:
    """The text of an ``iTXt`` chunk: keyword NUL flag method language NUL translated NUL."""
    try:
        _, rest = data.split(b"\x00", 1)
        compressed, _method = rest[0], rest[1]
        _language, rest = rest[2:].split(b"\x00", 1)
        _translated, text = rest.split(b"\x00", 1)
    except (ValueError, IndexError) as error:
        raise BakingError("A malformed iTXt chunk.") from error
    if compressed:
        text = zlib.decompress(text)
    return text.decode("utf-8")


def bake_png(png_bytes: bytes, credential_json_str: str, *, keyword: bytes = KEYWORD) -> bytes:
    """``png_bytes`` with the credential in one uncompressed ``iTXt openbadgecredential`` chunk
    (placed before ``IEND``; an earlier credential in the image is replaced). With
    ``keyword=OB2_KEYWORD``, the text is an OB 2.0 hosted Assertion's URL."""
    chunks = [
        (kind, data)
        for kind, data in _chunks(png_bytes)
        if not (kind in _TEXT_CHUNKS and _keyword(data) == keyword)
    ]
    itxt = keyword + b"\x00" + b"\x00\x00" + b"\x00" + b"\x00" + credential_json_str.encode()
    out = bytearray(PNG_SIGNATURE)
    for kind, data in chunks[:-1]:
        out += _chunk(kind, data)
    out += _chunk(b"iTXt", itxt)
    out += _chunk(*chunks[-1])
    return bytes(out)


def unbake_png(png_bytes: bytes, *, keyword: bytes = KEYWORD) -> str | None:
    """The credential baked into a PNG image, or ``None`` when there is none (``keyword=
    OB2_KEYWORD``: what an OB 2.0 baker put there, an Assertion URL or JSON)."""
    for kind, data in _chunks(png_bytes):
        if kind == b"iTXt" and _keyword(data) == keyword:
            return _itxt_text(data)
        if kind == b"tEXt" and _keyword(data) == keyword:  # lenient: a few bakers use tEXt
            return data.split(b"\x00", 1)[1].decode("latin-1")
    return None


# --- SVG ------------------------------------------------------------------------------------


def _cdata(text: str) -> str:
    """``text`` in CDATA; a ``]]>`` inside is split across two sections."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _png_size(png: bytes) -> tuple[int, int]:
    try:
        with Image.open(io.BytesIO(png)) as image:
            return image.size
    except OSError as error:
        raise BakingError("Not a PNG image.") from error


def bake_svg(
    credential_json_str: str, image_png_url_or_data: str | bytes, *, title: str = ""
) -> str:
    """An SVG badge carrying the credential: ``<openbadges:credential>`` first, then the
    picture as an ``<image>`` (PNG bytes are embedded as a ``data:`` URI; a string is used as
    the image's address as it is)."""
    width = height = 400
    if isinstance(image_png_url_or_data, bytes):
        width, height = _png_size(image_png_url_or_data)
        href = "data:image/png;base64," + base64.b64encode(image_png_url_or_data).decode("ascii")
    else:
        href = image_png_url_or_data
    title_element = f"<title>{escape(title)}</title>" if title else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'xmlns:openbadges="{OB3_NAMESPACE}" version="1.1" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
        f"<openbadges:credential>{_cdata(credential_json_str)}</openbadges:credential>"
        f"{title_element}"
        f'<image width="{width}" height="{height}" href="{escape(href)}" '
        f'xlink:href="{escape(href)}"/>'
        "</svg>\n"
    )


def _forbid_entities(*args: object) -> None:
    raise BakingError("The SVG declares entities; refusing to read it.")


def unbake_svg(svg: str | bytes) -> str | None:
    """The credential baked into an SVG image (JSON, or a compact JWT for the JWT form), or
    ``None`` when there is none.

    Read with expat (which never loads an external DTD), refusing entity declarations
    (billion laughs, external entities), as defusedxml does."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.EntityDeclHandler = _forbid_entities
    parser.UnparsedEntityDeclHandler = _forbid_entities
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    depth = 0
    root = ""
    inside = False
    found = False
    text: list[str] = []
    verify: list[str] = []  # the JWT form carries the credential in a ``verify`` attribute

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal depth, root, inside, found
        depth += 1
        if depth == 1:
            root = name
        elif depth == 2 and not found and name == f"{OB3_NAMESPACE} credential":
            inside = found = True
            if attributes.get("verify"):
                verify.append(attributes["verify"])

    def end(name: str) -> None:
        nonlocal depth, inside
        if depth == 2:
            inside = False
        depth -= 1

    def characters(data: str) -> None:
        if inside:
            text.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    try:
        parser.Parse(svg, True)
    except expat.ExpatError as error:
        raise BakingError("Not a well-formed SVG image.") from error
    if root != "http://www.w3.org/2000/svg svg":
        raise BakingError("Not an SVG image.")
    if not found:
        return None
    return "".join(text).strip() or (verify[0] if verify else "")
