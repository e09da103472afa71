"""Badge artwork a program admin gives a credential version: an uploaded PNG or SVG, checked by
its content, or one designed from templates (shape, icon, title, level) in the organization's
brand colour, drawn here as SVG (what is served) and as PNG (what badges are baked into)."""

from __future__ import annotations

import io
import math
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from typing import Any

import defusedxml.ElementTree as SafeXML
import resvg_py
from defusedxml import DefusedXmlException
from PIL import Image, ImageDraw, ImageFont

MAX_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 2048
PNG = "image/png"
SVG = "image/svg+xml"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"
SIZE = 400

SHAPES = {"circle": "Circle", "shield": "Shield", "hexagon": "Hexagon"}
ICONS = {"star": "Star", "check": "Check mark", "book": "Book", "arrow": "Arrow up"}


class ArtworkError(ValueError):
    """An upload that cannot be a badge's artwork; ``message`` says why, for the admin."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- Checking an upload ---------------------------------------------------------------------


def artwork_check(data: bytes) -> str:
    """The media type of an uploaded badge image (``PNG`` or ``SVG``), judged by its content;
    ``ArtworkError`` when it is too large, not an image, or an SVG that could run script, load
    anything from elsewhere or not be drawn."""
    if len(data) > MAX_BYTES:
        raise ArtworkError("The image is larger than 2 MB, the limit for badge artwork.")
    if data.startswith(PNG_SIGNATURE):
        _check_png(data)
        return PNG
    _check_svg(data)
    svg_png(data, size=64)  # it can be drawn into the baked PNG badges
    return SVG


def _check_png(data: bytes) -> None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            size = image.size
            image.verify()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ArtworkError("The PNG image could not be read; export it again.") from error
    if max(size) > MAX_PIXELS:
        raise ArtworkError(
            f"The image is {size[0]} by {size[1]} pixels; badge artwork may be at most "
            f"{MAX_PIXELS} by {MAX_PIXELS}."
        )


_REFERENCES = {"href", "src"}
_SAFE_DATA = ("data:image/png", "data:image/jpeg")


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


def _check_svg(data: bytes) -> None:
    try:
        root = SafeXML.fromstring(data, forbid_dtd=True)
    except (SafeXML.ParseError, DefusedXmlException, ValueError) as error:
        raise ArtworkError(
            "The file is neither a PNG nor a well-formed SVG image (SVG with a DTD or entities "
            "is refused)."
        ) from error
    if root.tag != f"{SVG_NAMESPACE}svg":
        raise ArtworkError("The file is neither a PNG nor an SVG image.")
    for element in root.iter():
        tag = _local(str(element.tag))
        if tag == "script":
            raise ArtworkError("The SVG contains a script; remove it and upload again.")
        if tag == "foreignobject":
            raise ArtworkError("The SVG contains a <foreignObject>, which is not allowed.")
        animates_reference = _local(element.get("attributeName", "")) in _REFERENCES
        for name, value in element.attrib.items():
            _check_attribute(_local(name), value, animates_reference)
        if tag == "style" and element.text:
            _check_style(element.text)


def _check_attribute(name: str, value: str, animates_reference: bool) -> None:
    compact = "".join(value.split()).lower()
    if name.startswith("on"):
        raise ArtworkError(
            f"The SVG has an event handler ({name}), which could run script; remove it."
        )
    if "javascript:" in compact:
        raise ArtworkError("The SVG contains a javascript: address, which is not allowed.")
    referring = name in _REFERENCES or (animates_reference and name in {"to", "from", "values"})
    if referring and not (compact.startswith("#") or compact.startswith(_SAFE_DATA)):
        raise ArtworkError(
            "The SVG refers to something outside the file "
            f"({name}=“{value[:60]}”); embed it or remove it."
        )
    if name == "style":
        _check_style(value)


def _check_style(css: str) -> None:
    compact = "".join(css.split()).lower()
    if "@import" in compact:
        raise ArtworkError("The SVG's style imports another style sheet, which is not allowed.")
    for part in compact.split("url(")[1:]:
        target = part.strip("'\"")
        if not (target.startswith("#") or target.startswith(_SAFE_DATA)):
            raise ArtworkError(
                "The SVG's style refers to something outside the file; embed it or remove it."
            )


# --- Designing one --------------------------------------------------------------------------


@dataclass(frozen=True)
class Design:
    shape: str
    icon: str
    title: str
    level: str
    colour: str

    @classmethod
    def of(cls, design: dict[str, Any], colour: str) -> Design:
        return cls(
            shape=design.get("shape", "circle"),
            icon=design.get("icon", "star"),
            title=design.get("title", ""),
            level=design.get("level", ""),
            colour=colour,
        )


Point = tuple[float, float]


def _regular(sides: int, radius: float, rotation: float) -> list[Point]:
    centre = SIZE / 2
    return [
        (
            centre + radius * math.cos(rotation + 2 * math.pi * k / sides),
            centre + radius * math.sin(rotation + 2 * math.pi * k / sides),
        )
        for k in range(sides)
    ]


def _shape(shape: str, inset: float) -> list[Point] | None:
    """The outline of a shape as a polygon (``None``: a circle), ``inset`` pixels in."""
    if shape == "hexagon":
        return _regular(6, SIZE / 2 - 8 - inset, -math.pi / 2)
    if shape == "shield":
        top, side, bottom = 14 + inset, 30 + inset, SIZE - 10 - inset * 1.6
        return [
            (side, top),
            (SIZE - side, top),
            (SIZE - side, 220 - inset * 0.3),
            (SIZE / 2, bottom),
            (side, 220 - inset * 0.3),
        ]
    return None


def _icon(icon: str) -> list[list[Point]]:
    """The icon's polygons, in a 100-pixel box centred above the title."""
    left, top = SIZE / 2 - 50, 62
    shapes: list[list[Point]]
    if icon == "check":
        shapes = [[(8, 52), (22, 38), (40, 56), (80, 16), (94, 30), (40, 84)]]
    elif icon == "book":
        shapes = [
            [(4, 20), (46, 28), (46, 90), (4, 82)],
            [(54, 28), (96, 20), (96, 82), (54, 90)],
        ]
    elif icon == "arrow":
        shapes = [[(50, 6), (92, 50), (66, 50), (66, 94), (34, 94), (34, 50), (8, 50)]]
    else:  # star
        shapes = [
            [
                (
                    50 + (46 if k % 2 == 0 else 19) * math.cos(-math.pi / 2 + math.pi * k / 5),
                    52 + (46 if k % 2 == 0 else 19) * math.sin(-math.pi / 2 + math.pi * k / 5),
                )
                for k in range(10)
            ]
        ]
    return [[(left + x, top + y) for x, y in polygon] for polygon in shapes]


