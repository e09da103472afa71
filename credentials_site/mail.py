"""The site's e-mails: each a plain-text part and an HTML part, branded with the organization's
name, logo and colour when it is about one.

An e-mail ``<name>`` is two templates, ``templates/mail/<name>.txt`` (wrapped in
``{% autoescape off %}``: it is not HTML) and ``templates/mail/<name>.html`` (extending
``mail/base.html``, the layout: the organization's name and logo on a band of its colour, the
message, a footer). Both get the caller's context and ``organization``, ``brand_colour``,
``logo_url`` and ``site_url``. The organization is any object with ``name``, ``brand_colour``
and ``logo`` (credentials_site imports no app).

**Language.** The templates are rendered in ``language`` when given (the recipient's
``user.language``; a worker task has no request to take it from), else in the active one; the
caller writes the subject in the same language (``translation.override``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

DEFAULT_COLOUR = "#1f4e79"


def _absolute(url: str) -> str:
    if url.startswith(("http://", "https://")):
        return url
    return settings.SITE_URL.rstrip("/") + url


def _logo_url(organization: Any) -> str:
    logo = getattr(organization, "logo", None)
    if not logo:
        return ""
    try:
        return _absolute(logo.url)
    except ValueError:  # no file behind it
        return ""


def mail_build(
    *,
    template: str,
    subject: str,
    to: Sequence[str],
    context: Mapping[str, Any] | None = None,
    organization: Any = None,
    language: str | None = None,
) -> EmailMultiAlternatives:
    """The e-mail ``template`` to ``to``: its text part, and its HTML part as an alternative."""
    values = {
        **(context or {}),
        "organization": organization,
        "brand_colour": getattr(organization, "brand_colour", "") or DEFAULT_COLOUR,
        "logo_url": _logo_url(organization) if organization is not None else "",
        "site_url": settings.SITE_URL.rstrip("/"),
        "subject": subject,
    }
    with translation.override(language or translation.get_language()):
        text = render_to_string(f"mail/{template}.txt", values)
        html = render_to_string(f"mail/{template}.html", values)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),  # a line break in a subject is refused
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(to),
    )
    message.attach_alternative(html, "text/html")
    return message


def mail_send(
    *,
    template: str,
    subject: str,
    to: Sequence[str],
    context: Mapping[str, Any] | None = None,
    organization: Any = None,
    fail_silently: bool = False,
    language: str | None = None,
) -> int:
    """Build the e-mail (``mail_build``) and send it; how many were sent (0 or 1)."""
    message = mail_build(
        template=template,
        subject=subject,
        to=to,
        context=context,
        organization=organization,
        language=language,
    )
    return message.send(fail_silently=fail_silently)
