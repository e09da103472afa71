"""Reminders before a school assignment's target date (docs/decisions/0030): a week before and
the day before, each sent once (its marker is set in the transaction that sends it, under a row
lock, so a second run or a second worker finds it done). Nobody is reminded of an assignment
they declined, or whose application is already submitted or awarded."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from credentials_site.mail import in_language_of, mail_send
from credentials_site.tenancy import cross_organization
from programs.models import Organization
from programs.models_schools import SchoolAssignment

from .. import schools

WEEK, DAY = "week", "day"
# which reminder, how many days before the target date it is due, and its marker
REMINDERS = ((DAY, 1, "reminded_day_at"), (WEEK, 7, "reminded_week_at"))


def _due(organization: Organization, today: dt.date, days: int, marker: str) -> dict[str, object]:
    return {
        "organization": organization,
        "state__in": [SchoolAssignment.State.PENDING, SchoolAssignment.State.ACCEPTED],
        "target_date__gte": today,
        "target_date__lte": today + dt.timedelta(days=days),
        f"{marker}__isnull": True,
    }


def school_assignments_remind(*, organization: Organization) -> int:
    """Send the reminders that are due in the organization; how many were sent."""
    today = timezone.localdate()
    sent = 0
    for kind, days, marker in REMINDERS:
        due = _due(organization, today, days, marker)
        for pk in list(SchoolAssignment.objects.filter(**due).values_list("pk", flat=True)):
            sent += _remind(pk=pk, due=due, kind=kind, marker=marker)
    return sent


@transaction.atomic
def _remind(*, pk: int, due: dict[str, object], kind: str, marker: str) -> int:
    assignment = SchoolAssignment.objects.select_for_update().filter(pk=pk, **due).first()
    if assignment is None:  # another run sent it, or the educator declined meanwhile
        return 0
    now = timezone.now()
    fields = [marker]
    setattr(assignment, marker, now)
    if kind == DAY and assignment.reminded_week_at is None:  # a late week reminder is moot
        assignment.reminded_week_at = now
        fields.append("reminded_week_at")
    assignment.save(update_fields=[*fields, "updated_at"])
    with cross_organization(schools.ASSIGNED_STATUS):  # the credential's organization
        loaded = (
            SchoolAssignment.objects.filter(pk=pk)
            .select_related(
                "membership__user", "school__organization", "credential__current_version"
            )
            .get()
        )
    application = schools.latest_applications([loaded]).get(
        (loaded.membership.user_id, loaded.credential_id)
    )
    if schools.progress_of(application) in schools.DONE:
        return 0
    credential = loaded.credential
    title = credential.current_version.title if credential.current_version else credential.slug
    organization = loaded.school.organization
    with in_language_of(loaded.membership.user):
        target = date_format(loaded.target_date, "j F Y") if loaded.target_date else ""
        return mail_send(
            template="school_assignment_reminder",
            subject=_("Reminder: “%(title)s” by %(date)s") % {"title": title, "date": target},
            to=[loaded.membership.user.email],
            context={
                "title": title,
                "school": loaded.school.name,
                "target": target,
                "tomorrow": kind == DAY,
                "learning_url": schools.absolute(reverse("submissions:dashboard")),
            },
            organization=organization,
        )
