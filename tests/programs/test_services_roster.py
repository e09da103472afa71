"""Roster import as services (programs.services.roster): a file read, mapped, checked in a dry
run, applied; bad files refused with a clear message and nothing kept; the export safe to open
in a spreadsheet."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from collections.abc import Callable
from typing import Any

import pytest
from openpyxl import Workbook

from credentials_site.celery import app
from credentials_site.exceptions import ApplicationError
from programs.models import (
    AuditEvent,
    Membership,
    Organization,
    RosterApplyReport,
    RosterImport,
    SchoolMembership,
    User,
)
from programs.services.roster import (
    RosterFileError,
    roster_export_rows,
    roster_import_create,
    roster_import_map,
    roster_import_start,
)
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = "Email Address,First Name,Last Name,School,District,Position,Member #,Start,Expires\n"


@pytest.fixture(autouse=True)
def tasks_run_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """``.delay()`` runs the task in the calling thread, as a worker would on receiving it."""
    monkeypatch.setattr(app.conf, "task_always_eager", True)


@pytest.fixture
def run(django_capture_on_commit_callbacks: Any) -> Callable[..., RosterImport]:
    """Start the dry run (or the apply) and let the task run, as the worker would."""

    def start(roster_import: RosterImport, *, apply: bool = False) -> RosterImport:
        with django_capture_on_commit_callbacks(execute=True):
            roster_import_start(roster_import=roster_import, apply=apply, actor=None)
        roster_import.refresh_from_db()
        return roster_import

    return start


def upload(organization: Organization, content: str | bytes, name: str = "roster.csv") -> Any:
    data = content.encode() if isinstance(content, str) else content
    return roster_import_create(organization=organization, actor=None, file_name=name, data=data)


def memberships() -> list[tuple[Any, ...]]:
    return sorted(
        Membership.objects.values_list(
            "organization_id",
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


def state() -> dict[str, Any]:
    return {
        "memberships": memberships(),
        "users": sorted(User.objects.values_list("email", "full_name", "password")),
        "audit": AuditEvent.objects.filter(action__startswith="membership").count(),
    }


@pytest.fixture
def gael() -> Organization:
    return OrganizationFactory(name="GAEL")


def roster_file() -> str:
    return HEADER + (
        "new.one@school.example,New,One,Lincoln,Riverside,Teacher,101,2026-09-01,2099-08-31\n"
        "NEW.TWO@school.example,New,Two,Lincoln,Riverside,Coach,102,2026-09-01,08/31/2099\n"
        "same@school.example,Same,Member,Lincoln,Riverside,Teacher,103,2026-09-01,2099-08-31\n"
        "moved@school.example,Moved,Member,Adams,Riverside,Teacher,104,2026-09-01,2099-08-31\n"
        "not-an-address,Bad,Address,Lincoln,Riverside,Teacher,105,2026-09-01,2099-08-31\n"
        "\n"
        "bad.date@school.example,Bad,Date,Lincoln,Riverside,Teacher,106,2026-09-01,31.08.2099\n"
        "new.one@school.example,Twice,Listed,Lincoln,Riverside,Teacher,107,2026-09-01,2099-08-31\n"
    )


def existing(organization: Organization) -> None:
    for email, school in (("same@school.example", "Lincoln"), ("moved@school.example", "Lincoln")):
        MembershipFactory(
            organization=organization,
            user=UserFactory(email=email, full_name="Someone"),
            school=school,
            district="Riverside",
            position="Teacher",
            member_number=str(103 if email.startswith("same") else 104),
            member_since=dt.date(2026, 9, 1),
            member_until=dt.date(2099, 8, 31),
        )


class TestDryRun:
    def test_counts_and_errors_by_row_and_column_and_nothing_changes(
        self, gael: Organization, run: Callable[..., RosterImport]
    ) -> None:
        # given two members already on the roster and a file whose headers need guessing
        existing(gael)
        roster_import = upload(gael, roster_file())
        assert roster_import.mapping == {
            "email": 0,
            "given_name": 1,
            "family_name": 2,
            "school": 3,
            "district": 4,
            "position": 5,
            "member_number": 6,
            "starts_on": 7,
            "expires_on": 8,
            "years_experience": None,  # the optional profile questions: no such columns
            "school_level": None,
            "title_i": None,
        }
        before = state()
        # when the dry run runs
        checked = run(roster_import)
        # then it counts what applying would do, names each bad row and column, and changes nothing
        assert checked.state == RosterImport.State.CHECKED
        assert checked.counts == {
            "rows": 7,
            "created": 2,
            "updated": 1,
            "unchanged": 1,
            "errors": 3,
            "lapsed": 0,
        }
        assert checked.errors == [
            {
                "row": 6,
                "column": "Email Address",
                "message": "“not-an-address” is not an e-mail address.",
            },
            {
                "row": 8,
                "column": "Expires",
                "message": "“31.08.2099” is not a date as YYYY-MM-DD (or MM/DD/YYYY).",
            },
            {
                "row": 9,
                "column": "Email Address",
                "message": "Also on row 2: each person once in a roster.",
            },
        ]
        assert state() == before

    def test_the_report_has_a_line_per_row(
        self, gael: Organization, run: Callable[..., RosterImport]
    ) -> None:
        checked = run(upload(gael, roster_file()))
        lines = list(csv.DictReader(io.StringIO(checked.report)))
        assert [(line["row"], line["outcome"]) for line in lines] == [
            ("2", "created"),
            ("3", "created"),
            ("4", "created"),
            ("5", "created"),
            ("6", "error"),
            ("8", "error"),
            ("9", "error"),
        ]

    def test_apply_needs_a_dry_run_first(self, gael: Organization) -> None:
        roster_import = upload(gael, roster_file())
        with pytest.raises(ApplicationError, match="dry run first"):
            roster_import_start(roster_import=roster_import, apply=True, actor=None)


class TestApply:
    def test_applies_good_rows_then_the_same_file_again_changes_nothing(
        self, gael: Organization, run: Callable[..., RosterImport]
    ) -> None:
        existing(gael)
        applied = run(run(upload(gael, roster_file())), apply=True)
        assert applied.state == RosterImport.State.APPLIED
        assert (applied.counts["created"], applied.counts["updated"]) == (2, 1)
        assert Membership.objects.get(user__email="moved@school.example").school == "Adams"
        new = Membership.objects.select_related("user").get(user__email="new.two@school.example")
        assert new.user.full_name == "New Two" and new.member_until == dt.date(2099, 8, 31)
        assert new.source == "roster" and new.position == "Coach"
        # and everyone is in the school their row names (decision 0029), the mover in the new one
        assert sorted(
            SchoolMembership.objects.filter(organization=gael).values_list(
                "membership__user__email", "school__name"
            )
        ) == [
            ("moved@school.example", "Adams"),
            ("new.one@school.example", "Lincoln"),
            ("new.two@school.example", "Lincoln"),
            ("same@school.example", "Lincoln"),
        ]
        after = state()
        # when the same file is uploaded and applied again
        again = run(run(upload(gael, roster_file())), apply=True)
        # then nothing changes
        assert again.counts["unchanged"] == 4 and again.counts["created"] == 0
        assert state() == after

    def test_one_audit_entry_per_apply_links_its_report_kept_as_it_was(
        self, gael: Organization, run: Callable[..., RosterImport]
    ) -> None:
        existing(gael)
        roster_import = run(run(upload(gael, roster_file())), apply=True)
        # then the apply is one audit entry (not one per member) with the counts and a link
        events = AuditEvent.objects.filter(organization=gael).values_list("action", flat=True)
        assert sorted(events) == ["roster_import.applied", "roster_import.uploaded"]
        event = AuditEvent.objects.get(action="roster_import.applied")
        assert (event.data["created"], event.data["updated"]) == (2, 1)
        kept = RosterApplyReport.objects.get(pk=event.data["report_id"])
        assert event.data["report"] == f"/admin/programs/rosterimport/applied/{kept.pk}/"
        # and its report says who was made a member or changed, whatever the import does next
        lines = {
            (r["email"], r["outcome"], r["message"])
            for r in csv.DictReader(io.StringIO(kept.report))
        }
        assert ("new.one@school.example", "created", "") in lines
        assert ("moved@school.example", "updated", "school: Lincoln → Adams") in lines
        roster_import_map(
            roster_import=roster_import, mapping={"email": 0}, lapse_missing=False, actor=None
        )
        run(roster_import)
        kept.refresh_from_db()
        assert ("new.two@school.example", "created") in {
            (r["email"], r["outcome"]) for r in csv.DictReader(io.StringIO(kept.report))
        }

    def test_missing_members_lapse_only_when_asked(
        self, gael: Organization, run: Callable[..., RosterImport]
    ) -> None:
        # given members: one in the file, one missing, one only on a row with an error
        existing(gael)
        gone = MembershipFactory(organization=gael, member_until=None)
        spared = MembershipFactory(
            organization=gael, user=UserFactory(email="bad.date@school.example")
        )
        other = MembershipFactory(organization=OrganizationFactory(), member_until=None)
        # when the file is applied without ticking the box: nobody lapses
        applied = run(run(upload(gael, roster_file())), apply=True)
        assert applied.counts["lapsed"] == 0
        assert Membership.objects.get(pk=gone.pk).status == "active"
        # when it is applied with the box ticked
        roster_import = upload(gael, roster_file())
        roster_import_map(
            roster_import=roster_import,
            mapping=roster_import.mapping,
            lapse_missing=True,
            actor=None,
        )
        checked = run(roster_import)
        assert checked.counts["lapsed"] == 1
        assert Membership.objects.get(pk=gone.pk).status == "active"  # a dry run
        applied = run(checked, apply=True)
        # then only the missing member lapses (ended today), and nothing is deleted
        gone.refresh_from_db()
        assert (gone.status, gone.member_until) == ("lapsed", dt.date.today())  # noqa: DTZ011
        assert Membership.objects.get(pk=spared.pk).status == "active"
        assert Membership.objects.get(pk=other.pk).status == "active"
        assert Membership.objects.filter(organization=gael).count() == 6
        # and the apply's report, which its audit entry links, names who lapsed
        event = AuditEvent.objects.filter(action="roster_import.applied").first()
        assert event is not None and event.data["lapsed"] == 1
        kept = RosterApplyReport.objects.get(pk=event.data["report_id"])
        assert f"{gone.user.email},lapsed" in kept.report

    def test_xlsx_with_dates_and_numbers(
        self, gael: Organization, run: Callable[..., RosterImport]
    ) -> None:
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(["E-mail", "Surname", "Given name", "Member ID", "Membership expiry"])
        sheet.append(["ana@school.example", "Ruiz", "Ana", 1042, dt.datetime(2099, 8, 31)])  # noqa: DTZ001
        sheet.append([None, None, None, None, None])
        sheet.append(["ben@school.example", "Okafor", "Ben", "B-7", None])
        buffer = io.BytesIO()
        workbook.save(buffer)
        roster_import = upload(gael, buffer.getvalue(), "members.xlsx")
        assert roster_import.file_kind == "xlsx"
        applied = run(run(roster_import), apply=True)
        assert applied.counts["created"] == 2, applied.errors
        ana = Membership.objects.select_related("user").get(user__email="ana@school.example")
        assert (ana.member_number, ana.member_until) == ("1042", dt.date(2099, 8, 31))
        assert ana.user.full_name == "Ana Ruiz"


def refused(make: Callable[[], Any], message: str) -> None:
    """The upload is refused with ``message`` and nothing is kept."""
    before = (RosterImport.objects.count(), state())
    with pytest.raises(RosterFileError) as caught:
        make()
    assert message in caught.value.message
    assert caught.value.fields == {"file": [caught.value.message]}
    assert (RosterImport.objects.count(), state()) == before


class TestBadFiles:
    def test_a_utf8_file_with_a_byte_order_mark(
        self, gael: Organization, run: Callable[..., RosterImport]
    ) -> None:
        roster_import = upload(gael, "\ufeffemail,name\nana@school.example,Ana\n".encode())
        assert roster_import.headers == ["email", "name"]
        assert run(roster_import).counts["created"] == 1

    def test_wrong_encoding(self, gael: Organization) -> None:
        latin1 = "email,First name\njosé@school.example,José\n".encode("latin-1")
        refused(lambda: upload(gael, latin1), "not UTF-8 text")
        refused(lambda: upload(gael, latin1), "CSV UTF-8")

    def test_ten_megabytes_of_junk(self, gael: Organization) -> None:
        junk = os.urandom(10 * 1024 * 1024)
        refused(lambda: upload(gael, junk), "not UTF-8 text")

    def test_too_large(self, gael: Organization) -> None:
        big = b"email\n" + b"a@b.example\n" * (21 * 1024 * 1024 // 12)
        refused(lambda: upload(gael, big), "at most 20 MB")

    def test_not_a_csv_or_xlsx(self, gael: Organization) -> None:
        refused(lambda: upload(gael, b"%PDF-1.7 ...", "roster.pdf"), "Upload a CSV")
        refused(lambda: upload(gael, b"\xd0\xcf\x11\xe0\xa1\xb1", "roster.xls"), "(.xls)")
        refused(lambda: upload(gael, b"PK\x03\x04junk", "roster.xlsx"), "cannot be read")
        refused(lambda: upload(gael, b"email\x00\x01\x02", "roster.csv"), "binary data")
        refused(lambda: upload(gael, b"", "roster.csv"), "empty")
        refused(lambda: upload(gael, b"\n\n", "roster.csv"), "no rows")

    def test_missing_email_column(self, gael: Organization) -> None:
        roster_import = upload(gael, "Name,School\nAna,Lincoln\n")
        assert roster_import.mapping["email"] is None
        with pytest.raises(ApplicationError) as caught:
            roster_import_start(roster_import=roster_import, apply=False, actor=None)
        assert caught.value.fields == {
            "email": ["Choose the column that holds the e-mail addresses."]
        }
        assert RosterImport.objects.get().state == RosterImport.State.UPLOADED

    def test_mapping_a_column_twice(self, gael: Organization) -> None:
        roster_import = upload(gael, "email,School\nana@school.example,Lincoln\n")
        with pytest.raises(ApplicationError, match="chosen for two fields"):
            roster_import_map(
                roster_import=roster_import,
                mapping={"email": 0, "school": 1, "district": 1},
                lapse_missing=False,
                actor=None,
            )


class TestExport:
    def test_formula_cells_are_defused_and_the_export_imports_unchanged(
        self, gael: Organization, run: Callable[..., RosterImport]
    ) -> None:
        # given members whose data a spreadsheet would run as formulas
        MembershipFactory(
            organization=gael,
            user=UserFactory(email="evil@school.example", full_name="=cmd|' /C calc'!A0"),
            school="+SUM(1,2)",
            district="@evil",
            position="-1+1",
            member_number="\t42",
            member_until=None,
        )
        MembershipFactory(organization=OrganizationFactory(), member_number="other-org")
        # when the roster is exported
        rows = list(roster_export_rows(organization=gael))
        # then every such cell starts with an apostrophe, and only this organization is in it
        assert len(rows) == 2
        record = dict(zip(rows[0], rows[1], strict=True))
        assert record["given_name"] == "'=cmd|'"
        assert record["full_name"] == "'=cmd|' /C calc'!A0"
        assert (record["school"], record["district"], record["position"]) == (
            "'+SUM(1,2)",
            "'@evil",
            "'-1+1",
        )
        assert record["member_number"] == "'\t42"
