"""Fees paid online, the rest of issue 22: seat batches bought with one Checkout payment (usable
only once Stripe's signed webhook records it), the delayed-payment and expired-session events,
and the refund a program's policy offers when an educator withdraws before review. Stripe's
HTTP API is faked at the stripe library's HTTP client only (tests/submissions/stripe_fake.py)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from credentials_site.exceptions import ApplicationError
from programs.models import Credential, Organization, Program, StaffRole, User
from submissions import services
from submissions.models import Application, PaymentEntry, SeatBatch, SeatCode, WebhookEvent
from submissions.services import seats
from tests.factories import (
    OrganizationFactory,
    StaffRoleFactory,
    UserFactory,
    credential_of,
    make_credential,
)

from .stripe_fake import FakeStripeHTTP, post_event, refunded, session_event, stripe_on

pytestmark = pytest.mark.django_db

COMPLETED = "checkout.session.completed"
SUCCEEDED = "checkout.session.async_payment_succeeded"
FAILED = "checkout.session.async_payment_failed"
EXPIRED = "checkout.session.expired"


def fee_credential(organization: Organization) -> Credential:
    return credential_of(make_credential(organization, non_member_fee=Decimal("49.00")))


def bought(
    organization: Organization, *, size: int = 3, credential: Credential | None = None
) -> SeatBatch:
    """A batch to be paid by card, 25.00 a seat, not paid yet."""
    return seats.seat_batch_create(
        organization=organization,
        size=size,
        expires_at=timezone.now() + dt.timedelta(days=30),
        credential=credential,
        actor=None,
        price_each=Decimal("25.00"),
    )


def refresh(batch: SeatBatch) -> SeatBatch:
    batch.refresh_from_db()
    return batch


def program_admin(client: Client, organization: Organization) -> User:
    user = StaffRoleFactory(organization=organization, role=StaffRole.Role.PROGRAM_ADMIN).user
    client.force_login(user)
    return user


def admin_add_batch(client: Client, credential: Credential, **form: str) -> Any:
    """The admin's "Add seat code batch" form posted, expiring in 60 days."""
    expires = (timezone.now() + dt.timedelta(days=60)).strftime("%Y-%m-%d")
    return client.post(
        "/admin/submissions/seatbatch/add/",
        {"credential": credential.pk, "expires_at_0": expires, "expires_at_1": "12:00", **form},
    )


def apply_with(code: SeatCode, credential: Credential) -> Application:
    return services.application_apply(
        credential=credential, educator=UserFactory(), seat_code=code.code
    )


# --- Seat batches bought by card -----------------------------------------------------------------


