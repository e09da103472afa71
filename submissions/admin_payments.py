"""Payments in the admin (issue 22): the organization's payment settings (owners edit them; the
Stripe keys are write-only, stored encrypted), the payment ledger and the webhook events (read
only), and "Refund or waive the fee" on an application (through the services)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from credentials_site.exceptions import ApplicationError
from programs import selectors as program_selectors
from programs.admin import TenantAdmin
from programs.admin.base import (
    ReadOnlyInline,
    RecordAdmin,
    TenantFormMixin,
    safe_field_classes,
    single_org_id,
)
from programs.admin_site import admin_site
from programs.models import Organization
from programs.secrets import SecretUnreadable
from programs.sso import allow_form_action_origins

from .models import Application, PaymentEntry, PaymentSettings, SeatBatch, SeatCode, WebhookEvent
from .services import payments, seats

KEEP = _("Stored encrypted and never shown again; leave empty to keep the one stored.")


class PaymentSettingsForm(TenantFormMixin):
    secret_key = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=format_lazy(
            "{} {}", _("Stripe secret key (sk_live_… or sk_test_…, or a restricted rk_ key)."), KEEP
        ),
    )
    webhook_secret = forms.CharField(
        label=_("Webhook signing secret"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=format_lazy(
            "{} {}", _("The endpoint's signing secret (whsec_…) from Stripe's dashboard."), KEEP
        ),
    )

    class Meta:
        model = PaymentSettings
        exclude = ("secret_key_encrypted", "webhook_secret_encrypted")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        secret, hook = cleaned.get("secret_key", ""), cleaned.get("webhook_secret", "")
        if secret and not secret.startswith(("sk_", "rk_")):
            self.add_error("secret_key", gettext("A Stripe secret key starts with sk_ (or rk_)."))
        if hook and not hook.startswith("whsec_"):
            self.add_error(
                "webhook_secret", gettext("A Stripe webhook signing secret starts with whsec_.")
            )
        if cleaned.get("provider") == PaymentSettings.Provider.STRIPE:
            if not secret and not self.instance.secret_key_encrypted:
                self.add_error("secret_key", gettext("Stripe needs your account's secret key."))
            if not hook and not self.instance.webhook_secret_encrypted:
                self.add_error(
                    "webhook_secret", gettext("Stripe needs the webhook's signing secret.")
                )
        return cleaned

    def save(self, commit: bool = True) -> Any:
        if secret := self.cleaned_data.get("secret_key"):
            self.instance.secret_key = secret
        if hook := self.cleaned_data.get("webhook_secret"):
            self.instance.webhook_secret = hook
        return super().save(commit)


@admin.register(PaymentSettings, site=admin_site)
class PaymentSettingsAdmin(TenantAdmin):
    """Program admins see the settings; only the organization's owners change them."""

    form = PaymentSettingsForm
    list_display = ("__str__", "keys_stored")
    readonly_fields = ("keys_stored", "webhook_address")
    fields = (
        "organization",
        "provider",
        "secret_key",
        "webhook_secret",
        "publishable_key",
        "keys_stored",
        "webhook_address",
        "receipt_address",
        "tax_id",
    )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        excluded = self.get_exclude(request, obj)
        return [name for name in self.fields if name not in excluded]

    def _owner(self, request: HttpRequest, obj: Any = None) -> bool:
        owned = program_selectors.organization_ids_owned_by(user=request.user)
        return bool(owned) and (obj is None or obj.organization_id in owned)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return super().has_add_permission(request) and self._owner(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._owner(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("keys stored"))
    def keys_stored(self, obj: PaymentSettings) -> str:
        try:
            obj.secret_key  # noqa: B018 (decrypts, or says why not)
            obj.webhook_secret  # noqa: B018
        except SecretUnreadable as error:
            return gettext("unreadable: %(error)s") % {"error": error}
        stored = [
            name
            for name, value in (
                (gettext("secret key"), obj.secret_key_encrypted),
                (gettext("webhook secret"), obj.webhook_secret_encrypted),
            )
            if value
        ]
        if not stored:
            return gettext("none")
        return gettext("%(keys)s (encrypted)") % {"keys": ", ".join(stored)}

    @admin.display(description=_("webhook endpoint"))
    def webhook_address(self, obj: PaymentSettings) -> str:
        if obj.pk is None:
            return gettext("Shown once saved.")
        from django.conf import settings

        url = settings.SITE_URL.rstrip("/") + reverse(
            "submissions:stripe_webhook", kwargs={"org_slug": obj.organization.slug}
        )
        return format_html(
            gettext("Add <code>{}</code> in Stripe (Developers → Webhooks) for the events {}."),
            url,
            format_html_join(", ", "<code>{}</code>", ((t,) for t in sorted(payments.EVENT_TYPES))),
        )


@admin.register(PaymentEntry, site=admin_site)
class PaymentEntryAdmin(RecordAdmin):
    list_display = (
        "created_at",
        "reference",
        "kind",
        "amount",
        "currency",
        "payer",
        "application",
        "seat_batch",
        "provider_id",
    )
    list_filter = ("kind", "currency")
    search_fields = ("reference", "provider_id", "payer__email", "checkout_session_id")
    list_select_related = (
        "payer",
        "application__educator",
        "application__version",
        "seat_batch",
    )
    fields = (
        "reference",
        "kind",
        "amount",
        "currency",
        "provider",
        "provider_id",
        "checkout_session_id",
        "payment_intent_id",
        "charge_id",
        "event_id",
        "payer",
        "application",
        "seat_batch",
        "created_at",
    )
    readonly_fields = fields


@admin.register(WebhookEvent, site=admin_site)
class WebhookEventAdmin(RecordAdmin):
    list_display = ("created_at", "type", "event_id", "outcome", "note")
    list_filter = ("outcome", "type")
    fields = ("event_id", "type", "outcome", "application", "note", "created_at")
    readonly_fields = fields


class FeeChangeForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("refund", _("Refund the fee paid (through Stripe)")),
            ("waive", _("Waive the fee")),
        ],
        widget=forms.RadioSelect,
    )
    amount = forms.DecimalField(
        required=False,
        min_value=Decimal("0.01"),
        decimal_places=2,
        help_text=_("Refunds only; leave empty to refund everything left."),
    )
    reason = forms.CharField(
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The educator reads it."),
    )


