"""Outgoing webhooks in the admin (program admins): endpoints with the events they receive,
their signing secret (shown once, on the page after adding the endpoint or replacing the secret),
"send test event", and the delivery log with every attempt's answer and "resend". Every change
goes through programs.services.webhooks."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from credentials_site.exceptions import ApplicationError

from .. import services
from ..admin_site import admin_site
from ..models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEventType
from .base import ReadOnlyInline, RecordAdmin, TenantAdmin, TenantFormMixin, adopt_saved
from .people import _organization

ENDPOINTS = "admin:programs_webhookendpoint"
DELIVERIES = "admin:programs_webhookdelivery"


class WebhookEndpointForm(TenantFormMixin):
    url = forms.CharField(
        label="URL",
        max_length=500,
        help_text=_("An https:// address of your system that accepts POSTed JSON."),
        widget=forms.URLInput(attrs={"size": 60}),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=WebhookEventType.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("What this endpoint is told of."),
    )
    enabled = forms.BooleanField(
        label=_("Enabled"),
        required=False,
        initial=True,
        help_text=_("Unticked, nothing is sent; ticked again, the deliveries waiting resume."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("organization", "url", "description", "events")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["enabled"].initial = self.instance.is_enabled
        else:
            del self.fields["enabled"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "url" in cleaned and "events" in cleaned:
            problems = services.webhook_endpoint_problems(
                url=cleaned["url"], events=cleaned["events"]
            )
            for field, errors in problems.items():
                for error in errors:
                    self.add_error(field, error)
        return cleaned


class WebhookEndpointAdmin(TenantAdmin):
    form = WebhookEndpointForm
    change_form_template = "admin/programs/change_form_object_actions.html"
    list_display = ("url", "description", "event_names", "state", "secret_prefix", "log")
    list_select_related = ("organization",)
    readonly_fields = ("secret_prefix", "failing_since", "disabled_at", "disabled_reason")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        excluded = set(self.get_exclude(request, obj) or ())
        fields = [f for f in ("organization", "url", "description", "events") if f not in excluded]
        if obj is not None:
            fields += ["enabled", *self.readonly_fields]
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else ()

    @admin.display(description=_("Events"))
    def event_names(self, obj: WebhookEndpoint) -> str:
        labels = dict(WebhookEventType.choices)
        return ", ".join(str(labels.get(e, e)) for e in obj.events)

    @admin.display(description=_("State"))
    def state(self, obj: WebhookEndpoint) -> str:
        if obj.disabled_at is not None:
            return gettext("Disabled — %(reason)s") % {"reason": obj.disabled_reason}
        if obj.failing_since is not None:
            return gettext("Failing since %(when)s UTC") % {
                "when": f"{obj.failing_since:%Y-%m-%d %H:%M}"
            }
        return gettext("Enabled")

    @admin.display(description=_("Delivery log"))
    def log(self, obj: WebhookEndpoint) -> str:
        url = reverse(f"{DELIVERIES}_changelist") + f"?endpoint__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, gettext("Deliveries"))

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change:
            services.webhook_endpoint_update(
                endpoint=obj,
                url=data["url"],
                events=data["events"],
                description=data.get("description", ""),
                enabled=data.get("enabled", True),
                actor=request.user,  # type: ignore[arg-type]
            )
            return
        made = services.webhook_endpoint_create(
            organization=_organization(request, obj),
            url=data["url"],
            events=data["events"],
            description=data.get("description", ""),
            actor=request.user,  # type: ignore[arg-type]
        )
        adopt_saved(obj, made.endpoint)
        obj._new_secret = made.secret  # for response_add, in this request only

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Nothing more: the service saved the endpoint."""

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        """Its deliveries go with it (the log is read-only, not a permission to ask for)."""
        deleted, counts, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.webhook_endpoint_delete(endpoint=obj, actor=request.user)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for endpoint in queryset.select_related("organization"):
            services.webhook_endpoint_delete(endpoint=endpoint, actor=request.user)  # type: ignore[arg-type]

    def response_add(
        self, request: HttpRequest, obj: Any, post_url_continue: str | None = None
    ) -> HttpResponse:
        return self._secret_page(request, obj, obj._new_secret, gettext("Webhook endpoint added"))

    def _secret_page(
        self, request: HttpRequest, endpoint: WebhookEndpoint, secret: str, title: str
    ) -> HttpResponse:
        """The one page that shows the secret; it is not stored anywhere to show it again."""
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "endpoint": endpoint,
            "secret": secret,
            "change_url": reverse(f"{ENDPOINTS}_change", args=[endpoint.pk]),
        }
        response = TemplateResponse(request, "admin/programs/webhook_secret.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        actions = [
            {
                "label": gettext("Send test event"),
                "url": reverse(f"{ENDPOINTS}_test", args=[object_id]),
                "post": True,
            },
            {
                "label": gettext("Replace secret"),
                "url": reverse(f"{ENDPOINTS}_rotate", args=[object_id]),
                "post": True,
            },
            {
                "label": gettext("Delivery log"),
                "url": reverse(f"{DELIVERIES}_changelist") + f"?endpoint__id__exact={object_id}",
            },
        ]
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "object_actions": actions}
        )

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/send-test/",
                view(require_POST(self.send_test_view)),
                name="programs_webhookendpoint_test",
            ),
            path(
                "<path:object_id>/rotate-secret/",
                view(require_POST(self.rotate_view)),
                name="programs_webhookendpoint_rotate",
            ),
            *super().get_urls(),
        ]

    def _endpoint(self, request: HttpRequest, object_id: str) -> WebhookEndpoint:
        endpoint = self.get_object(request, unquote(object_id))
        if endpoint is None or not self.has_change_permission(request, endpoint):
            raise Http404("No such webhook endpoint.")
        return endpoint

    def send_test_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        endpoint = self._endpoint(request, object_id)
        delivery = services.webhook_test_send(endpoint=endpoint, actor=request.user)  # type: ignore[arg-type]
        self.message_user(
            request,
            gettext("A test event (%(event)s) is on its way: see the delivery log.")
            % {"event": delivery.event.public_id},
        )
        return HttpResponseRedirect(reverse(f"{DELIVERIES}_change", args=[delivery.pk]))

    def rotate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        endpoint = self._endpoint(request, object_id)
        made = services.webhook_endpoint_rotate_secret(endpoint=endpoint, actor=request.user)  # type: ignore[arg-type]
        return self._secret_page(
            request, made.endpoint, made.secret, gettext("Signing secret replaced")
        )


