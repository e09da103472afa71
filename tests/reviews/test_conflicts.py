"""Declaring a conflict of interest once: the database holds one declaration of each school,
district and person per reviewer (the constraint ``one_conflict_declaration``), and a second
one, even at the same moment, gets the same clear message and changes nothing."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from credentials_site.exceptions import ApplicationError
from credentials_site.tenancy import tenant_scope
from programs.models import AuditEvent, Organization, StaffRole, User
from reviews.conflicts import conflict_declare
from reviews.models import ConflictOfInterest
from tests.factories import StaffRoleFactory, UserFactory


def make_reviewer(org: Organization) -> User:
    return StaffRoleFactory(
        organization=org,
        role=StaffRole.Role.REVIEWER,
        user=UserFactory(school="Lincoln Elementary", district="Riverside USD"),
    ).user


def declarations(reviewer: User) -> list[tuple[str, int | None]]:
    return sorted(
        ConflictOfInterest.objects.filter(reviewer=reviewer).values_list("kind", "person_id"),
        key=str,
    )


@pytest.mark.django_db
class TestOneDeclarationOfEach:
    @pytest.mark.parametrize(
        ("kind", "message"),
        [
            ("school", "You have already declared your school."),
            ("district", "You have already declared your district."),
            ("person", "You have already declared a conflict with pat@example.org."),
        ],
    )
    def test_a_second_declaration_is_refused_and_changes_nothing(
        self, org: Organization, kind: str, message: str
    ) -> None:
        # given a reviewer who declared a conflict
        reviewer = make_reviewer(org)
        UserFactory(email="pat@example.org")
        email = "pat@example.org" if kind == "person" else ""
        conflict_declare(organization=org, reviewer=reviewer, kind=kind, email=email)
        before = (declarations(reviewer), AuditEvent.objects.count())
        # when they declare it again (a person by another spelling of the address)
        with pytest.raises(ApplicationError) as error:
            conflict_declare(
                organization=org, reviewer=reviewer, kind=kind, email=email.upper(), note="again"
            )
        # then they are told, nothing was added, and the transaction is still usable
        assert error.value.message == message
        assert error.value.fields == {}
        assert (declarations(reviewer), AuditEvent.objects.count()) == before

    def test_different_people_and_kinds_are_each_declared(self, org: Organization) -> None:
        reviewer = make_reviewer(org)
        for email in ("pat@example.org", "sam@example.org"):
            UserFactory(email=email)
            conflict_declare(organization=org, reviewer=reviewer, kind="person", email=email)
        conflict_declare(organization=org, reviewer=reviewer, kind="school")
        conflict_declare(organization=org, reviewer=reviewer, kind="district")
        assert len(declarations(reviewer)) == 4

    def test_the_database_itself_refuses_a_duplicate_without_a_person(
        self, org: Organization
    ) -> None:
        # given a school declaration (no person: NULL)
        reviewer = make_reviewer(org)
        ConflictOfInterest.objects.create(organization=org, reviewer=reviewer, kind="school")
        # then a second row for it, written past the service, is refused by the constraint
        with pytest.raises(IntegrityError, match="one_conflict_declaration"), transaction.atomic():
            ConflictOfInterest.objects.create(organization=org, reviewer=reviewer, kind="school")

    def test_another_organization_keeps_its_own_declarations(self, org: Organization) -> None:
        from tests.factories import OrganizationFactory

        reviewer = make_reviewer(org)
        other = OrganizationFactory()
        StaffRoleFactory(organization=other, role=StaffRole.Role.REVIEWER, user=reviewer)
        conflict_declare(organization=org, reviewer=reviewer, kind="school")
        conflict_declare(organization=other, reviewer=reviewer, kind="school")
        assert ConflictOfInterest.objects.filter(reviewer=reviewer).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_declarations_at_the_same_moment_make_one(org: Organization) -> None:
    # given a reviewer declaring their school in one transaction, not yet committed
    reviewer = make_reviewer(org)
    declared, commit = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def first() -> None:
        try:
            with tenant_scope(org), transaction.atomic():
                conflict_declare(organization=org, reviewer=reviewer, kind="school")
                declared.set()
                commit.wait(30)
        finally:
            connection.close()

    def second() -> None:
        try:
            with tenant_scope(org):
                conflict_declare(organization=org, reviewer=reviewer, kind="school")
            outcome["second"] = "declared"
        except ApplicationError as error:
            outcome["second"] = error.message
        finally:
            connection.close()

    threads = [threading.Thread(target=first)]
    threads[0].start()
    assert declared.wait(30)
    # when the same declaration arrives from another request meanwhile (it waits on the first)
    threads.append(threading.Thread(target=second))
    threads[1].start()
    deadline = time.monotonic() + 30
    while not _someone_waits_for_a_lock() and time.monotonic() < deadline:
        time.sleep(0.05)
    commit.set()
    for thread in threads:
        thread.join(timeout=60)
    # then the second is told it is already declared, and there is one declaration
    assert outcome == {"second": "You have already declared your school."}
    assert declarations(reviewer) == [("school", None)]


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        row = cursor.fetchone()
    return bool(row and row[0])
