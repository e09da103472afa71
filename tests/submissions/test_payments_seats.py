"""Seat codes (issue 22): batches of single-use, case-insensitive, unguessable codes; applying
with one owes nothing; one code used twice at once admits exactly one application."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from credentials_site.exceptions import ApplicationError
from credentials_site.tenancy import tenant_scope
from programs.models import Credential, Organization, StaffRole, User
from submissions import services
from submissions.models import Application, SeatBatch, SeatCode
from submissions.services import seats
from tests.factories import (
    OrganizationFactory,
    StaffRoleFactory,
    UserFactory,
    credential_of,
    make_credential,
)

from .stripe_fake import stripe_on

pytestmark = pytest.mark.django_db


def fee_credential(organization: Organization) -> Credential:
    return credential_of(make_credential(organization, non_member_fee=Decimal("49.00")))


def batch(
    organization: Organization,
    *,
    size: int = 3,
    credential: Credential | None = None,
    days: int = 30,
) -> SeatBatch:
    return seats.seat_batch_create(
        organization=organization,
        size=size,
        expires_at=timezone.now() + dt.timedelta(days=days),
        credential=credential,
        actor=None,
    )


def test_a_code_typed_in_any_case_admits_once_owing_nothing(
    org: Organization, educator: User
) -> None:
    credential = fee_credential(org)
    made = batch(org, size=50, credential=credential)
    codes = list(made.codes.values_list("code", flat=True))
    # every code is new, 12 symbols of 32 (60 bits), none looking like another symbol
    assert len(codes) == len(set(codes)) == 50
    assert all(len(c) == 12 and not set(c) & set("01IO") for c in codes)
    seat = made.codes.first()
    # when an educator types it in lower case, with spaces for the dashes
    typed = seat.display.lower().replace("-", " ")
    application = services.application_apply(
        credential=credential, educator=educator, seat_code=typed
    )
    # then nothing is owed and the code says who used it, for which application
    assert (application.fee_amount, application.fee_status) == (
        Decimal("0"),
        Application.FeeStatus.NONE,
    )
    seat.refresh_from_db()
    assert (seat.application, seat.used_by) == (application, educator)
    # and the same code cannot be used again
    with pytest.raises(ApplicationError, match="already been used"):
        services.application_apply(
            credential=credential, educator=UserFactory(), seat_code=seat.code
        )
    assert Application.objects.filter(credential=credential).count() == 1


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("expired", "This seat code expired on"),
        ("another credential", "This seat code is for another micro-credential."),
        ("another organization", "is not a seat code of this program"),
        ("made up", "is not a seat code of this program"),
    ],
)
def test_a_code_that_does_not_apply_is_refused_and_nothing_changes(
    org: Organization, educator: User, case: str, message: str
) -> None:
    credential = fee_credential(org)
    if case == "expired":
        made = batch(org)
        SeatBatch.objects.filter(pk=made.pk).update(expires_at=timezone.now())
        code = made.codes.first().code
    elif case == "another credential":
        code = batch(org, credential=fee_credential(org)).codes.first().code
    elif case == "another organization":
        code = batch(OrganizationFactory()).codes.first().code
    else:
        code = "ABCD-EFGH-JKLM"
    with pytest.raises(ApplicationError, match=message):
        services.application_apply(credential=credential, educator=educator, seat_code=code)
    assert not Application.objects.filter(educator=educator).exists()
    assert not SeatCode.objects.filter(used_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_one_code_used_twice_at_once_admits_exactly_one(org: Organization) -> None:
    # given a catalog-wide code and two educators applying for two credentials with it at once
    first, second = fee_credential(org), fee_credential(org)
    code = batch(org, size=1).codes.get().code
    people = [UserFactory(), UserFactory()]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def apply(credential: Credential, educator: User) -> None:
        try:
            with tenant_scope(org):
                barrier.wait(timeout=10)
                services.application_apply(
                    credential=credential, educator=educator, seat_code=code.lower()
                )
            outcomes.append("applied")
        except ApplicationError as error:
            outcomes.append(error.message)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=apply, args=(credential, person))
        for credential, person in zip((first, second), people, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then one application is admitted on the code, the other is told it is used
    assert sorted(outcomes) == ["This seat code has already been used.", "applied"]
    assert Application.objects.filter(educator__in=people).count() == 1
    seat = SeatCode.objects.get(code=code)
    assert seat.application is not None and seat.used_by in people


def test_applying_with_a_code_skips_checkout(
    client: Client, org: Organization, educator: User
) -> None:
    stripe_on(org)
    credential = fee_credential(org)
    code = batch(org, credential=credential).codes.first()
    client.force_login(educator)
    page = client.get(credential.get_absolute_url()).content.decode()
    assert 'name="seat_code"' in page
    assert f"/o/{org.slug}/seats/buy/" in page  # districts buying for their staff
    refused = client.post(
        f"/o/{org.slug}/credentials/{credential.slug}/apply/",
        {"seat_code": "nope"},
        follow=True,
    )
    assert "“nope” is not a seat code of this program" in refused.content.decode()
    assert not Application.objects.filter(educator=educator).exists()
    response = client.post(
        f"/o/{org.slug}/credentials/{credential.slug}/apply/", {"seat_code": code.display}
    )
    application = Application.objects.get(educator=educator)
    assert response["Location"] == f"/o/{org.slug}/applications/{application.public_id}/"


class TestAdmin:
    def test_a_program_admin_makes_a_batch_and_exports_it(
        self, client: Client, org: Organization, educator: User
    ) -> None:
        client.force_login(
            StaffRoleFactory(organization=org, role=StaffRole.Role.PROGRAM_ADMIN).user
        )
        credential = fee_credential(org)
        expires = (timezone.now() + dt.timedelta(days=60)).strftime("%Y-%m-%d")
        bad = client.post(
            "/admin/submissions/seatbatch/add/",
            {"size": "0", "expires_at_0": expires, "expires_at_1": "12:00", "note": "x"},
        )
        assert "A batch has 1 to 5000 codes." in bad.content.decode()
        made_response = client.post(
            "/admin/submissions/seatbatch/add/",
            {
                "credential": credential.pk,
                "size": "4",
                "expires_at_0": expires,
                "expires_at_1": "12:00",
                "note": "Fulton district, invoice 12",
            },
        )
        assert made_response.status_code == 302, made_response.context["adminform"].form.errors
        made = SeatBatch.objects.get(organization=org)
        assert made.codes.count() == 4
        used = made.codes.first()
        application = services.application_apply(
            credential=credential, educator=educator, seat_code=used.code
        )
        rows = list(
            csv.reader(
                io.StringIO(
                    client.get(f"/admin/submissions/seatbatch/{made.pk}/csv/").content.decode()
                )
            )
        )
        assert rows[0] == [
            "code", "credential", "expires", "used by", "used at", "application", "usable"
        ]  # fmt: skip
        assert len(rows) == 5
        assert [educator.email, application.anonymous_code] == [rows[1][3], rows[1][5]]
        page = client.get(f"/admin/submissions/seatbatch/{made.pk}/change/").content.decode()
        assert used.display in page
        assert str(educator) in page

    def test_an_admin_of_a_cannot_see_bs_batches(self, client: Client, org: Organization) -> None:
        client.force_login(
            StaffRoleFactory(organization=org, role=StaffRole.Role.PROGRAM_ADMIN).user
        )
        theirs = batch(OrganizationFactory())
        assert client.get(f"/admin/submissions/seatbatch/{theirs.pk}/csv/").status_code == 404
        assert client.get(f"/admin/submissions/seatbatch/{theirs.pk}/change/").status_code == 404
        assert (
            theirs.codes.first().display
            not in client.get("/admin/submissions/seatbatch/").content.decode()
        )