class FeeChangeAdminMixin:
    """Adds ``<application>/fee/`` to the application admin (its tenancy and permissions)."""

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.fee_view)  # type: ignore[attr-defined]
        return [
            path("<path:object_id>/fee/", view, name="submissions_application_fee"),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def fee_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        application = self.get_object(request, object_id)  # type: ignore[attr-defined]
        if application is None or not self.has_view_permission(request, application):  # type: ignore[attr-defined]
            raise Http404("No such application.")
        change_url = reverse("admin:submissions_application_change", args=[application.pk])
        form = FeeChangeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if data["action"] == "refund":
                    payments.payment_refund(
                        application=application,
                        amount=data.get("amount"),
                        reason=data["reason"],
                        actor=request.user,  # type: ignore[arg-type]
                    )
                    done = gettext(
                        "Refund asked of Stripe: the ledger shows it once Stripe confirms."
                    )
                else:
                    payments.fee_waive(
                        application=application,
                        reason=data["reason"],
                        actor=request.user,  # type: ignore[arg-type]
                    )
                    done = gettext("Fee waived; the educator is told.")
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(request, done)  # type: ignore[attr-defined]
                return HttpResponseRedirect(change_url)
        paid, refunded = payments.ledger_totals(application)
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": gettext("Refund or waive the fee: %(application)s")
            % {"application": application},
            "opts": self.opts,  # type: ignore[attr-defined]
            "application": application,
            "form": form,
            "paid": paid,
            "refunded": refunded,
            "change_url": change_url,
        }
        return TemplateResponse(
            request,
            "admin/submissions/fee_change.html",
            context,
            status=400 if form.errors else 200,
        )


