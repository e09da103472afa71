"""STAND-IN on branch wt-tokens for wt-roster's ``member_upsert`` (the one rule that creates or
updates a Membership and its User from a roster row). On merge the lead keeps wt-roster's
module; the member sync API and approving a request to join call only ``member_upsert`` and
``MemberRow`` from here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from django.db import transaction

from ..models import Membership, Organization, User
from .audit import audit_record
from .people import user_get_or_invite

Outcome = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class MemberRow:
    """One member as a roster (or the sync API, or an approved request) describes them."""

    email: str
    full_name: str = ""
    member_number: str = ""
    school: str = ""
    district: str = ""
    status: str = Membership.Status.ACTIVE
    member_until: dt.date | None = None
    source: str = Membership.Source.ROSTER


@dataclass(frozen=True)
class MemberUpsertResult:
    outcome: Outcome
    membership: Membership

    @property
    def created(self) -> bool:
        return self.outcome == "created"


@transaction.atomic
def member_upsert(
    *, organization: Organization, row: MemberRow, actor: User | None
) -> MemberUpsertResult:
    """Make the row true: the account (found by e-mail, or invited) and its membership here,
    changing only what differs. The same row twice changes nothing the second time."""
    user = user_get_or_invite(email=row.email, organization=organization, actor=actor)
    membership = (
        Membership.objects.select_for_update().filter(organization=organization, user=user).first()
    )
    profile = {"full_name": row.full_name, "school": row.school, "district": row.district}
    user_changes = [f for f, v in profile.items() if v and getattr(user, f) != v]
    for field in user_changes:
        setattr(user, field, profile[field])
    if user_changes:
        user.save(update_fields=user_changes)
    values = {
        "member_number": row.member_number,
        "status": row.status,
        "member_until": row.member_until,
    }
    if membership is None:
        membership = Membership.objects.create(
            organization=organization, user=user, source=row.source, **values
        )
        outcome: Outcome = "created"
        action, summary = "membership.created", f"{user.email} made a member"
    else:
        changes = [f for f, v in values.items() if getattr(membership, f) != v]
        if not changes and not user_changes:
            return MemberUpsertResult("unchanged", membership)
        for field in changes:
            setattr(membership, field, values[field])
        if changes:
            membership.save(update_fields=[*changes, "updated_at"])
        outcome = "updated"
        action, summary = "membership.changed", f"Membership of {user.email} changed"
    audit_record(
        organization=organization,
        actor=actor,
        action=action,
        obj=membership,
        summary=summary,
        data={"source": row.source, **{k: str(v) for k, v in values.items()}},
    )
    return MemberUpsertResult(outcome, membership)