def _title_lines(title: str) -> list[str]:
    return textwrap.wrap(title, width=18)[:3]


def _points(polygon: list[Point]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in polygon)


def _svg_outline(shape: str, inset: float, attributes: str) -> str:
    polygon = _shape(shape, inset)
    if polygon is None:
        return f'<circle cx="{SIZE / 2}" cy="{SIZE / 2}" r="{SIZE / 2 - 8 - inset}" {attributes}/>'
    return f'<polygon points="{_points(polygon)}" {attributes}/>'


@lru_cache(maxsize=256)
def design_svg(design: Design, alt: str) -> str:
    """The designed badge as an SVG document (no script, no reference outside it)."""
    colour = escape(design.colour)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" '
        f'viewBox="0 0 {SIZE} {SIZE}" role="img">',
        f"<title>{escape(alt)}</title>",
        _svg_outline(design.shape, 0, f'fill="{colour}"'),
        _svg_outline(design.shape, 20, 'fill="none" stroke="#ffffff" stroke-width="6"'),
        *(f'<polygon points="{_points(p)}" fill="#ffffff"/>' for p in _icon(design.icon)),
    ]
    lines = _title_lines(design.title)
    for number, line in enumerate(lines):
        parts.append(
            f'<text x="{SIZE // 2}" y="{205 + number * 34}" fill="#ffffff" font-size="28" '
            'font-family="Helvetica, Arial, sans-serif" font-weight="bold" '
            f'text-anchor="middle">{escape(line)}</text>'
        )
    if design.level:
        parts.append(
            f'<text x="{SIZE // 2}" y="{215 + len(lines) * 34}" fill="#ffffff" font-size="18" '
            'font-family="Helvetica, Arial, sans-serif" '
            f'text-anchor="middle">{escape(design.level)}</text>'
        )
    parts.append("</svg>\n")
    return "".join(parts)


@lru_cache(maxsize=256)
def design_png(design: Design) -> bytes:
    """The same design drawn by Pillow, for the baked PNG and SVG images."""
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    outer, inner = _shape(design.shape, 0), _shape(design.shape, 20)
    if outer is None or inner is None:
        draw.ellipse((8, 8, SIZE - 8, SIZE - 8), fill=design.colour)
        draw.ellipse((28, 28, SIZE - 28, SIZE - 28), outline="white", width=6)
    else:
        draw.polygon(outer, fill=design.colour)
        draw.polygon(inner, outline="white", width=6)
    for polygon in _icon(design.icon):
        draw.polygon(polygon, fill="white")
    title_font = ImageFont.load_default(size=28)
    lines = _title_lines(design.title)
    for number, line in enumerate(lines):
        draw.text((SIZE // 2, 205 + number * 34), line, fill="white", font=title_font, anchor="ms")
    if design.level:
        draw.text(
            (SIZE // 2, 215 + len(lines) * 34),
            design.level,
            fill="white",
            font=ImageFont.load_default(size=18),
            anchor="ms",
        )
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def svg_png(data: bytes, *, size: int = SIZE) -> bytes:
    """An uploaded SVG (checked by ``image_type``: no script, nothing outside the file) drawn as
    a PNG ``size`` pixels wide, keeping its proportions: what badges are baked into. resvg (a
    Rust renderer shipped in its wheel, no system library) draws it; ``ArtworkError`` when it
    cannot."""
    try:
        return bytes(resvg_py.svg_to_bytes(svg_string=data.decode("utf-8"), width=size))
    except (UnicodeDecodeError, ValueError, RuntimeError) as error:
        raise ArtworkError("The SVG could not be drawn as a picture.") from error
