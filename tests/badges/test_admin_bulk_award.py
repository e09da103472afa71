"""Bulk award in the admin: upload a CSV → dry run with per-row errors → apply → badges issued
by the worker's batch path, each carrying its row's narrative; the same file twice issues
nothing new; another organization's award answers 404 and its credentials are error rows; a
file that cannot be read is refused whole. One test awards 1,000 rows through a real worker and
checks a sample with Digital Bazaar's verifier."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from badges.models import AwardRecord, Badge, BulkAward
from credentials_site.celery import app
from programs.models import Membership, Organization, StaffRole, User
from submissions.models import Application
from tests.badges.conftest import assert_valid_ob3
from tests.badges.test_independent_verifier import documents_for, verify_independently
from tests.conftest import assert_same_query_count
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    StaffRoleFactory,
    UserFactory,
    make_credential,
)
from tests.worker import running_worker, wait_for

ADD = "/admin/badges/bulkaward/add/"
LIST = "/admin/badges/bulkaward/"
HEADER = "email,name,credential,date,evidence_url,narrative\n"


def admin_of(organization: Organization) -> User:
    user = UserFactory()
    StaffRoleFactory(organization=organization, user=user, role=StaffRole.Role.PROGRAM_ADMIN)
    return user


def body(response: Any) -> str:
    return response.content.decode()


def upload(client: Client, content: bytes, name: str = "awards.csv") -> Any:
    return client.post(ADD, {"file": SimpleUploadedFile(name, content)})


@pytest.fixture
def tasks_run_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app.conf, "task_always_eager", True)


@pytest.mark.django_db
class TestJourney:
    def test_dry_run_apply_and_again(
        self,
        client: Client,
        tasks_run_at_once: None,
        django_capture_on_commit_callbacks: Callable[..., Any],
    ) -> None:
        # given GAEL's published credential, a member with an account, and B's credential
        gael, other = OrganizationFactory(name="GAEL"), OrganizationFactory()
        slug = make_credential(gael).credential.slug
        theirs = make_credential(other).credential.slug
        member = UserFactory(email="Ana@School.example")  # found in any case
        MembershipFactory(organization=gael, user=member, member_until=None)
        client.force_login(admin_of(gael))
        tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
        content = HEADER + (
            f"ana@school.example,Ana Ruiz,{slug},2019-05-01,https://ana.example/p,Led the cohort\n"
            f"ben@school.example,Ben Okafor,{slug},05/02/2020,,\n"
            f"not-an-address,No One,{slug},2020-01-01,,\n"
            f"cy@school.example,Cy,{theirs},2020-01-01,,\n"
            f"di@school.example,Di,{slug},{tomorrow},,\n"
            f"ed@school.example,Ed,{slug},2020-01-01,javascript:alert(1),\n"
            f"fa@school.example,Fa,{slug},last spring,,\n"
        )
        # when they upload it: the dry run shows what would happen, and each bad row and column
        response = upload(client, content.encode())
        assert response.status_code == 302
        page = client.get(response["Location"])
        text = body(page)
        assert 'data-count="award">2<' in text and 'data-count="errors">5<' in text
        assert '<tr data-row="4"><td class="number">4</td><td>E-mail</td>' in text
        assert '<tr data-row="5"><td class="number">5</td><td>Credential</td>' in text
        assert "is not a published credential of GAEL" in text
        assert '<tr data-row="6"><td class="number">6</td><td>Date awarded</td>' in text
        assert "is in the future" in text
        assert '<tr data-row="7"><td class="number">7</td><td>Evidence URL</td>' in text
        assert '<tr data-row="8"><td class="number">8</td><td>Date awarded</td>' in text
        assert not Application.objects.exists() and not Badge.objects.exists()
        # when they apply it: the worker (eager here) issues the two badges
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(response["Location"], {"_apply": "Apply"})
        assert response.status_code == 302
        badges = {b.recipient.email.lower(): b for b in Badge.objects.select_related("recipient")}
        assert sorted(badges) == ["ana@school.example", "ben@school.example"]
        evidence = badges["ana@school.example"].credential["evidence"]
        assert {
            "type": ["Evidence"],
            "name": "Award",
            "id": "https://ana.example/p",
            "description": "Awarded on 2019-05-01.",
            "narrative": "Led the cohort",
        } in evidence
        assert_valid_ob3(badges["ana@school.example"].credential)
        # Ben had no account: he has one now, is a member, and is invited to set a password
        ben = User.objects.get(email="ben@school.example")
        assert ben.full_name == "Ben Okafor"
        assert Membership.objects.filter(organization=gael, user=ben).exists()
        assert any(m.to == ["ben@school.example"] for m in mail.outbox)
        status = client.get(f"{LIST}{BulkAward.objects.get().pk}/status/").json()
        assert status == {**status, "state": "applied", "done": 2, "total": 2, "running": False}
        # when the same file is uploaded and applied again, nothing new is issued
        again = upload(client, content.encode())["Location"]
        assert 'data-count="already">2<' in body(client.get(again))
        with django_capture_on_commit_callbacks(execute=True):
            client.post(again, {"_apply": "Apply"})
        assert Badge.objects.count() == 2 and AwardRecord.objects.count() == 2

    def test_someone_with_an_application_already_is_an_error_row(self, client: Client) -> None:
        gael = OrganizationFactory()
        version = make_credential(gael)
        educator = UserFactory(email="GI@school.example")
        Application.objects.create(
            organization=gael, educator=educator, credential=version.credential, version=version
        )
        client.force_login(admin_of(gael))
        content = HEADER + f"gi@school.example,Gi,{version.credential.slug},2020-01-01,,\n"
        page = client.get(upload(client, content.encode())["Location"])
        assert "already has an application or a badge" in body(page)
        assert 'data-count="award">0<' in body(page)

    def test_apply_checks_again(
        self,
        client: Client,
        tasks_run_at_once: None,
        django_capture_on_commit_callbacks: Callable[..., Any],
    ) -> None:
        # given a dry run of two rows, then one person applies for the credential meanwhile
        gael = OrganizationFactory()
        version = make_credential(gael)
        client.force_login(admin_of(gael))
        slug = version.credential.slug
        content = HEADER + (
            f"ha@school.example,Ha,{slug},2020-01-01,,\nio@school.example,Io,{slug},2020-01-01,,\n"
        )
        location = upload(client, content.encode())["Location"]
        Application.objects.create(
            organization=gael,
            educator=UserFactory(email="io@school.example"),
            credential=version.credential,
            version=version,
        )
        # when the file is applied: that row is an error now, the other is awarded
        with django_capture_on_commit_callbacks(execute=True):
            client.post(location, {"_apply": "Apply"})
        page = body(client.get(location))
        assert 'data-count="award">1<' in page and 'data-count="errors">1<' in page
        assert [b.recipient.email for b in Badge.objects.all()] == ["ha@school.example"]

    def test_list_query_count_does_not_grow(
        self, client: Client, count_queries: Callable[..., Any]
    ) -> None:
        gael = OrganizationFactory()
        admin = admin_of(gael)
        client.force_login(admin)

        def make(n: int) -> None:
            for _ in range(n):
                BulkAward.objects.create(
                    organization=gael,
                    uploaded_by=admin,
                    file_name="a.csv",
                    file_data=b"email\n",
                    counts={"award": 1},
                )

        make(1)
        small = count_queries(lambda: client.get(LIST))
        make(19)
        large = count_queries(lambda: client.get(LIST))
        assert_same_query_count(small, large)


@pytest.mark.django_db
class TestBadInput:
    @pytest.mark.parametrize(
        ("content", "message"),
        [
            ((HEADER + "zoë@school.example,Zoë,x,2020-01-01,,\n").encode("latin-1"), "not UTF-8"),
            (b"email,name\nana@school.example,Ana\n", "missing: Credential, Date awarded"),
            (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8"),
            (b"just some words\n", "missing: E-mail"),
            (b"", "empty"),
        ],
    )
    def test_refused_whole_with_a_clear_message(
        self, client: Client, content: bytes, message: str
    ) -> None:
        gael = OrganizationFactory()
        client.force_login(admin_of(gael))
        response = upload(client, content)
        assert response.status_code == 200
        assert message in body(response)
        assert (
            not BulkAward.objects.exists()
            and not User.objects.filter(email__endswith="@school.example").exists()
        )


@pytest.mark.django_db
class TestTenancy:
    def test_another_organizations_award_answers_404(
        self, client: Client, django_capture_on_commit_callbacks: Callable[..., Any]
    ) -> None:
        # given B's uploaded award, and a program admin of A only
        a, b = OrganizationFactory(), OrganizationFactory()
        slug = make_credential(b).credential.slug
        client.force_login(admin_of(b))
        upload(client, (HEADER + f"x@school.example,X,{slug},2020-01-01,,\n").encode())
        theirs = BulkAward.objects.get()
        client.force_login(admin_of(a))
        # then every page of it is 404 to A's admin, and applying it changes nothing
        for suffix in ("change/", "status/"):
            assert client.get(f"{LIST}{theirs.pk}/{suffix}").status_code == 404, suffix
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"{LIST}{theirs.pk}/change/", {"_apply": "1"})
        assert response.status_code == 404
        assert BulkAward.objects.get().state == BulkAward.State.CHECKED
        assert not Application.objects.exists()
        assert f"{LIST}{theirs.pk}/change/" not in body(client.get(LIST))


@pytest.mark.django_db(transaction=True)
def test_a_thousand_rows_through_a_real_worker_twice(client: Client, tmp_path: Path) -> None:
    # given a file of 1,000 people (none with an account) awarded GAEL's credential
    gael = OrganizationFactory()
    slug = make_credential(gael).credential.slug
    client.force_login(admin_of(gael))
    lines = [
        f"p{i}@school.example,Person {i},{slug},2021-06-{1 + i % 28:02d},,Cohort of 2021 #{i}"
        for i in range(1000)
    ]
    content = (HEADER + "\n".join(lines) + "\n").encode()
    with running_worker():
        for run in range(2):
            # when it is uploaded and applied (twice)
            location = upload(client, content)["Location"]
            award = BulkAward.objects.order_by("-pk").first()
            assert award is not None
            client.post(location, {"_apply": "Apply"})
            if run == 0:
                status_url = f"{LIST}{award.pk}/status/"
                status = wait_for(
                    lambda url=status_url: (s := client.get(url).json())["done"] == 1000 and s,
                    timeout=240,
                    what="the badges",
                )
                assert status["running"] is False and status["total"] == 1000
            else:
                # the second file's dry run found every row awarded already: it makes nothing
                assert award.counts["already"] == 1000 and award.counts["award"] == 0
                assert client.get(f"{LIST}{award.pk}/status/").json()["total"] == 0
    # then exactly 1,000 badges, one per person, each with its narrative
    assert Badge.objects.count() == 1000
    assert AwardRecord.objects.count() == 1000
    assert User.objects.filter(email__endswith="@school.example").count() == 1000
    sample = Badge.objects.order_by("?")[:3]
    for badge in sample:
        credential = badge.credential
        narratives = [e.get("narrative", "") for e in credential["evidence"]]
        assert any(n.startswith("Cohort of 2021") for n in narratives)
        result = verify_independently(credential, documents_for(client, credential), tmp_path)
        assert result["verified"] is True and result["status"] == "valid", result
