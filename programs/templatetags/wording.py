"""``{{ organization.name|possessive }}``: a name's possessive that reads correctly in English.

"GAEL" → "GAEL's", "Riverside Schools" → "Riverside Schools'", "NASSP" → "NASSP's". A name
ending in s takes the apostrophe alone (the style of most editors for plural and institutional
names), an acronym the usual 's; surrounding spaces go and an existing possessive is kept."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

register = template.Library()

APOSTROPHES = ("'", "\u2019")


@register.filter
def possessive(value: Any) -> str:
    name = str(value or "").strip()
    if not name:
        return ""
    if not (get_language() or "en").startswith("en"):
        return name  # other languages say it in the sentence ("el catálogo de GAEL")
    if name.endswith(tuple(f"{a}s" for a in APOSTROPHES)) or name.endswith(APOSTROPHES):
        return name  # already a possessive ("St John's", "Teachers'")
    last_word = name.split()[-1]
    if name.endswith("s") or (name.endswith("S") and not last_word.isupper()):
        return f"{name}'"  # an acronym ("NASSP") is read letter by letter: "NASSP's"
    return f"{name}'s"
