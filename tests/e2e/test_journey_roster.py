"""Roster import in a real browser, at an association's scale: GAEL's program admin uploads a
5,000-row roster with 1 % bad rows; the dry run (in the real worker, with a progress bar) reports
exactly the bad rows, by row and column; applying it, then uploading and applying the same file
again, gives the same memberships."""

from __future__ import annotations

import random
import re
from typing import Any

from playwright.sync_api import Page, expect

from programs.models import Membership, RosterImport
from tests.e2e.conftest import Journey

ROWS = 5000
HEADER = "Email,First Name,Last Name,School,District,Job Title,Member ID,Member Since,Expires"
RUN_TIMEOUT_MS = 120_000


def roster() -> tuple[bytes, dict[int, str]]:
    """The file, and its bad rows: row number (as a spreadsheet shows it) → the column named."""
    rng = random.Random(18)
    bad_rows = set(rng.sample(range(2, ROWS + 2), ROWS // 100))
    lines, bad = [HEADER], {}
    for number in range(2, ROWS + 2):
        email = f"educator{number}@members.gael.example"
        school, expires = f"School {number % 40}", "2099-08-31"
        if number in bad_rows:
            kind = number % 3
            if kind == 0:
                email, bad[number] = f"educator{number} at members.gael.example", "Email"
            elif kind == 1:
                expires, bad[number] = "31.08.2099", "Expires"
            else:  # the same person as the row before
                email, bad[number] = f"educator{number - 1}@members.gael.example", "Email"
        lines.append(
            f"{email},Ed,Ucator {number},{school},Fulton County,Teacher,G-{number},"
            f"2026-09-01,{expires}"
        )
    return ("\n".join(lines) + "\n").encode(), bad


def memberships() -> list[tuple[Any, ...]]:
    return sorted(
        Membership.objects.filter(organization__slug="gael").values_list(
            "user__email",
            "status",
            "member_number",
            "school",
            "district",
            "position",
            "member_since",
            "member_until",
            "updated_at",
        )
    )


def upload(page: Page, content: bytes) -> None:
    page.goto("/admin/programs/membership/")
    page.get_by_role("link", name="Import a roster").click()
    page.get_by_label("Roster file").set_input_files(
        {"name": "gael-members.csv", "mimeType": "text/csv", "buffer": content}
    )
    page.get_by_role("button", name="Upload and map the columns").click()
    expect(page.locator("#roster-state")).to_have_attribute("data-state", "uploaded")


def wait_until(page: Page, state: str) -> None:
    """The progress bar polls the worker's progress and the page reloads when it is done."""
    expect(page.locator("#roster-state")).to_have_attribute(
        "data-state", state, timeout=RUN_TIMEOUT_MS
    )


def count(page: Page, name: str) -> str:
    return page.locator(f"[data-count='{name}']").inner_text()


def test_a_program_admin_imports_a_roster_of_5000(
    demo: None, celery_worker: Any, journey: Journey, page: Page
) -> None:
    content, bad = roster()
    before = memberships()
    # given GAEL's program admin on the members' list
    journey.login(page, "admin@gael.demo")
    upload(page, content)
    # then the columns are guessed from the headers
    expect(page.get_by_label("E-mail:", exact=True)).to_have_value("0")
    expect(page.get_by_label("Role / position:")).to_have_value("5")
    expect(page.get_by_label("Membership expiry:")).to_have_value("8")
    journey.step(page, "map the columns")

    # when they run the dry run: a progress bar, then the counts and exactly the bad rows
    page.get_by_role("button", name="Run the dry run").click()
    expect(page.locator("#roster-state")).to_have_attribute(
        "data-state", re.compile("checking|checked")
    )
    wait_until(page, "checked")
    assert count(page, "rows") == str(ROWS)
    assert count(page, "created") == str(ROWS - len(bad))
    assert count(page, "errors") == str(len(bad))
    rows = page.locator("#roster-errors tbody tr")
    listed = {
        int(row.get_attribute("data-row") or 0): row.locator("td").nth(1).inner_text()
        for row in rows.all()
    }
    assert listed == bad
    journey.step(page, "dry run")
    assert memberships() == before  # a dry run changes nothing

    # when they apply it
    page.get_by_role("button", name="Apply", exact=True).click()
    wait_until(page, "applied")
    assert count(page, "created") == str(ROWS - len(bad))
    journey.step(page, "applied")
    applied = memberships()
    assert len(applied) == len(before) + ROWS - len(bad)
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download the report")).click()
    report = download.value.path().read_text()
    assert report.count(",error,") == len(bad)

    # when they upload the same file again and apply it
    upload(page, content)
    page.get_by_role("button", name="Run the dry run").click()
    wait_until(page, "checked")
    assert (count(page, "created"), count(page, "updated")) == ("0", "0")
    assert count(page, "unchanged") == str(ROWS - len(bad))
    page.get_by_role("button", name="Apply", exact=True).click()
    wait_until(page, "applied")
    # then the memberships are exactly the same
    assert memberships() == applied
    assert RosterImport.objects.filter(state="applied").count() == 2