def fee_change_link(application: Application) -> str:
    if application.fee_status == Application.FeeStatus.NONE:
        return "—"
    url = reverse("admin:submissions_application_fee", args=[application.pk])
    return format_html('<a href="{}">Refund or waive the fee</a>', url)


# --- Seat codes ----------------------------------------------------------------------------------


class SeatCodeInline(ReadOnlyInline):
    model = SeatCode
    fields = ("display", "used_by", "application", "used_at")
    readonly_fields = fields
    verbose_name_plural = _("codes (who used each, for which application)")

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("used_by", "application")


class SeatBatchForm(TenantFormMixin):
    how = forms.ChoiceField(
        label=_("payment"),
        choices=[
            ("free", _("Issue free (or invoiced): the codes are usable at once")),
            ("card", _("Pay by card (Stripe Checkout): the codes are usable once Stripe confirms")),
        ],
        initial="free",
        required=False,
        widget=forms.RadioSelect,
    )

    class Meta:
        model = SeatBatch
        fields = ("credential", "size", "expires_at", "note", "price_each")
        labels = {"size": _("number of codes"), "price_each": _("price per seat")}
        help_texts = {
            "price_each": _(
                "Pay by card only: the organization's currency; empty: the credential's "
                "non-member fee."
            )
        }
        field_classes = safe_field_classes(SeatBatch)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        organization_id = self.instance.organization_id or getattr(
            self, "default_organization_id", None
        )
        price = None
        if cleaned.get("how") == "card":
            credential = cleaned.get("credential")
            price = cleaned.get("price_each")
            if price is None and credential is not None and credential.current_version:
                price = credential.current_version.non_member_fee
            if price is None:
                self.add_error(
                    "price_each", gettext("Give the price per seat of a batch paid by card.")
                )
                return cleaned
        cleaned["price_each"] = price
        if cleaned.get("size") is not None and cleaned.get("expires_at") and organization_id:
            for name, message in seats.seat_batch_problems(
                organization_id=organization_id,
                size=cleaned["size"],
                expires_at=cleaned["expires_at"],
                credential=cleaned.get("credential"),
                price_each=price,
            ).items():
                self.add_error(name, message)
        return cleaned


