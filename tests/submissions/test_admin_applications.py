"""Program admins see their organization's applications and record fees; nothing else changes."""

from __future__ import annotations

import pytest
from django.test import Client

from programs.models import StaffRole
from submissions.models import Application, ApplicationEvent
from tests.factories import OrganizationFactory, StaffRoleFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client, org) -> Client:  # type: ignore[no-untyped-def]
    client.force_login(StaffRoleFactory(organization=org, role=StaffRole.Role.PROGRAM_ADMIN).user)
    return client


def test_program_admin_records_a_fee_as_paid(admin_client: Client, make_application) -> None:
    # given a non-member's application with a 49.00 fee
    application = make_application(member=False, non_member_fee=49)
    assert application.fee_status == Application.FeeStatus.OWED
    # when the program admin runs the action
    response = admin_client.post(
        "/admin/submissions/application/",
        {"action": "mark_fee_paid", "_selected_action": [application.pk]},
        follow=True,
    )
    # then the fee is paid and the timeline says so
    assert response.status_code == 200
    application.refresh_from_db()
    assert application.fee_status == Application.FeeStatus.PAID
    assert ApplicationEvent.objects.filter(application=application, kind="fee_paid").exists()


def test_waiving_an_application_without_fee_is_refused(
    admin_client: Client, make_application
) -> None:
    application = make_application()
    response = admin_client.post(
        "/admin/submissions/application/",
        {"action": "waive_fee", "_selected_action": [application.pk]},
        follow=True,
    )
    assert "has no fee" in response.content.decode()
    application.refresh_from_db()
    assert application.fee_status == Application.FeeStatus.NONE


def test_admin_sees_only_own_organizations_applications(
    admin_client: Client, make_application
) -> None:
    mine = make_application()
    other_org = OrganizationFactory()
    theirs = make_application(organization=other_org, user=UserFactory(email="x@other.example"))
    listing = admin_client.get("/admin/submissions/application/").content.decode()
    assert mine.educator.email in listing
    assert "x@other.example" not in listing
    change = admin_client.get(f"/admin/submissions/application/{theirs.pk}/change/", follow=True)
    assert "x@other.example" not in change.content.decode()
    # a forged action on the other organization's application changes nothing
    admin_client.post(
        "/admin/submissions/application/",
        {"action": "mark_fee_paid", "_selected_action": [theirs.pk]},
    )
    theirs.refresh_from_db()
    assert theirs.fee_status == Application.FeeStatus.NONE


def test_application_page_shows_evidence_and_timeline(
    admin_client: Client, make_application
) -> None:
    application = make_application()
    body = admin_client.get(f"/admin/submissions/application/{application.pk}/change/").content
    assert b"Applied for" in body
    assert b'name="_save"' not in body  # a record, not a form
