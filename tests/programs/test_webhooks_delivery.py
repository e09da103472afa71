"""Outgoing webhooks, delivered to a real HTTP server that the suite starts (decision 0028):
the documented signature verifies, 500s are retried with backoff, events of one application
arrive in order, an endpoint failing for three days is disabled and its admins e-mailed, and no
request ever goes to loopback, private or link-local addresses in production (SSRF)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from credentials_site.exceptions import ApplicationError
from programs import webhook_http
from programs.models import (
    Organization,
    StaffRole,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from programs.secrets import secret_encrypt
from programs.services import webhooks
from tests.factories import OrganizationFactory, StaffRoleFactory
from tests.programs.webhook_receiver import Receiver, receiver

pytestmark = pytest.mark.django_db

__all__ = ["receiver"]

# in the future: a retry that a test runs through Celery (eagerly) at the real time is not due
T0 = dt.datetime(2031, 3, 2, 9, 0, tzinfo=dt.UTC)
EVERY = [t.value for t in webhooks.WebhookEventType]


def endpoint_for(
    organization: Organization, url: str, events: list[str] | None = None
) -> webhooks.NewSecret:
    return webhooks.webhook_endpoint_create(
        organization=organization, url=url, events=events or EVERY, actor=None
    )


def emit(organization: Organization, *, application: int | None = None, n: int = 0) -> WebhookEvent:
    event = webhooks.webhook_event_emit(
        organization_id=organization.pk,
        type="decision.made",
        data={"n": n},
        application_id=application,
        now=T0,
    )
    assert event is not None
    return event


def delivery_of(event: WebhookEvent) -> WebhookDelivery:
    return WebhookDelivery.objects.get(event=event, resend=False)


def attempt(delivery: WebhookDelivery, now: dt.datetime) -> webhooks.AttemptOutcome:
    return webhooks.webhook_delivery_attempt(delivery_id=delivery.pk, now=now)


def verify(secret: str, header: str, body: bytes) -> bool:
    """The README's verification, written out as a receiver would (not our helper)."""
    fields = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(
        secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


class TestSignedDelivery:
    def test_the_receiver_verifies_the_documented_signature(self, receiver: Receiver) -> None:
        # given an endpoint on the suite's HTTP server and an event emitted for it
        org = OrganizationFactory(slug="gael-hooks")
        made = endpoint_for(org, receiver.url())
        event = emit(org, application=7)
        # when the delivery is attempted
        outcome = attempt(delivery_of(event), T0)
        # then one signed request arrived, which the documented scheme verifies
        assert outcome.state == "delivered"
        [request] = receiver.requests
        header = request.headers["Tessera-Signature"]
        assert header.startswith(f"t={int(T0.timestamp())},v1=")
        assert verify(made.secret, header, request.body)
        assert webhook_http.signature_verify(
            secret=made.secret, header=header, body=request.body, now=T0.timestamp()
        )
        assert not verify("whsec_another", header, request.body)
        assert not verify(made.secret, header, request.body + b" ")
        # and the body says what the event is, with the id the receiver dedupes on
        body = json.loads(request.body)
        assert body == {
            "id": str(event.public_id),
            "type": "decision.made",
            "created": body["created"],
            "organization": {"slug": "gael-hooks", "name": org.name},
            "data": {"n": 0},
        }
        assert request.headers["Tessera-Event-Id"] == str(event.public_id)
        assert request.headers["Content-Type"] == "application/json"
        # and the secret is stored encrypted, never in clear
        stored = WebhookEndpoint.objects.get(pk=made.endpoint.pk)
        assert made.secret not in stored.secret_encrypted
        assert made.secret.startswith(stored.secret_prefix)

    def test_the_readmes_snippet_verifies_a_delivery(self, receiver: Receiver) -> None:
        # given the verification code the README gives receivers, as written there
        readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
        start = readme.index("```python\nimport hashlib, hmac, time")
        code = readme[start + len("```python\n") : readme.index("```", start + 3)]
        namespace: dict[str, Any] = {}
        exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
        genuine = namespace["tessera_event_is_genuine"]
        # when a delivery arrives now
        org = OrganizationFactory()
        made = endpoint_for(org, receiver.url())
        event = webhooks.webhook_event_emit(organization_id=org.pk, type="badge.issued", data={})
        assert event is not None
        attempt(delivery_of(event), timezone.now())
        [request] = receiver.requests
        header = request.headers["Tessera-Signature"]
        # then it verifies, and a changed body or another secret does not
        assert genuine(made.secret, header, request.body)
        assert not genuine(made.secret, header, request.body.replace(b"badge", b"bodge"))
        assert not genuine("whsec_another", header, request.body)

    def test_a_stale_timestamp_does_not_verify(self) -> None:
        header = webhook_http.signature_header(secret="s", timestamp=1000, body=b"{}")
        assert webhook_http.signature_verify(secret="s", header=header, body=b"{}", now=1100)
        assert not webhook_http.signature_verify(secret="s", header=header, body=b"{}", now=2000)

    def test_a_replaced_secret_signs_from_then_on(self, receiver: Receiver) -> None:
        org = OrganizationFactory()
        made = endpoint_for(org, receiver.url())
        rotated = webhooks.webhook_endpoint_rotate_secret(endpoint=made.endpoint, actor=None)
        attempt(delivery_of(emit(org)), T0)
        [request] = receiver.requests
        assert verify(rotated.secret, request.headers["Tessera-Signature"], request.body)
        assert not verify(made.secret, request.headers["Tessera-Signature"], request.body)

    def test_nothing_is_written_when_no_endpoint_listens(self) -> None:
        org = OrganizationFactory()
        endpoint_for(org, "https://hooks.example.org/x", events=["badge.issued"])
        assert (
            webhooks.webhook_event_emit(organization_id=org.pk, type="decision.made", data={})
            is None
        )
        assert not WebhookEvent.objects.filter(organization=org).exists()
        with pytest.raises(ValueError, match="Unknown webhook event type"):
            webhooks.webhook_event_emit(organization_id=org.pk, type="badge.eaten", data={})


class TestRetries:
    def test_500s_are_retried_with_backoff_then_delivered_once(self, receiver: Receiver) -> None:
        # given a receiver that fails twice
        org = OrganizationFactory()
        endpoint_for(org, receiver.url())
        delivery = delivery_of(emit(org))
        receiver.answer(500, 503)
        # when attempts are made as the schedule says
        first = attempt(delivery, T0)
        early = attempt(delivery, T0 + dt.timedelta(seconds=10))
        second = attempt(delivery, T0 + dt.timedelta(seconds=30))
        third = attempt(delivery, T0 + dt.timedelta(seconds=90))
        # then it waited 30 s, then 60 s, and was delivered on the third attempt
        assert (first.state, first.retry_in) == ("pending", dt.timedelta(seconds=30))
        assert (early.sent, early.waiting) == (False, "not due")
        assert (second.state, second.retry_in) == ("pending", dt.timedelta(seconds=60))
        assert third.state == "delivered"
        # and the log has each attempt's answer and timing
        log = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("number"))
        assert [(a.number, a.status_code) for a in log] == [(1, 500), (2, 503), (3, 200)]
        assert [a.started_at for a in log] == [
            T0,
            T0 + dt.timedelta(seconds=30),
            T0 + dt.timedelta(seconds=90),
        ]
        assert all(a.duration_ms >= 0 for a in log)
        # and the same event id each time; once delivered it is never sent again
        assert len({r.headers["Tessera-Event-Id"] for r in receiver.requests}) == 1
        again = attempt(delivery, T0 + dt.timedelta(days=1))
        assert (again.sent, again.waiting) == (False, "not pending")
        assert len(receiver.requests) == 3

    def test_the_backoff_doubles_up_to_six_hours(self) -> None:
        waits = [webhooks.backoff(n) for n in (1, 2, 3, 10, 30)]
        assert waits == [
            dt.timedelta(seconds=30),
            dt.timedelta(minutes=1),
            dt.timedelta(minutes=2),
            dt.timedelta(hours=4, minutes=16),
            dt.timedelta(hours=6),
        ]

    def test_a_refused_connection_is_a_failed_attempt_too(self) -> None:
        org = OrganizationFactory()
        endpoint_for(org, "http://127.0.0.1:9/nothing-listens")
        outcome = attempt(delivery_of(emit(org)), T0)
        assert outcome.state == "pending"
        [logged] = WebhookAttempt.objects.all()
        assert logged.status_code is None and "Connection" in logged.error


