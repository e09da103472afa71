"""``manage.py badges_below_passing``: badges issued before approval followed the rubric, whose
deciding scores fall below a criterion's passing level, are listed for their program admins;
nothing is changed."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_scopes import scopes_disabled

from badges import services
from badges.models import Badge
from programs.models import RubricCriterion
from submissions.models import Submission
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def legacy_below_passing(application) -> Badge:  # type: ignore[no-untyped-def]
    """The badge of ``application``, whose deciding attempt is then rewritten to score its
    criterion below passing: what an install approved before the rule existed."""
    badge = services.badge_issue(application_id=application.pk)
    with scopes_disabled():
        submission = Submission.objects.get(
            application_id=application.pk, number=application.attempt
        )
        submission.feedback = [dict(row, score=0) for row in submission.feedback]
        submission.save(update_fields=["feedback"])
    return badge


def run(*args: str) -> str:
    out = StringIO()
    with scopes_disabled():
        call_command("badges_below_passing", *args, stdout=out)
    return out.getvalue()


def test_lists_badges_issued_below_passing_and_changes_nothing(org, approve) -> None:
    # given two badges of the organization, one approved below passing (before the rule)
    fine = services.badge_issue(application_id=approve().pk)
    below = legacy_below_passing(approve())
    # and one of another organization, and a revoked one below passing
    other = OrganizationFactory(short_name="GAEL", slug="gael")
    elsewhere = legacy_below_passing(approve(organization=other))
    revoked = legacy_below_passing(approve())
    services.badge_revoke(badge=revoked, reason="Issued by mistake.", actor=None)
    with scopes_disabled():
        title = RubricCriterion.objects.get(version_id=below.version_id).title
        before = sorted(Badge.objects.values_list("pk", "revoked_at", "updated_at"))

    # when the command runs over all organizations
    output = run()

    # then each unrevoked badge below passing is listed under its organization, with the
    # criterion, the score given and the passing level, and the pages to act on it
    assert f"{org.name} ({org.slug}): 1 badge issued below passing" in output
    assert f"/badges/{below.public_id}/" in output
    assert f"/admin/badges/badge/{below.pk}/change/" in output
    assert f"    - {title}: rated 0, passing level 1" in output
    assert f"/badges/{elsewhere.public_id}/" in output
    assert str(fine.public_id) not in output and str(revoked.public_id) not in output
    assert output.endswith(
        "2 badges to decide on: revoke with a public reason in the admin, or keep.\n"
    )
    # and nothing changed
    with scopes_disabled():
        assert sorted(Badge.objects.values_list("pk", "revoked_at", "updated_at")) == before

    # when it is limited to one organization, only that one is listed
    only = run("--organization", "gael")
    assert f"/badges/{elsewhere.public_id}/" in only and str(below.public_id) not in only


def test_says_so_when_there_is_none(approve) -> None:
    services.badge_issue(application_id=approve().pk)
    assert run() == "No badge was issued below passing.\n"


def test_an_unknown_organization_is_an_error() -> None:
    with pytest.raises(CommandError, match="No organization “nowhere”"):
        run("--organization", "nowhere")
