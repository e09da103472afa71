"""What one person may review in one organization: their reviewer roles there with each
role's program and credential limits, the conflicts of interest they declared, and whether the
organization asks reviewers to calibrate. Read in one statement on every reviewer page and
every claim-next (re-exported by reviews.selectors)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from credentials_site.tenancy import scoped_sql
from programs.models import Organization, StaffRole, User

from .models import ConflictOfInterest

REVIEWER_ROLES = (
    StaffRole.Role.REVIEWER,
    StaffRole.Role.SENIOR_REVIEWER,
    StaffRole.Role.PROGRAM_ADMIN,
    StaffRole.Role.OWNER,
)
ADJUDICATOR_ROLES = (
    StaffRole.Role.SENIOR_REVIEWER,
    StaffRole.Role.PROGRAM_ADMIN,
    StaffRole.Role.OWNER,
)


@dataclass(frozen=True)
class ReviewerScope:
    """What one person may review in one organization: their limits, the conflicts of interest
    they declared there (the queue leaves those submissions out), and whether the organization
    asks reviewers to calibrate at all."""

    user: User
    program_ids: frozenset[int]  # empty: every program
    credential_ids: frozenset[int]  # empty: every credential
    can_adjudicate: bool
    conflict_person_ids: frozenset[int]  # educators they declared a conflict with
    conflict_school: bool  # never educators of their own school
    conflict_district: bool  # never educators of their own district
    # the organization has active calibration exemplars; without any, no reviewer has one to
    # score (reviews.calibration.calibration_pending says which, when there are)
    calibration_active: bool
    # a program admin assigned them submissions still undecided: the queue shows those first
    # (reviews.selectors), which costs its queries only for them
    has_assignments: bool = False


# One statement: a row per reviewer role here, each with the role's program and credential
# limits; the conflicts, the calibration flag and the assignments are the same on every row.
# (Hand-written: it runs on every reviewer page and every claim-next, and the ORM's version of
# these sub-queries took longer to build than PostgreSQL takes to answer.)
_SCOPE_SQL = """
SELECT r.role,
    ARRAY(SELECT rp.program_id FROM programs_staffrole_programs rp
          WHERE rp.staffrole_id = r.id),
    ARRAY(SELECT rc.credential_id FROM programs_staffrole_credentials rc
          WHERE rc.staffrole_id = r.id),
    ARRAY(SELECT k.kind FROM reviews_conflictofinterest k
          WHERE k.organization_id = %(organization)s AND k.reviewer_id = %(user)s),
    ARRAY(SELECT k.person_id FROM reviews_conflictofinterest k
          WHERE k.organization_id = %(organization)s AND k.reviewer_id = %(user)s
            AND k.kind = %(person)s AND k.person_id IS NOT NULL),
    EXISTS(SELECT 1 FROM reviews_calibrationexemplar e
           WHERE e.organization_id = %(organization)s AND e.is_active),
    EXISTS(SELECT 1 FROM reviews_assignment x
           JOIN submissions_submission s ON s.id = x.submission_id AND s.outcome = ''
           WHERE x.organization_id = %(organization)s AND x.reviewer_id = %(user)s)
FROM programs_staffrole r
WHERE {tenant} AND r.organization_id = %(organization)s AND r.user_id = %(user)s
  AND r.role = ANY(%(roles)s)
"""


def reviewer_scope(*, organization: Organization, user: User) -> ReviewerScope | None:
    """The person's reviewer scope here, or None when they hold no reviewer role (or the tenant
    scope is another organization's): one query."""
    if not user.is_authenticated:
        return None
    sql, params = scoped_sql(
        _SCOPE_SQL,
        {
            "organization": organization.pk,
            "user": user.pk,
            "person": ConflictOfInterest.Kind.PERSON.value,
            "roles": [role.value for role in REVIEWER_ROLES],
        },
        tenant="r.organization_id",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        roles = cursor.fetchall()
    if not roles:
        return None
    unlimited = any(role != StaffRole.Role.REVIEWER for role, *_ in roles)
    programs: set[int] = set()
    credentials: set[int] = set()
    if not unlimited:
        for _, program_ids, credential_ids, *_ in roles:
            programs.update(program_ids)
            credentials.update(credential_ids)
    # the same on every row
    _, _, _, conflict_kinds, conflict_people, calibration_active, assigned = roles[0]
    return ReviewerScope(
        user=user,
        program_ids=frozenset(programs),
        credential_ids=frozenset(credentials),
        can_adjudicate=any(role in ADJUDICATOR_ROLES for role, *_ in roles),
        conflict_person_ids=frozenset(conflict_people),
        conflict_school=ConflictOfInterest.Kind.SCHOOL in conflict_kinds,
        conflict_district=ConflictOfInterest.Kind.DISTRICT in conflict_kinds,
        calibration_active=bool(calibration_active),
        has_assignments=bool(assigned),
    )
