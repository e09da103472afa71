"""The weekly digest to school leaders: the badges their schools' staff made public in the
past week (``selectors.celebrated_in_period``). Idempotent per leader and week: a
``RecognitionDigest`` row (unique on organization, leader, week) is written in the same
transaction that queues the e-mail; a second run that week finds it and sends nothing. Nothing
new, nothing sent (and no row: a later run that week may still send one)."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from credentials_site.mail import in_language_of, language_of, mail_send
from programs.models import Organization, School, StaffRole

from ..models import RecognitionDigest
from . import selectors


def week_start(today: dt.date) -> dt.date:
    """The Monday of ``today``'s week."""
    return today - dt.timedelta(days=today.weekday())


def recognition_digests_send(*, organization: Organization, today: dt.date | None = None) -> int:
    """E-mail each of the organization's school leaders the badges celebrated in their schools
    during the seven days before this week's Monday; how many digests were sent."""
    monday = week_start(today or timezone.localdate())
    until = dt.datetime.combine(monday, dt.time.min, tzinfo=dt.UTC)
    since = until - dt.timedelta(days=7)
    roles = (
        StaffRole.objects.filter(organization=organization, role=StaffRole.Role.SCHOOL_LEADER)
        .select_related("user")
        .prefetch_related("schools")
    )
    already = set(
        RecognitionDigest.objects.filter(organization=organization, week_start=monday).values_list(
            "leader_id", flat=True
        )
    )
    sent = 0
    for role in roles:
        if role.user_id in already or not role.user.is_active:
            continue
        schools = sorted(role.schools.all(), key=lambda s: s.name.lower())
        badges = selectors.celebrated_in_period(schools=schools, since=since, until=until)
        if badges and _digest_record(organization, role, schools, monday, badges):
            sent += 1
    return sent


def _digest_record(
    organization: Organization,
    role: StaffRole,
    schools: list[School],
    monday: dt.date,
    badges: list,
) -> bool:
    """Write the week's digest row and queue its e-mail on commit; False when another run
    wrote it first. Its words are in the leader's language."""
    with in_language_of(role.user):
        return _digest_write(organization, role, schools, monday, badges)


def _digest_write(
    organization: Organization,
    role: StaffRole,
    schools: list[School],
    monday: dt.date,
    badges: list,
) -> bool:
    try:
        with transaction.atomic():
            digest = RecognitionDigest.objects.create(
                organization=organization,
                leader=role.user,
                week_start=monday,
                badge_count=len(badges),
            )
            digest.schools.set(schools)
            context = {
                "leader": role.user,
                "badges": [
                    {
                        "name": b.name,
                        "earner": b.recipient.name_for_badges or gettext("A colleague"),
                        "issuer": b.organization.short_name or b.organization.name,
                    }
                    for b in badges
                ],
                "schools": [
                    {
                        "name": s.name,
                        "url": reverse("recognition:page", args=[organization.slug, s.pk]),
                    }
                    for s in schools
                ],
                "week_start": monday,
            }
            address = role.user.email
            place = schools[0].name if len(schools) == 1 else gettext("your schools")
            subject = ngettext(
                "%(count)d new badge to celebrate at %(place)s",
                "%(count)d new badges to celebrate at %(place)s",
                len(badges),
            ) % {"count": len(badges), "place": place}
            language = language_of(role.user)
            # robust: a mail server that fails is logged; the week's row stays (at most once)
            transaction.on_commit(
                lambda: mail_send(
                    language=language,
                    template="recognition_digest",
                    subject=subject,
                    to=[address],
                    context=context,
                    organization=organization,
                ),
                robust=True,
            )
    except IntegrityError:  # a concurrent run sent it
        return False
    return True
