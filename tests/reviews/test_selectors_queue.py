"""The queue's one statement (reviews.selectors.queue_sql) as the page and the API read it: the
organization's own queue, whatever the other organizations hold, and nothing outside its tenant
scope."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django_scopes import ScopeError, scope, scopes_disabled

from programs.models import Organization, StaffRole, User
from reviews import selectors
from submissions.models import Submission
from tests.factories import OrganizationFactory, StaffRoleFactory

pytestmark = pytest.mark.django_db

MakeSubmission = Callable[..., Submission]


def page(org: Organization, reviewer: User) -> list[Submission]:
    reviewer_scope = selectors.reviewer_scope(organization=org, user=reviewer)
    assert reviewer_scope is not None
    return list(selectors.queue_page(organization=org, scope=reviewer_scope))


class TestThePage:
    def test_each_organization_sees_its_own_queue_with_what_its_rows_show(
        self, org, reviewer, make_submission: MakeSubmission, count_queries
    ) -> None:
        # given a waiting submission here, and a busier organization beside it
        ours = make_submission()
        other = OrganizationFactory()
        theirs = [make_submission(organization=other) for _ in range(3)]
        other_reviewer = StaffRoleFactory(organization=other, role=StaffRole.Role.REVIEWER).user
        # then each reviewer's page holds their organization's submissions only
        assert page(org, reviewer) == [ours]
        assert page(other, other_reviewer) == theirs
        # and a row shows its credential and program without another query
        (row,) = page(org, reviewer)
        shown = count_queries(
            lambda: (row.application.version.title, row.application.credential.program.name)
        )
        assert len(shown) == 0
        assert row.submitted_reviews == 0


@pytest.mark.scoped
class TestTenancy:
    def test_the_queue_is_read_only_within_the_organizations_scope(
        self, org, reviewer, make_submission: MakeSubmission
    ) -> None:
        with scopes_disabled():
            submission = make_submission()
            elsewhere = OrganizationFactory()
            reviewer_scope = selectors.reviewer_scope(organization=org, user=reviewer)
        assert reviewer_scope is not None

        def queue() -> list[int]:
            return list(
                selectors.queue_list(organization=org, scope=reviewer_scope).values_list(
                    "pk", flat=True
                )
            )

        # outside any scope the statement fails closed
        with pytest.raises(ScopeError):
            queue()
        with pytest.raises(ScopeError):
            selectors.reviewer_scope(organization=org, user=reviewer)
        # under another organization's scope there is no queue and no reviewer here
        with scope(organization=elsewhere.pk):
            assert selectors.reviewer_scope(organization=org, user=reviewer) is None
            assert queue() == []
        # under the organization's own scope, its submission
        with scope(organization=org.pk):
            assert queue() == [submission.pk]
