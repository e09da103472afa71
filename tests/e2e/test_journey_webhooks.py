"""Webhooks in a real browser: GAEL's program admin adds an endpoint (the suite's own HTTP
server), copies the signing secret shown once, sends a test event, and reads the delivery log
once a real worker has delivered it; the request that arrived verifies with that secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

from playwright.sync_api import Page, expect

from programs.models import WebhookDelivery
from tests.e2e.conftest import Journey
from tests.programs.webhook_receiver import Receiver, receiver
from tests.worker import wait_for

__all__ = ["receiver"]


def test_a_program_admin_adds_an_endpoint_and_sends_a_test_event(
    demo: None, celery_worker: Any, journey: Journey, page: Page, receiver: Receiver
) -> None:
    # given GAEL's program admin in the admin
    journey.login(page, "admin@gael.demo")
    page.goto("/admin/programs/webhookendpoint/add/")
    # when they add an endpoint for badges issued and revoked
    page.get_by_label("URL").fill(receiver.url())
    page.get_by_label("Description").fill("CRM")
    page.get_by_label("Badge issued").check()
    page.get_by_label("Badge revoked").check()
    journey.step(page, "add endpoint")
    page.locator("input[name='_save']").click()
    # then the signing secret is shown once
    expect(page.get_by_text("shown this once")).to_be_visible()
    secret = page.get_by_label("Signing secret").input_value()
    assert secret.startswith("whsec_")
    journey.step(page, "secret shown once")

    # when they open the endpoint and send a test event
    page.get_by_role("link", name="Done").click()
    journey.step(page, "endpoint")
    page.get_by_role("button", name=re.compile("Send test event", re.I)).click()
    expect(page.locator(".messagelist")).to_contain_text("test event")
    # then a real worker delivers it, and the log shows the answer
    wait_for(lambda: WebhookDelivery.objects.filter(state="delivered").first(), what="the delivery")
    page.reload()
    expect(page.get_by_text("Delivered", exact=True)).to_be_visible()
    expect(page.locator("#content-main")).to_contain_text("200")
    journey.step(page, "delivery log")
    # and the request verifies with the secret they copied
    [request] = receiver.requests
    fields = dict(p.split("=", 1) for p in request.headers["Tessera-Signature"].split(","))
    expected = hmac.new(
        secret.encode(), f"{fields['t']}.".encode() + request.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(expected, fields["v1"])
    assert json.loads(request.body)["type"] == "webhook.test"

    # and the list of endpoints names it
    page.goto("/admin/programs/webhookendpoint/")
    expect(page.get_by_text(receiver.url())).to_be_visible()
    journey.step(page, "endpoints")