@admin.register(SeatBatch, site=admin_site)
class SeatBatchAdmin(TenantAdmin):
    """Program admins make batches of seat codes (issued free, or paid by card through one
    Checkout payment) and see who used each; a batch is never changed afterwards."""

    form = SeatBatchForm
    list_display = (
        "__str__",
        "credential",
        "size",
        "used",
        "payment",
        "expires_at",
        "created_at",
    )
    list_filter = ("payment",)
    inlines = (SeatCodeInline,)
    actions = ("export_csv",)

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.inlines if obj is not None else ()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return (
            "credential",
            "size",
            "expires_at",
            "note",
            "created_by",
            "buyer_organization",
            "payment_status",
            "csv_link",
        )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            excluded = self.get_exclude(request, obj)
            names = ("organization", "credential", "size", "expires_at", "note", "how")
            return [f for f in (*names, "price_each") if f not in excluded]
        return self.get_readonly_fields(request, obj)

    def get_queryset(self, request: HttpRequest) -> Any:
        return (
            super()
            .get_queryset(request)
            .select_related("credential")
            .annotate(used_count=Count("codes", filter=Q(codes__used_at__isnull=False)))
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("used"))
    def used(self, obj: SeatBatch) -> int:
        return int(getattr(obj, "used_count", 0))

    @admin.display(description=_("payment"))
    def payment_status(self, obj: SeatBatch) -> str:
        if obj.payment == SeatBatch.Payment.FREE:
            return obj.get_payment_display()
        paid, refunded = payments.seat_batch_totals(obj)
        shown = format_html(
            gettext("{}: {} x {} = {} {}; paid online {}{}. {}"),
            obj.get_payment_display(),
            obj.size,
            f"{obj.price_each:.2f}",
            f"{obj.amount:.2f}",
            obj.currency,
            f"{paid:.2f}",
            gettext(", refunded %(amount)s") % {"amount": f"{refunded:.2f}"} if refunded else "",
            obj.payment_note,
        )
        if obj.payment != SeatBatch.Payment.UNPAID:
            return shown
        url = reverse("admin:submissions_seatbatch_pay", args=[obj.pk])
        return format_html(gettext('{} <a href="{}">Pay by card</a>'), shown, url)

    @admin.display(description=_("export"))
    def csv_link(self, obj: SeatBatch) -> str:
        url = reverse("admin:submissions_seatbatch_csv", args=[obj.pk])
        return format_html(gettext('<a href="{}">Download the codes (CSV)</a>'), url)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        organization_id: int | None = obj.organization_id or single_org_id(request)
        if organization_id is None:  # the form names it for people of several organizations
            raise Http404("No such organization.")
        batch = seats.seat_batch_create(
            organization=Organization.objects.get(pk=organization_id),
            size=obj.size,
            expires_at=obj.expires_at,
            credential=obj.credential,
            note=obj.note,
            price_each=form.cleaned_data.get("price_each"),
            actor=request.user,  # type: ignore[arg-type]
        )
        for name in ("pk", "public_id", "organization_id", "created_at", "payment", "currency"):
            setattr(obj, name, getattr(batch, name))

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: Any = None) -> Any:
        if obj.payment == SeatBatch.Payment.UNPAID:  # straight on to paying for it
            self.message_user(request, gettext("Batch made: pay for it to make its codes usable."))
            return HttpResponseRedirect(reverse("admin:submissions_seatbatch_pay", args=[obj.pk]))
        return super().response_add(request, obj, post_url_continue)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.csv_view)
        pay = self.admin_site.admin_view(self.pay_view)
        return [
            path("<path:object_id>/csv/", view, name="submissions_seatbatch_csv"),
            path("<path:object_id>/pay/", pay, name="submissions_seatbatch_pay"),
            *super().get_urls(),
        ]

    def pay_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """ "Pay by card": GET confirms the total, POST goes to Stripe Checkout for it."""
        batch = self.get_object(request, object_id)
        if batch is None or not self.has_view_permission(request, batch):
            raise Http404("No such batch.")
        change_url = reverse("admin:submissions_seatbatch_change", args=[batch.pk])
        error = ""
        if request.method == "POST":
            try:
                return HttpResponseRedirect(
                    seats.seat_batch_checkout_start(
                        batch=batch,
                        actor=request.user,  # type: ignore[arg-type]
                        return_url=change_url,
                    )
                )
            except ApplicationError as refused:
                error = refused.message
        allow_form_action_origins(request, [payments.CHECKOUT_ORIGIN])
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Pay for %(batch)s") % {"batch": batch},
            "opts": self.opts,
            "batch": batch,
            "error": error,
            "change_url": change_url,
        }
        return TemplateResponse(
            request,
            "admin/submissions/seat_batch_pay.html",
            context,
            status=400 if error else 200,
        )

    def csv_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        batch = self.get_object(request, object_id)
        if batch is None or not self.has_view_permission(request, batch):
            raise Http404("No such batch.")
        response = HttpResponse(seats.seat_batch_csv(batch), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="seat-codes-{batch.pk}.csv"'
        return response

    @admin.action(description=_("Download the codes (CSV)"))
    def export_csv(self, request: HttpRequest, queryset: Any) -> HttpResponse:
        return HttpResponse(
            "".join(seats.seat_batch_csv(batch) for batch in queryset), content_type="text/csv"
        )
