"""State changes of applications and their evidence. Each runs in one transaction, locks the
application row, checks its state, and records an event on the application's timeline."""

from ._common import word_count
from .answers import evidence_link_save, evidence_text_save, quiz_answer
from .applications import (
    application_apply,
    application_decide,
    application_fee_record,
    application_gaps,
    application_mark_awarded,
    application_return_for_revision,
    application_review_paused,
    application_review_started,
    application_submit,
    applications_mark_awarded,
    gaps_of,
)
from .evidence import (
    UploadSlot,
    evidence_item_privacy,
    evidence_item_remove,
    evidence_multipart_complete,
    evidence_multipart_parts,
    evidence_multipart_sign,
    evidence_upload_confirm,
    evidence_upload_slot,
    holds_a_place,
)
from .housekeeping import evidence_legacy_finalize, evidence_sweep, storage_orphans_sweep
from .reviewing import application_event_record, submission_mark_for_adjudication
from .withdrawal import (
    application_withdraw,
    withdrawal_evidence_note,
    withdrawn_evidence_delete_after,
)

__all__ = [
    "UploadSlot",
    "application_apply",
    "application_decide",
    "application_event_record",
    "application_fee_record",
    "application_gaps",
    "application_mark_awarded",
    "application_return_for_revision",
    "application_review_paused",
    "application_review_started",
    "application_submit",
    "application_withdraw",
    "applications_mark_awarded",
    "evidence_item_privacy",
    "evidence_item_remove",
    "evidence_legacy_finalize",
    "evidence_link_save",
    "evidence_multipart_complete",
    "evidence_multipart_parts",
    "evidence_multipart_sign",
    "evidence_sweep",
    "evidence_text_save",
    "evidence_upload_confirm",
    "evidence_upload_slot",
    "gaps_of",
    "holds_a_place",
    "quiz_answer",
    "storage_orphans_sweep",
    "submission_mark_for_adjudication",
    "withdrawal_evidence_note",
    "withdrawn_evidence_delete_after",
    "word_count",
]
