from __future__ import annotations

from enum import StrEnum

from credentials_site.exceptions import ApplicationError


class BadgeErrorCode(StrEnum):
    NOT_APPROVED = "not_approved"
    ALREADY_REVOKED = "already_revoked"
    REASON_REQUIRED = "reason_required"
    NOT_ALLOWED = "not_allowed"
    INVALID = "invalid"
    PATHWAY_INCOMPLETE = "pathway_incomplete"
    ALREADY_COMPROMISED = "already_compromised"
    # wallet exchanges (badges.services.wallet)
    REVOKED = "revoked"
    EXCHANGE_EXPIRED = "exchange_expired"
    EXCHANGE_USED = "exchange_used"


class BadgeError(ApplicationError):
    """A badge operation refused for a reason a person can act on."""
