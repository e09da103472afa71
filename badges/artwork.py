"""Badge images: the image a program admin uploaded, or a generated one in the organization's
colour (so every badge has a PNG to show, share and bake)."""

from __future__ import annotations

import base64
import io
import textwrap
from functools import lru_cache
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFont

from programs import artwork as program_artwork
from programs.artwork import PNG, SVG

if TYPE_CHECKING:
    from programs.models import CredentialVersion, Organization, Pathway

    from .models import Badge

SIZE = 400


@lru_cache(maxsize=256)
def generated_png(title: str, organization: str, colour: str) -> bytes:
    """A round badge: the organization's colour, a white ring, the title and the issuer."""
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, SIZE - 8, SIZE - 8), fill=colour)
    draw.ellipse((28, 28, SIZE - 28, SIZE - 28), outline="white", width=6)
    title_font = ImageFont.load_default(size=30)
    small_font = ImageFont.load_default(size=18)
    lines = textwrap.wrap(title, width=16)[:4]
    line_height = 36
    top = SIZE // 2 - (len(lines) * line_height) // 2 - 14
    for number, line in enumerate(lines):
        draw.text(
            (SIZE // 2, top + number * line_height),
            line,
            fill="white",
            font=title_font,
            anchor="ma",
        )
    draw.text(
        (SIZE // 2, SIZE - 92),
        textwrap.shorten(organization, 30),
        fill="white",
        font=small_font,
        anchor="ma",
    )
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def as_png(data: bytes) -> bytes:
    """An uploaded badge image converted to PNG (uploads may be JPEG or WebP)."""
    with Image.open(io.BytesIO(data)) as image:
        if image.format == "PNG":
            return data
        out = io.BytesIO()
        image.convert("RGBA").save(out, format="PNG")
        return out.getvalue()


def _design(version: CredentialVersion, organization: Organization) -> program_artwork.Design:
    return program_artwork.Design.of(version.badge_design or {}, organization.brand_colour)


def _uploaded(version: CredentialVersion) -> bytes:
    with version.badge_image.open("rb") as handle:
        return handle.read()


def version_image(version: CredentialVersion, organization: Organization) -> tuple[bytes, str]:
    """A credential version's badge as served (bytes, media type): the designed artwork as SVG,
    the uploaded PNG or SVG as it was checked, or the PNG generated in the brand colour."""
    if version.badge_design:
        alt = version.badge_image_alt or version.title
        return program_artwork.design_svg(_design(version, organization), alt).encode(), SVG
    if version.badge_image and version.badge_image.name.endswith(".svg"):
        return _uploaded(version), SVG
    return version_png(version, organization), PNG  # an older JPEG or WebP upload as PNG


def version_png(version: CredentialVersion, organization: Organization) -> bytes:
    """A credential version's badge as PNG (what badges are baked into): the designed artwork
    drawn by Pillow, its uploaded PNG, its uploaded SVG drawn by resvg, or one generated in the
    brand colour."""
    if version.badge_design:
        return program_artwork.design_png(_design(version, organization))
    if version.badge_image and version.badge_image.name.endswith(".svg"):
        return program_artwork.svg_png(_uploaded(version))
    if version.badge_image:
        return as_png(_uploaded(version))
    return generated_png(
        version.title, organization.short_name or organization.name, organization.brand_colour
    )


def pathway_png(pathway: Pathway, organization: Organization) -> bytes:
    """A pathway certificate's badge: its uploaded image, or a generated one."""
    if pathway.badge_image:
        with pathway.badge_image.open("rb") as handle:
            return as_png(handle.read())
    return generated_png(
        pathway.certificate_name or pathway.name,
        organization.short_name or organization.name,
        organization.brand_colour,
    )


def achievement_png(badge: Badge) -> bytes:
    """The image of what ``badge`` was awarded for (the PNG its credential's achievement names),
    the base of its baked images."""
    if badge.pathway is not None:
        return pathway_png(badge.pathway, badge.organization)
    if badge.version is None:
        raise ValueError("A credential badge without a credential version.")
    return version_png(badge.version, badge.organization)


def achievement_svg_href(badge: Badge) -> str | None:
    """The achievement's artwork as an SVG ``data:`` URI, for the baked SVG (an ``<image>``
    shows it as a picture, never running anything), or ``None`` when its artwork is a PNG."""
    if badge.pathway is not None or badge.version is None:
        return None
    data, media_type = version_image(badge.version, badge.organization)
    if media_type != SVG:
        return None
    return "data:image/svg+xml;base64," + base64.b64encode(data).decode("ascii")
