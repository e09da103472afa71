"""Paying a fee online: the "Pay now" button, the printable receipt, Stripe's webhook, and seat
codes bought by a district for its staff (issue 22; submissions.services.payments and .seats
hold the rules)."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from credentials_site.exceptions import ApplicationError
from credentials_site.tenancy import request_organization
from programs.sso import allow_form_action_origins

from . import selectors
from .models import PaymentEntry, SeatBatch
from .services import payments, seats
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
    return JsonResponse({"received": event.event_id, "outcome": event.outcome, "note": event.note})


# --- Seats bought by a district for its staff ----------------------------------------------------


class SeatBuyForm(forms.Form):
    credential = forms.TypedChoiceField(label=_("Micro-credential"), coerce=int)
    size = forms.IntegerField(
        label=_("Number of seats"),
        min_value=1,
        max_value=seats.MAX_BATCH,
        help_text=_("One single-use code for each educator."),
    )
    buyer_organization = forms.TypedChoiceField(label=_("For the staff of"), coerce=int)

    def __init__(self, *args: Any, credentials: list[Any], buyers: list[Any], **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["credential"].choices = [  # type: ignore[attr-defined]
            (
                c.pk,
                gettext("%(credential)s — %(price)s a seat")
                % {"credential": c, "price": f"{c.current_version.non_member_fee:.2f}"},
            )
            for c in credentials
        ]
        self.fields["buyer_organization"].choices = [  # type: ignore[attr-defined]
            (o.pk, o.name) for o in buyers
        ]


def _seat_batch_url(batch: SeatBatch, name: str = "seat_batch") -> str:
    return reverse(
        f"submissions:{name}",
        kwargs={"org_slug": batch.organization.slug, "public_id": batch.public_id},
    )


@login_required
@require_http_methods(["GET", "POST"])
def seats_buy(request: HttpRequest, org_slug: str) -> HttpResponse:
    """A district's administrator buys seat codes of this organization's credentials for their
    staff: one Checkout payment for the batch; the codes work once Stripe confirms it."""
    organization = request_organization(request)
    user = _user(request)
    buyers = selectors.organizations_buying_seats(user=user)
    credentials = selectors.credentials_with_seats_for_sale(organization=organization)
    form = SeatBuyForm(request.POST or None, credentials=credentials, buyers=buyers)
    error = ""
    if not buyers or not payments.uses_stripe(organization_id=organization.pk):
        sold = (
            gettext(
                "Seats of %(org)s are sold to the administrators of a district or school on Tessera"
            )
            if buyers
            else gettext(
                "Seats of %(org)s are sold to the administrators of a district or school on "
                "Tessera, which you are not"
            )
        )
        error = (
            sold % {"org": organization.name}
            + (
                ""
                if payments.uses_stripe(organization_id=organization.pk)
                else "; "
                + gettext("%(org)s takes no card payments: contact the program")
                % {"org": organization.name}
            )
            + "."
        )
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        by_pk = {c.pk: c for c in credentials}
        try:
            batch = seats.seat_batch_buy(
                organization=organization,
                credential=by_pk[data["credential"]],
                size=data["size"],
                buyer_organization=next(o for o in buyers if o.pk == data["buyer_organization"]),
                actor=user,
            )
        except ApplicationError as refused:
            error = refused.message
        else:  # the batch is kept unpaid if Stripe cannot be reached: pay it from its page
            return seat_batch_pay(request, org_slug, batch.public_id)
    allow_form_action_origins(request, [payments.CHECKOUT_ORIGIN])
    return render(
        request,
        "submissions/seats_buy.html",
        {"organization": organization, "form": form, "error": error, "buyers": buyers},
        status=400 if (request.method == "POST" and (error or form.errors)) else 200,
    )


@login_required
@require_safe
def seat_batch_page(request: HttpRequest, org_slug: str, public_id: UUID) -> HttpResponse:
    """The buyer's batch: paid or not, its codes and who used each (the buyer's only)."""
    batch = selectors.access_seat_batch_by_public_id(
        actor=_user(request), organization=request_organization(request), public_id=str(public_id)
    )
    if batch.payment == SeatBatch.Payment.UNPAID:
        allow_form_action_origins(request, [payments.CHECKOUT_ORIGIN])
    paid, refunded = payments.seat_batch_totals(batch)
    return render(
        request,
        "submissions/seat_batch.html",
        {
            "organization": batch.organization,
            "batch": batch,
            "codes": list(batch.codes.select_related("used_by").order_by("pk"))
            if batch.usable
            else [],
            "paid": paid,
            "refunded": refunded,
            "returned": request.GET.get("payment") == "returned",
        },
    )


@login_required
@require_POST
def seat_batch_pay(request: HttpRequest, org_slug: str, public_id: UUID) -> HttpResponse:
    user = _user(request)
    batch = selectors.access_seat_batch_by_public_id(
        actor=user, organization=request_organization(request), public_id=str(public_id)
    )
    try:
        return redirect(
            seats.seat_batch_checkout_start(
                batch=batch, actor=user, return_url=_seat_batch_url(batch)
            )
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(_seat_batch_url(batch))


@login_required
@require_safe
def seat_batch_csv(request: HttpRequest, org_slug: str, public_id: UUID) -> HttpResponse:
    batch = selectors.access_seat_batch_by_public_id(
        actor=_user(request), organization=request_organization(request), public_id=str(public_id)
    )
    response = HttpResponse(seats.seat_batch_csv(batch), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="seat-codes-{batch.public_id}.csv"'
    return response
