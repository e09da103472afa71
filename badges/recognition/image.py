"""The share image of a school's recognition page (1200 by 630 pixels, the size link previews
use): the school's name and how many badges its staff celebrate, on the organization's colour,
with the artwork of the newest few (``badges.artwork.achievement_png``, the badges' own
pictures). No names: the picture may be posted anywhere."""

from __future__ import annotations

import io
import textwrap

from django.utils.translation import ngettext
from PIL import Image, ImageDraw, ImageFont

from credentials_site.tenancy import cross_organization

from ..artwork import achievement_png
from ..directory.selectors import PUBLIC_BADGES
from ..models import Badge

WIDTH, HEIGHT = 1200, 630
ART = 200  # each badge's artwork, square
SHOWN = 4


def share_png(
    *, school_name: str, organization_name: str, colour: str, badges: list[Badge], total: int
) -> bytes:
    """The PNG; ``badges`` the newest celebrated ones (their artwork is drawn, up to four)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), colour)
    draw = ImageDraw.Draw(image)
    title = ImageFont.load_default(size=56)
    body = ImageFont.load_default(size=34)
    small = ImageFont.load_default(size=26)
    y = 60
    for line in textwrap.wrap(school_name, width=34)[:2]:
        draw.text((60, y), line, fill="white", font=title)
        y += 68
    count = ngettext(
        "%(count)s badge earned by our educators",
        "%(count)s badges earned by our educators",
        total,
    ) % {"count": total}
    draw.text((60, y + 10), count, fill="white", font=body)
    draw.text((60, HEIGHT - 60), textwrap.shorten(organization_name, 70), fill="white", font=small)
    x = 60
    with cross_organization(PUBLIC_BADGES):  # their versions may be another organization's
        for badge in badges[:SHOWN]:
            try:
                art = Image.open(io.BytesIO(achievement_png(badge))).convert("RGBA")
            except (OSError, ValueError):  # artwork missing or unreadable: leave its place empty
                continue
            art.thumbnail((ART, ART))
            image.paste(art, (x, HEIGHT - ART - 110), art)
            x += ART + 40
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
