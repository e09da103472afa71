"""One account for a career: an educator adds a personal address (allauth's e-mail management,
/accounts/email/), makes it primary and removes the school one; their applications, badges and
public profile stay, and the badges issued to the old address still verify."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse

from badges import documents
from badges.models import BackpackProfile
from programs.models import Organization, User
from submissions.models import Application
from tests.badges.test_views_backpack import body, earn, logged_in
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

SCHOOL = "ines.ortega@riverside.k12.ca.us"
PERSONAL = "ines.ortega@fastmail.com"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def educator() -> User:
    return UserFactory(email=SCHOOL, full_name="Inés Ortega")


@pytest.fixture
def riverside() -> Organization:
    return OrganizationFactory(name="Riverside Unified", slug="riverside", short_name="RUSD")


def move_to_personal_address(client: Client, personal: str = PERSONAL) -> None:
    """What the educator does on /accounts/email/: add, confirm, make primary, remove. (Each
    test adds its own address: allauth limits confirmation e-mails per address, in Redis.)"""
    page = client.get("/accounts/email/")
    assert page.status_code == 200 and SCHOOL in body(page)
    added = client.post("/accounts/email/", {"email": personal, "action_add": ""})
    assert added.status_code == 302
    (confirmation,) = [m for m in mail.outbox if m.to == [personal]]
    link = re.search(r"/accounts/confirm-email/[^/\s]+/", confirmation.body)
    assert link is not None
    assert client.post(link.group(0)).status_code == 302
    made_primary = client.post("/accounts/email/", {"email": personal, "action_primary": ""})
    assert made_primary.status_code == 302
    removed = client.post("/accounts/email/", {"email": SCHOOL, "action_remove": ""})
    assert removed.status_code == 302


class TestOneAccountForACareer:
    def test_the_backpack_links_to_the_addresses(self, educator: User) -> None:
        page = body(logged_in(educator).get(reverse("badges:backpack")))
        assert 'href="/accounts/email/">Add a personal e-mail address</a>' in page

    def test_moving_to_a_personal_address_keeps_applications_badges_and_profile(
        self, educator: User, riverside: Organization
    ) -> None:
        # given a badge earned at the school address, on a public profile
        badge = earn(educator, riverside, title="Crucial Conversations")
        BackpackProfile.objects.create(user=educator, handle="ines-ortega", is_public=True)
        client = logged_in(educator)
        # when she adds her personal address, makes it primary and removes the school one
        move_to_personal_address(client)
        # then the account is the same one, known by the personal address only
        educator.refresh_from_db()
        assert educator.email == PERSONAL
        assert list(EmailAddress.objects.filter(user=educator).values_list("email", "primary")) == [
            (PERSONAL, True)
        ]
        assert Application.objects.get().educator_id == educator.pk
        # and her badge is still hers: on My badges and on her public profile
        assert "Crucial Conversations" in body(client.get(reverse("badges:backpack")))
        assert "Crucial Conversations" in body(Client().get("/u/ines-ortega/"))
        # and it still verifies, for anyone, carrying the address it was issued to (hashed)
        check = Client().get(reverse("badges:check", args=[badge.public_id])).json()
        assert check["verified"] is True, check
        identity = documents.subject_identity(badge.credential, "emailAddress")
        assert identity is not None
        assert identity["identityHash"] == documents.identity_hash(SCHOOL, identity["salt"])

    def test_she_signs_in_with_the_new_address_and_no_longer_with_the_old(
        self, educator: User, riverside: Organization
    ) -> None:
        personal = "ines@posteo.net"
        move_to_personal_address(logged_in(educator), personal)
        old, new = Client(), Client()
        old.post("/accounts/login/", {"login": SCHOOL, "password": PASSWORD})
        new.post("/accounts/login/", {"login": personal, "password": PASSWORD})
        assert old.get(reverse("badges:backpack")).status_code == 302  # to the login page
        assert new.get(reverse("badges:backpack")).status_code == 200
