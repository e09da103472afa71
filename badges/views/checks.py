"""The verification checks as people read them. ``services.credential_verify`` writes its own
sentences in the request's language; the signature check's details come from
``dataintegrity.verify``, a library without Django that describes them in English, so the
verification page and its "Verify now" answer show those in the reader's language here (a
sentence not known here is shown as it is)."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

# dataintegrity.verify's fixed sentences, for the catalog
SENTENCES = (
    gettext_noop("The credential has no proof."),
    gettext_noop("Unsupported proof type."),
    gettext_noop("The proof's purpose is not assertionMethod."),
    gettext_noop("The signature does not match the credential."),
)
# its sentences that carry a value: the English pattern, and the message id to show it with
PATTERNS = (
    (
        re.compile(r"Unsupported cryptosuite (?P<value>.*)\.", re.DOTALL),
        gettext_noop("Unsupported cryptosuite %(value)s."),
    ),
    (
        re.compile(r"Unknown verification method (?P<value>.*)\.", re.DOTALL),
        gettext_noop("Unknown verification method %(value)s."),
    ),
    (
        re.compile(r"The credential is not what was signed\. (?P<value>.*)", re.DOTALL),
        gettext_noop("The credential is not what was signed. %(value)s"),
    ),
    (
        re.compile(r"The credential could not be canonicalized: (?P<value>.*)", re.DOTALL),
        gettext_noop("The credential could not be canonicalized: %(value)s"),
    ),
)
SEPARATOR = "; "  # between the signature's errors (credential_verify joins them so)


def _sentence(text: str) -> str:
    if text in SENTENCES:
        return _(text)
    for pattern, message in PATTERNS:
        found = pattern.fullmatch(text)
        if found:
            return _(message) % {"value": found["value"]}
    return text


def message_shown(message: str) -> str:
    """A check's message in the language of the request."""
    return SEPARATOR.join(_sentence(part) for part in str(message).split(SEPARATOR))


def checks_shown(result: dict[str, Any]) -> dict[str, Any]:
    """``credential_verify``'s result with each check's message in the request's language (a
    copy: the result itself is left as it is)."""
    checks = [
        {**check, "message": message_shown(check.get("message", ""))}
        for check in result.get("checks") or []
    ]
    return {**result, "checks": checks}
