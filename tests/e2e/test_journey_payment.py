"""Journey: a non-member pays Riverside's fee online. Applying makes the application and leads
to Stripe Checkout (the navigation to checkout.stripe.com is intercepted: no network here, and
the session's parameters are read from the faked stripe HTTP layer); Stripe's signed
``checkout.session.completed`` arrives at Riverside's webhook, and the application shows the fee
paid, with a receipt."""

from __future__ import annotations

import json

from playwright.sync_api import Page, expect

from programs.models import Organization
from submissions.models import Application
from tests.e2e.conftest import Journey
from tests.submissions.stripe_fake import (
    FakeStripeHTTP,
    answer_checkout,
    completed,
    signature,
    stripe_on,
)

CREDENTIAL = "/o/riverside-usd/credentials/flipped-learning-level-1/"


def test_a_non_member_pays_the_fee_through_checkout(
    demo: None, fake_stripe: FakeStripeHTTP, journey: Journey, page: Page
) -> None:
    # given Riverside taking fees with Stripe, and GAEL's educator (not a Riverside member)
    stripe_on(Organization.objects.get(slug="riverside-usd"))
    journey.login(page, "educator@gael.demo")
    page.goto(CREDENTIAL)
    box = page.locator(".apply-box")
    expect(box).to_contain_text("Fee: 49.00 USD")
    expect(box).to_contain_text("Stripe's secure page")
    journey.step(page, "the fee before applying")

    # when they apply, they are sent to Stripe Checkout (intercepted here)
    checkout = answer_checkout(page)
    page.get_by_role("button", name="Apply for this micro-credential").click()
    expect(page.get_by_role("heading", name="Stripe")).to_be_visible()
    page.js_errors.clear()  # type: ignore[attr-defined]  # the request was answered here, not sent

    # then the application exists, owing the fee, and the session asked for exactly that fee
    application = Application.objects.get(
        educator__email="educator@gael.demo", credential__slug="flipped-learning-level-1"
    )
    assert application.fee_status == Application.FeeStatus.OWED
    assert checkout == [f"https://checkout.stripe.com/c/pay/{application.checkout_session_id}"]
    params = fake_stripe.last("/v1/checkout/sessions")["params"]
    assert params["mode"] == "payment"
    assert params["line_items[0][price_data][unit_amount]"] == "4900"
    assert params["line_items[0][price_data][currency]"] == "usd"
    assert params["client_reference_id"] == str(application.public_id)
    assert params["metadata[organization]"] == "riverside-usd"
    page_path = f"/o/riverside-usd/applications/{application.public_id}/"
    assert params["success_url"] == journey.url(page_path + "?payment=returned")

    # and coming back before Stripe's webhook, the fee is still owed, with "pay now"
    page.goto(page_path + "?payment=returned")
    expect(page.locator("#pay")).to_contain_text("Fee owed — pay now.")
    journey.step(page, "back from checkout, not yet confirmed")

    # when Stripe's signed checkout.session.completed reaches Riverside's webhook
    payload = json.dumps(completed(application, intent="pi_journey")).encode()
    response = page.request.post(
        journey.url("/o/riverside-usd/payments/stripe/webhook/"),
        data=payload,
        headers={"Content-Type": "application/json", "Stripe-Signature": signature(payload)},
    )
    assert response.status == 200

    # then the application shows the fee paid, and the receipt opens from it
    page.goto(page_path)
    expect(page.locator("#fee")).to_contain_text("Fee of 49.00 USD paid")
    expect(page.locator("#pay")).to_have_count(0)
    journey.step(page, "paid")
    page.get_by_role("link", name="Your receipt").click()
    expect(page.get_by_role("heading", name="Receipt")).to_be_visible()
    expect(page.locator(".receipt")).to_contain_text("49.00 USD")
    journey.step(page, "receipt")
