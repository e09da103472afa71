"""What a reviewer may see, and how much of it.

The reviewer's pages (reviews/views.py, reviews/calibration_pages.py) are thin: they ask this
package who may open a page (404, never 403, for anyone else, in any organization) and for the
read model they render. The read models decide what about the educator is shown: in a
blind-review program nothing but the anonymous code, not even the names of their files. Each
page costs a fixed number of queries, whatever the number of submissions, claims or evidence
items.

- ``permissions``: ``access_<thing>_by_<key>(actor=...)``, and the names files are shown under;
- ``rubric``: the evidence and the rubric step by step, shared by the review page and a
  calibration exemplar's page;
- ``pages``: the queue, the review page, conflicts, the header link;
- ``inputs``: what the forms carry once parsed; ``due``: time in words.
"""

from .due import Due, age_text, business_days_between, due_text, time_left_text
from .inputs import QueueFilters, Refusal, ReviewInput
from .pages import (
    ADJUDICATION_LIST_SIZE,
    QUEUE_PAGE_SIZE,
    ClaimRow,
    EarlierReview,
    Identity,
    QueuePage,
    QueueRow,
    ReviewPage,
    conflict_list,
    filter_choices,
    queue_page,
    review_page,
    reviewing_organizations,
)
from .permissions import (
    EvidenceFile,
    access_claim_by_public_id,
    access_claim_file_by_public_id,
    access_exemplar_by_public_id,
    access_exemplar_file_by_public_id,
    access_scope_by_organization,
    claim_is_live,
    evidence_filename,
)
from .rubric import (
    CriterionView,
    EvidenceView,
    LevelView,
    RequirementView,
    RubricForm,
    criterion_view,
    rubric_criteria,
    rubric_form,
)

__all__ = [
    "ADJUDICATION_LIST_SIZE",
    "QUEUE_PAGE_SIZE",
    "ClaimRow",
    "CriterionView",
    "Due",
    "EarlierReview",
    "EvidenceFile",
    "EvidenceView",
    "Identity",
    "LevelView",
    "QueueFilters",
    "QueuePage",
    "QueueRow",
    "Refusal",
    "RequirementView",
    "ReviewInput",
    "ReviewPage",
    "RubricForm",
    "access_claim_by_public_id",
    "access_claim_file_by_public_id",
    "access_exemplar_by_public_id",
    "access_exemplar_file_by_public_id",
    "access_scope_by_organization",
    "age_text",
    "business_days_between",
    "claim_is_live",
    "conflict_list",
    "criterion_view",
    "due_text",
    "evidence_filename",
    "filter_choices",
    "queue_page",
    "review_page",
    "reviewing_organizations",
    "rubric_criteria",
    "rubric_form",
    "time_left_text",
]
