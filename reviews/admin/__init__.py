"""Program admins see their organization's review queue in the admin.

Claims, reviews (with their scores) and conflicts of interest are a record: reviewers change
them through the queue, so they are read-only here. Calibration exemplars are made in two steps
(choose a decided submission, then agree on its scores) through ``reviews.calibration``. Two
pages of their own hang off the Review admin: the queue's health and a submission's review
history. Submissions waiting for review are assigned to reviewers (one, a batch, or
rebalanced from a reviewer who is away) through ``reviews.services.assignments``. Every page is
limited to the organizations the user administers.
"""

from . import assignments, exemplars, records  # noqa: F401 - registers the admins