class TestBatchPaidByCard:
    def test_the_admin_buys_a_batch_and_its_codes_work_only_once_stripe_confirms(
        self, client: Client, org: Organization, fake_stripe: FakeStripeHTTP
    ) -> None:
        # given an organization on Stripe and its program admin
        stripe_on(org)
        program_admin(client, org)
        credential = fee_credential(org)
        # when they make a batch of 4 codes "pay by card", the price left to the credential's fee
        response = admin_add_batch(client, credential, size="4", note="Fulton district", how="card")
        made = SeatBatch.objects.get(organization=org)
        pay_url = f"/admin/submissions/seatbatch/{made.pk}/pay/"
        assert response.status_code == 302 and response["Location"] == pay_url
        assert (made.payment, made.price_each, made.amount) == (
            SeatBatch.Payment.UNPAID,
            Decimal("49.00"),
            Decimal("196.00"),
        )
        # then its codes are refused until paid
        code = made.codes.first()
        with pytest.raises(ApplicationError, match="not paid for yet"):
            apply_with(code, credential)
        # and paying goes to one Checkout Session for 4 x 49.00, naming the batch
        page = client.get(pay_url)
        assert "Pay 196.00 USD by card" in page.content.decode()
        assert "https://checkout.stripe.com" in page["Content-Security-Policy"]
        checkout = client.post(pay_url)
        assert checkout["Location"].startswith("https://checkout.stripe.com/c/pay/cs_test_")
        params = fake_stripe.last("/v1/checkout/sessions")["params"]
        assert params["line_items[0][quantity]"] == "4"
        assert params["line_items[0][price_data][unit_amount]"] == "4900"
        assert params["metadata[seat_batch]"] == str(made.public_id)
        assert params["metadata[organization]"] == org.slug
        assert params["payment_intent_data[metadata][seat_batch]"] == str(made.public_id)
        assert params["success_url"].endswith(
            f"/admin/submissions/seatbatch/{made.pk}/change/?payment=returned"
        )
        # coming back from Checkout pays nothing
        assert refresh(made).payment == SeatBatch.Payment.UNPAID
        # when Stripe's signed completion arrives (and again: a replay)
        session = refresh(made).checkout_session_id
        body = session_event(COMPLETED, made, session_id=session, intent="pi_batch")
        assert post_event(client, org.slug, body).json()["outcome"] == "applied"
        post_event(client, org.slug, body)
        # then the batch is paid, once, on the ledger, and its codes admit
        assert refresh(made).payment == SeatBatch.Payment.PAID
        entry = PaymentEntry.objects.get(seat_batch=made)
        assert (entry.amount, entry.provider_id, entry.application) == (
            Decimal("196.00"),
            "pi_batch",
            None,
        )
        application = apply_with(code, credential)
        assert application.fee_status == Application.FeeStatus.NONE
        # and the admin sees it paid, with no more "Pay" to press
        change = client.get(f"/admin/submissions/seatbatch/{made.pk}/change/").content.decode()
        assert "Paid: 4 x 49.00 = 196.00 USD; paid online 196.00" in change
        assert "Pay by card" not in change
        assert "There is nothing to pay" in client.post(pay_url).content.decode()

    def test_an_expired_or_failed_checkout_leaves_the_batch_unpaid_and_unusable(
        self, client: Client, org: Organization
    ) -> None:
        stripe_on(org)
        credential = fee_credential(org)
        made = bought(org, credential=credential)
        # when the checkout expires unpaid, and a delayed payment of another try fails
        for kind in (EXPIRED, FAILED):
            response = post_event(client, org.slug, session_event(kind, made))
            assert (response.status_code, response.json()["outcome"]) == (200, "applied")
        # then the batch is still unpaid, says why, and its codes are refused
        made = refresh(made)
        assert made.payment == SeatBatch.Payment.UNPAID
        assert made.payment_note.startswith("The payment failed")
        assert PaymentEntry.objects.count() == 0
        with pytest.raises(ApplicationError, match="not paid for yet"):
            apply_with(made.codes.first(), credential)
        # and a delayed payment that succeeds later pays it, even with its session's
        # "expired" arriving afterwards (Stripe promises no order)
        session = "cs_test_delayed"
        pending = session_event(COMPLETED, made, session_id=session, intent="pi_delayed")
        pending["data"]["object"]["payment_status"] = "unpaid"
        assert post_event(client, org.slug, pending).json()["outcome"] == "ignored"
        assert refresh(made).payment == SeatBatch.Payment.UNPAID
        post_event(client, org.slug, session_event(SUCCEEDED, made, session_id=session))
        post_event(client, org.slug, session_event(EXPIRED, made, session_id=session))
        assert refresh(made).payment == SeatBatch.Payment.PAID
        assert apply_with(made.codes.first(), credential).fee_status == "none"

    def test_a_batch_refunded_in_full_stops_its_unused_codes(
        self, client: Client, org: Organization
    ) -> None:
        stripe_on(org)
        credential = fee_credential(org)
        made = bought(org, size=2, credential=credential)
        post_event(client, org.slug, session_event(COMPLETED, made, intent="pi_back"))
        first, second = made.codes.all()
        apply_with(first, credential)
        # when Stripe reports the batch's charge refunded in full
        post_event(
            client,
            org.slug,
            refunded(made, intent="pi_back", refunds=[("re_all", Decimal("50.00"))]),
        )
        # then the ledger has the refund, the batch is refunded and the unused code refused
        assert refresh(made).payment == SeatBatch.Payment.REFUNDED
        assert PaymentEntry.objects.filter(seat_batch=made, kind="refund").count() == 1
        with pytest.raises(ApplicationError, match="was refunded"):
            apply_with(second, credential)

    @pytest.mark.parametrize(
        ("form", "message"),
        [
            ({"how": "card", "price_each": "0"}, "needs a price per seat above zero"),
            ({"how": "card"}, "takes no card payments"),
        ],
    )
    def test_a_batch_by_card_that_cannot_be_paid_is_refused(
        self, client: Client, org: Organization, form: dict[str, str], message: str
    ) -> None:
        if "price_each" in form:
            stripe_on(org)
        program_admin(client, org)
        credential = fee_credential(org)
        response = admin_add_batch(client, credential, size="2", **form)
        assert message in response.content.decode()
        assert not SeatBatch.objects.exists()

    def test_the_csv_cannot_run_formulas(self, client: Client, org: Organization) -> None:
        program_admin(client, org)
        credential = fee_credential(org)
        made = seats.seat_batch_create(
            organization=org,
            size=1,
            expires_at=timezone.now() + dt.timedelta(days=5),
            credential=credential,
            actor=None,
        )
        services.application_apply(
            credential=credential,
            educator=UserFactory(email="=hyperlink@evil.example"),
            seat_code=made.codes.get().code,
        )
        text = client.get(f"/admin/submissions/seatbatch/{made.pk}/csv/").content.decode()
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[1][3] == "'=hyperlink@evil.example"
        assert rows[1][6] == "yes"


