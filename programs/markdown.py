"""Markdown that people write (a learning community's posts), rendered safely.

Two walls: markdown-it-py with raw HTML disabled (``<script>`` in the text comes out as the
escaped words ``&lt;script&gt;``) and only the CommonMark rules, then nh3 (ammonia) with an
allow-list of tags and attributes, http(s)/mailto links only, and every link marked
``rel="nofollow noopener ugc"`` (a member's link is not the site's endorsement).
"""

from __future__ import annotations

from functools import cache

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    [
        "p",
        "br",
        "hr",
        "strong",
        "em",
        "del",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "h4",
        "h5",
        "h6",
    ]
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
LINK_REL = "nofollow noopener ugc"


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def _heading_levels_down(html: str) -> str:
    """A post's headings sit under the page's h1, the board's h2 and the post's h3 (its author):
    ``#`` becomes h4 and the rest follow (h5 and h6 become h6)."""
    for level in (6, 5, 4, 3, 2, 1):
        new = min(level + 3, 6)
        html = html.replace(f"<h{level}>", f"<h{new}>").replace(f"</h{level}>", f"</h{new}>")
    return html


def markdown_render(text: str) -> SafeString:
    """``text`` (markdown) as HTML safe to put in a page."""
    html = _heading_levels_down(_parser().render(text))
    cleaned = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes={"http", "https", "mailto"},
        link_rel=LINK_REL,
        strip_comments=True,
    )
    return mark_safe(cleaned)  # noqa: S308 - sanitised by nh3 against the allow-list above
