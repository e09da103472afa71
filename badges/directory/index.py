"""The directory's search entries (``DirectoryEntry``): one set-based builder.

``directory_entries_refresh(user_ids=...)`` rebuilds, in two statements, the entries of every
membership of those people in every organization: an entry exists exactly for the memberships of
a person whose directory profile is listed (not "hidden") and who has a name; it holds their
name, headline, public badges (shown on their profile: ``Badge.is_public``, not revoked — the
backpack's rule, ``badges.selectors.badge_list_public_for_profile``), those credentials'
categories and focus areas, their schools and district, and the facet lexemes the filters match.

Reading a person's memberships and badges in every organization is a named read across
organizations (``cross_organization``). Who is *shown* is decided again at query time, on the
real rows (``selectors``): a lapsed membership or a profile made hidden never shows, whatever an
entry says.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import Q

from credentials_site.tenancy import cross_organization
from programs.models import (
    Category,
    CredentialVersion,
    FocusArea,
    Membership,
    School,
    SchoolMembership,
    User,
)

from ..models import Badge, DirectoryEntry, DirectoryProfile

INDEX_READ = "the directory's search entries of the people it lists, from every organization"
CONFIG = "english"

_T = {
    "entry": DirectoryEntry._meta.db_table,
    "profile": DirectoryProfile._meta.db_table,
    "membership": Membership._meta.db_table,
    "user": User._meta.db_table,
    "badge": Badge._meta.db_table,
    "version": CredentialVersion._meta.db_table,
    "categories": CredentialVersion.categories.through._meta.db_table,
    "category": Category._meta.db_table,
    "focus": FocusArea._meta.db_table,
    "school": School._meta.db_table,
    "link": SchoolMembership._meta.db_table,
}

# the people concerned: everyone, or some accounts
_PEOPLE = "(%(all)s OR m.user_id = ANY(%(users)s))"

# a membership is indexed when it is current and its person is listed and named (the search
# checks the same again on the real rows: selectors.current_members, the audience)
_LISTED = f"""
    EXISTS (SELECT 1 FROM {_T["profile"]} p
            WHERE p.user_id = m.user_id AND p.visibility <> 'hidden')
    AND btrim(u.full_name) <> '' AND m.status = 'active'
    AND (m.member_until IS NULL OR m.member_until >= current_date)
"""  # noqa: S608 - table names of the models

# the badges a directory shows: public on the backpack, not revoked
_SHOWN = "b.recipient_id = m.user_id AND b.is_public AND b.revoked_at IS NULL"


def district_lexeme_sql(expression: str) -> str:
    """The facet lexeme of a district's words (any case, outer spaces ignored): the index and
    the search's filter write it with this one expression."""
    return f"'district:' || left(md5(lower(btrim({expression}))), 12)"


