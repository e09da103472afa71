"""The one member-upsert rule (programs.services.members): a row makes or updates a membership
and, for a new address, an account; the same row again changes nothing."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from credentials_site.celery import app
from programs.models import AuditEvent, Membership, User
from programs.services.members import (
    MemberRow,
    member_row_clean,
    member_upsert,
    member_upsert_many,
)
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 6)


@pytest.fixture
def tasks_run_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """``.delay()`` runs the task in the calling thread, as a worker would on receiving it."""
    monkeypatch.setattr(app.conf, "task_always_eager", True)


def row(**values: Any) -> MemberRow:
    cleaned, errors = member_row_clean({"email": "ana@school.example", **values})
    assert not errors, errors
    assert cleaned is not None
    return cleaned


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
            "source",
        )
    )


class TestRowClean:
    def test_each_wrong_field_is_named(self) -> None:
        cleaned, errors = member_row_clean(
            {"email": "not-an-address", "starts_on": "31/12/2026", "member_number": "x" * 41}
        )
        assert cleaned is None
        assert set(errors) == {"email", "starts_on", "member_number"}
        assert "YYYY-MM-DD" in errors["starts_on"]

    def test_expiry_before_start(self) -> None:
        _, errors = member_row_clean(
            {"email": "a@b.example", "starts_on": "2026-09-01", "expires_on": "2026-08-31"}
        )
        assert "before the start" in errors["expires_on"]

    def test_spreadsheet_values(self) -> None:
        cleaned = row(
            member_number=1042.0,
            starts_on=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
            expires_on="8/31/2027",
        )
        assert cleaned.member_number == "1042"
        assert cleaned.starts_on == dt.date(2026, 1, 2)
        assert cleaned.expires_on == dt.date(2027, 8, 31)

    def test_address_in_capitals_is_one_address(self) -> None:
        assert row(email=" Ana@School.Example ").email == "ana@school.example"


class TestUpsert:
    def test_new_address_makes_account_membership_and_invitation(
        self, django_capture_on_commit_callbacks: Any, tasks_run_at_once: None
    ) -> None:
        # given an organization and nobody of that address
        gael = OrganizationFactory(name="GAEL")
        # when a row arrives
        with django_capture_on_commit_callbacks(execute=True):
            outcome = member_upsert(
                organization=gael,
                row=row(given_name="Ana", family_name="Ruiz", school="Lincoln", member_number="7"),
                actor=None,
                source="api",
            )
        # then a member, an account without a password, and an invitation to set one
        assert outcome == "created"
        user = User.objects.get(email="ana@school.example")
        assert user.full_name == "Ana Ruiz" and not user.has_usable_password()
        membership = Membership.objects.get(organization=gael, user=user)
        assert (membership.status, membership.member_number, membership.school) == (
            "active",
            "7",
            "Lincoln",
        )
        assert membership.source == "api"
        assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ana@school.example"]
        assert "/accounts/password/reset/key/" in mail.outbox[0].body
        # and the invitation is also HTML, in GAEL's name, with a button to set the password
        [(html, mimetype)] = mail.outbox[0].alternatives
        assert mimetype == "text/html" and "GAEL" in html and "Set your password" in html
        assert AuditEvent.objects.filter(action="membership.created").count() == 1

    def test_same_row_twice_changes_nothing(self) -> None:
        gael = OrganizationFactory()
        first = row(given_name="Ana", position="Teacher", expires_on="2099-08-31")
        assert member_upsert(organization=gael, row=first, actor=None) == "created"
        before, events = memberships(), AuditEvent.objects.count()
        assert member_upsert(organization=gael, row=first, actor=None) == "unchanged"
        assert memberships() == before and AuditEvent.objects.count() == events

    def test_existing_account_in_other_case_is_reused_and_its_name_kept(self) -> None:
        gael = OrganizationFactory()
        user = UserFactory(email="Ana@School.example", full_name="Ana María Ruiz")
        outcome = member_upsert(
            organization=gael, row=row(given_name="Ana", family_name="R"), actor=None
        )
        assert outcome == "created"
        assert User.objects.count() == 1
        user.refresh_from_db()
        assert user.full_name == "Ana María Ruiz"
        assert not mail.outbox  # they have an account already

    def test_supplied_fields_change_others_are_kept(self) -> None:
        gael = OrganizationFactory()
        user = UserFactory(email="ana@school.example")
        MembershipFactory(
            organization=gael, user=user, member_number="7", member_until=dt.date(2099, 1, 1)
        )
        assert member_upsert(organization=gael, row=row(position="Coach"), actor=None) == "updated"
        membership = Membership.objects.get(user=user)
        assert (membership.position, membership.member_number) == ("Coach", "7")
        assert membership.member_until == dt.date(2099, 1, 1)
        event = AuditEvent.objects.get(action="membership.updated")
        assert event.data["values"]["position"] == ["", "Coach"]

    def test_past_expiry_lapses_and_a_later_row_renews(self) -> None:
        gael = OrganizationFactory()
        member_upsert_many(
            organization=gael, rows=[row(expires_on="2026-01-31")], actor=None, today=TODAY
        )
        assert Membership.objects.get().status == "lapsed"
        result = member_upsert_many(
            organization=gael, rows=[row(expires_on="2027-01-31")], actor=None, today=TODAY
        )
        assert result.outcomes == ["updated"] and Membership.objects.get().status == "active"

    def test_dry_run_writes_nothing(self) -> None:
        gael = OrganizationFactory()
        UserFactory(email="old@school.example")
        result = member_upsert_many(
            organization=gael,
            rows=[row(), row(email="old@school.example")],
            actor=None,
            dry_run=True,
        )
        assert result.outcomes == ["created", "created"]
        assert not Membership.objects.exists() and User.objects.count() == 1

    def test_memberships_of_other_organizations_are_untouched(self) -> None:
        gael, district = OrganizationFactory(), OrganizationFactory()
        user = UserFactory(email="ana@school.example")
        MembershipFactory(organization=district, user=user, member_number="D-1")
        assert member_upsert(organization=gael, row=row(member_number="G-1"), actor=None) == (
            "created"
        )
        assert Membership.objects.get(organization=district).member_number == "D-1"

    def test_bulk_is_a_constant_number_of_statements(
        self, django_assert_max_num_queries: Any
    ) -> None:
        gael = OrganizationFactory()
        rows = [row(email=f"m{i}@school.example", given_name=f"M{i}") for i in range(200)]
        member_upsert_many(organization=gael, rows=rows[:100], actor=None)
        changed = [row(email=r.email, given_name="X", position="Teacher") for r in rows]
        with django_assert_max_num_queries(12):
            result = member_upsert_many(organization=gael, rows=changed, actor=None)
        assert result.outcomes.count("updated") == 100 and result.outcomes.count("created") == 100


def test_the_invitation_sets_a_password_and_signs_in(
    client: Client, django_capture_on_commit_callbacks: Any, tasks_run_at_once: None
) -> None:
    # given a new member invited by e-mail
    gael = OrganizationFactory(name="GAEL")
    with django_capture_on_commit_callbacks(execute=True):
        member_upsert(organization=gael, row=row(given_name="Ana"), actor=None)
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body)
    assert link is not None
    # when they follow the link and choose a password
    response = client.get(link.group(1), follow=True)
    form = response.redirect_chain[-1][0] if response.redirect_chain else link.group(1)
    password = "a long and private passphrase"
    response = client.post(form, {"password1": password, "password2": password})
    assert response.status_code == 302
    # then they sign in with it once they confirm their address (as every new account does)
    login = {"login": "ana@school.example", "password": password}
    assert client.post("/accounts/login/", login)["Location"] == "/accounts/confirm-email/"
    confirm = re.search(r"(/accounts/confirm-email/[^/\s]+/)", mail.outbox[-1].body)
    assert confirm is not None
    client.post(confirm.group(1))
    response = client.post("/accounts/login/", login)
    assert response.status_code == 302 and "confirm" not in response["Location"]
