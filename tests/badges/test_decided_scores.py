"""The scores a badge shows come from its decided attempt through one parser
(submissions.decisions): a malformed row stops the badge instead of being left out of it."""

from __future__ import annotations

from typing import Any

import pytest
from django_scopes import scopes_disabled

from badges import services
from badges.models import Badge
from badges.selectors import badge_list_below_passing
from submissions.decisions import MalformedDecision
from submissions.models import Submission

pytestmark = pytest.mark.django_db


def corrupt(application: Any) -> None:
    """The deciding attempt's first row loses its score, as no review ever writes it."""
    with scopes_disabled():
        submission = Submission.objects.get(
            application_id=application.pk, number=application.attempt
        )
        first, *rest = submission.feedback
        submission.feedback = [{k: v for k, v in first.items() if k != "score"}, *rest]
        submission.save(update_fields=["feedback"])


def test_the_badge_carries_the_decided_scores(approve: Any) -> None:
    badge = services.badge_issue(application_id=approve().pk)
    (result,) = badge.credential["credentialSubject"]["result"]
    assert result["achievedLevel"]


def test_a_malformed_row_stops_the_badge(approve: Any) -> None:
    # given an approved application whose decided scores have a malformed row
    application = approve()
    corrupt(application)
    # when the badge is issued, it is not: the error names the row
    with pytest.raises(MalformedDecision, match="decision row 0 has no score"):
        services.badge_issue(application_id=application.pk)
    assert not Badge.objects.filter(application_id=application.pk).exists()


def test_the_list_of_badges_below_passing_refuses_a_malformed_row(approve: Any, org: Any) -> None:
    # given a badge whose deciding attempt's scores were later damaged
    application = approve()
    services.badge_issue(application_id=application.pk)
    corrupt(application)
    # then listing the badges below passing says so rather than skipping the criterion
    with pytest.raises(MalformedDecision, match="decision row 0 has no score"):
        badge_list_below_passing(organization=org)