class TestBatchAcrossOrganizations:
    def test_an_admin_of_a_cannot_pay_for_export_or_use_bs_batch(
        self, client: Client, org: Organization, fake_stripe: FakeStripeHTTP
    ) -> None:
        stripe_on(org)
        program_admin(client, org)
        other = OrganizationFactory()
        stripe_on(other)
        theirs = bought(other)
        for url in (
            f"/admin/submissions/seatbatch/{theirs.pk}/pay/",
            f"/admin/submissions/seatbatch/{theirs.pk}/csv/",
            f"/admin/submissions/seatbatch/{theirs.pk}/change/",
        ):
            assert client.get(url).status_code == 404, url
        assert client.post(f"/admin/submissions/seatbatch/{theirs.pk}/pay/").status_code == 404
        assert fake_stripe.requests == []
        # and a signed completion naming B's batch, posted to A's endpoint, pays nothing
        response = post_event(
            client, org.slug, session_event(COMPLETED, theirs, intent="pi_b_batch")
        )
        assert response.json()["outcome"] == "unmatched"
        body = session_event(COMPLETED, theirs, intent="pi_b_batch")
        body["data"]["object"]["metadata"]["organization"] = org.slug
        assert post_event(client, org.slug, body).json()["outcome"] == "unmatched"
        assert refresh(theirs).payment == SeatBatch.Payment.UNPAID
        assert PaymentEntry.objects.count() == 0


# --- Delayed payments and expired sessions of an application's fee --------------------------------


@pytest.fixture
def owed(make_application: Callable[..., Application]) -> Application:
    application = make_application(member=False, non_member_fee=Decimal("49.00"))
    stripe_on(application)
    return application


def status_of(application: Application) -> str:
    application.refresh_from_db()
    return application.fee_status


class TestDelayedPayments:
    def test_a_delayed_payment_pays_when_it_succeeds_and_failing_leaves_it_owed(
        self, client: Client, owed: Application, django_capture_on_commit_callbacks: Any
    ) -> None:
        slug = owed.organization.slug
        # given a bank debit that failed, and a checkout that expired
        failed = post_event(client, slug, session_event(FAILED, owed))
        expired = post_event(client, slug, session_event(EXPIRED, owed))
        assert failed.json()["outcome"] == expired.json()["outcome"] == "applied"
        assert status_of(owed) == Application.FeeStatus.OWED
        assert WebhookEvent.objects.filter(application=owed).count() == 2
        # when a second try's delayed payment succeeds (replayed too)
        body = session_event(SUCCEEDED, owed, intent="pi_debit")
        with django_capture_on_commit_callbacks(execute=True):
            post_event(client, slug, body)
            post_event(client, slug, body)
        # then it is paid once, with one receipt
        assert status_of(owed) == Application.FeeStatus.PAID
        assert PaymentEntry.objects.filter(application=owed).count() == 1
        assert len([m for m in mail.outbox if "receipt" in m.subject.lower()]) == 1
        # and a failure of it arriving late changes nothing
        post_event(client, slug, session_event(FAILED, owed, intent="pi_debit"))
        assert status_of(owed) == Application.FeeStatus.PAID


# --- Refund on withdrawal, by the program's policy -----------------------------------------------


def refund_policy(application: Application, policy: str) -> None:
    Program.objects.filter(credentials__pk=application.credential_id).update(
        withdrawal_refund=policy
    )


def paid(client: Client, application: Application, intent: str) -> None:
    post_event(
        client,
        application.organization.slug,
        session_event(COMPLETED, application, intent=intent),
    )
    assert status_of(application) == Application.FeeStatus.PAID


