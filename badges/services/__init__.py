"""State changes of badges, one module per concern: issuing (idempotent), signing keys (and a
compromised key's badges re-signed), status lists, pathway certificates, revocation,
verification, the sweeps and reminders, the e-mails and the public profile. Callers import this
package; the names below are its interface (how issuing stays idempotent: ``issuing``'s
docstring; how re-signing does: ``compromise``'s)."""

from ._urls import achievement_image_url, badge_url, pathway_image_url, status_list_url
from .award import bulk_award_apply, bulk_award_check, bulk_award_create, bulk_award_progress
from .batch import BatchIssued, badge_issue_batch, badge_issue_grouped
from .compromise import (
    key_compromise_failure_record,
    key_compromise_resign,
    key_compromises_unfinished,
    signing_key_compromise,
    signing_key_resign_count,
)
from .issuing import badge_issue, issue_failure_record
from .mail import badge_mail_send
from .pathways import pathway_badge_issue, pathways_check, pathways_completed
from .profiles import HANDLE_TAKEN, HEADLINE_MAX, profile_save
from .revocation import (
    Revocation,
    badge_revoke,
    badge_visibility_set,
    certificates_requiring,
)
from .signing import (
    platform_key_active,
    platform_keys_public,
    platform_sign,
    signing_key_active,
    signing_key_list,
    signing_key_rotate,
    status_list_validity,
)
from .status import status_list_get, status_lists_renew
from .sweeps import approvals_without_badge, badges_remind_expiring, pathway_candidates
from .transcript import (
    CREDIT_HOURS_HEADER,
    Transcript,
    TranscriptEntry,
    clr_issue,
    credit_hours_period_check,
    credit_hours_rows,
    transcript_get,
    transcript_pdf,
)
from .verification import credential_verify
from .wallet import (
    OFFER_LIFETIME,
    exchange_url,
    lcw_deep_link,
    wallet_exchange_redeem,
    wallet_offer_create,
)

__all__ = [
    "CREDIT_HOURS_HEADER",
    "HANDLE_TAKEN",
    "HEADLINE_MAX",
    "OFFER_LIFETIME",
    "BatchIssued",
    "Revocation",
    "Transcript",
    "TranscriptEntry",
    "achievement_image_url",
    "approvals_without_badge",
    "badge_issue",
    "badge_issue_batch",
    "badge_issue_grouped",
    "badge_mail_send",
    "badge_revoke",
    "badge_url",
    "badge_visibility_set",
    "badges_remind_expiring",
    "bulk_award_apply",
    "bulk_award_check",
    "bulk_award_create",
    "bulk_award_progress",
    "certificates_requiring",
    "clr_issue",
    "credential_verify",
    "credit_hours_period_check",
    "credit_hours_rows",
    "exchange_url",
    "issue_failure_record",
    "key_compromise_failure_record",
    "key_compromise_resign",
    "key_compromises_unfinished",
    "lcw_deep_link",
    "pathway_badge_issue",
    "pathway_candidates",
    "pathway_image_url",
    "pathways_check",
    "pathways_completed",
    "platform_key_active",
    "platform_keys_public",
    "platform_sign",
    "profile_save",
    "signing_key_active",
    "signing_key_compromise",
    "signing_key_list",
    "signing_key_resign_count",
    "signing_key_rotate",
    "status_list_get",
    "status_list_url",
    "status_list_validity",
    "status_lists_renew",
    "transcript_get",
    "transcript_pdf",
    "wallet_exchange_redeem",
    "wallet_offer_create",
]
