"""``{{ post.body|markdown }}``: a member's markdown as safe HTML (programs.markdown)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from programs.markdown import markdown_render

register = template.Library()


@register.filter
def markdown(value: object) -> SafeString:
    return markdown_render(str(value or ""))
