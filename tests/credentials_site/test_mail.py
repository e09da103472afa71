"""The site's e-mails are HTML with a plain-text part, in the organization's name and colour,
and their subjects carry no "[<host>]" prefix (credentials_site/mail.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from credentials_site.mail import mail_build
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def html_of(message: Any) -> str:
    """The HTML part of a message (asserting it has exactly one)."""
    parts = [content for content, mimetype in message.alternatives if mimetype == "text/html"]
    assert len(parts) == 1, message.alternatives
    return str(parts[0])


class TestLayout:
    def test_a_message_has_both_parts_branded_with_the_organization(self) -> None:
        # given an organization with its own colour, and a name that needs escaping in HTML
        org = OrganizationFactory(name="Riverside Schools & Co", brand_colour="#7a1f5c")
        # when an e-mail about it is built
        message = mail_build(
            template="join_approved",
            subject="You are now a\nRiverside member",
            to=["ana@example.org"],
            context={"link": "http://testserver/o/x/", "contact": ""},
            organization=org,
        )
        # then the text part reads plainly, the HTML part names it and wears its colour
        assert message.body.startswith("Riverside Schools & Co approved your request")
        html = html_of(message)
        assert "Riverside Schools &amp; Co" in html
        assert "#7a1f5c" in html
        assert "<html" in html and "Apply now" in html
        # and the subject is one line
        assert message.subject == "You are now a Riverside member"


class TestAccountMail:
    def test_the_sign_up_confirmation_is_html_with_a_proper_subject(self, client: Client) -> None:
        # when someone signs up
        client.post(
            "/accounts/signup/",
            {
                "full_name": "Maria Lopez",
                "email": "maria@school.example",
                "password1": "a-long passphrase 2026",
                "password2": "a-long passphrase 2026",
            },
        )
        # then the confirmation e-mail says Tessera, not the host, and has both parts
        [message] = mail.outbox
        assert message.subject.startswith("Tessera: ")
        assert "[" not in message.subject and "127.0.0.1" not in message.subject
        assert "/accounts/confirm-email/" in message.body
        html = html_of(message)
        assert "Confirm this address" in html and "/accounts/confirm-email/" in html

    def test_the_password_reset_is_html_with_a_proper_subject(self, client: Client) -> None:
        user = UserFactory()
        client.post("/accounts/password/reset/", {"email": user.email})
        [message] = mail.outbox
        assert message.subject.startswith("Tessera: ")
        assert "/accounts/password/reset/key/" in message.body
        assert "Choose a new password" in html_of(message)
