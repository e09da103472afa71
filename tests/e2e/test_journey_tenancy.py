"""Journey 5 in a real browser: a reviewer of Riverside reaches none of GAEL's review queue,
claims or evidence (404, as if they did not exist), while their own queue opens."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from programs.models import Organization, User
from reviews import services as review_services
from submissions.models import EvidenceItem
from tests.e2e.conftest import Journey
from tests.e2e.data import submitted_attempt


@pytest.fixture
def gael_urls(demo: None, video: bytes) -> dict[str, str]:
    """The addresses of a real GAEL attempt under review: the queue, a reviewer's claim and
    the evidence on it, the educator's application and its file."""
    application = submitted_attempt(
        organization="gael",
        credential="crucial-conversations-training",
        educator="educator@gael.demo",
        video=video,
    )
    claim = review_services.review_claim_next(
        organization=Organization.objects.get(slug="gael"),
        reviewer=User.objects.get(email="reviewer@gael.demo"),
    )
    assert claim is not None
    item = EvidenceItem.objects.filter(application=application).exclude(file_kind="").first()
    assert item is not None
    claim_url = f"/o/gael/review/claims/{claim.public_id}/"
    api = f"/api/v1/orgs/gael/applications/{application.public_id}/"
    return {
        "queue": "/o/gael/review/",
        "conflicts": "/o/gael/review/conflicts/",
        "calibration": "/o/gael/review/calibration/",
        "claim": claim_url,
        "claim evidence": f"{claim_url}items/{item.public_id}/file/",
        "application": f"/o/gael/applications/{application.public_id}/",
        "application evidence": f"{api}items/{item.public_id}/file/",
    }


def test_a_reviewer_of_another_organization_gets_404_everywhere(
    gael_urls: dict[str, str], journey: Journey, page: Page
) -> None:
    # given Riverside's reviewer, whose own queue opens
    journey.login(page, "reviewer@riverside.demo")
    response = page.goto("/o/riverside-usd/review/")
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    journey.step(page, "own queue")

    # when they open GAEL's queue, claim, evidence and application by their addresses
    statuses, shown = {}, []
    for what, url in gael_urls.items():
        response = page.goto(url)
        assert response is not None
        statuses[what] = response.status
        if "Crucial Conversations" in page.content():
            shown.append(what)
        if what == "queue":
            journey.step(page, "another organization's queue")

    # and try to claim the next GAEL attempt
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    claim_next = page.request.post(
        journey.url("/o/gael/review/claim/"),
        headers={"X-CSRFToken": csrf, "Referer": journey.url("/o/gael/review/")},
    )
    statuses["claim next"] = claim_next.status

    # then every one of them is "not found", and nothing of GAEL's shows
    assert statuses == dict.fromkeys(statuses, 404), statuses
    assert not shown, f"GAEL's credential shows on {shown}"
