"""An organization's possessive reads correctly: "GAEL's", "Riverside Schools'"."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.template import Context, Template

from credentials_site.celery import app
from programs.services import member_upsert
from programs.templatetags.wording import possessive
from tests.factories import OrganizationFactory
from tests.programs.test_services_members import row


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("GAEL", "GAEL's"),
        ("Riverside Schools", "Riverside Schools'"),
        ("NASSP", "NASSP's"),
        ("ASCS", "ASCS's"),
        ("Teachers'", "Teachers'"),
        ("St Mary's", "St Mary's"),
        ("  Lincoln Unified ", "Lincoln Unified's"),
        ("", ""),
    ],
)
def test_possessive(name: str, expected: str) -> None:
    assert possessive(name) == expected


def test_the_filter_escapes_the_name_in_html() -> None:
    rendered = Template("{% load wording %}{{ name|possessive }}").render(
        Context({"name": "Parents & Teachers"})
    )
    assert rendered == "Parents &amp; Teachers&#x27;"


@pytest.mark.django_db
def test_an_invitation_from_a_name_ending_in_s_reads_correctly(
    django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an organization whose name ends in s (tasks run at once, as a worker would)
    monkeypatch.setattr(app.conf, "task_always_eager", True)
    org = OrganizationFactory(name="Riverside Schools")
    # when it adds a member without an account
    with django_capture_on_commit_callbacks(execute=True):
        member_upsert(organization=org, row=row(), actor=None)
    # then the invitation says "Riverside Schools' micro-credentials"
    [message] = mail.outbox
    assert "earn Riverside Schools' micro-credentials" in message.body
    assert "Schools's" not in message.body
