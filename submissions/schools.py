"""What a school leader sees of the staff they asked to earn a credential (docs/decisions/0030):
each assigned person's status and dates, read from the application's state alone.

Never evidence, scores, reviewer comments or feedback: the application rows are read with
``only()`` of the fields listed in ``STATUS_FIELDS`` (a test asserts no other column is
selected), and no evidence, submission or review table is queried. An educator the school did
not assign is not read at all. A fixed number of queries, whatever the number of assignees.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext

from credentials_site.tenancy import cross_organization
from programs.models import School
from programs.models_schools import SchoolAssignment

from .models import Application
from .selectors import (  # noqa: F401 - the stages' names, used by the leader's pages
    AWARDED,
    IN_PROGRESS,
    NEEDS_REVISION,
    NOT_STARTED,
    PROGRESS_LABELS,
    SUBMITTED,
    progress_of_status,
)

# an assigned person's application may be in the credential's organization, another than the
# school's: read in this named bypass, filtered by the school's assignments
ASSIGNED_STATUS = "the application status of a school's assigned staff, in every organization"

# the only columns of an application a school leader's page reads
STATUS_FIELDS = ("educator_id", "credential_id", "status", "created_at", "submitted_at")

# group counts are shown only for groups of at least this many people (issue 21)
SMALLEST_GROUP = 10
# an assignment is done with (no reminder) once its application is at least submitted
DONE = (SUBMITTED, AWARDED)


def progress_of(application: Application | None) -> str:
    """The leader's word for where an assigned person is. Withdrawn or not awarded: they may
    apply again, so "not started" (the leader is not told a review's outcome)."""
    return progress_of_status(application.status if application is not None else None)


@dataclass
class ProgressRow:
    assignment: SchoolAssignment
    progress: str
    started_on: dt.date | None = None
    submitted_on: dt.date | None = None

    @property
    def label(self) -> str:
        return gettext(PROGRESS_LABELS[self.progress])


@dataclass
class CredentialSummary:
    title: str
    organization: str
    assigned: int
    # None: fewer than SMALLEST_GROUP people, no breakdown
    counts: list[tuple[str, int]] | None = field(default=None)


def latest_applications(
    assignments: list[SchoolAssignment],
) -> dict[tuple[int, int], Application]:
    """The latest application of each assigned (educator, credential), status fields only:
    one query, in the named bypass (the credentials may be of other organizations)."""
    users = {a.membership.user_id for a in assignments}
    credentials = {a.credential_id for a in assignments}
    if not users:
        return {}
    with cross_organization(ASSIGNED_STATUS):
        rows = list(
            Application.objects.filter(educator_id__in=users, credential_id__in=credentials)
            .only(*STATUS_FIELDS)
            .order_by("created_at", "pk")
        )
    return {(a.educator_id, a.credential_id): a for a in rows}


def school_progress(*, school: School) -> dict[str, object]:
    """Every assignment of the school with its person's status and dates, and per credential
    the counts by status when at least ``SMALLEST_GROUP`` people were asked: two queries."""
    with cross_organization(ASSIGNED_STATUS):
        assignments = list(
            SchoolAssignment.objects.filter(organization_id=school.organization_id, school=school)
            .select_related(
                "membership__user",
                "goal",
                "credential__organization",
                "credential__current_version",
            )
            .order_by("credential_id", "membership__user__full_name", "membership__user__email")
        )
    applications = latest_applications(assignments)
    rows = []
    for assignment in assignments:
        application = applications.get((assignment.membership.user_id, assignment.credential_id))
        rows.append(
            ProgressRow(
                assignment=assignment,
                progress=progress_of(application),
                started_on=application.created_at.date() if application else None,
                submitted_on=application.submitted_at.date()
                if application and application.submitted_at
                else None,
            )
        )
    by_credential: dict[int, list[ProgressRow]] = {}
    for row in rows:
        by_credential.setdefault(row.assignment.credential_id, []).append(row)
    summaries = []
    for group in by_credential.values():
        credential = group[0].assignment.credential
        counts = Counter(row.progress for row in group)
        summaries.append(
            CredentialSummary(
                title=credential.current_version.title if credential.current_version else "",
                organization=credential.organization.name,
                assigned=len(group),
                counts=[(gettext(PROGRESS_LABELS[key]), counts[key]) for key in PROGRESS_LABELS]
                if len(group) >= SMALLEST_GROUP
                else None,
            )
        )
    return {"rows": rows, "summaries": summaries, "smallest_group": SMALLEST_GROUP}


def absolute(path: str) -> str:
    """A link for an e-mail."""
    return settings.SITE_URL.rstrip("/") + path
