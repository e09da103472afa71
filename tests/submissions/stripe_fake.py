"""Stripe, as far as the tests may fake it: only the stripe library's HTTP client (no network
here), answering with objects shaped as Stripe documents them; and webhook events signed with
the endpoint secret exactly as Stripe signs them (``Stripe-Signature: t=…,v1=…``)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import stripe
from django.test import Client

from submissions.models import Application, PaymentSettings, SeatBatch

SECRET_KEY = "sk_test_tessera_fake_0000000000000000"
WEBHOOK_SECRET = "whsec_tessera_fake_secret_0000000000"
_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_test_{next(_ids):08d}{int(time.time() * 1000) % 100000:05d}"


class FakeStripeHTTP(stripe.HTTPClient):
    """Answers Stripe's API as Stripe would for Checkout Sessions and Refunds; remembers every
    request (method, path, form parameters, API key)."""

    name = "tessera-fake"

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[dict[str, Any]] = []
        self.fail_with: tuple[int, dict[str, Any]] | None = None

    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: Any = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        params = dict(parse_qsl(post_data or "", keep_blank_values=True))
        path = url.split("api.stripe.com", 1)[-1]
        self.requests.append(
            {
                "method": method,
                "path": path,
                "params": params,
                "api_key": (headers or {}).get("Authorization", "").removeprefix("Bearer "),
            }
        )
        if self.fail_with is not None:
            status, body = self.fail_with
            return json.dumps(body), status, {"request-id": "req_fake"}
        if path == "/v1/checkout/sessions":
            body = checkout_session_object(params)
        elif path == "/v1/refunds":
            body = {
                "id": new_id("re"),
                "object": "refund",
                "amount": int(params["amount"]),
                "charge": new_id("ch"),
                "created": int(time.time()),
                "currency": "usd",
                "metadata": {
                    k[len("metadata[") : -1]: v
                    for k, v in params.items()
                    if k.startswith("metadata[")
                },
                "payment_intent": params.get("payment_intent"),
                "reason": params.get("reason"),
                "status": "succeeded",
            }
        else:
            body = {"error": {"type": "invalid_request_error", "message": f"Unknown {path}"}}
            return json.dumps(body), 404, {}
        return json.dumps(body), 200, {"request-id": "req_fake"}

    def request_stream(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def last(self, path: str) -> dict[str, Any]:
        return [r for r in self.requests if r["path"] == path][-1]


def checkout_session_object(params: Mapping[str, str]) -> dict[str, Any]:
    """A Checkout Session as ``POST /v1/checkout/sessions`` returns it."""
    session_id = new_id("cs")
    quantity = int(params.get("line_items[0][quantity]", "1"))
    unit = int(params["line_items[0][price_data][unit_amount]"])
    return {
        "id": session_id,
        "object": "checkout.session",
        "amount_subtotal": unit * quantity,
        "amount_total": unit * quantity,
        "cancel_url": params.get("cancel_url"),
        "client_reference_id": params.get("client_reference_id"),
        "created": int(time.time()),
        "currency": params["line_items[0][price_data][currency]"],
        "customer_email": params.get("customer_email"),
        "livemode": False,
        "metadata": {
            k[len("metadata[") : -1]: v for k, v in params.items() if k.startswith("metadata[")
        },
        "mode": params.get("mode"),
        "payment_intent": None,
        "payment_status": "unpaid",
        "status": "open",
        "success_url": params.get("success_url"),
        "url": f"https://checkout.stripe.com/c/pay/{session_id}",
    }


def stripe_on(application_or_org: Any) -> PaymentSettings:
    """The organization takes fees with Stripe (the fake keys)."""
    organization_id = getattr(application_or_org, "organization_id", None) or application_or_org.pk
    found = PaymentSettings(
        organization_id=organization_id, provider=PaymentSettings.Provider.STRIPE
    )
    found.secret_key = SECRET_KEY
    found.webhook_secret = WEBHOOK_SECRET
    found.save()
    return found


# --- Events --------------------------------------------------------------------------------------


def event(kind: str, obj: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or new_id("evt"),
        "object": "event",
        "api_version": stripe.api_version,
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "type": kind,
    }


def completed(
    application: Application,
    *,
    intent: str | None = None,
    amount: Decimal | None = None,
    org_slug: str | None = None,
    public_id: str | None = None,
) -> dict[str, Any]:
    """``checkout.session.completed`` for the fee of ``application`` (paid)."""
    reference = public_id or str(application.public_id)
    minor = int((amount if amount is not None else application.fee_amount) * 100)
    return event(
        "checkout.session.completed",
        {
            "id": application.checkout_session_id or new_id("cs"),
            "object": "checkout.session",
            "amount_total": minor,
            "client_reference_id": reference,
            "currency": application.fee_currency.lower(),
            "metadata": {
                "application": reference,
                "organization": org_slug or application.organization.slug,
            },
            "mode": "payment",
            "payment_intent": intent or new_id("pi"),
            "payment_status": "paid",
            "status": "complete",
        },
    )


def _payable(target: Application | SeatBatch) -> tuple[dict[str, str], int, str, str]:
    """(metadata, amount in cents, currency, organization slug) of what a session pays for."""
    if isinstance(target, SeatBatch):
        reference = {"seat_batch": str(target.public_id)}
        amount, currency = target.amount, target.currency
    else:
        reference = {"application": str(target.public_id)}
        amount, currency = target.fee_amount, target.fee_currency
    slug = target.organization.slug
    return {**reference, "organization": slug}, int(amount * 100), currency.lower(), slug


def session_event(
    kind: str,
    target: Application | SeatBatch,
    *,
    session_id: str | None = None,
    intent: str | None = None,
) -> dict[str, Any]:
    """A Checkout Session event for ``target`` (an application's fee or a seat batch), the
    session shaped as Stripe documents it for each type: ``checkout.session.completed`` (paid),
    ``checkout.session.async_payment_succeeded`` (complete, paid),
    ``checkout.session.async_payment_failed`` (complete, unpaid), ``checkout.session.expired``
    (expired, unpaid, no PaymentIntent)."""
    metadata, amount, currency, _ = _payable(target)
    status, payment_status = {
        "checkout.session.completed": ("complete", "paid"),
        "checkout.session.async_payment_succeeded": ("complete", "paid"),
        "checkout.session.async_payment_failed": ("complete", "unpaid"),
        "checkout.session.expired": ("expired", "unpaid"),
    }[kind]
    return event(
        kind,
        {
            "id": session_id or new_id("cs"),
            "object": "checkout.session",
            "amount_subtotal": amount,
            "amount_total": amount,
            "client_reference_id": next(iter(metadata.values())),
            "currency": currency,
            "expires_at": int(time.time()) + (0 if status == "expired" else 86400),
            "metadata": metadata,
            "mode": "payment",
            "payment_intent": None if status == "expired" else intent or new_id("pi"),
            "payment_status": payment_status,
            "status": status,
        },
    )


def refunded(
    application: Application | SeatBatch, *, intent: str, refunds: list[tuple[str, Decimal]]
) -> dict[str, Any]:
    """``charge.refunded`` for the charge of ``intent``, listing its refunds (id, amount)."""
    total = int(sum(amount for _, amount in refunds) * 100)
    charge = "ch_" + intent.removeprefix("pi_")
    metadata, charged, currency, _ = _payable(application)
    return event(
        "charge.refunded",
        {
            "id": charge,
            "object": "charge",
            "amount": charged,
            "amount_refunded": total,
            "currency": currency,
            "metadata": metadata,
            "payment_intent": intent,
            "refunded": total >= charged,
            "refunds": {
                "object": "list",
                "data": [
                    {
                        "id": refund_id,
                        "object": "refund",
                        "amount": int(amount * 100),
                        "charge": charge,
                        "currency": currency,
                        "payment_intent": intent,
                        "status": "succeeded",
                    }
                    for refund_id, amount in refunds
                ],
                "has_more": False,
            },
        },
    )


def answer_checkout(page: Any) -> list[str]:
    """In a browser journey (a Playwright page): answer navigations to Stripe's hosted Checkout
    here with a stand-in page headed "Stripe" (no network); the URLs asked for, as they come."""
    asked: list[str] = []

    def at_stripe(route: Any) -> None:
        asked.append(route.request.url)
        route.fulfill(
            status=200,
            content_type="text/html",
            body="<!doctype html><html lang='en'><title>Checkout</title><h1>Stripe</h1></html>",
        )

    page.route("https://checkout.stripe.com/**", at_stripe)
    return asked


def signature(payload: bytes, *, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe sends: ``t=<unix time>,v1=<HMAC-SHA256 hex of
    "<t>.<payload>" keyed with the endpoint secret>``."""
    timestamp = int(time.time()) if at is None else at
    signed = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={signed.hexdigest()}"


def post_event(
    client: Client,
    org_slug: str,
    body: dict[str, Any],
    *,
    secret: str = WEBHOOK_SECRET,
    at: int | None = None,
) -> Any:
    payload = json.dumps(body).encode()
    return client.post(
        f"/o/{org_slug}/payments/stripe/webhook/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature(payload, secret=secret, at=at),
    )