class TestOrderPerApplication:
    def test_a_later_event_of_an_application_waits_for_the_earlier_one(
        self, receiver: Receiver
    ) -> None:
        # given two events of application 1 and one of application 2
        org = OrganizationFactory()
        endpoint_for(org, receiver.url())
        first, second = emit(org, application=1, n=1), emit(org, application=1, n=2)
        other = emit(org, application=2, n=3)
        receiver.answer(500)
        # when the later one is tried first, then the earlier one fails once
        assert attempt(delivery_of(second), T0).waiting == "earlier event"
        assert attempt(delivery_of(first), T0).state == "pending"
        # then another application's event is not held up, but the later one still waits
        assert attempt(delivery_of(other), T0).state == "delivered"
        assert attempt(delivery_of(second), T0 + dt.timedelta(minutes=5)).waiting == (
            "earlier event"
        )
        # and once the earlier one is delivered, the later one goes
        later = T0 + dt.timedelta(seconds=30)
        assert attempt(delivery_of(first), later).state == "delivered"
        assert attempt(delivery_of(second), later).state == "delivered"
        sent = [json.loads(r.body)["data"]["n"] for r in receiver.requests]
        assert sent == [1, 3, 1, 2]

    def test_an_earlier_event_given_up_lets_the_later_one_go(self, receiver: Receiver) -> None:
        org = OrganizationFactory()
        endpoint_for(org, receiver.url())
        first, second = emit(org, application=1, n=1), emit(org, application=1, n=2)
        WebhookDelivery.objects.filter(event=first).update(state="given_up")
        assert attempt(delivery_of(second), T0).state == "delivered"


