"""The site's e-mails: each a plain-text part and an HTML part, branded with the organization's
name, logo and colour when it is about one.

An e-mail ``<name>`` is two templates, ``templates/mail/<name>.txt`` (wrapped in
``{% autoescape off %}``: it is not HTML) and ``templates/mail/<name>.html`` (extending
``mail/base.html``, the layout: the organization's name and logo on a band of its colour, the
message, a footer). Both get the caller's context and ``organization``, ``brand_colour``,
``logo_url`` and ``site_url``. The organization is any object with ``name``, ``brand_colour``
and ``logo`` (credentials_site imports no app).

An e-mail is in its recipient's language (decision 0036), whatever the language of the request
or task that sends it: the caller passes ``language=language_of(person)``; the subject may be
a lazy translation (``gettext_lazy``) or a callable, evaluated in that language."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
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


def language_of(person: Any) -> str:
    """The language of a person's e-mails: the one they chose (``User.language``, set at sign-up
    from the page they signed up on, changed by the language switcher), else the site's default
    — never the language of whoever caused the e-mail."""
    chosen = getattr(person, "language", "") or ""
    return chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def in_language_of(person: Any) -> AbstractContextManager[None]:
    """``with in_language_of(user):`` build the e-mail's subject and body in their language."""
    return translation.override(language_of(person))


Subject = str | Callable[[], str] | Any  # a str, a lazy translation, or a callable giving one


def mail_build(
    *,
    template: str,
    subject: Subject,
    to: Sequence[str],
    context: Mapping[str, Any] | None = None,
    organization: Any = None,
    language: str | None = None,
) -> EmailMultiAlternatives:
    """The e-mail ``template`` to ``to``: its text part, and its HTML part as an alternative,
    in ``language`` (the active one when ``None``)."""
    if language is not None:
        with translation.override(language):
            return mail_build(
                template=template,
                subject=subject,
                to=to,
                context=context,
                organization=organization,
            )
    subject = str(subject() if callable(subject) else subject)
    values = {
        **(context or {}),
        "organization": organization,
        "brand_colour": getattr(organization, "brand_colour", "") or DEFAULT_COLOUR,
        "logo_url": _logo_url(organization) if organization is not None else "",
        "site_url": settings.SITE_URL.rstrip("/"),
        "subject": subject,
    }
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
    subject: Subject,
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