admin_site.register(WebhookEndpoint, WebhookEndpointAdmin)


class WebhookAttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ("number", "started_at", "status_code", "duration_ms", "error")
    readonly_fields = fields
    verbose_name = _("attempt")


class WebhookDeliveryAdmin(RecordAdmin):
    """The delivery log: one row per event and endpoint (a resend is a row of its own)."""

    change_form_template = "admin/programs/change_form_object_actions.html"
    list_display = (
        "created_at",
        "event_type",
        "event_id",
        "endpoint",
        "state",
        "attempts",
        "last_status",
        "next_attempt_at",
        "resend",
    )
    list_filter = ("state",)  # and by endpoint through ?endpoint__id__exact= (its "Deliveries")
    list_select_related = ("event", "endpoint", "organization")
    inlines = (WebhookAttemptInline,)
    fields = (
        "event_type",
        "event_id",
        "endpoint",
        "state",
        "attempts",
        "last_status",
        "next_attempt_at",
        "give_up_after",
        "delivered_at",
        "resend",
        "payload",
    )
    readonly_fields = fields
    actions = ("resend_selected",)

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        return lookup == "endpoint__id__exact" or super().lookup_allowed(lookup, value, request)

    @admin.display(description=_("Event"))
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.type

    @admin.display(description=_("Event id"))
    def event_id(self, obj: WebhookDelivery) -> str:
        return str(obj.event.public_id)

    @admin.display(description=_("Body"))
    def payload(self, obj: WebhookDelivery) -> str:
        body = json.loads(services.webhooks.webhook_body(obj.event, obj.organization))
        return format_html(
            '<pre tabindex="0" aria-label="{}" style="white-space: pre-wrap; '
            'overflow-wrap: anywhere;">{}</pre>',
            gettext("Body sent"),
            json.dumps(body, indent=2, ensure_ascii=False),
        )

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        actions = []
        if object_id is not None:
            actions.append(
                {
                    "label": gettext("Resend"),
                    "url": reverse(f"{DELIVERIES}_resend", args=[object_id]),
                    "post": True,
                }
            )
        return super().changeform_view(
            request, object_id, form_url, {**(extra_context or {}), "object_actions": actions}
        )

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/resend/",
                self.admin_site.admin_view(require_POST(self.resend_view)),
                name="programs_webhookdelivery_resend",
            ),
            *super().get_urls(),
        ]

    def resend_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        delivery = self.get_object(request, unquote(object_id))
        if delivery is None or not self.has_view_permission(request, delivery):
            raise Http404("No such webhook delivery.")
        again = self._resend(request, delivery)
        target = again.pk if again is not None else delivery.pk
        return HttpResponseRedirect(reverse(f"{DELIVERIES}_change", args=[target]))

    def _resend(self, request: HttpRequest, delivery: WebhookDelivery) -> WebhookDelivery | None:
        try:
            again = services.webhook_delivery_resend(delivery=delivery, actor=request.user)  # type: ignore[arg-type]
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return None
        self.message_user(
            request, gettext("Event %(event)s is sent again.") % {"event": delivery.event.public_id}
        )
        return again

    @admin.action(description=_("Resend the selected deliveries' events"))
    def resend_selected(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        for delivery in queryset.select_related("event", "endpoint__organization"):
            self._resend(request, delivery)


admin_site.register(WebhookDelivery, WebhookDeliveryAdmin)
