"""The organizations' revocation status lists (BitstringStatusListCredential): taking a bit for a
new badge, re-signing a list."""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from programs.models import Organization

from ..models import (
    STATUS_LIST_SIZE,
    StatusList,
)
from .signing import _status_list_sign

# One statement takes the next bit of the organization's newest list and holds the row's lock
# to commit (a rolled-back issue gives its bit back). The tenant scope is in the statement.
_STATUS_TAKE_SQL = """
    UPDATE badges_statuslist
       SET next_index = next_index + 1, updated_at = %(now)s
     WHERE id = (SELECT id FROM badges_statuslist
                  WHERE organization_id = %(organization)s AND purpose = 'revocation'
                  ORDER BY number DESC LIMIT 1)
       AND organization_id = %(organization)s
       AND next_index < size
 RETURNING id, number, next_index - 1
"""


def _status_take(organization: Organization) -> tuple[StatusList, int] | None:
    """The next free bit of the newest list, or ``None`` when there is no list or it is
    full."""
    with connection.cursor() as cursor:
        cursor.execute(_STATUS_TAKE_SQL, {"now": timezone.now(), "organization": organization.pk})
        row = cursor.fetchone()
    if row is None:
        return None
    pk, number, index = row
    # what the badge needs of its list; the other columns are deferred (read if ever asked for)
    status_list = StatusList.from_db(
        "default", ["id", "organization_id", "number"], [pk, organization.pk, number]
    )
    status_list.organization = organization
    return status_list, index


def _status_allocate(organization: Organization) -> tuple[StatusList, int]:
    """The next free bit of the organization's newest list (a new list when it is full)."""
    taken = _status_take(organization)
    if taken is not None:
        return taken
    newest = (
        StatusList.objects.filter(organization=organization, purpose="revocation")
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    number = (newest or 0) + 1
    try:
        with transaction.atomic():
            status_list = StatusList.objects.create(
                organization=organization,
                number=number,
                size=STATUS_LIST_SIZE,
                bits=bytes(STATUS_LIST_SIZE // 8),
            )
            status_list.organization = organization
            _status_list_sign(status_list)
    except IntegrityError:
        pass  # another worker made it first
    taken = _status_take(organization)
    if taken is None:  # filled by others between the two statements: rare, try again
        return _status_allocate(organization)
    return taken


def status_list_get(*, organization: Organization, number: int) -> StatusList:
    return StatusList.objects.select_related("organization").get(
        organization=organization, purpose="revocation", number=number
    )
