"""The services emit webhook events in the transaction of their change (the outbox, decision
0028): an application's submission, decision, badge and revocation, in that order and keyed to
the application; membership changes; payments. A rolled-back change emits nothing; a committed
one is delivered by a real worker without anything else asking."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from badges import services as badge_services
from badges.models import Badge
from programs import services as program_services
from programs.models import Membership, Organization, WebhookDelivery, WebhookEvent
from programs.services import webhooks
from submissions.models import Application, PaymentEntry
from submissions.services._common import _event
from tests.factories import OrganizationFactory, UserFactory
from tests.programs.webhook_receiver import Receiver, receiver
from tests.worker import running_worker, wait_for

__all__ = ["receiver"]

EVERY = [t.value for t in webhooks.WebhookEventType]


def listening(org: Organization, url: str = "https://hooks.example.org/t") -> None:
    webhooks.webhook_endpoint_create(organization=org, url=url, events=EVERY, actor=None)


def events_of(org: Organization) -> list[WebhookEvent]:
    return list(WebhookEvent.objects.filter(organization=org).order_by("pk"))


@pytest.mark.django_db
class TestTheServicesEmit:
    def test_an_applications_events_in_order_from_submission_to_revocation(
        self, org: Organization, approve: Callable[..., Application]
    ) -> None:
        # given an endpoint listening to every event
        listening(org)
        # when an application is submitted, approved, its badge issued and revoked
        application = approve()
        badge = badge_services.badge_issue(application_id=application.pk)
        badge_services.badge_revoke(badge=badge, reason="Issued in error.", actor=None)
        # then the four events were written, in order, keyed to the application
        events = events_of(org)
        assert [e.type for e in events] == [
            "application.submitted",
            "decision.made",
            "badge.issued",
            "badge.revoked",
        ]
        assert {e.ordering_key for e in events} == {f"application:{application.pk}"}
        submitted, decided, issued, revoked = (e.data for e in events)
        assert submitted["application"]["id"] == str(application.public_id)
        assert submitted["application"]["educator"]["email"] == application.educator.email
        assert decided["decision"]["outcome"] == "approve"
        assert issued["badge"]["id"] == str(badge.public_id)
        assert issued["application"] == {"id": str(application.public_id)}
        assert revoked["badge"]["revocation_reason"] == Badge.objects.get().revocation_reason
        # and each has one pending delivery to the endpoint
        assert WebhookDelivery.objects.filter(state="pending").count() == 4

    def test_nothing_is_written_for_an_organization_without_endpoints(
        self, org: Organization, approve: Callable[..., Application]
    ) -> None:
        application = approve()
        badge_services.badge_issue(application_id=application.pk)
        assert events_of(org) == []

    def test_membership_changes(self, org: Organization) -> None:
        listening(org)
        row, problems = program_services.member_row_clean(
            {"email": "member@example.org", "member_number": "A-1"}
        )
        assert row is not None, problems
        program_services.member_upsert(organization=org, row=row, actor=None, source="admin")
        Membership.objects.filter(organization=org).update(member_until="2020-01-01")
        program_services.membership_lapse_expired(organization=org)
        events = events_of(org)
        assert [e.type for e in events] == ["membership.changed"] * 2
        assert events[0].data["membership"]["email"] == "member@example.org"
        assert events[0].data["membership"]["change"] == "created"
        assert events[1].data["membership"]["change"] == "lapsed"

    def test_a_payment(self, org: Organization, approve: Callable[..., Application]) -> None:
        application = approve()
        listening(org)
        PaymentEntry.objects.create(
            organization=org,
            application=application,
            kind="payment",
            amount=Decimal("25.00"),
            currency="USD",
            provider_id="pi_1",
        )
        _event(application, actor=None, kind="fee_payment", message="Paid 25.00 USD")
        [event] = events_of(org)
        assert event.type == "payment.recorded"
        assert event.data["payment"]["amount"] == "25.00"

    def test_a_rolled_back_change_emits_nothing(self) -> None:
        org = OrganizationFactory()
        listening(org)
        with pytest.raises(RuntimeError), transaction.atomic():
            webhooks.webhook_event_emit(organization_id=org.pk, type="badge.issued", data={})
            raise RuntimeError("the change failed after the event was written")
        assert events_of(org) == []
        assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_committed_event_is_delivered_by_a_real_worker(receiver: Receiver) -> None:
    # given an endpoint on the suite's server, and a worker consuming the broker
    org = OrganizationFactory()
    listening(org, receiver.url())
    user = UserFactory()
    with running_worker():
        # when a membership change commits
        row, _ = program_services.member_row_clean({"email": user.email})
        assert row is not None
        program_services.member_upsert(organization=org, row=row, actor=None, source="admin")
        # then the worker delivers its event, once
        wait_for(lambda: receiver.requests or None, what="the webhook delivery")
        delivery = wait_for(
            lambda: WebhookDelivery.objects.filter(state="delivered").first(),
            what="the delivery recorded",
        )
    [request] = receiver.requests
    body: dict[str, Any] = json.loads(request.body)
    assert body["type"] == "membership.changed"
    assert body["id"] == str(delivery.event.public_id) == request.headers["Tessera-Event-Id"]