class TestRefundOnWithdrawal:
    def test_withdrawing_before_review_refunds_through_stripe_where_the_program_does(
        self,
        client: Client,
        owed: Application,
        fake_stripe: FakeStripeHTTP,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        # given a program that refunds fees when educators withdraw before review, and a paid fee
        refund_policy(owed, Program.WithdrawalRefund.BEFORE_REVIEW)
        paid(client, owed, "pi_withdraw")
        client.force_login(owed.educator)
        url = f"/o/{owed.organization.slug}/applications/{owed.public_id}/withdraw/"
        # then the confirmation page offers the refund
        page = client.get(url).content.decode()
        assert "Refund the fee I paid: 49.00 USD back to my card" in page
        # when the educator withdraws, accepting it
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, {"refund": "yes"}, follow=True)
        # then the application is withdrawn and Stripe is asked to refund all of it, once
        owed.refresh_from_db()
        assert owed.status == Application.Status.WITHDRAWN
        sent = fake_stripe.last("/v1/refunds")["params"]
        assert (sent["payment_intent"], sent["amount"]) == ("pi_withdraw", "4900")
        assert "Your refund is on its way" in response.content.decode()
        # the educator is e-mailed the reason
        assert "Withdrawn before a review started" in mail.outbox[-1].body
        assert "49.00" in mail.outbox[-1].body
        # and the ledger and application follow Stripe's charge.refunded
        assert status_of(owed) == Application.FeeStatus.PAID
        post_event(
            client,
            owed.organization.slug,
            refunded(owed, intent="pi_withdraw", refunds=[("re_w", Decimal("49.00"))]),
        )
        assert status_of(owed) == Application.FeeStatus.REFUNDED

    def test_no_refund_is_offered_where_the_program_does_not_refund(
        self, client: Client, owed: Application, fake_stripe: FakeStripeHTTP
    ) -> None:
        paid(client, owed, "pi_kept")
        client.force_login(owed.educator)
        url = f"/o/{owed.organization.slug}/applications/{owed.public_id}/withdraw/"
        page = client.get(url).content.decode()
        assert "Refund the fee I paid" not in page
        assert "ask the program about the fee you paid" in page
        # and asking for one anyway is refused, nothing withdrawn, Stripe not asked
        response = client.post(url, {"refund": "yes"}, follow=True)
        assert "No refund is offered for this application" in response.content.decode()
        owed.refresh_from_db()
        assert owed.status == Application.Status.APPLIED
        assert fake_stripe.requests == []

    def test_stripe_refusing_the_refund_withdraws_nothing(
        self, client: Client, owed: Application, fake_stripe: FakeStripeHTTP
    ) -> None:
        refund_policy(owed, Program.WithdrawalRefund.BEFORE_REVIEW)
        paid(client, owed, "pi_refused")
        fake_stripe.fail_with = (
            400,
            {"error": {"type": "invalid_request_error", "message": "Charge already refunded"}},
        )
        client.force_login(owed.educator)
        url = f"/o/{owed.organization.slug}/applications/{owed.public_id}/withdraw/"
        response = client.post(url, {"refund": "yes"}, follow=True)
        assert "Stripe refused the refund" in response.content.decode()
        owed.refresh_from_db()
        assert owed.status == Application.Status.APPLIED
        assert status_of(owed) == Application.FeeStatus.PAID

    def test_another_educator_cannot_withdraw_or_refund_it(
        self, client: Client, owed: Application, fake_stripe: FakeStripeHTTP
    ) -> None:
        refund_policy(owed, Program.WithdrawalRefund.BEFORE_REVIEW)
        paid(client, owed, "pi_mine")
        client.force_login(UserFactory(email="someone@else.example"))
        url = f"/o/{owed.organization.slug}/applications/{owed.public_id}/withdraw/"
        assert client.get(url).status_code == 404
        assert client.post(url, {"refund": "yes"}).status_code == 404
        assert fake_stripe.requests == []
        assert status_of(owed) == Application.FeeStatus.PAID


# --- A district buys seats for its staff, on the website -----------------------------------------


@pytest.fixture
def district_admin(client: Client) -> tuple[User, Organization]:
    """The program admin of a school district, an organization of its own on Tessera."""
    district = OrganizationFactory(name="Fulton County Schools")
    user = StaffRoleFactory(organization=district, role=StaffRole.Role.PROGRAM_ADMIN).user
    client.force_login(user)
    return user, district


