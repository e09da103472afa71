"""State changes of programs: credential versions (draft → published → superseded), retirement,
accounts, staff roles and memberships. Each runs in one transaction and writes an audit event.

A package by concern; callers use ``programs.services.<name>`` as before."""

from .audit import audit_record, audit_record_many
from .credentials import (
    credential_create,
    credential_retire,
    credential_version_create_draft,
    credential_version_problems,
    credential_version_publish,
)
from .members import MemberRow, member_row_clean, member_upsert, member_upsert_many
from .people import (
    CROSS_ORGANIZATION,
    OWNER_ONLY_GIVES,
    OWNER_ONLY_TAKES,
    membership_lapse_expired,
    staff_role_change,
    staff_role_grant,
    staff_role_refusal,
    staff_role_revoke,
    user_get_or_invite,
)

__all__ = [
    "CROSS_ORGANIZATION",
    "OWNER_ONLY_GIVES",
    "OWNER_ONLY_TAKES",
    "MemberRow",
    "audit_record",
    "audit_record_many",
    "credential_create",
    "credential_retire",
    "credential_version_create_draft",
    "credential_version_problems",
    "credential_version_publish",
    "member_row_clean",
    "member_upsert",
    "member_upsert_many",
    "membership_lapse_expired",
    "staff_role_change",
    "staff_role_grant",
    "staff_role_refusal",
    "staff_role_revoke",
    "user_get_or_invite",
]
