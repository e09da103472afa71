"""Schools and who belongs to them (docs/decisions/0029).

One rule, here: a membership whose roster fields name a school (``Membership.school``, with its
``district``) belongs to the ``School`` of that name and district, made when first named. The
member upsert (roster, member API, requests to join) calls ``school_links_sync`` for the rows it
wrote; it is set-based (three statements whatever the number of members), so a 50,000-row roster
stays fast. Links a program admin adds by hand (``school_member_add``) are never taken away by a
roster.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction

from credentials_site.exceptions import ApplicationError

from ..errors import ProgramErrorCode
from ..models import Membership, Organization, School, SchoolMembership, User
from .audit import audit_record

_TABLES = {
    "school": School._meta.db_table,
    "link": SchoolMembership._meta.db_table,
    "membership": Membership._meta.db_table,
}

# the members concerned: all of the organization's, or those of some accounts
_MEMBERS = "m.organization_id = %(org)s AND (%(all)s OR m.user_id = ANY(%(users)s))"

_SCHOOLS_NAMED = f"""
INSERT INTO {_TABLES["school"]} (organization_id, name, district, level, created_at, updated_at)
SELECT DISTINCT ON (lower(btrim(m.school)), lower(btrim(m.district)))
       m.organization_id, btrim(m.school), btrim(m.district), '', now(), now()
FROM {_TABLES["membership"]} m
WHERE {_MEMBERS} AND btrim(m.school) <> ''
ON CONFLICT (organization_id, lower(name), lower(district)) DO NOTHING
"""  # noqa: S608 - table names of the models; the values are parameters

_ROSTER_LINKS_GONE = f"""
DELETE FROM {_TABLES["link"]} l
USING {_TABLES["membership"]} m, {_TABLES["school"]} s
WHERE l.membership_id = m.id AND l.school_id = s.id AND l.source = 'roster' AND {_MEMBERS}
  AND (lower(s.name), lower(s.district))
      IS DISTINCT FROM (lower(btrim(m.school)), lower(btrim(m.district)))
"""  # noqa: S608 - table names of the models; the values are parameters

_ROSTER_LINKS_MADE = f"""
INSERT INTO {_TABLES["link"]}
       (organization_id, school_id, membership_id, source, created_at, updated_at)
SELECT m.organization_id, s.id, m.id, 'roster', now(), now()
FROM {_TABLES["membership"]} m
JOIN {_TABLES["school"]} s ON s.organization_id = m.organization_id
 AND lower(s.name) = lower(btrim(m.school)) AND lower(s.district) = lower(btrim(m.district))
WHERE {_MEMBERS} AND btrim(m.school) <> ''
ON CONFLICT (school_id, membership_id) DO NOTHING
"""  # noqa: S608 - table names of the models; the values are parameters


def school_links_sync(*, organization: Organization, user_ids: Sequence[int] | None = None) -> None:
    """Make the members' roster-named schools exist and the members belong to them (and no
    longer to a school their roster row stopped naming). ``user_ids`` None: every member."""
    params: dict[str, Any] = {
        "org": organization.pk,
        "all": user_ids is None,
        "users": list(user_ids or ()),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in (_SCHOOLS_NAMED, _ROSTER_LINKS_GONE, _ROSTER_LINKS_MADE):
            cursor.execute(statement, params)


def _same_organization(membership: Membership, school: School) -> None:
    if membership.organization_id != school.organization_id:
        message = "That member and that school belong to different organizations."
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
