"""Roster import and export in the admin: upload → map → dry run → apply → report, through the
pages a program admin uses; another organization's import answers 404; the export is safe to
open in a spreadsheet. One test runs the dry run and apply through a real worker."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from credentials_site.celery import app
from programs.models import (
    Membership,
    Organization,
    RosterApplyReport,
    RosterImport,
    StaffRole,
    User,
)
from tests.conftest import assert_same_query_count
from tests.factories import MembershipFactory, OrganizationFactory, StaffRoleFactory, UserFactory
from tests.worker import running_worker, wait_for

ADD = "/admin/programs/rosterimport/add/"
LIST = "/admin/programs/rosterimport/"
ROSTER = (
    "E-mail,First name,Last name,School,Expiry\n"
    "ana@school.example,Ana,Ruiz,Lincoln,2099-08-31\n"
    "ben@school.example,Ben,Okafor,Adams,2099-08-31\n"
    "nobody,No,Address,Adams,2099-08-31\n"
)


def admin_of(organization: Organization) -> User:
    user = UserFactory()
    StaffRoleFactory(organization=organization, user=user, role=StaffRole.Role.PROGRAM_ADMIN)
    return user


def body(response: Any) -> str:
    return response.content.decode()


def upload(client: Client, content: bytes, name: str = "roster.csv") -> Any:
    return client.post(ADD, {"file": SimpleUploadedFile(name, content)})


def mapping_post(roster_import: RosterImport, **extra: str) -> dict[str, str]:
    data = {
        name: "" if column is None else str(column)
        for name, column in roster_import.mapping.items()
    }
    return {**data, "_dry_run": "Run the dry run", **extra}


@pytest.fixture
def tasks_run_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app.conf, "task_always_eager", True)


@pytest.mark.django_db
class TestJourney:
    def test_upload_preview_dry_run_apply_report(
        self,
        client: Client,
        tasks_run_at_once: None,
        django_capture_on_commit_callbacks: Callable[..., Any],
    ) -> None:
        # given a program admin of GAEL
        gael = OrganizationFactory(name="GAEL")
        client.force_login(admin_of(gael))
        # when they upload a roster: the preview page guesses the columns
        response = upload(client, ROSTER.encode())
        assert response.status_code == 302
        roster_import = RosterImport.objects.get()
        page = client.get(response["Location"])
        assert page.status_code == 200
        assert 'value="0" selected' in body(page)  # E-mail → the first column
        assert "Which column is which" in body(page)
        # when they run the dry run
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(response["Location"], mapping_post(roster_import))
        assert response.status_code == 302
        page = client.get(response["Location"])
        # then it shows what would change, and the bad row by row and column; nothing changed
        assert 'data-count="created">2<' in body(page)
        assert 'data-count="errors">1<' in body(page)
        assert '<tr data-row="4"><td class="number">4</td><td>E-mail</td>' in body(page)
        assert not Membership.objects.exists()
        # when they apply it
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(response["Location"], {"_apply": "Apply"})
        page = client.get(response["Location"])
        assert "Applied" in body(page)
        assert sorted(Membership.objects.values_list("user__email", "school")) == [
            ("ana@school.example", "Lincoln"),
            ("ben@school.example", "Adams"),
        ]
        # and the report has a line per row
        report = client.get(f"{LIST}{roster_import.pk}/report/")
        assert report["Content-Type"].startswith("text/csv")
        lines = list(csv.DictReader(io.StringIO(body(report))))
        assert [(r["row"], r["outcome"]) for r in lines] == [
            ("2", "created"),
            ("3", "created"),
            ("4", "error"),
        ]
        status = client.get(f"{LIST}{roster_import.pk}/status/").json()
        assert status["state"] == "applied" and status["counts"]["created"] == 2
        # and the audit log has the apply, linking the report of every row as applied
        audit = body(client.get("/admin/programs/auditevent/"))
        kept = RosterApplyReport.objects.get()
        link = f"{LIST}applied/{kept.pk}/"
        assert f'<a href="{link}">Report of every row (CSV)</a>' in audit
        applied = client.get(link)
        assert applied["Content-Type"].startswith("text/csv")
        assert "ben@school.example,created" in body(applied)

    def test_apply_before_a_dry_run_is_refused(self, client: Client) -> None:
        gael = OrganizationFactory()
        client.force_login(admin_of(gael))
        location = upload(client, ROSTER.encode())["Location"]
        page = client.post(location, {"_apply": "Apply"})
        assert page.status_code == 200
        assert "Run the dry run first" in body(page)
        assert RosterImport.objects.get().state == RosterImport.State.UPLOADED

    def test_missing_email_column_is_asked_for(self, client: Client) -> None:
        gael = OrganizationFactory()
        client.force_login(admin_of(gael))
        location = upload(client, b"Name,School\nAna,Lincoln\n")["Location"]
        roster_import = RosterImport.objects.get()
        page = client.post(location, mapping_post(roster_import))
        assert page.status_code == 200
        assert "Choose the column that holds the e-mail addresses." in body(page)
        assert RosterImport.objects.get().state == RosterImport.State.UPLOADED

    @pytest.mark.parametrize(
        ("content", "name", "message"),
        [
            ("email\njosé@school.example\n".encode("latin-1"), "roster.csv", "not UTF-8 text"),
            (b"%PDF-1.7", "roster.pdf", "Upload a CSV (.csv) or Excel workbook (.xlsx) file"),
            (b"", "roster.csv", "The submitted file is empty."),
        ],
    )
    def test_bad_files_are_refused_on_the_upload_page(
        self, client: Client, content: bytes, name: str, message: str
    ) -> None:
        gael = OrganizationFactory()
        client.force_login(admin_of(gael))
        response = upload(client, content, name)
        assert response.status_code == 200
        assert message in body(response)
        assert not RosterImport.objects.exists()


@pytest.mark.django_db
class TestTenancy:
    def test_another_organizations_import_answers_404(self, client: Client) -> None:
        # given an import of B, and a program admin of A only
        a, b = OrganizationFactory(), OrganizationFactory()
        client.force_login(admin_of(b))
        upload(client, ROSTER.encode())
        theirs = RosterImport.objects.get()
        client.force_login(admin_of(a))
        # then every page of it is 404 to A's admin, and posting changes nothing
        for suffix in ("change/", "status/", "report/"):
            assert client.get(f"{LIST}{theirs.pk}/{suffix}").status_code == 404, suffix
        assert client.post(f"{LIST}{theirs.pk}/change/", {"_apply": "1"}).status_code == 404
        assert client.post(f"{LIST}{theirs.pk}/change/", mapping_post(theirs)).status_code == 404
        assert RosterImport.objects.get().state == RosterImport.State.UPLOADED
        assert theirs.file_name not in body(client.get(LIST))
        # nor is the report an apply of B's kept
        kept = RosterApplyReport.objects.create(
            organization=b, file_name="theirs.csv", report="row,email\n"
        )
        assert client.get(f"{LIST}applied/{kept.pk}/").status_code == 404

    def test_export_has_only_this_organizations_members_and_defuses_formulas(
        self, client: Client
    ) -> None:
        a, b = OrganizationFactory(), OrganizationFactory()
        MembershipFactory(
            organization=a,
            user=UserFactory(email="evil@school.example", full_name="=HYPERLINK(1)"),
            school="@SUM(1)",
        )
        MembershipFactory(organization=b, user=UserFactory(email="other@school.example"))
        client.force_login(admin_of(a))
        response = client.get(f"{LIST}export/")
        assert response.status_code == 200
        rows = list(csv.DictReader(io.StringIO(body(response))))
        assert [r["email"] for r in rows] == ["evil@school.example"]
        assert (rows[0]["full_name"], rows[0]["school"]) == ("'=HYPERLINK(1)", "'@SUM(1)")
        members = client.get("/admin/programs/membership/")
        assert 'id="roster-export"' in body(members)

    def test_list_query_count_does_not_grow(
        self, client: Client, count_queries: Callable[..., Any]
    ) -> None:
        gael = OrganizationFactory()
        admin = admin_of(gael)
        client.force_login(admin)

        def make(n: int) -> None:
            for _ in range(n):
                RosterImport.objects.create(
                    organization=gael,
                    uploaded_by=admin,
                    file_name="r.csv",
                    file_kind="csv",
                    file_data=b"email\n",
                    headers=["email"],
                    counts={"created": 1},
                )

        make(1)
        small = count_queries(lambda: client.get(LIST))
        make(19)
        large = count_queries(lambda: client.get(LIST))
        assert_same_query_count(small, large)


@pytest.mark.django_db(transaction=True)
def test_dry_run_and_apply_through_a_real_worker(client: Client) -> None:
    # given an uploaded roster of 2,500 rows (three chunks), one of them bad
    gael = OrganizationFactory()
    client.force_login(admin_of(gael))
    lines = ["email,given name,family name"] + [
        f"member{i}@school.example,Member,{i}" for i in range(2499)
    ]
    lines.insert(1000, "not-an-address,Bad,Row")
    location = upload(client, ("\n".join(lines) + "\n").encode())["Location"]
    roster_import = RosterImport.objects.get()
    with running_worker():
        # when the dry run is started, the worker runs it and the status says when it is done
        client.post(location, mapping_post(roster_import))
        status = wait_for(
            lambda: (
                (s := client.get(f"{LIST}{roster_import.pk}/status/").json())["state"] == "checked"
                and s
            ),
            what="the dry run",
        )
        assert status["counts"]["created"] == 2499 and status["counts"]["errors"] == 1
        assert status["done"] == status["total"] == 2500
        assert not Membership.objects.exists()
        # when it is applied
        client.post(location, {"_apply": "Apply"})
        wait_for(
            lambda: RosterImport.objects.get().state == "applied", timeout=60, what="the apply"
        )
        # and each new person is invited to set a password
        wait_for(lambda: len(mail.outbox) >= 2499, timeout=120, what="the invitations")
    assert len({m.to[0] for m in mail.outbox}) == 2499
    # then every good row is a member, with an account
    assert Membership.objects.filter(organization=gael).count() == 2499
    assert User.objects.filter(email__startswith="member").count() == 2499
