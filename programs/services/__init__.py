"""State changes of programs: credential versions (draft → published → superseded), retirement,
accounts, staff roles and memberships. Each runs in one transaction and writes an audit event.

A package by concern; callers use ``programs.services.<name>`` as before."""

from .artwork import credential_artwork_set
from .audit import audit_record, audit_record_many
from .builder import credential_version_builder_document, credential_version_builder_save
from .credentials import (
    PublishCheck,
    credential_create,
    credential_retire,
    credential_version_create_draft,
    credential_version_problems,
    credential_version_publish,
    credential_version_publish_check,
)
from .joining import (
    member_email_domain_add,
    member_email_domain_remove,
    membership_join_by_domain,
    membership_join_by_domain_everywhere,
    membership_request_decide,
    membership_request_submit,
)
from .lti import lti_scores_on_commit
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
from .school_goals import (
    Assigned,
    goal_credential_recommend,
    goal_recommendation_remove,
    school_assign,
    school_assignment_respond,
    school_goal_move,
    school_goal_remove,
    school_goal_save,
)
from .schools import school_links_sync, school_member_add, school_member_remove
from .templates import credential_create_from_template, credential_duplicate
from .tokens import (
    NewToken,
    organization_token_authenticate,
    organization_token_create,
    organization_token_refusal,
    organization_token_revoke,
    organization_token_touch,
)
from .version_diff import Change, credential_version_diff

__all__ = [
    "CROSS_ORGANIZATION",
    "OWNER_ONLY_GIVES",
    "OWNER_ONLY_TAKES",
    "Assigned",
    "Change",
    "MemberRow",
    "NewToken",
    "PublishCheck",
    "audit_record",
    "audit_record_many",
    "credential_artwork_set",
    "credential_create",
    "credential_create_from_template",
    "credential_duplicate",
    "credential_retire",
    "credential_version_builder_document",
    "credential_version_builder_save",
    "credential_version_create_draft",
    "credential_version_diff",
    "credential_version_problems",
    "credential_version_publish",
    "credential_version_publish_check",
    "goal_credential_recommend",
    "goal_recommendation_remove",
    "lti_scores_on_commit",
    "member_email_domain_add",
    "member_email_domain_remove",
    "member_row_clean",
    "member_upsert",
    "member_upsert_many",
    "membership_join_by_domain",
    "membership_join_by_domain_everywhere",
    "membership_lapse_expired",
    "membership_request_decide",
    "membership_request_submit",
    "organization_token_authenticate",
    "organization_token_create",
    "organization_token_refusal",
    "organization_token_revoke",
    "organization_token_touch",
    "school_assign",
    "school_assignment_respond",
    "school_goal_move",
    "school_goal_remove",
    "school_goal_save",
    "school_links_sync",
    "school_member_add",
    "school_member_remove",
    "staff_role_change",
    "staff_role_grant",
    "staff_role_refusal",
    "staff_role_revoke",
    "user_get_or_invite",
]
