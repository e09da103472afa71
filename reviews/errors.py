from enum import StrEnum


class ReviewErrorCode(StrEnum):
    NOT_A_REVIEWER = "not_a_reviewer"
    QUEUE_EMPTY = "queue_empty"
    NOT_CLAIMED = "not_claimed"
    CLAIM_EXPIRED = "claim_expired"
    ALREADY_DECIDED = "already_decided"
    INCOMPLETE = "incomplete"
    BELOW_PASSING = "below_passing"
    OWN_SUBMISSION = "own_submission"
    INVALID = "invalid"
    NOT_ASSIGNABLE = "not_assignable"
