"""Journey: an organization's administrator buys seat codes of Riverside's Flipped Learning
Level 1 for their staff. The purchase leads to Stripe Checkout (intercepted: no network here; the
session's parameters are read from the faked stripe HTTP layer); the batch's page shows no codes
until Stripe's signed ``checkout.session.completed`` reaches Riverside's webhook, then lists
them with the CSV; a teacher applies with one and owes nothing."""

from __future__ import annotations

import json

from playwright.sync_api import Page, expect

from programs.models import Organization
from submissions.models import Application, SeatBatch
from tests.e2e.conftest import Journey
from tests.submissions.stripe_fake import (
    FakeStripeHTTP,
    answer_checkout,
    session_event,
    signature,
    stripe_on,
)

CREDENTIAL = "/o/riverside-usd/credentials/flipped-learning-level-1/"


def test_an_administrator_buys_seats_for_their_staff(
    demo: None, fake_stripe: FakeStripeHTTP, journey: Journey, page: Page
) -> None:
    # given Riverside selling its credential's seats by card, and GAEL's administrator
    stripe_on(Organization.objects.get(slug="riverside-usd"))
    journey.login(page, "admin@gael.demo")
    page.goto(CREDENTIAL)
    page.get_by_role("link", name="Buying seats for your school's or district's staff?").click()
    expect(page.get_by_role("heading", name="Buy seats for your staff")).to_be_visible()
    page.get_by_label("Number of seats").fill("5")
    journey.step(page, "the seats to buy")

    # when they continue to payment, they are sent to Stripe Checkout (intercepted here)
    answer_checkout(page)
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.get_by_role("heading", name="Stripe")).to_be_visible()
    page.js_errors.clear()  # type: ignore[attr-defined]  # the request was answered here, not sent

    # then one session for 5 seats at the non-member fee, and an unpaid batch
    batch = SeatBatch.objects.get(created_by__email="admin@gael.demo")
    params = fake_stripe.last("/v1/checkout/sessions")["params"]
    assert (params["line_items[0][quantity]"], params["metadata[seat_batch]"]) == (
        "5",
        str(batch.public_id),
    )
    assert batch.payment == SeatBatch.Payment.UNPAID
    mine = f"/o/riverside-usd/seats/{batch.public_id}/"
    assert params["success_url"] == journey.url(mine + "?payment=returned")

    # coming back before Stripe confirms: no codes, a way to pay again
    page.goto(mine + "?payment=returned")
    expect(page.locator("#batch-payment")).to_contain_text("Not paid yet")
    expect(page.get_by_role("button", name="Pay 245.00 USD by card")).to_be_visible()
    journey.step(page, "back from checkout, not yet confirmed")

    # when Stripe's signed completion reaches Riverside's webhook
    body = session_event(
        "checkout.session.completed",
        batch,
        session_id=batch.checkout_session_id or None,
        intent="pi_seats",
    )
    payload = json.dumps(body).encode()
    response = page.request.post(
        journey.url("/o/riverside-usd/payments/stripe/webhook/"),
        data=payload,
        headers={"Content-Type": "application/json", "Stripe-Signature": signature(payload)},
    )
    assert response.status == 200

    # then the page lists the five codes and offers the CSV
    page.goto(mine)
    expect(page.locator("#batch-payment")).to_contain_text("Paid")
    code = batch.codes.first()
    expect(page.get_by_text(code.display)).to_be_visible()
    expect(page.get_by_role("link", name="Download the codes (CSV)")).to_be_visible()
    journey.step(page, "paid: the codes")

    # and a teacher applies with one, owing nothing
    teacher = journey.new_page()
    journey.login(teacher, "educator@gael.demo")
    teacher.goto(CREDENTIAL)
    teacher.get_by_label("Seat code").fill(code.display.lower())
    teacher.get_by_role("button", name="Apply for this micro-credential").click()
    expect(
        teacher.get_by_role("heading", name="Flipped Learning", exact=False).first
    ).to_be_visible()
    application = Application.objects.get(
        educator__email="educator@gael.demo", credential__slug="flipped-learning-level-1"
    )
    assert application.fee_status == Application.FeeStatus.NONE
    expect(teacher).to_have_url(
        journey.url(f"/o/riverside-usd/applications/{application.public_id}/")
    )
