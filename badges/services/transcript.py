"""Transcripts: an educator's record of every badge from every organization with its credit
hours and CEUs (a page, a PDF, a signed CLR 2.0 record), and an organization's CSV of the credit
hours its members earned in a period.

What counts (docs/decisions/0021-transcripts-and-clr.md):
- the transcript's totals and the CLR hold the badges valid now; expired and revoked badges
  are listed apart, outside the totals, and are not in the CLR;
- the organization's CSV holds the badges of its own credentials issued in the period to people
  with a membership there, except revoked ones (a badge that expired since was still earned in
  the period).
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from fpdf import FPDF

from programs.models import Membership, Organization, User
from programs.services.roster_export import csv_safe

from .. import clr, documents, selectors
from ..errors import BadgeError
from ..errors import BadgeErrorCode as Code
from ..models import Badge
from ._urls import badge_url
from .signing import platform_sign

ZERO = Decimal("0")


def hours_text(value: Decimal | None, *, none: str = "—") -> str:
    """``1.5``, ``3``, ``0.25``: as many decimals as the value has, no more."""
    if value is None:
        return none
    return f"{value.normalize():f}"


@dataclass(frozen=True)
class TranscriptEntry:
    """One badge as the transcript lists it."""

    badge: Badge
    organization: str
    title: str
    credit_hours: Decimal | None
    ceus: Decimal | None

    @property
    def state(self) -> str:
        return self.badge.state

    @property
    def credit_hours_text(self) -> str:
        return hours_text(self.credit_hours)

    @property
    def ceus_text(self) -> str:
        return hours_text(self.ceus)


@dataclass(frozen=True)
class Transcript:
    """``current``: the badges valid now (counted); ``inactive``: expired or revoked ones
    (listed, never counted). Both newest first."""

    user: User
    current: list[TranscriptEntry]
    inactive: list[TranscriptEntry]

    @property
    def total_credit_hours(self) -> Decimal:
        return sum((e.credit_hours or ZERO for e in self.current), ZERO)

    @property
    def total_ceus(self) -> Decimal:
        return sum((e.ceus or ZERO for e in self.current), ZERO)

    @property
    def total_credit_hours_text(self) -> str:
        return hours_text(self.total_credit_hours)

    @property
    def total_ceus_text(self) -> str:
        return hours_text(self.total_ceus)


def _entry(badge: Badge) -> TranscriptEntry:
    version = badge.version
    return TranscriptEntry(
        badge=badge,
        organization=badge.organization.name,
        title=badge.name,
        credit_hours=version.credit_hours if version is not None else None,
        ceus=version.ceus if version is not None else None,
    )


def transcript_get(*, user: User) -> Transcript:
    """The signed-in educator's own badges, from every organization (one query)."""
    entries = [_entry(b) for b in selectors.badge_list_for_recipient(user=user)]
    return Transcript(
        user=user,
        current=[e for e in entries if e.state == "valid"],
        inactive=[e for e in entries if e.state != "valid"],
    )


# --- the Comprehensive Learner Record -------------------------------------------------------


def _subject_id(user: User) -> str | None:
    """The permanent address of the public profile the educator opted into, as their badges
    name them by (none without one)."""
    profile = selectors.profile_get_for_user(user=user)
    if profile is None or not profile.is_public:
        return None
    return documents.site_url(reverse("badges:profile_permanent", args=[user.public_id]))


def clr_issue(*, user: User, now: dt.datetime | None = None) -> dict[str, Any]:
    """A signed CLR 2.0 ``ClrCredential`` of ``user``'s valid badges, each embedded as it was
    signed, issued and signed by Tessera (``platform_sign``). Not stored: made on request, with
    a fresh id and salt. Refused (BadgeError) when no badge is valid."""
    now = (now or timezone.now()).replace(microsecond=0)
    transcript = transcript_get(user=user)
    if not transcript.current:
        raise BadgeError(
            _(
                "Your record has no valid badge yet: a Comprehensive Learner Record holds at "
                "least one."
            ),
            code=Code.INVALID,
        )
    credentials = [e.badge.credential for e in transcript.current]
    achievements = clr.achievements_of(credentials)
    salt = secrets.token_hex(16)
    identifier = [documents.email_identity(user.email.lower(), salt)]
    name = user.name_for_badges
    if name:
        identifier.append(documents.name_identity(name))
    document = clr.clr_credential(
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        issuer=clr.platform_profile(),
        valid_from=now,
        name=_("Transcript of %(name)s") % {"name": name} if name else _("Educator transcript"),
        credentials=credentials,
        achievements=achievements,
        associations=clr.associations_of(achievements),
        subject_id=_subject_id(user),
        identifier=identifier,
    )
    return platform_sign(document, created=now)


# --- the PDF ---------------------------------------------------------------------------------


