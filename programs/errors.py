from enum import StrEnum


class ProgramErrorCode(StrEnum):
    NOT_EDITABLE = "not_editable"
    NOTHING_TO_PUBLISH = "nothing_to_publish"
    INCOMPLETE = "incomplete"
    WRONG_ORGANIZATION = "wrong_organization"
    ALREADY_RETIRED = "already_retired"
    INVALID = "invalid"
    INVALID_EMAIL = "invalid_email"
    NOT_ALLOWED = "not_allowed"
    ALREADY_GRANTED = "already_granted"
    ALREADY_MEMBER = "already_member"
    ALREADY_REQUESTED = "already_requested"
    ALREADY_DECIDED = "already_decided"
    LTI_LAUNCH_REFUSED = "lti_launch_refused"
