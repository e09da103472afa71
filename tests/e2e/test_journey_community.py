"""A learning community in a real browser: Riverside's principal starts one around a credential,
a teacher joins by its link and posts a question in markdown, the principal pins it and reads the
members' progress; axe-clean at both widths (issue 21, decision 0031)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Journey


def test_a_principal_starts_a_community_and_a_teacher_joins_and_posts(
    demo: None, journey: Journey, page: Page
) -> None:
    # given Riverside's principal starting a community
    journey.login(page, "principal@riverside.demo")
    page.goto("/o/riverside-usd/communities/new/")
    journey.step(page, "start a community")
    page.get_by_label("Name").fill("Lincoln literacy circle")
    page.get_by_label("Goal (optional)").fill("Literacy instruction")
    page.locator("input[name=credentials]").first.check()
    page.get_by_role("button", name="Start the community").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lincoln literacy circle")
    journey.step(page, "members and invitations")
    join_link = page.get_by_label("Join link").input_value()

    # when a teacher of the district follows the join link and posts
    teacher = journey.new_page()
    journey.login(teacher, "educator@riverside.demo")
    teacher.goto(join_link)
    expect(teacher.locator("#what-others-see")).to_contain_text("never your evidence")
    journey.step(teacher, "join by link")
    teacher.get_by_role("button", name="Join the community").click()
    teacher.get_by_label("Your post").fill(
        "**Question:** who tried <script>x</script> guided reading?"
    )
    teacher.get_by_role("button", name="Post", exact=True).click()
    expect(teacher.locator(".post-body strong")).to_have_text("Question:")
    journey.step(teacher, "board with a post")

    # then the principal pins it and sees the teacher's stage
    page.get_by_role("link", name="Board").click()
    page.get_by_role("button", name="Pin").click()
    expect(page.locator(".post-pinned")).to_contain_text("guided reading")
    journey.step(page, "board, pinned")
    page.get_by_role("link", name="Progress").click()
    expect(page.get_by_role("row", name="Priya Raman")).to_contain_text("Not started")
    journey.step(page, "members' progress")
