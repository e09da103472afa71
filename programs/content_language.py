"""Which language a credential's text is shown in (docs/decisions/0037).

A credential is written in its organization's language (``Organization.content_language``),
and its pages are never machine-translated. A version may add a Spanish edition of its title
and summary (``CredentialVersion.title_es`` / ``summary_es``, both or neither): a visitor
reading the site in Spanish sees those, everyone else the organization's text. Every page that
shows a credential's title or summary asks ``version.localized_title()`` /
``localized_summary()`` (or ``Badge.localized_name()``), which apply the rule here, and marks
the element with ``lang_attribute`` when the text's language is not the page's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from .models import CredentialVersion, Organization

# the language an organization may add an edition of its credentials' title and summary in
EDITION_LANGUAGE = "es"
# the fields that have an edition, and the field holding it
EDITION_FIELDS = {"title": "title_es", "summary": "summary_es"}


def primary(language: str) -> str:
    """``es-MX`` → ``es``: the pages are in English or Spanish, not a regional variant."""
    return language.split("-")[0].lower()


def page_language() -> str:
    return primary(translation.get_language() or settings.LANGUAGE_CODE)


@dataclass(frozen=True)
class LocalizedText:
    """A text with the language it is written in. ``{{ text }}`` shows it;
    ``<h3{{ text.lang_attribute }}>`` marks it for screen readers when the page is in another
    language."""

    text: str
    language: str

    def __str__(self) -> str:
        return self.text

    @property
    def lang(self) -> str:
        """The text's language when it differs from the page's, else ""."""
        return "" if primary(self.language) == page_language() else self.language

    @property
    def lang_attribute(self) -> SafeString:
        lang = self.lang
        return format_html(' lang="{}"', lang) if lang else mark_safe("")


def edition_languages(version: CredentialVersion) -> list[str]:
    """The languages the version has an edition in besides its organization's own."""
    return [EDITION_LANGUAGE] if version.title_es.strip() else []


def localized(version: CredentialVersion, field: str) -> LocalizedText:
    """``field`` (``title``, ``summary``) of the version in the page's language when the version
    has that edition, else as the organization wrote it."""
    return localized_text(
        version, field, text=getattr(version, field), organization=version.organization
    )


def localized_text(
    version: CredentialVersion | None, field: str, *, text: str, organization: Organization
) -> LocalizedText:
    """The rule: the edition of ``field`` in the page's language when ``version`` has one, else
    ``text`` in ``organization``'s language (a badge: the text it was issued with)."""
    language = page_language()
    if version is not None and language in edition_languages(version):
        edition = getattr(version, EDITION_FIELDS[field])
        if edition.strip():
            return LocalizedText(edition, language)
    return LocalizedText(text, organization.content_language)


def edition_clean(version: CredentialVersion) -> None:
    """The rule of an edition: its title and its summary together, or neither (a card, a page
    and a badge show both, so half an edition would mix two languages)."""
    title, summary = version.title_es.strip(), version.summary_es.strip()
    if summary and not title:
        raise ValidationError(
            {
                "title_es": _(
                    "Add the Spanish title too: a Spanish summary is shown only with a Spanish "
                    "title (or clear the Spanish summary)."
                )
            }
        )
    if title and not summary:
        raise ValidationError(
            {
                "summary_es": _(
                    "Add the Spanish summary too: a Spanish title is shown only with a Spanish "
                    "summary (or clear the Spanish title)."
                )
            }
        )
