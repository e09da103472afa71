"""Schools and who belongs to them (docs/decisions/0029).

One rule, here: a membership whose roster fields name a school (``Membership.school``, with its
``district``) belongs to the ``School`` of that name and district, made when first named. The
member upsert (roster, member API, requests to join) calls ``school_links_sync`` for the rows it
wrote; it is set-based (three statements whatever the number of members), so a 50,000-row roster
stays fast. Links a program admin adds by hand (``school_member_add``) are never taken away by a
roster.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext as _

from credentials_site.exceptions import ApplicationError

from ..errors import ProgramErrorCode
from ..models import Membership, Organization, School, SchoolMembership, User
from .audit import audit_record

_TABLES = {
    "school": School._meta.db_table,
    "link": SchoolMembership._meta.db_table,
    "membership": Membership._meta.db_table,
}

# the members concerned: those of some accounts ({members} is this, or, for all of the
# organization's, its first half: a "(true OR ...)" would keep the planner from the index on
# (organization, user), one scan of every membership per roster batch)
_MEMBERS = "m.organization_id = %(org)s AND m.user_id = ANY(%(users)s)"
_ALL_MEMBERS = "m.organization_id = %(org)s"

_SCHOOLS_NAMED = f"""
INSERT INTO {_TABLES["school"]} (organization_id, name, district, level, created_at, updated_at)
SELECT DISTINCT ON (lower(btrim(m.school)), lower(btrim(m.district)))
       m.organization_id, btrim(m.school), btrim(m.district), '', now(), now()
FROM {_TABLES["membership"]} m
WHERE {{members}} AND btrim(m.school) <> ''
ON CONFLICT (organization_id, lower(name), lower(district)) DO NOTHING
"""  # noqa: S608 - table names of the models; the values are parameters

# the school a membership's words name, looked up per membership through the unique index
# (one_school_per_name): a plan that cannot turn into a join over stale statistics (a roster
# that just wrote 100,000 memberships has none yet)
_NAMED_SCHOOL = f"""(SELECT s.id FROM {_TABLES["school"]} s
  WHERE s.organization_id = m.organization_id AND lower(s.name) = lower(btrim(m.school))
    AND lower(s.district) = lower(btrim(m.district)))"""  # noqa: S608 - table names only

_ROSTER_LINKS_GONE = f"""
DELETE FROM {_TABLES["link"]} l
USING {_TABLES["membership"]} m
WHERE l.membership_id = m.id AND l.source = 'roster' AND {{members}}
  AND l.school_id IS DISTINCT FROM {_NAMED_SCHOOL}
"""  # noqa: S608 - table names of the models; the values are parameters

_ROSTER_LINKS_MADE = f"""
INSERT INTO {_TABLES["link"]}
       (organization_id, school_id, membership_id, source, created_at, updated_at)
SELECT m.organization_id, {_NAMED_SCHOOL}, m.id, 'roster', now(), now()
FROM {_TABLES["membership"]} m
WHERE {{members}} AND btrim(m.school) <> ''
ON CONFLICT (school_id, membership_id) DO NOTHING
"""  # noqa: S608 - table names of the models; the values are parameters


def school_links_sync(*, organization: Organization, user_ids: Sequence[int] | None = None) -> None:
    """Make the members' roster-named schools exist and the members belong to them (and no
    longer to a school their roster row stopped naming). ``user_ids`` None: every member."""
    params: dict[str, Any] = {"org": organization.pk, "users": list(user_ids or ())}
    members = _ALL_MEMBERS if user_ids is None else _MEMBERS
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in (_SCHOOLS_NAMED, _ROSTER_LINKS_GONE, _ROSTER_LINKS_MADE):
            cursor.execute(statement.format(members=members), params)


def _same_organization(membership: Membership, school: School) -> None:
    if membership.organization_id != school.organization_id:
        message = _("That member and that school belong to different organizations.")
        raise ApplicationError(
            message, code=ProgramErrorCode.WRONG_ORGANIZATION, fields={"school": [message]}
        )


def school_member_add(*, school: School, membership: Membership, actor: User | None) -> None:
    """Add a member to a school by hand (kept whatever the roster later says)."""
    _same_organization(membership, school)
    link, made = SchoolMembership.objects.get_or_create(
        organization_id=school.organization_id,
        school=school,
        membership=membership,
        defaults={"source": SchoolMembership.Source.ADMIN},
    )
    if not made and link.source != SchoolMembership.Source.ADMIN:
        link.source = SchoolMembership.Source.ADMIN
        link.save(update_fields=["source", "updated_at"])
    # the person's cached facts say whether they are on a school's staff (their catalog pages
    # read their schools' recommendations only then: programs.user_facts). A roster's link
    # follows a change of the membership's row, which changes their revision already; a link
    # by hand does not, so it is changed here. (A link taken away leaves "on staff" true until
    # the next change: one query that finds nothing, never a recommendation missed.)
    User.objects.filter(pk=membership.user_id).update(facts_revision=uuid.uuid4())
    audit_record(
        organization=school.organization,
        actor=actor,
        action="school.member_added",
        obj=school,
        summary=f"{membership.user.email} added to {school}",
    )


def school_member_remove(*, school: School, membership: Membership, actor: User | None) -> None:
    """Take a member out of a school (a roster naming the school again puts them back)."""
    _same_organization(membership, school)
    SchoolMembership.objects.filter(school=school, membership=membership).delete()
    audit_record(
        organization=school.organization,
        actor=actor,
        action="school.member_removed",
        obj=school,
        summary=f"{membership.user.email} taken out of {school}",
    )
