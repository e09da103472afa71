"""Webhooks in the admin: a program admin adds an endpoint and sees its secret once; bad input is a
form error that changes nothing; the delivery log, "resend" and "send test event"; another
organization's endpoints, deliveries and resend answer 404; the lists' query counts do not grow."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from programs.models import (
    AuditEvent,
    Organization,
    StaffRole,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from programs.secrets import secret_decrypt
from programs.services import webhooks
from tests.conftest import assert_same_query_count
from tests.factories import OrganizationFactory, StaffRoleFactory

pytestmark = pytest.mark.django_db

ENDPOINTS = "/admin/programs/webhookendpoint/"
DELIVERIES = "/admin/programs/webhookdelivery/"


def admin_of(org: Organization, role: str = StaffRole.Role.PROGRAM_ADMIN) -> Client:
    client = Client()
    client.force_login(StaffRoleFactory(organization=org, role=role).user)
    return client


def endpoint_in(org: Organization, url: str = "https://hooks.example.org/t") -> WebhookEndpoint:
    return webhooks.webhook_endpoint_create(
        organization=org, url=url, events=["badge.issued"], actor=None
    ).endpoint


def deliveries_in(org: Organization, endpoint: WebhookEndpoint, n: int) -> list[WebhookDelivery]:
    for i in range(n):
        webhooks.webhook_event_emit(organization_id=org.pk, type="badge.issued", data={"i": i})
    return list(WebhookDelivery.objects.filter(endpoint=endpoint))


class TestEndpoints:
    def test_a_program_admin_adds_an_endpoint_and_sees_its_secret_once(self) -> None:
        # given a program admin
        org = OrganizationFactory()
        client = admin_of(org)
        # when they add an endpoint for two events
        response = client.post(
            f"{ENDPOINTS}add/",
            {
                "url": "https://crm.example.org/tessera",
                "description": "CRM",
                "events": ["badge.issued", "membership.changed"],
            },
        )
        # then the page shows the secret, which is the stored one, and is not cached
        assert response.status_code == 200, response.content.decode()[:2000]
        page = response.content.decode()
        start = page.index('value="whsec_') + len('value="')
        secret = page[start : page.index('"', start)]
        endpoint = WebhookEndpoint.objects.get(organization=org)
        assert secret_decrypt(endpoint.secret_encrypted) == secret
        assert "shown this once" in page and "no-store" in response["Cache-Control"]
        assert endpoint.events == ["badge.issued", "membership.changed"]
        assert AuditEvent.objects.filter(action="webhook_endpoint.created").count() == 1
        # and never again: not in the list, nor on the endpoint's page
        for url in (ENDPOINTS, f"{ENDPOINTS}{endpoint.pk}/change/"):
            again = client.get(url)
            assert again.status_code == 200
            assert endpoint.secret_prefix in again.content.decode()
            assert secret not in again.content.decode()

    @pytest.mark.parametrize(
        ("data", "field", "message"),
        [
            (
                {"url": "http://crm.example.org/tessera", "events": ["badge.issued"]},
                "url",
                "Enter an https:// URL",
            ),
            (
                {"url": "https://10.0.0.8/hook", "events": ["badge.issued"]},
                "url",
                "is a private address",
            ),
            (
                {"url": "https://crm.example.org/t", "events": ["badge.issued", "badge.eaten"]},
                "events",
                "Select a valid choice. badge.eaten is not one of the available choices.",
            ),
            ({"url": "https://crm.example.org/t", "events": []}, "events", "required"),
        ],
    )
    def test_bad_input_is_a_form_error_and_changes_nothing(
        self, settings: Any, data: dict[str, Any], field: str, message: str
    ) -> None:
        settings.WEBHOOKS_ALLOW_LOOPBACK = False  # production
        org = OrganizationFactory()
        response = admin_of(org).post(f"{ENDPOINTS}add/", data)
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert any(message in e for e in errors[field]), errors
        assert not WebhookEndpoint.objects.exists()

    def test_a_changed_endpoint_keeps_its_secret(self) -> None:
        org = OrganizationFactory()
        endpoint = endpoint_in(org)
        response = admin_of(org).post(
            f"{ENDPOINTS}{endpoint.pk}/change/",
            {
                "url": "https://hooks.example.org/v2",
                "description": "",
                "events": ["badge.revoked"],
                "enabled": "",
            },
        )
        assert response.status_code == 302, response.context["adminform"].form.errors
        changed = WebhookEndpoint.objects.get(pk=endpoint.pk)
        assert (changed.url, changed.events) == ("https://hooks.example.org/v2", ["badge.revoked"])
        assert changed.disabled_at is not None
        assert changed.secret_encrypted == endpoint.secret_encrypted

    def test_the_secret_is_replaced_and_shown_once(self) -> None:
        org = OrganizationFactory()
        endpoint = endpoint_in(org)
        before = secret_decrypt(endpoint.secret_encrypted)
        response = admin_of(org).post(f"{ENDPOINTS}{endpoint.pk}/rotate-secret/")
        after = secret_decrypt(WebhookEndpoint.objects.get(pk=endpoint.pk).secret_encrypted)
        assert after != before and after in response.content.decode()

    def test_send_test_event_queues_a_delivery_to_that_endpoint(self) -> None:
        org = OrganizationFactory()
        endpoint = endpoint_in(org)
        response = admin_of(org).post(f"{ENDPOINTS}{endpoint.pk}/send-test/")
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
        assert response.status_code == 302
        assert response["Location"] == f"{DELIVERIES}{delivery.pk}/change/"
        assert delivery.event.type == "webhook.test"

    def test_a_deleted_endpoint_takes_its_log_and_is_audited(self) -> None:
        org = OrganizationFactory()
        endpoint = endpoint_in(org)
        deliveries_in(org, endpoint, 2)
        response = admin_of(org).post(f"{ENDPOINTS}{endpoint.pk}/delete/", {"post": "yes"})
        assert response.status_code == 302
        assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()
        assert AuditEvent.objects.filter(action="webhook_endpoint.deleted").count() == 1

    def test_a_reviewer_has_no_webhooks_page(self) -> None:
        org = OrganizationFactory()
        client = admin_of(org, StaffRole.Role.REVIEWER)
        assert client.get(ENDPOINTS).status_code in (302, 403)


class TestDeliveryLog:
    def test_the_log_shows_each_attempt_and_resend_makes_a_new_delivery(self) -> None:
        org = OrganizationFactory()
        endpoint = endpoint_in(org, "https://127.0.0.1:9/refused")
        [delivery] = deliveries_in(org, endpoint, 1)
        webhooks.webhook_delivery_attempt(delivery_id=delivery.pk)
        client = admin_of(org)
        page = client.get(f"{DELIVERIES}{delivery.pk}/change/").content.decode()
        assert str(delivery.event.public_id) in page and "Connection" in page
        response = client.post(f"{DELIVERIES}{delivery.pk}/resend/")
        again = WebhookDelivery.objects.get(resend=True)
        assert response["Location"] == f"{DELIVERIES}{again.pk}/change/"
        assert again.event_id == delivery.event_id and again.state == "pending"

    def test_an_endpoints_log_lists_its_deliveries_only(self) -> None:
        org = OrganizationFactory()
        mine, other = endpoint_in(org), endpoint_in(org, "https://hooks.example.org/other")
        webhooks.webhook_event_emit(organization_id=org.pk, type="badge.issued", data={})
        ours = WebhookDelivery.objects.get(endpoint=mine)
        theirs = WebhookDelivery.objects.get(endpoint=other)
        page = admin_of(org).get(f"{DELIVERIES}?endpoint__id__exact={mine.pk}")
        assert page.status_code == 200
        assert list(page.context["cl"].result_list) == [ours]
        assert theirs not in page.context["cl"].result_list

    def test_the_lists_take_the_same_queries_for_1_and_20_rows(self, count_queries: Any) -> None:
        org = OrganizationFactory()
        client = admin_of(org)
        endpoint = endpoint_in(org)
        deliveries_in(org, endpoint, 1)
        small = count_queries(lambda: client.get(DELIVERIES))
        small_endpoints = count_queries(lambda: client.get(ENDPOINTS))
        for i in range(19):
            endpoint_in(org, f"https://hooks.example.org/{i}")
        deliveries_in(org, endpoint, 19)
        assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 20
        large = count_queries(lambda: client.get(DELIVERIES))
        large_endpoints = count_queries(lambda: client.get(ENDPOINTS))
        assert_same_query_count(small, large)
        assert_same_query_count(small_endpoints, large_endpoints)


class TestAnotherOrganization:
    def test_endpoints_logs_and_resend_answer_404(self) -> None:
        # given an endpoint and a delivery of organization A
        a, b = OrganizationFactory(), OrganizationFactory()
        endpoint = endpoint_in(a)
        [delivery] = deliveries_in(a, endpoint, 1)
        # when B's program admin asks for them
        client = admin_of(b)
        for url in (
            f"{ENDPOINTS}{endpoint.pk}/change/",
            f"{DELIVERIES}{delivery.pk}/change/",
        ):
            assert client.get(url).status_code == 404, url
        for url in (
            f"{ENDPOINTS}{endpoint.pk}/send-test/",
            f"{ENDPOINTS}{endpoint.pk}/rotate-secret/",
            f"{DELIVERIES}{delivery.pk}/resend/",
        ):
            assert client.post(url).status_code == 404, url
        client.post(DELIVERIES, {"action": "resend_selected", "_selected_action": [delivery.pk]})
        # then nothing of A's is listed, changed or sent
        assert endpoint.url not in client.get(ENDPOINTS).content.decode()
        assert str(delivery.event.public_id) not in client.get(DELIVERIES).content.decode()
        assert WebhookDelivery.objects.count() == 1
        assert WebhookEvent.objects.count() == 1
        assert (
            WebhookEndpoint.objects.get(pk=endpoint.pk).secret_encrypted
            == endpoint.secret_encrypted
        )

    def test_an_event_reaches_only_its_own_organizations_endpoints(self) -> None:
        a, b = OrganizationFactory(), OrganizationFactory()
        endpoint_in(a)
        theirs = endpoint_in(b)
        webhooks.webhook_event_emit(organization_id=a.pk, type="badge.issued", data={})
        assert not WebhookDelivery.objects.filter(endpoint=theirs).exists()
        assert dt.timedelta(days=3) == webhooks.RETRY_WINDOW
