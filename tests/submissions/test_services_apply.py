"""Applying for a credential: members only, fees, one open application at a time."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from credentials_site.exceptions import ApplicationError
from credentials_site.tenancy import tenant_scope
from programs import services as program_services
from programs.models import Credential, Organization, User
from submissions import services
from submissions.models import Application, ApplicationEvent
from tests.factories import MembershipFactory, OrganizationFactory, credential_of, make_credential

pytestmark = pytest.mark.django_db


def published(organization: Organization, **version_fields: Any) -> Credential:
    return credential_of(make_credential(organization, **version_fields))


def members_only(organization: Organization, **version_fields: Any) -> Credential:
    return published(organization, members_only=True, non_member_fee=None, **version_fields)


class TestMembersOnly:
    def test_a_member_applies_free(self, org: Organization, educator: User) -> None:
        # given a current member and a members-only credential with no member fee
        MembershipFactory(organization=org, user=educator, member_until=None)
        credential = members_only(org, title="Restorative circles")
        # when they apply
        application = services.application_apply(credential=credential, educator=educator)
        # then the application is open, free, and remembers they were a member
        assert application.status == Application.Status.APPLIED
        assert application.was_member is True
        assert application.fee_amount == Decimal("0")
        assert application.fee_status == Application.FeeStatus.NONE
        assert application.version_id == credential.current_version_id
        assert [e.message for e in ApplicationEvent.objects.filter(application=application)] == [
            "Applied for “Restorative circles”"
        ]

    def test_a_member_owes_the_member_fee(self, org: Organization, educator: User) -> None:
        MembershipFactory(organization=org, user=educator, member_until=None)
        credential = members_only(org, member_fee=Decimal("15.00"))
        application = services.application_apply(credential=credential, educator=educator)
        assert (application.fee_amount, application.fee_status) == (
            Decimal("15.00"),
            Application.FeeStatus.OWED,
        )

    def test_a_non_member_is_told_whom_to_ask(self, org: Organization, educator: User) -> None:
        # given someone with no membership
        credential = members_only(org, title="Restorative circles")
        # when they apply
        with pytest.raises(ApplicationError) as refused:
            services.application_apply(credential=credential, educator=educator)
        # then the message names the organization, their e-mail and whom to write to
        assert refused.value.code == "members_only"
        assert refused.value.message == (
            "“Restorative circles” is open to RUSD members only. We have no RUSD membership on "
            "record for teacher@school.example. If you are a member, email programs@example.org "
            "to have it added."
        )
        # and nothing was created
        assert not Application.objects.filter(educator=educator).exists()
        assert not ApplicationEvent.objects.filter(organization=org).exists()

    def test_an_expired_membership_is_refused_with_its_date(
        self, org: Organization, educator: User
    ) -> None:
        # given a membership that ran out at the end of January 2020 (not yet marked lapsed)
        MembershipFactory(organization=org, user=educator, member_until=dt.date(2020, 1, 31))
        credential = members_only(org)
        # when they apply
        with pytest.raises(ApplicationError) as refused:
            services.application_apply(credential=credential, educator=educator)
        # then they learn it expired, when, and whom to write to
        assert refused.value.code == "members_only"
        assert "RUSD Member expired 2020-01-31" in refused.value.message
        assert "To renew it, or if this is wrong, email programs@example.org." in (
            refused.value.message
        )
        assert not Application.objects.filter(educator=educator).exists()

    def test_a_membership_of_another_organization_does_not_count(
        self, org: Organization, educator: User
    ) -> None:
        MembershipFactory(organization=OrganizationFactory(), user=educator, member_until=None)
        with pytest.raises(ApplicationError) as refused:
            services.application_apply(credential=members_only(org), educator=educator)
        assert refused.value.code == "members_only"


class TestFees:
    def test_a_non_member_owes_the_fee_in_the_organizations_currency(self, educator: User) -> None:
        # given an open credential of a euro organization, 49 for non-members
        org = OrganizationFactory(short_name="GAEL", currency="EUR")
        credential = published(org, title="Feedback", non_member_fee=Decimal("49"))
        # when a non-member applies
        application = services.application_apply(credential=credential, educator=educator)
        # then the fee is owed, in euros
        assert application.was_member is False
        assert application.fee_amount == Decimal("49.00")
        assert application.fee_currency == "EUR"
        assert application.fee_status == Application.FeeStatus.OWED
        event = ApplicationEvent.objects.get(application=application)
        assert event.message == "Applied for “Feedback”; fee 49.00 EUR"

    def test_a_member_pays_the_member_price_of_an_open_credential(
        self, org: Organization, educator: User
    ) -> None:
        MembershipFactory(organization=org, user=educator, member_until=None)
        credential = published(org, member_fee=Decimal("0"), non_member_fee=Decimal("49"))
        application = services.application_apply(credential=credential, educator=educator)
        assert application.was_member is True
        assert application.fee_status == Application.FeeStatus.NONE

    @pytest.mark.parametrize("status", ["paid", "waived"])
    def test_an_admin_records_the_fee(self, org: Organization, educator: User, status: str) -> None:
        # given an application that owes 49
        credential = published(org, non_member_fee=Decimal("49"))
        application = services.application_apply(credential=credential, educator=educator)
        # when the program records it as paid or waived
        services.application_fee_record(
            application=application, status=status, actor=None, note="Receipt 1042"
        )
        # then the application says so, and the timeline too
        application.refresh_from_db()
        assert application.fee_status == status
        assert application.fee_note == "Receipt 1042"
        assert application.fee_updated_at is not None
        event = ApplicationEvent.objects.filter(application=application).last()
        assert event is not None and event.kind == f"fee_{status}"
        assert event.message == f"Fee of 49.00 USD recorded as {status}"

    def test_no_fee_cannot_be_recorded(self, make_application: Any) -> None:
        application = make_application()
        assert application.fee_status == Application.FeeStatus.NONE
        with pytest.raises(ApplicationError, match=r"This application has no fee\."):
            services.application_fee_record(application=application, status="paid", actor=None)
        application.refresh_from_db()
        assert application.fee_status == Application.FeeStatus.NONE

    def test_a_fee_is_recorded_only_as_paid_or_waived(
        self, org: Organization, educator: User
    ) -> None:
        credential = published(org, non_member_fee=Decimal("49"))
        application = services.application_apply(credential=credential, educator=educator)
        with pytest.raises(ApplicationError, match="paid or waived"):
            services.application_fee_record(application=application, status="none", actor=None)
        application.refresh_from_db()
        assert application.fee_status == Application.FeeStatus.OWED


class TestOneOpenApplication:
    def test_a_second_application_is_refused(self, make_application: Any, educator: User) -> None:
        # given an open application
        application = make_application()
        credential = Credential.objects.get(pk=application.credential_id)
        # when the educator applies again
        with pytest.raises(ApplicationError) as refused:
            services.application_apply(credential=credential, educator=educator)
        # then they are told they already have one, and still have exactly one
        assert refused.value.code == "already_applied"
        assert "You already have an application for" in refused.value.message
        assert Application.objects.filter(educator=educator).count() == 1

    def test_after_withdrawing_one_may_apply_again(
        self, make_application: Any, educator: User
    ) -> None:
        first = make_application()
        services.application_withdraw(application=first, actor=educator)
        credential = Credential.objects.get(pk=first.credential_id)
        second = services.application_apply(credential=credential, educator=educator)
        assert second.pk != first.pk
        assert second.status == Application.Status.APPLIED
        assert Application.objects.get(pk=first.pk).status == Application.Status.WITHDRAWN

    def test_another_educator_applies_independently(
        self, make_application: Any, educator: User
    ) -> None:
        mine = make_application()
        colleague = MembershipFactory(organization_id=mine.organization_id, member_until=None).user
        credential = Credential.objects.get(pk=mine.credential_id)
        theirs = services.application_apply(credential=credential, educator=colleague)
        assert theirs.educator == colleague


class TestNotOpen:
    def test_a_retired_credential_is_refused(self, org: Organization, educator: User) -> None:
        credential = published(org)
        program_services.credential_retire(credential=credential, actor=None)
        with pytest.raises(ApplicationError) as refused:
            services.application_apply(credential=credential, educator=educator)
        assert refused.value.code == "not_published"
        assert refused.value.message == "This micro-credential is not open for applications."
        assert not Application.objects.filter(educator=educator).exists()

    def test_a_draft_credential_is_refused(self, org: Organization, educator: User) -> None:
        credential = credential_of(make_credential(org, publish=False))
        with pytest.raises(ApplicationError) as refused:
            services.application_apply(credential=credential, educator=educator)
        assert refused.value.code == "not_published"
        assert not Application.objects.filter(educator=educator).exists()


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_applications_make_one(org: Organization, educator: User) -> None:
    # given a published credential (committed, so other connections see it)
    credential = published(org, non_member_fee=Decimal("0"))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def apply() -> None:
        try:
            with tenant_scope(org):  # what the middleware does for the request
                barrier.wait(timeout=10)
                services.application_apply(credential=credential, educator=educator)
            outcomes.append("applied")
        except ApplicationError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    # when two requests apply at the same moment (a double click)
    threads = [threading.Thread(target=apply) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then one succeeds, the other is told it already exists, and there is one application
    assert sorted(outcomes) == ["already_applied", "applied"]
    assert Application.objects.filter(educator=educator, credential=credential).count() == 1
