"""Program insight in a real browser: GAEL's program admin opens the dashboard, filters it by
school (the table changes), and downloads a table as CSV; axe-clean, charts drawn under the
CSP from the vendored Chart.js."""

from __future__ import annotations

import csv
import io

from playwright.sync_api import Page, expect

from programs.models import Credential, Membership, Organization
from submissions.models import Application
from tests.e2e.conftest import Journey
from tests.factories import UserFactory


def educators_at(org: Organization, credential: Credential, school: str, count: int) -> None:
    for _ in range(count):
        person = UserFactory()
        Membership.objects.create(organization=org, user=person, school=school, district="Fulton")
        Application.objects.create(
            organization=org,
            educator=person,
            credential=credential,
            version=credential.current_version,
        )


def test_a_program_admin_reads_the_dashboard_by_school(
    demo: None, journey: Journey, page: Page
) -> None:
    gael = Organization.objects.get(slug="gael")
    credential = Credential.objects.filter(organization=gael, status="published").first()
    assert credential is not None
    educators_at(gael, credential, "North Middle", 3)
    educators_at(gael, credential, "South High", 2)

    # given GAEL's program admin on the program dashboard
    journey.login(page, "admin@gael.demo")
    page.goto("/o/gael/insights/")
    funnel = page.get_by_role("table", name="Applications at each step")
    expect(funnel.get_by_role("row", name="Applied")).to_contain_text("5")
    expect(page.locator("canvas[data-chart='funnel']")).to_have_attribute("aria-hidden", "true")
    journey.step(page, "dashboard")

    # when they filter by school
    page.get_by_label("School").select_option("North Middle")
    page.get_by_role("button", name="Apply filters").click()
    expect(funnel.get_by_role("row", name="Applied")).to_contain_text("3")
    journey.step(page, "filtered by school")

    # then a table downloads as CSV, with the same filter
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV of the credentials table").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text())))
    assert rows[0][:3] == ["credential", "program", "applications"]
    assert [row[2] for row in rows[1:]] == ["3"]