class TestGivingUp:
    def test_an_endpoint_failing_for_three_days_is_disabled(self, receiver: Receiver) -> None:
        # given an endpoint that only ever answers 500
        org = OrganizationFactory()
        made = endpoint_for(org, receiver.url())
        delivery = delivery_of(emit(org))
        receiver.answer(*[500] * 100)
        # when every scheduled attempt is made (time travel: each at its due time)
        times = []
        while True:
            delivery.refresh_from_db()
            if delivery.state != "pending":
                break
            times.append(delivery.next_attempt_at)
            attempt(delivery, delivery.next_attempt_at)
        # then the attempts backed off over exactly three days, and the last one gave up
        assert delivery.state == "given_up"
        assert times[-1] == T0 + dt.timedelta(days=3)
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert gaps[:3] == [
            dt.timedelta(seconds=30),
            dt.timedelta(minutes=1),
            dt.timedelta(minutes=2),
        ]
        assert max(gaps) == dt.timedelta(hours=6)
        assert len(times) == len(receiver.requests) < 40
        # and the endpoint, failing all that time, is disabled
        endpoint = WebhookEndpoint.objects.get(pk=made.endpoint.pk)
        assert endpoint.disabled_at == T0 + dt.timedelta(days=3)
        assert "failed since 2031-03-02 09:00" in endpoint.disabled_reason
        # and nothing more is sent to it: a new event's delivery is not made
        assert (
            webhooks.webhook_event_emit(organization_id=org.pk, type="badge.issued", data={})
            is None
        )

    def test_the_owners_and_program_admins_are_emailed_when_it_is_disabled(
        self,
        receiver: Receiver,
        django_capture_on_commit_callbacks: Any,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # given an endpoint failing for three days, and the organization's staff
        from credentials_site.celery import app

        monkeypatch.setattr(app.conf, "task_always_eager", True)  # on-commit tasks run inline
        org = OrganizationFactory()
        owner = StaffRoleFactory(organization=org, role=StaffRole.Role.OWNER).user
        admin = StaffRoleFactory(organization=org, role=StaffRole.Role.PROGRAM_ADMIN).user
        StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER)
        made = endpoint_for(org, receiver.url())
        WebhookEndpoint.objects.filter(pk=made.endpoint.pk).update(
            failing_since=T0 - dt.timedelta(days=3)
        )
        receiver.answer(500)
        delivery = delivery_of(emit(org))
        # when one more attempt fails, and the transaction commits
        with django_capture_on_commit_callbacks(execute=True):
            attempt(delivery, T0)
        # then the owner and the program admin (not the reviewer) are e-mailed, once
        [message] = mail.outbox
        assert sorted(message.to) == sorted([owner.email, admin.email])
        assert "Webhook endpoint disabled" in message.subject
        assert receiver.url() in message.body
        assert WebhookEndpoint.objects.get(pk=made.endpoint.pk).disabled_at == T0

    def test_a_success_ends_the_failing_streak(self, receiver: Receiver) -> None:
        org = OrganizationFactory()
        made = endpoint_for(org, receiver.url())
        receiver.answer(500)
        delivery = delivery_of(emit(org))
        attempt(delivery, T0)
        assert WebhookEndpoint.objects.get(pk=made.endpoint.pk).failing_since == T0
        attempt(delivery, T0 + dt.timedelta(minutes=1))
        assert WebhookEndpoint.objects.get(pk=made.endpoint.pk).failing_since is None


class TestResendAndTest:
    def test_resend_sends_the_same_event_id_again_as_a_new_delivery(
        self, receiver: Receiver
    ) -> None:
        org = OrganizationFactory()
        endpoint_for(org, receiver.url())
        delivery = delivery_of(emit(org))
        attempt(delivery, T0)
        again = webhooks.webhook_delivery_resend(delivery=delivery, actor=None)
        assert attempt(again, timezone.now()).state == "delivered"
        ids = [r.headers["Tessera-Event-Id"] for r in receiver.requests]
        assert ids == [str(delivery.event.public_id)] * 2

    def test_a_test_event_goes_to_that_endpoint_alone(self, receiver: Receiver) -> None:
        org = OrganizationFactory()
        made = endpoint_for(org, receiver.url(), events=["badge.issued"])
        endpoint_for(org, receiver.url("/other"))
        delivery = webhooks.webhook_test_send(endpoint=made.endpoint, actor=None)
        attempt(delivery, timezone.now())
        [request] = receiver.requests
        assert request.path == "/hooks"
        assert json.loads(request.body)["type"] == "webhook.test"


