"""The organizations' revocation status lists (BitstringStatusListCredential): taking a bit for a
new badge, serving a list, and signing it again before it lapses.

A signed list is valid for ``BADGE_STATUS_LIST_VALID_DAYS`` (its ``validUntil``). Beat re-signs
every list that has less than half of that left (``status_lists_renew``); and a list read after
it lapsed anyway (beat stopped, an inactive organization) is re-signed on that read
(``status_list_get``), so a lapsed list is never served. A list signed with a key that was since
marked compromised, or before lists had a validity, counts as lapsed."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone

from credentials_site.tenancy import scoped_sql
from programs.models import Organization

from ..models import (
    STATUS_LIST_SIZE,
    StatusList,
)
from .signing import _status_list_sign, status_list_validity

# One statement takes the next ``count`` bits (as many as are left) of the organization's
# newest list and holds the row's lock to commit (a rolled-back issue gives its bits back).
# ``{tenant}`` is the tenant scope's filter, applied by scoped_sql.
_STATUS_TAKE_SQL = """
    WITH newest AS (
        SELECT id, number, next_index, size FROM badges_statuslist
         WHERE organization_id = %(organization)s AND purpose = 'revocation' AND {tenant}
         ORDER BY number DESC LIMIT 1
           FOR UPDATE
    )
    UPDATE badges_statuslist s
       SET next_index = least(newest.size, newest.next_index + %(count)s), updated_at = %(now)s
      FROM newest
     WHERE s.id = newest.id AND newest.next_index < newest.size
 RETURNING s.id, s.number, newest.next_index, s.next_index
"""


def _status_take(organization: Organization, count: int = 1) -> tuple[StatusList, int, int] | None:
    """The next free bits of the newest list, up to ``count``: the list, the first bit and
    the one after the last; ``None`` when there is no list or it is full."""
    sql, params = scoped_sql(
        _STATUS_TAKE_SQL,
        {"now": timezone.now(), "organization": organization.pk, "count": count},
        tenant="organization_id",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    pk, number, first, stop = row
    # what the badge needs of its list; the other columns are deferred (read if ever asked for)
    status_list = StatusList.from_db(
        "default", ["id", "organization_id", "number"], [pk, organization.pk, number]
    )
    status_list.organization = organization
    return status_list, first, stop


def _status_list_new(organization: Organization) -> None:
    """The organization's next list, signed (unless another worker made it first)."""
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


def _status_allocate_many(organization: Organization, count: int) -> list[tuple[StatusList, int]]:
    """The next ``count`` free bits, from the newest list and then new ones as lists fill."""
    bits: list[tuple[StatusList, int]] = []
    while len(bits) < count:
        taken = _status_take(organization, count - len(bits))
        if taken is None:  # no list, or the newest is full (or filled by others meanwhile)
            _status_list_new(organization)
            continue
        status_list, first, stop = taken
        bits.extend((status_list, index) for index in range(first, stop))
    return bits


def _status_allocate(organization: Organization) -> tuple[StatusList, int]:
    """The next free bit of the organization's newest list (a new list when it is full)."""
    [bit] = _status_allocate_many(organization, 1)
    return bit


def _due(before: dt.datetime) -> Q:
    """Lists to sign again: they lapse at or before ``before``, or carry no usable signature
    (signed before lists had a validity, or with a key since marked compromised)."""
    return (
        Q(valid_until__isnull=True)
        | Q(valid_until__lte=before)
        | Q(signing_key__isnull=True)
        | Q(signing_key__compromised_at__isnull=False)
    )


def _status_list_renew(pk: int, *, before: dt.datetime) -> bool:
    """Re-sign the list if it is still due under its lock (another worker or request may have
    just done it); whether it was."""
    with transaction.atomic():
        status_list = (
            StatusList.objects.select_for_update(of=("self",))
            .select_related("organization")
            .filter(_due(before), pk=pk)
            .first()
        )
        if status_list is None:
            return False
        _status_list_sign(status_list)
    return True


def status_list_get(*, organization: Organization, number: int) -> StatusList:
    """The organization's list ``number``, never lapsed: one that lapsed (or was signed with a
    key since marked compromised) is re-signed first."""
    lists = StatusList.objects.select_related("organization").filter(
        organization=organization, purpose="revocation", number=number
    )
    now = timezone.now()
    read = lists.annotate(lapsed=ExpressionWrapper(_due(now), output_field=BooleanField())).get()
    if not read.lapsed:
        return read
    _status_list_renew(read.pk, before=now)
    return lists.get()


def status_lists_renew(*, organization: Organization) -> int:
    """Beat: re-sign the organization's lists that have less than half their validity left;
    how many were."""
    before = timezone.now() + status_list_validity() / 2
    due = StatusList.objects.filter(_due(before), organization=organization)
    return sum(
        _status_list_renew(pk, before=before)
        for pk in due.order_by("pk").values_list("pk", flat=True)
    )