class TestDistrictBuysSeats:
    def test_a_district_admin_buys_seats_and_gets_the_codes_once_stripe_confirms(
        self,
        client: Client,
        org: Organization,
        district_admin: tuple[User, Organization],
        fake_stripe: FakeStripeHTTP,
    ) -> None:
        # given an association on Stripe selling seats of a credential (49.00 to non-members)
        stripe_on(org)
        credential = fee_credential(org)
        user, district = district_admin
        buy = f"/o/{org.slug}/seats/buy/"
        page = client.get(buy)
        assert "Fulton County Schools" in page.content.decode()
        assert "https://checkout.stripe.com" in page["Content-Security-Policy"]
        # bad input is refused, nothing made
        refused = client.post(
            buy, {"credential": credential.pk, "size": "0", "buyer_organization": district.pk}
        )
        assert refused.status_code == 400
        assert "Ensure this value is greater than or equal to 1." in refused.content.decode()
        assert not SeatBatch.objects.exists()
        # when they buy 10 seats for their staff
        response = client.post(
            buy, {"credential": credential.pk, "size": "10", "buyer_organization": district.pk}
        )
        # then one Checkout Session for 10 x 49.00 and an unpaid batch, bought for the district
        assert response["Location"].startswith("https://checkout.stripe.com/c/pay/")
        batch = SeatBatch.objects.get()
        assert (batch.buyer_organization, batch.created_by, batch.payment, batch.size) == (
            district,
            user,
            SeatBatch.Payment.UNPAID,
            10,
        )
        params = fake_stripe.last("/v1/checkout/sessions")["params"]
        assert (params["line_items[0][quantity]"], params["customer_email"]) == ("10", user.email)
        assert params["line_items[0][price_data][unit_amount]"] == "4900"
        mine = f"/o/{org.slug}/seats/{batch.public_id}/"
        assert params["success_url"].endswith(mine + "?payment=returned")
        # coming back shows no codes yet, and a way to pay
        back = client.get(mine + "?payment=returned").content.decode()
        assert "the codes work as soon as Stripe confirms" in back
        assert batch.codes.first().display not in back
        # when Stripe confirms, the page lists the codes and the CSV downloads them
        post_event(client, org.slug, session_event(COMPLETED, batch, intent="pi_district"))
        shown = client.get(mine).content.decode()
        assert all(code.display in shown for code in batch.codes.all())
        rows = list(csv.reader(io.StringIO(client.get(mine + "codes.csv").content.decode())))
        assert len(rows) == 11 and rows[1][6] == "yes"

    def test_the_codes_page_costs_the_same_queries_for_1_or_20_codes(
        self,
        client: Client,
        org: Organization,
        district_admin: tuple[User, Organization],
        count_queries: Callable[[Callable[[], Any]], Any],
    ) -> None:
        from tests.conftest import assert_same_query_count

        user, district = district_admin
        client.get("/")  # the visitor's header facts cached (decision 0024)
        pages = []
        for size in (1, 20):
            batch = seats.seat_batch_create(
                organization=org,
                size=size,
                expires_at=timezone.now() + dt.timedelta(days=5),
                credential=None,
                actor=user,
                buyer_organization=district,
            )
            SeatCode.objects.filter(batch=batch).update(used_by=user, used_at=timezone.now())
            url = f"/o/{org.slug}/seats/{batch.public_id}/"
            pages.append(count_queries(lambda url=url: client.get(url)))
        assert_same_query_count(*pages)

    def test_no_one_else_sees_pays_or_exports_the_batch(
        self, client: Client, org: Organization, fake_stripe: FakeStripeHTTP
    ) -> None:
        stripe_on(org)
        credential = fee_credential(org)
        district = OrganizationFactory()
        buyer = StaffRoleFactory(organization=district, role=StaffRole.Role.OWNER).user
        batch = seats.seat_batch_buy(
            organization=org,
            credential=credential,
            size=2,
            buyer_organization=district,
            actor=buyer,
        )
        other = OrganizationFactory()
        stripe_on(other)
        mine = f"/o/{org.slug}/seats/{batch.public_id}/"
        # another district's admin, an educator, and the same address under another organization
        client.force_login(
            StaffRoleFactory(organization=OrganizationFactory(), role=StaffRole.Role.OWNER).user
        )
        for url in (mine, mine + "codes.csv"):
            assert client.get(url).status_code == 404
        assert client.post(mine + "pay/").status_code == 404
        client.force_login(UserFactory())
        assert client.get(mine).status_code == 404
        client.force_login(buyer)
        assert client.get(f"/o/{other.slug}/seats/{batch.public_id}/").status_code == 404
        assert client.post(f"/o/{other.slug}/seats/{batch.public_id}/pay/").status_code == 404
        assert fake_stripe.requests == []
        # and buying for an organization one does not administer is refused
        response = client.post(
            f"/o/{org.slug}/seats/buy/",
            {"credential": credential.pk, "size": "3", "buyer_organization": other.pk},
        )
        assert response.status_code == 400
        assert SeatBatch.objects.count() == 1

    def test_someone_who_administers_nothing_is_told_who_can_buy(
        self, client: Client, org: Organization
    ) -> None:
        stripe_on(org)
        client.force_login(UserFactory())
        page = client.get(f"/o/{org.slug}/seats/buy/").content.decode()
        assert "sold to the administrators of a district or school on Tessera" in page
        assert 'name="size"' not in page
