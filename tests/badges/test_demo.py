"""`make run`'s demo includes a badge issued through the real review and issuing path."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from badges import services
from badges.models import Badge
from submissions.models import Application

pytestmark = pytest.mark.django_db


def test_demo_badge_is_issued_and_its_verification_page_opens(client: Client) -> None:
    # given the demo data
    call_command("load_demo", stdout=StringIO())
    # when the demo approval is made and issued (twice: the command is idempotent)
    out = StringIO()
    call_command("demo_badges", "--sync", stdout=out)
    call_command("demo_badges", "--sync", stdout=StringIO())
    # then exactly one badge exists, its application is awarded, and its page says valid
    badge = Badge.objects.get(recipient__email="educator@gael.demo")
    assert Badge.objects.count() == 1
    assert Application.objects.get(pk=badge.application_id).status == "awarded"
    assert services.badge_url(badge) in out.getvalue()
    response = client.get(f"/badges/{badge.public_id}/")
    assert response.status_code == 200
    assert "Valid" in response.content.decode()
    assert badge.credential["evidence"], "the demo marked its file evidence public"
    # and the demo educator's public profile lists it; the credential names them by its
    # permanent address
    assert badge.credential["credentialSubject"]["id"].endswith(
        f"/u/id/{badge.recipient.public_id}/"
    )
    profile = client.get("/u/demo-educator/")
    assert profile.status_code == 200
    assert badge.name in profile.content.decode()