def _latin1(text: str) -> str:
    """fpdf2's core fonts are Latin-1: typographic quotes and dashes as ASCII, anything else
    outside Latin-1 as "?" (the PDF stays readable; the page and the CLR keep every
    character)."""
    table = str.maketrans(
        {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"}
    )
    return text.translate(table).encode("latin-1", "replace").decode("latin-1")


def _date(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).date().isoformat() if moment else "-"


def _state_text(state: str) -> str:
    """A badge's state as the PDF names it."""
    texts = {
        "valid": pgettext("badge state", "valid"),
        "expired": pgettext("badge state", "expired"),
        "revoked": pgettext("badge state", "revoked"),
    }
    return texts.get(state, state)


def transcript_pdf(transcript: Transcript) -> bytes:
    """The transcript as a PDF, made in memory, in the language of the request (its core font,
    Helvetica, is Latin-1: every Spanish letter and sign, á é í ó ú ü ñ ¿ ¡, is in it)."""
    user = transcript.user
    pdf = FPDF(orientation="landscape", format="letter")
    pdf.set_title(_latin1(_("Transcript")))
    pdf.set_author(clr.PLATFORM_NAME)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    heading = _("Transcript of %(name)s") % {"name": user.full_name or user.email}
    pdf.cell(0, 10, _latin1(heading), new_x="LMARGIN")
    pdf.ln(10)
    pdf.set_font("Helvetica", size=10)
    pdf.cell(
        0,
        6,
        _latin1(
            _(
                "%(email)s - made %(date)s by %(platform)s. "
                "Each badge can be checked at its verification address."
            )
            % {
                "email": user.email,
                "date": timezone.localdate().isoformat(),
                "platform": clr.PLATFORM_NAME,
            }
        ),
        new_x="LMARGIN",
    )
    pdf.ln(8)

    def table(title: str, entries: list[TranscriptEntry], *, totals: bool) -> None:
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 8, _latin1(title), new_x="LMARGIN")
        pdf.ln(8)
        pdf.set_font("Helvetica", size=9)
        if not entries:
            pdf.cell(0, 6, _latin1(_("None.")), new_x="LMARGIN")
            pdf.ln(8)
            return
        with pdf.table(
            col_widths=(60, 45, 20, 15, 22, 22, 18, 58),
            text_align="LEFT",
            first_row_as_headings=True,
        ) as rows:
            rows.row(
                [
                    _latin1(text)
                    for text in (
                        _("Badge"),
                        _("Organization"),
                        _("Credit hours"),
                        _("CEUs"),
                        _("Issued"),
                        _("Valid until"),
                        _("Status"),
                        _("Verify at"),
                    )
                ]
            )
            for e in entries:
                rows.row(
                    [
                        _latin1(e.title),
                        _latin1(e.organization),
                        hours_text(e.credit_hours, none="-"),
                        hours_text(e.ceus, none="-"),
                        _date(e.badge.issued_at),
                        _date(e.badge.valid_until)
                        if e.badge.valid_until
                        else _latin1(_("no expiry")),
                        _latin1(_state_text(e.state)),
                        badge_url(e.badge),
                    ]
                )
            if totals:
                rows.row(
                    [
                        _latin1(_("Total")),
                        "",
                        hours_text(transcript.total_credit_hours),
                        hours_text(transcript.total_ceus),
                        "",
                        "",
                        "",
                        "",
                    ]
                )
        pdf.ln(4)

    table(_("Valid badges (counted in the totals)"), transcript.current, totals=True)
    table(_("Expired or revoked badges (not counted)"), transcript.inactive, totals=False)
    out = io.BytesIO()
    pdf.output(out)
    return out.getvalue()


# --- an organization's credit hours, as CSV ----------------------------------------------------

CREDIT_HOURS_HEADER = (
    "email",
    "full_name",
    "school",
    "district",
    "position",
    "member_number",
    "membership_status",
    "credential",
    "version",
    "issued_on",
    "valid_until",
    "credit_hours",
    "ceus",
    "badge_url",
)


def credit_hours_period_check(start: dt.date | None, end: dt.date | None) -> None:
    """A period is two dates, the first not after the second (BadgeError with the field)."""
    errors: dict[str, list[str]] = {}
    if start is None:
        errors["start"] = [_("Enter the first day of the period (YYYY-MM-DD).")]
    if end is None:
        errors["end"] = [_("Enter the last day of the period (YYYY-MM-DD).")]
    if start and end and start > end:
        errors["end"] = [_("The last day comes before the first.")]
    if errors:
        raise BadgeError(_("Choose a period."), code=Code.INVALID, fields=errors)


def credit_hours_rows(
    *, organization: Organization, start: dt.date, end: dt.date
) -> Iterator[list[str]]:
    """The credit hours ``organization``'s members earned from ``start`` to ``end`` (both
    included, in the site's time zone), one row per badge (header first), by e-mail then
    date, formula-injection-safe; one query, read in chunks. Only the organization's own
    credentials' badges, only people with a membership there, never a revoked badge."""
    credit_hours_period_check(start, end)
    yield list(CREDIT_HOURS_HEADER)
    member = Membership.objects.filter(organization=organization, user=OuterRef("recipient_id"))

    def of_member(field: str) -> Subquery:
        return Subquery(member.values(field)[:1])

    badges = (
        Badge.objects.filter(
            organization=organization,
            kind=Badge.Kind.CREDENTIAL,
            revoked_at__isnull=True,
            issued_at__date__gte=start,
            issued_at__date__lte=end,
        )
        .filter(Exists(member))
        .annotate(
            m_school=of_member("school"),
            m_district=of_member("district"),
            m_position=of_member("position"),
            m_number=of_member("member_number"),
            m_status=of_member("status"),
        )
        .order_by("recipient__email", "issued_at", "pk")
        .values_list(
            "recipient__email",
            "recipient__full_name",
            "m_school",
            "m_district",
            "m_position",
            "m_number",
            "m_status",
            "name",
            "version__number",
            "issued_at",
            "valid_until",
            "version__credit_hours",
            "version__ceus",
            "public_id",
        )
    )
    for *person, title, number, issued_at, valid_until, hours, ceus, public_id in badges.iterator(
        chunk_size=2000
    ):
        yield [
            csv_safe(v)
            for v in (
                *person,
                title,
                number,
                timezone.localtime(issued_at).date(),
                timezone.localtime(valid_until).date() if valid_until else "",
                hours_text(hours, none=""),
                hours_text(ceus, none=""),
                documents.site_url(reverse("badges:verify", args=[public_id])),
            )
        ]
