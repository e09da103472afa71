"""Paying a fee online: the "Pay now" button, the printable receipt, and Stripe's webhook
(issue 22; submissions.services.payments holds the rules)."""

from __future__ import annotations

import logging
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from credentials_site.exceptions import ApplicationError
from credentials_site.tenancy import request_organization

from .models import PaymentEntry
from .services import payments
from .views import _application, _page_url, _user

logger = logging.getLogger(__name__)


@login_required
@require_POST
def pay(request: HttpRequest, org_slug: str, public_id: UUID) -> HttpResponse:
    application = _application(request, public_id)
    try:
        return redirect(payments.checkout_start(application=application, actor=_user(request)))
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(_page_url(application, "fee"))


@login_required
@require_safe
def receipt(request: HttpRequest, org_slug: str, public_id: UUID) -> HttpResponse:
    """The educator's own receipt (another's application answers 404)."""
    application = _application(request, public_id)
    entries = list(PaymentEntry.objects.filter(application=application).order_by("created_at"))
    paid, refunded = payments.ledger_totals(application)
    return render(
        request,
        "submissions/receipt.html",
        {
            "application": application,
            "organization": application.organization,
            "settings": payments.payment_settings_for(organization_id=application.organization_id),
            "entries": entries,
            "paid": paid,
            "refunded": refunded,
            "recorded_by_hand": not entries,
        },
    )


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest, org_slug: str) -> HttpResponse:
    """Stripe's events for this organization: 400 unless signed with its endpoint secret and
    fresh; 200 for any genuine event, applied once (see ``payments.webhook_receive``)."""
    organization = request_organization(request)
    try:
        event = payments.webhook_receive(
            organization=organization,
            payload=request.body,
            signature=request.headers.get("Stripe-Signature", ""),
        )
    except payments.WebhookRefused as error:
        logger.warning("Stripe webhook for %s refused: %s", organization.slug, error)
        return HttpResponseBadRequest(str(error), content_type="text/plain")
    return JsonResponse({"received": event.event_id, "outcome": event.outcome})
