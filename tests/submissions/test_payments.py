"""Fees paid online (issue 22): Checkout at apply time, Stripe's signed webhooks, the ledger,
refunds and waivers, receipts. Stripe's HTTP API is faked at the stripe library's HTTP client
only (tests/submissions/stripe_fake.py); webhooks are signed as Stripe signs them and posted."""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from programs.models import Organization, StaffRole, User
from submissions.models import (
    Application,
    PaymentEntry,
    PaymentSettings,
    SeatBatch,
    WebhookEvent,
)
from submissions.services import payments, seats
from tests.factories import OrganizationFactory, StaffRoleFactory, UserFactory

from . import stripe_fake
from .stripe_fake import (
    FakeStripeHTTP,
    completed,
    new_id,
    post_event,
    refunded,
    session_event,
    stripe_on,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def owed(make_application: Callable[..., Application]) -> Application:
    """A non-member's application owing 49.00 USD to an organization that uses Stripe."""
    application = make_application(member=False, non_member_fee=Decimal("49.00"))
    stripe_on(application)
    assert application.fee_status == Application.FeeStatus.OWED
    return application


@pytest.fixture
def theirs(make_application: Callable[..., Application]) -> Application:
    """Another organization on Stripe, with its own application owing a fee."""
    application = make_application(
        organization=OrganizationFactory(),
        user=UserFactory(email="b@other.example"),
        member=False,
        non_member_fee=Decimal("30.00"),
    )
    stripe_on(application)
    return application


def ledger(application: Application) -> list[tuple[str, Decimal]]:
    return list(
        PaymentEntry.objects.filter(application=application)
        .order_by("kind", "provider_id")
        .values_list("kind", "amount")
    )


def status_of(application: Application) -> str:
    application.refresh_from_db()
    return application.fee_status


# --- Pay at apply time ---------------------------------------------------------------------------


class TestCheckout:
    def test_applying_makes_the_application_and_goes_to_checkout(
        self,
        client: Client,
        org: Organization,
        educator: User,
        fake_stripe: FakeStripeHTTP,
        make_application: Callable[..., Application],
    ) -> None:
        # given an organization on Stripe and a credential with a 49.00 fee for non-members
        stripe_on(org)
        first = make_application(member=False, non_member_fee=Decimal("49.00"))
        Application.objects.filter(pk=first.pk).update(status=Application.Status.WITHDRAWN)
        client.force_login(educator)
        # when the non-member applies
        response = client.post(
            f"/o/{org.slug}/credentials/{first.credential.slug}/apply/", follow=False
        )
        # then the application exists at once, fee owed, and they are sent to Stripe Checkout
        application = Application.objects.exclude(pk=first.pk).get(educator=educator)
        assert application.fee_status == Application.FeeStatus.OWED
        assert response.status_code == 302
        assert response["Location"].startswith("https://checkout.stripe.com/c/pay/cs_test_")
        # with the amount and currency decided at apply time, and the application's opaque id
        sent = fake_stripe.last("/v1/checkout/sessions")
        params = sent["params"]
        assert sent["api_key"] == stripe_fake.SECRET_KEY
        assert params["mode"] == "payment"
        assert params["line_items[0][price_data][unit_amount]"] == "4900"
        assert params["line_items[0][price_data][currency]"] == "usd"
        assert params["client_reference_id"] == str(application.public_id)
        assert params["metadata[application]"] == str(application.public_id)
        assert params["metadata[organization]"] == org.slug
        assert params["payment_intent_data[metadata][application]"] == str(application.public_id)
        page = f"/o/{org.slug}/applications/{application.public_id}/"
        assert params["success_url"].endswith(page + "?payment=returned")
        assert params["cancel_url"].endswith(page + "?payment=cancelled")
        assert application.checkout_session_id == response["Location"].rsplit("/", 1)[1]
        # and coming back from Checkout marks nothing paid: the page still asks to pay
        back = client.get(page + "?payment=returned").content.decode()
        assert "Fee owed — pay now." in back
        assert "we mark the fee paid as soon as Stripe confirms" in back
        assert status_of(application) == Application.FeeStatus.OWED
        assert "Fee owed — pay now" in client.get("/me/").content.decode()

    def test_stripe_refusing_still_leaves_the_application_to_pay_later(
        self,
        client: Client,
        owed: Application,
        fake_stripe: FakeStripeHTTP,
    ) -> None:
        # given Stripe answering with an error
        fake_stripe.fail_with = (
            400,
            {"error": {"type": "invalid_request_error", "message": "No such account"}},
        )
        client.force_login(owed.educator)
        # when the educator presses "Pay now"
        response = client.post(
            f"/o/{owed.organization.slug}/applications/{owed.public_id}/pay/", follow=True
        )
        # then they are back on their application, told to try again, the fee still owed
        assert "We could not reach the payment provider" in response.content.decode()
        assert status_of(owed) == Application.FeeStatus.OWED

    def test_another_educator_cannot_pay_or_read_the_receipt(
        self, client: Client, owed: Application, fake_stripe: FakeStripeHTTP
    ) -> None:
        client.force_login(UserFactory(email="someone@else.example"))
        base = f"/o/{owed.organization.slug}/applications/{owed.public_id}/"
        assert client.post(base + "pay/").status_code == 404
        assert client.get(base + "receipt/").status_code == 404
        assert fake_stripe.requests == []


# --- Webhooks ------------------------------------------------------------------------------------


class TestWebhook:
    def test_a_completed_checkout_pays_the_fee_once(
        self, client: Client, owed: Application, django_capture_on_commit_callbacks: Any
    ) -> None:
        # given Stripe's signed checkout.session.completed for the application
        body = completed(owed, intent="pi_test_paid")
        slug = owed.organization.slug
        # when it is posted, then replayed
        with django_capture_on_commit_callbacks(execute=True):
            first = post_event(client, slug, body)
            again = post_event(client, slug, body)
        # then the fee is paid, one ledger row, one receipt e-mail, the event recorded once
        assert (first.status_code, again.status_code) == (200, 200)
        assert first.json()["outcome"] == "applied"
        assert status_of(owed) == Application.FeeStatus.PAID
        assert ledger(owed) == [("payment", Decimal("49.00"))]
        entry = PaymentEntry.objects.get(application=owed)
        assert (entry.provider_id, entry.event_id, entry.payer) == (
            "pi_test_paid",
            body["id"],
            owed.educator,
        )
        assert WebhookEvent.objects.filter(event_id=body["id"]).count() == 1
        receipts = [m for m in mail.outbox if "receipt" in m.subject.lower()]
        assert len(receipts) == 1
        assert entry.reference in receipts[0].body and "49.00 USD" in receipts[0].body

    @pytest.mark.parametrize(
        "problem",
        ["wrong secret", "stale timestamp", "no signature", "tampered body", "not json"],
    )
    def test_anything_not_signed_now_by_stripe_is_refused(
        self, client: Client, owed: Application, problem: str
    ) -> None:
        body = completed(owed)
        url = f"/o/{owed.organization.slug}/payments/stripe/webhook/"
        if problem == "wrong secret":
            response = post_event(
                client, owed.organization.slug, body, secret="whsec_someone_elses"
            )
        elif problem == "stale timestamp":
            response = post_event(client, owed.organization.slug, body, at=int(time.time()) - 600)
        else:
            payload = json.dumps(body).encode()
            header = stripe_fake.signature(payload)
            if problem == "tampered body":
                payload = payload.replace(b'"paid"', b'"PAID"', 1)
            elif problem == "not json":
                payload = b"not json"
                header = stripe_fake.signature(payload)
            elif problem == "no signature":
                header = ""
            response = client.post(
                url, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
            )
        # then 400, and nothing changed or was recorded
        assert response.status_code == 400
        assert status_of(owed) == Application.FeeStatus.OWED
        assert (PaymentEntry.objects.count(), WebhookEvent.objects.count()) == (0, 0)

    def test_a_session_completed_but_not_yet_paid_changes_nothing(
        self, client: Client, owed: Application
    ) -> None:
        # given a completion whose payment is still processing (a delayed payment method)
        body = completed(owed)
        body["data"]["object"]["payment_status"] = "unpaid"
        response = post_event(client, owed.organization.slug, body)
        # then it is recorded and ignored: the fee stays owed, the ledger empty
        assert (response.status_code, response.json()["outcome"]) == (200, "ignored")
        assert status_of(owed) == Application.FeeStatus.OWED
        assert ledger(owed) == []

    def test_only_post(self, client: Client, owed: Application) -> None:
        url = f"/o/{owed.organization.slug}/payments/stripe/webhook/"
        assert client.get(url).status_code == 405

    def test_an_unknown_event_type_is_recorded_and_ignored(
        self, client: Client, owed: Application
    ) -> None:
        body = stripe_fake.event("customer.created", {"id": "cus_1", "object": "customer"})
        response = post_event(client, owed.organization.slug, body)
        assert (response.status_code, response.json()["outcome"]) == (200, "ignored")
        assert "not an event type Tessera acts on" in response.json()["note"]
        assert WebhookEvent.objects.get(event_id=body["id"]).type == "customer.created"
        assert status_of(owed) == Application.FeeStatus.OWED

    def test_another_organizations_application_or_an_unknown_one_changes_nothing(
        self,
        client: Client,
        owed: Application,
        theirs: Application,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        # given a second organization on Stripe, with its own application owing a fee
        other = theirs.organization
        # when A's endpoint receives a (validly signed) completion naming B's application
        response = post_event(
            client, owed.organization.slug, completed(theirs, org_slug=owed.organization.slug)
        )
        # or one naming no application that exists
        unknown = post_event(
            client, owed.organization.slug, completed(owed, public_id=str(new_id("x")))
        )
        # then both are answered (Stripe must not retry) but nothing is paid, and it is logged
        assert response.json()["outcome"] == unknown.json()["outcome"] == "unmatched"
        assert status_of(theirs) == status_of(owed) == Application.FeeStatus.OWED
        assert PaymentEntry.objects.count() == 0
        assert "matched nothing" in caplog.text
        # and an event signed with A's secret posted to B's endpoint is refused
        PaymentSettings.objects.filter(organization=other).update(webhook_secret_encrypted="")
        found = PaymentSettings.objects.get(organization=other)
        found.webhook_secret = "whsec_b_only"
        found.save()
        assert post_event(client, other.slug, completed(theirs)).status_code == 400

    def test_a_refund_before_its_payment_is_held_then_applied(
        self, client: Client, owed: Application
    ) -> None:
        slug = owed.organization.slug
        # when the refund arrives before the completion (Stripe does not promise an order)
        early = post_event(
            client, slug, refunded(owed, intent="pi_x", refunds=[("re_1", Decimal("49.00"))])
        )
        # then it is kept, and the fee is still owed (no payment seen yet)
        assert early.json()["outcome"] == "held"
        assert status_of(owed) == Application.FeeStatus.OWED
        # and once the completion arrives, the application is refunded, as the ledger says
        post_event(client, slug, completed(owed, intent="pi_x"))
        assert status_of(owed) == Application.FeeStatus.REFUNDED
        assert ledger(owed) == [("payment", Decimal("49.00")), ("refund", Decimal("49.00"))]


def expected_status(entries: list[tuple[str, Decimal]], fee: Decimal) -> str:
    paid = sum((a for k, a in entries if k == "payment"), Decimal(0))
    back = sum((a for k, a in entries if k == "refund"), Decimal(0))
    if paid == 0:
        return Application.FeeStatus.OWED
    return Application.FeeStatus.REFUNDED if back >= paid else Application.FeeStatus.PAID


def random_events(
    rng: random.Random, target: Application | SeatBatch, *, intent: str, price: Decimal
) -> tuple[list[dict[str, Any]], list[tuple[str, Decimal]]]:
    """Every event Stripe may send about one paid target, in a random order with replays: the
    completion (paid at once, or "unpaid" then ``async_payment_succeeded``), the same event
    again, a second delivery under a new event id, an earlier session that expired unpaid and
    one whose delayed payment failed, partial and full refunds. And the refunds made."""
    session = new_id("cs")
    if rng.random() < 0.5:
        pay = session_event("checkout.session.completed", target, session_id=session, intent=intent)
        paid_events = [pay]
    else:  # a delayed method: completed unpaid, then the delayed payment succeeds
        pending = session_event(
            "checkout.session.completed", target, session_id=session, intent=intent
        )
        pending["data"]["object"]["payment_status"] = "unpaid"
        pay = session_event(
            "checkout.session.async_payment_succeeded", target, session_id=session, intent=intent
        )
        paid_events = [pending, pay]
    redelivered = {**pay, "id": new_id("evt")}
    refunds: list[tuple[str, Decimal]] = []
    if rng.random() < 0.7:
        refunds.append((new_id("re"), price * Decimal(rng.choice(["0.2", "1", "0.4"]))))
    if refunds and refunds[0][1] < price and rng.random() < 0.5:
        refunds.append((new_id("re"), price - refunds[0][1]))
    events = [*paid_events, pay, redelivered]
    events.append(session_event("checkout.session.expired", target))  # an abandoned try
    events.append(
        session_event("checkout.session.async_payment_failed", target, intent=new_id("pi"))
    )
    if rng.random() < 0.3:  # the paid session "expiring" afterwards, out of order
        events.append(session_event("checkout.session.expired", target, session_id=session))
    # each charge.refunded lists the refunds so far, as Stripe's charge does
    events += [
        refunded(target, intent=intent, refunds=refunds[: n + 1]) for n in range(len(refunds))
    ]
    events += [rng.choice(events) for _ in range(rng.randint(0, 3))]  # more replays
    rng.shuffle(events)
    return events, refunds


def test_ledger_and_application_agree_after_any_order_of_events(
    client: Client, org: Organization, make_application: Callable[..., Application]
) -> None:
    """Property-style: over many random orders of every Checkout Session event (completed,
    async succeeded / failed, expired), replays and second deliveries, partial and full
    refunds, the ledger holds each payment and refund once and the application's fee status is
    what the ledger says."""
    base = make_application(member=False, non_member_fee=Decimal("49.00"))
    stripe_on(base)
    credential = base.credential
    orders = 0
    for seed in range(40):
        rng = random.Random(seed)
        educator = UserFactory(email=f"p{seed}@prop.example")
        application = payments_apply(credential, educator)
        events, refunds = random_events(
            rng, application, intent=f"pi_prop_{seed}", price=Decimal("49.00")
        )
        for body in events:
            assert post_event(client, org.slug, body).status_code == 200
        rows = ledger(application)
        assert sorted(k for k, _ in rows) == sorted(["payment"] + ["refund"] * len(refunds)), seed
        assert status_of(application) == expected_status(rows, application.fee_amount), seed
        assert status_of(application) == expected_status(
            [("payment", Decimal("49.00")), *(("refund", a) for _, a in refunds)],
            application.fee_amount,
        ), seed
        orders += 1
    assert orders == 40


def test_a_seat_batchs_ledger_and_usability_agree_after_any_order_of_events(
    client: Client, org: Organization
) -> None:
    """The same property for seat batches bought by card: paid once on the ledger whatever the
    order; usable exactly when paid and not refunded in full."""
    stripe_on(org)
    for seed in range(15):
        rng = random.Random(1000 + seed)
        batch = seats.seat_batch_create(
            organization=org,
            size=rng.randint(1, 4),
            expires_at=timezone.now() + dt.timedelta(days=30),
            credential=None,
            actor=None,
            price_each=Decimal("12.50"),
        )
        events, refunds = random_events(rng, batch, intent=f"pi_batch_{seed}", price=batch.amount)
        for body in events:
            assert post_event(client, org.slug, body).status_code == 200
        rows = sorted(PaymentEntry.objects.filter(seat_batch=batch).values_list("kind", "amount"))
        assert [k for k, _ in rows] == ["payment"] + ["refund"] * len(refunds), seed
        back = sum((a for _, a in refunds), Decimal(0))
        batch.refresh_from_db()
        expected = SeatBatch.Payment.REFUNDED if back >= batch.amount else SeatBatch.Payment.PAID
        assert batch.payment == expected, seed
        assert batch.usable == (expected == SeatBatch.Payment.PAID), seed


def payments_apply(credential: Any, educator: User) -> Application:
    from submissions import services

    return services.application_apply(credential=credential, educator=educator)


# --- Refunds and waivers ------------------------------------------------------------------------


@pytest.fixture
def admin_client(client: Client, org: Organization) -> Client:
    client.force_login(StaffRoleFactory(organization=org, role=StaffRole.Role.PROGRAM_ADMIN).user)
    return client


def paid(client: Client, application: Application, intent: str = "pi_test_refund") -> None:
    post_event(client, application.organization.slug, completed(application, intent=intent))
    assert status_of(application) == Application.FeeStatus.PAID


class TestRefundAndWaive:
    def test_a_refund_goes_through_stripe_and_the_webhook_settles_it(
        self,
        admin_client: Client,
        owed: Application,
        fake_stripe: FakeStripeHTTP,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        paid(admin_client, owed)
        url = f"/admin/submissions/application/{owed.pk}/fee/"
        # when the admin refunds 20.00 with a reason
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                url, {"action": "refund", "amount": "20.00", "reason": "Cohort cancelled"}
            )
        assert response.status_code == 302
        # then Stripe is asked for it, for the payment's intent, and the educator is told why
        sent = fake_stripe.last("/v1/refunds")["params"]
        assert (sent["payment_intent"], sent["amount"]) == ("pi_test_refund", "2000")
        assert "Cohort cancelled" in mail.outbox[-1].body
        # but the ledger waits for Stripe's webhook
        assert ledger(owed) == [("payment", Decimal("49.00"))]
        post_event(
            admin_client,
            owed.organization.slug,
            refunded(owed, intent="pi_test_refund", refunds=[("re_20", Decimal("20.00"))]),
        )
        assert ledger(owed) == [("payment", Decimal("49.00")), ("refund", Decimal("20.00"))]
        assert status_of(owed) == Application.FeeStatus.PAID  # partly refunded
        # and a refund of more than is left is refused, saying how much can be, asking nothing
        before = len(fake_stripe.requests)
        refused = admin_client.post(
            url, {"action": "refund", "amount": "30.00", "reason": "Again"}
        ).content.decode()
        assert "You can refund at most 29.00 USD: 49.00 was paid and 20.00 already refunded." in (
            refused
        )
        assert len(fake_stripe.requests) == before

    def test_waiving_needs_a_reason_and_tells_the_educator(
        self, admin_client: Client, owed: Application, django_capture_on_commit_callbacks: Any
    ) -> None:
        url = f"/admin/submissions/application/{owed.pk}/fee/"
        blank = admin_client.post(url, {"action": "waive", "reason": ""})
        assert blank.status_code == 400 and "This field is required" in blank.content.decode()
        assert status_of(owed) == Application.FeeStatus.OWED
        with django_capture_on_commit_callbacks(execute=True):
            admin_client.post(url, {"action": "waive", "reason": "District scholarship"})
        assert status_of(owed) == Application.FeeStatus.WAIVED
        assert "District scholarship" in mail.outbox[-1].body

    def test_refunding_what_was_never_paid_online_is_refused(
        self, admin_client: Client, owed: Application, fake_stripe: FakeStripeHTTP
    ) -> None:
        response = admin_client.post(
            f"/admin/submissions/application/{owed.pk}/fee/",
            {"action": "refund", "reason": "Why not"},
        )
        assert "No online payment of this fee is on the ledger." in response.content.decode()
        assert fake_stripe.requests == []

    def test_an_admin_of_a_cannot_see_or_refund_bs_payments(
        self,
        client: Client,
        admin_client: Client,
        owed: Application,
        theirs: Application,
        fake_stripe: FakeStripeHTTP,
    ) -> None:
        other = theirs.organization
        paid(client, theirs, intent="pi_theirs")
        paid(client, owed, intent="pi_mine")
        entry = PaymentEntry.objects.get(application=theirs)
        assert (
            admin_client.get(f"/admin/submissions/application/{theirs.pk}/fee/").status_code == 404
        )
        refund = admin_client.post(
            f"/admin/submissions/application/{theirs.pk}/fee/",
            {"action": "refund", "reason": "Sneaky"},
        )
        assert refund.status_code == 404
        assert (
            admin_client.get(f"/admin/submissions/paymententry/{entry.pk}/change/").status_code
            == 404
        )
        listing = admin_client.get("/admin/submissions/paymententry/").content.decode()
        assert "pi_mine" in listing and "pi_theirs" not in listing
        settings_list = admin_client.get("/admin/submissions/paymentsettings/").content.decode()
        assert (
            f"/admin/submissions/paymentsettings/{PaymentSettings.objects.get(organization=other).pk}/"
            not in settings_list
        )
        assert fake_stripe.requests == []
        assert status_of(theirs) == Application.FeeStatus.PAID


# --- Settings and receipts -----------------------------------------------------------------------


class TestSettings:
    def test_the_owner_connects_stripe_keys_stored_encrypted(
        self, client: Client, org: Organization
    ) -> None:
        owner = StaffRoleFactory(organization=org, role=StaffRole.Role.OWNER).user
        client.force_login(owner)
        form = {
            "provider": "stripe",
            "secret_key": "sk_test_owner_key",
            "webhook_secret": "whsec_owner_secret",
            "publishable_key": "pk_test_x",
            "receipt_address": "1 Main St",
            "tax_id": "EIN 12-3456789",
        }
        bad = client.post("/admin/submissions/paymentsettings/add/", {**form, "secret_key": "pk_x"})
        assert "A Stripe secret key starts with sk_" in bad.content.decode()
        assert not PaymentSettings.objects.exists()
        client.post("/admin/submissions/paymentsettings/add/", form)
        found = PaymentSettings.objects.get(organization=org)
        assert "sk_test_owner_key" not in found.secret_key_encrypted
        assert (found.secret_key, found.webhook_secret) == (
            "sk_test_owner_key",
            "whsec_owner_secret",
        )
        page = client.get(f"/admin/submissions/paymentsettings/{found.pk}/change/").content.decode()
        assert "sk_test_owner_key" not in page and "whsec_owner_secret" not in page
        assert f"/o/{org.slug}/payments/stripe/webhook/" in page

    def test_a_program_admin_cannot_change_them(
        self, admin_client: Client, org: Organization
    ) -> None:
        found = stripe_on(org)
        response = admin_client.post(
            f"/admin/submissions/paymentsettings/{found.pk}/change/",
            {"provider": "manual", "secret_key": "sk_test_mine"},
        )
        assert response.status_code in (200, 403)
        found.refresh_from_db()
        assert (found.provider, found.secret_key) == ("stripe", stripe_fake.SECRET_KEY)
        assert admin_client.get("/admin/submissions/paymentsettings/add/").status_code == 403


def test_the_receipt_page_shows_the_payment(client: Client, owed: Application) -> None:
    PaymentSettings.objects.filter(organization_id=owed.organization_id).update(
        receipt_address="12 School Road, Riverside", tax_id="EIN 98-7654321"
    )
    paid(client, owed)
    client.force_login(owed.educator)
    assert "Receipt for the fee" in client.get("/me/").content.decode()
    page = client.get(
        f"/o/{owed.organization.slug}/applications/{owed.public_id}/receipt/"
    ).content.decode()
    entry = PaymentEntry.objects.get(application=owed)
    for shown in (
        owed.organization.name,
        "12 School Road",
        "EIN 98-7654321",
        "49.00 USD",
        entry.reference,
    ):
        assert shown in page


def test_service_refuses_a_refund_without_reason(owed: Application, client: Client) -> None:
    paid(client, owed)
    with pytest.raises(payments.PaymentError, match="Give a reason"):
        payments.payment_refund(application=owed, amount=None, reason=" ", actor=owed.educator)
