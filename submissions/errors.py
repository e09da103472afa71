from enum import StrEnum


class SubmissionErrorCode(StrEnum):
    NOT_PUBLISHED = "not_published"
    MEMBERS_ONLY = "members_only"
    ALREADY_APPLIED = "already_applied"
    NOT_EDITABLE = "not_editable"
    WRONG_KIND = "wrong_kind"
    TOO_LARGE = "too_large"
    EMPTY_FILE = "empty_file"
    TYPE_NOT_ACCEPTED = "type_not_accepted"
    TOO_MANY_FILES = "too_many_files"
    NOT_UPLOADED = "not_uploaded"
    SLOT_EXPIRED = "slot_expired"
    REJECTED = "rejected"
    INCOMPLETE = "incomplete"
    NAME_REQUIRED = "name_required"
    ATTEMPTS_EXHAUSTED = "attempts_exhausted"
    INVALID = "invalid"