class TestNeverInsideOurNetwork:
    """Production settings: WEBHOOKS_ALLOW_LOOPBACK off (the test profile turns it on only for
    the suite's own server)."""

    @pytest.fixture(autouse=True)
    def _production(self, settings: Any) -> None:
        settings.WEBHOOKS_ALLOW_LOOPBACK = False

    @pytest.mark.parametrize(
        ("url", "why"),
        [
            ("http://hooks.example.org/x", "https://"),
            ("https://127.0.0.1/x", "loopback"),
            ("https://[::1]/x", "loopback"),
            ("https://10.1.2.3/x", "private"),
            ("https://192.168.0.10/x", "private"),
            ("https://169.254.169.254/latest/meta-data", "link-local"),
            ("https://[fe80::1]/x", "link-local"),
            ("https://[::ffff:127.0.0.1]/x", "loopback"),
            ("https://localhost/x", "public address"),
            ("https://user:pw@hooks.example.org/x", "passwords"),
            ("ftp://hooks.example.org/x", "https://"),
        ],
    )
    def test_an_inside_address_is_refused_when_registered(self, url: str, why: str) -> None:
        org = OrganizationFactory()
        with pytest.raises(ApplicationError) as refused:
            endpoint_for(org, url)
        assert why in refused.value.fields["url"][0]
        assert not WebhookEndpoint.objects.filter(organization=org).exists()

    def test_a_name_that_resolves_to_loopback_is_refused_at_connect_time(
        self, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given an endpoint registered while its name resolved to a public address, on the
        # port of a server that would answer
        org = OrganizationFactory()
        names = {"hooks.example.org": ["93.184.216.34"]}
        monkeypatch.setattr(webhook_http, "resolver", lambda host, port: names[host])
        made = endpoint_for(org, f"https://hooks.example.org:{receiver.port}/hooks")
        delivery = delivery_of(emit(org))
        # when the name now resolves to 127.0.0.1 (DNS rebinding), and the attempt is made
        names["hooks.example.org"] = ["127.0.0.1"]
        outcome = attempt(delivery, T0)
        # then no request was made, and the log says why
        assert outcome.state == "pending"
        assert receiver.requests == []
        [logged] = WebhookAttempt.objects.filter(delivery=delivery)
        assert logged.status_code is None
        assert "resolves to 127.0.0.1, a loopback address" in logged.error
        assert made.endpoint.url.startswith("https://hooks.example.org")

    @pytest.mark.parametrize(
        "addresses",
        [["127.0.0.1"], ["10.0.0.5"], ["169.254.169.254"], ["93.184.216.34", "192.168.1.1"]],
    )
    def test_every_resolved_address_is_checked(
        self, addresses: list[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(webhook_http, "resolver", lambda host, port: addresses)
        with pytest.raises(webhook_http.UnsafeTarget, match="refused"):
            webhook_http.checked_addresses("hooks.example.org", 443)

    def test_localhost_through_the_real_resolver_is_refused(self) -> None:
        with pytest.raises(webhook_http.UnsafeTarget, match="loopback"):
            webhook_http.checked_addresses("localhost", 443)

    def test_the_suite_server_is_not_reached_without_the_test_flag(
        self, receiver: Receiver
    ) -> None:
        # an endpoint saved while the flag was on (as the suite does) is refused once it is off
        org = OrganizationFactory()
        endpoint = WebhookEndpoint.objects.create(
            organization=org,
            url=receiver.url(host="localhost"),
            events=EVERY,
            secret_encrypted=secret_encrypt("whsec_x"),
            secret_prefix="whsec_",
        )
        event = WebhookEvent.objects.create(organization=org, type="decision.made", data={})
        delivery = WebhookDelivery.objects.create(
            organization=org,
            endpoint=endpoint,
            event=event,
            next_attempt_at=T0,
            give_up_after=T0 + dt.timedelta(days=3),
        )
        attempt(delivery, T0)
        assert receiver.requests == []
        assert WebhookAttempt.objects.get(delivery=delivery).error.startswith("Enter")


class TestBadInput:
    def test_an_unknown_event_type_is_a_field_error(self) -> None:
        org = OrganizationFactory()
        with pytest.raises(ApplicationError) as refused:
            endpoint_for(org, "https://hooks.example.org/x", events=["badge.issued", "badge.eaten"])
        assert "Unknown event type badge.eaten" in refused.value.fields["events"][0]
        assert not WebhookEndpoint.objects.exists()
