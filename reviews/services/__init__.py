"""State changes of reviews: claim, release, expire, save a draft, submit a decision,
double review and adjudication, reminders. Each locks its rows and runs in one transaction; the
outcome is applied to the application through submissions.services.

By concern: assignments (a program admin's choice of reviewer), claims (claim-next, release,
expiry), decisions (drafts, reviews, double review and adjudication), reminders (the beat's
e-mails)."""

from .assignments import (
    Rebalanced,
    assignment_assign,
    assignment_clear,
    assignment_load,
    assignment_rebalance,
    submission_code,
)
from .claims import claim_insert, claims_expire, review_claim_next, review_claim_release
from .decisions import review_save_draft, review_submit
from .reminders import REMIND_BEFORE_EXPIRY, claims_remind, overdue_notify

__all__ = [
    "REMIND_BEFORE_EXPIRY",
    "Rebalanced",
    "assignment_assign",
    "assignment_clear",
    "assignment_load",
    "assignment_rebalance",
    "claim_insert",
    "claims_expire",
    "claims_remind",
    "overdue_notify",
    "review_claim_next",
    "review_claim_release",
    "review_save_draft",
    "review_submit",
    "submission_code",
]