_UPSERT = f"""
INSERT INTO {_T["entry"]} (membership_id, document, sort_name)
SELECT m.id,
    setweight(to_tsvector('{CONFIG}', u.full_name), 'A')
    || setweight(to_tsvector('{CONFIG}', coalesce(p.headline, '')), 'B')
    || setweight(to_tsvector('{CONFIG}', coalesce(
        (SELECT string_agg(b.name, ' ') FROM {_T["badge"]} b WHERE {_SHOWN}), '')), 'A')
    || setweight(to_tsvector('{CONFIG}', coalesce((
        SELECT string_agg(x.name, ' ') FROM (
            SELECT c.name FROM {_T["badge"]} b
            JOIN {_T["categories"]} vc ON vc.credentialversion_id = b.version_id
            JOIN {_T["category"]} c ON c.id = vc.category_id WHERE {_SHOWN}
            UNION
            SELECT f.name FROM {_T["badge"]} b
            JOIN {_T["version"]} v ON v.id = b.version_id
            JOIN {_T["focus"]} f ON f.id = v.focus_area_id WHERE {_SHOWN}
        ) x), '')), 'C')
    || setweight(to_tsvector('{CONFIG}', coalesce((
        SELECT string_agg(s.name || ' ' || s.district, ' ') FROM {_T["link"]} l
        JOIN {_T["school"]} s ON s.id = l.school_id WHERE l.membership_id = m.id), '')
        || ' ' || m.school || ' ' || m.district), 'C')
    || array_to_tsvector(ARRAY(
        SELECT DISTINCT lexeme FROM (
            SELECT 'org:' || m.organization_id AS lexeme
            UNION ALL SELECT 'vis:' || p.visibility
            UNION ALL SELECT 'cred:' || v.credential_id FROM {_T["badge"]} b
                JOIN {_T["version"]} v ON v.id = b.version_id WHERE {_SHOWN}
            UNION ALL SELECT 'fa:' || v.focus_area_id FROM {_T["badge"]} b
                JOIN {_T["version"]} v ON v.id = b.version_id
                WHERE {_SHOWN} AND v.focus_area_id IS NOT NULL
            UNION ALL SELECT 'cat:' || vc.category_id FROM {_T["badge"]} b
                JOIN {_T["categories"]} vc ON vc.credentialversion_id = b.version_id
                WHERE {_SHOWN}
            UNION ALL SELECT 'school:' || l.school_id FROM {_T["link"]} l
                WHERE l.membership_id = m.id
            UNION ALL SELECT {district_lexeme_sql("s.district")} FROM {_T["link"]} l
                JOIN {_T["school"]} s ON s.id = l.school_id
                WHERE l.membership_id = m.id AND btrim(s.district) <> ''
            UNION ALL SELECT {district_lexeme_sql("m.district")} WHERE btrim(m.district) <> ''
        ) facets)),
    left(lower(btrim(u.full_name)), 200)
FROM {_T["membership"]} m
JOIN {_T["user"]} u ON u.id = m.user_id
LEFT JOIN {_T["profile"]} p ON p.user_id = m.user_id
WHERE {_PEOPLE} AND {_LISTED}
ON CONFLICT (membership_id) DO UPDATE
SET document = EXCLUDED.document, sort_name = EXCLUDED.sort_name
"""  # noqa: S608 - table names of the models; the values are parameters

_GONE = f"""
DELETE FROM {_T["entry"]} e
WHERE e.membership_id IN (
    SELECT m.id FROM {_T["membership"]} m JOIN {_T["user"]} u ON u.id = m.user_id
    WHERE {_PEOPLE} AND NOT ({_LISTED})
)
"""  # noqa: S608 - table names of the models; the values are parameters


def directory_entries_refresh(*, user_ids: Iterable[int] | None) -> None:
    """Rebuild the search entries of these people's memberships (``None``: everyone's), in two
    statements whatever their number; what is no longer listed leaves the index."""
    users = sorted(set(user_ids or ()))
    if user_ids is not None and not users:
        return
    params: dict[str, Any] = {"all": user_ids is None, "users": users}
    with (
        cross_organization(INDEX_READ),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(_GONE, params)
        cursor.execute(_UPSERT, params)


def directory_entries_refresh_on_commit(*, user_ids: Iterable[int]) -> None:
    """The same, once the caller's transaction commits (what a badge service changed)."""
    ids = sorted(set(user_ids))
    transaction.on_commit(lambda: directory_entries_refresh(user_ids=ids))


def directory_people_changed_since(*, since: dt.datetime) -> list[int]:
    """The people whose badges, memberships or school links changed since ``since``, or whose
    school was renamed: what ``programs`` and the issuing services write without telling the
    directory (programs cannot call it: dependencies point one way). One query."""
    with cross_organization(INDEX_READ):
        badges = Badge.objects.filter(updated_at__gte=since).values("recipient_id")
        members = Membership.objects.filter(
            Q(updated_at__gte=since)
            | Q(school_links__updated_at__gte=since)
            | Q(school_links__school__updated_at__gte=since)
        ).values("user_id")
        listed = DirectoryProfile.objects.exclude(visibility=DirectoryProfile.Visibility.HIDDEN)
        return list(
            listed.filter(Q(user_id__in=badges) | Q(user_id__in=members)).values_list(
                "user_id", flat=True
            )
        )
