"""Wrong passwords are counted by one limiter (allauth's, in Redis) whichever login page they are
typed on, ``/accounts/login/`` or ``/admin/login/``; a locked-out person is told when to try
again and nothing about whether the account exists."""

from __future__ import annotations

import hashlib
import itertools
import re

import pytest
import redis
from django.conf import settings
from django.test import Client

from programs.models import StaffRole
from tests.factories import OrganizationFactory, StaffRoleFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # the factories' password
WRONG = "not the right password"
LOCKED_5 = "Too many failed attempts. Try again in 5 minutes."
LOCKED_1 = "Too many failed attempts. Try again in 1 minute."
WRONG_ON_SITE = "The email address and/or password you specified are not correct."
WRONG_ON_ADMIN = "Please enter the correct e-mail address and password"

# Each test signs in from addresses of its own (TEST-NET-1, a string in REMOTE_ADDR only), so
# the counts it leaves in the run's Redis never reach another test.
_addresses = (f"192.0.2.{n}" for n in itertools.count(1))
_accounts = itertools.count(1)


def _client() -> Client:
    return Client(REMOTE_ADDR=next(_addresses))


def on_site(client: Client, email: str, password: str) -> str:
    response = client.post("/accounts/login/", {"login": email, "password": password})
    return response.content.decode() if response.status_code == 200 else response["Location"]


def on_admin(client: Client, email: str, password: str) -> str:
    response = client.post("/admin/login/?next=/admin/", {"username": email, "password": password})
    return response.content.decode() if response.status_code == 200 else response["Location"]


def _errors(page: str) -> list[str]:
    """The admin login form's errors as the page shows them."""
    return re.findall(r'<p class="errornote">\s*(.*?)\s*</p>', page, re.S)


@pytest.fixture
def admin_email() -> str:
    """A program admin (by role, with a confirmed address), who may use the admin."""
    user = UserFactory(email=f"locked-admin-{next(_accounts)}@example.org")
    StaffRoleFactory(
        organization=OrganizationFactory(), user=user, role=StaffRole.Role.PROGRAM_ADMIN
    )
    return user.email


class TestAdminLogin:
    def test_the_thirteenth_wrong_password_is_refused_with_when_to_try_again(
        self, admin_email: str
    ) -> None:
        # given someone trying passwords for an admin's account on the admin login
        client = _client()
        # when they type 13 wrong passwords in a row
        pages = [on_admin(client, admin_email, WRONG) for _ in range(13)]
        # then the first five are told the password is wrong, and from the sixth on, the 13th
        # included, they are told plainly when to try again, not whether the password was wrong
        assert all(WRONG_ON_ADMIN in page and LOCKED_5 not in page for page in pages[:5])
        assert all(LOCKED_5 in page and WRONG_ON_ADMIN not in page for page in pages[5:])
        # and the right password does not get in while the account is locked
        assert LOCKED_5 in on_admin(client, admin_email, PASSWORD)
        assert client.get("/admin/")["Location"].startswith("/admin/login/")

    def test_a_lockout_says_nothing_about_whether_the_account_exists(
        self, admin_email: str
    ) -> None:
        # given the same wrong passwords for an account that exists and for one that does not
        known = [on_admin(_client(), admin_email, WRONG) for _ in range(6)][-1]
        unknown = [on_admin(_client(), "nobody-here@example.org", WRONG) for _ in range(6)][-1]
        # then both are answered with the same words
        assert LOCKED_5 in known and LOCKED_5 in unknown
        assert _errors(known) == _errors(unknown) == [LOCKED_5]

    def test_many_accounts_tried_from_one_address_lock_that_address_for_a_minute(
        self, admin_email: str
    ) -> None:
        # given one address trying one wrong password each for ten different accounts
        client = _client()
        pages = [on_admin(client, f"guess{n}@example.org", WRONG) for n in range(10)]
        assert all(WRONG_ON_ADMIN in page for page in pages)
        # when it tries an eleventh account, on either page
        # then it is told to wait a minute
        assert LOCKED_1 in on_admin(client, admin_email, WRONG)
        assert LOCKED_1 in on_site(client, "guess11@example.org", WRONG)
        # and another address is not held up by it
        assert on_admin(_client(), admin_email, PASSWORD) == "/admin/"

    def test_a_right_password_between_wrong_ones_does_not_reset_the_count(
        self, admin_email: str
    ) -> None:
        # given four wrong passwords, then the right one (the admin signs in and out)
        client = _client()
        for _ in range(4):
            on_admin(client, admin_email, WRONG)
        assert on_admin(client, admin_email, PASSWORD) == "/admin/"
        client.post("/admin/logout/")
        # when a fifth and a sixth wrong password follow
        fifth, sixth = on_admin(client, admin_email, WRONG), on_admin(client, admin_email, WRONG)
        # then the sixth is refused: a success only takes back its own attempt
        assert WRONG_ON_ADMIN in fifth
        assert LOCKED_5 in sixth

    def test_sign_in_posts_from_one_address_are_limited_as_on_the_site(
        self, admin_email: str
    ) -> None:
        # given one address posting the admin login form 30 times in a minute
        client = _client()
        for n in range(30):
            assert (
                client.post("/admin/login/", {"username": f"u{n}", "password": WRONG}).status_code
                == 200
            )
        # when it posts a 31st time
        response = client.post("/admin/login/", {"username": admin_email, "password": PASSWORD})
        # then it is answered "too many requests", told to try again in a minute
        assert response.status_code == 429
        assert "Try again in a minute." in response.content.decode()


class TestOneLimiterForBothPages:
    def test_wrong_passwords_count_the_same_on_either_page(self, admin_email: str) -> None:
        # given three wrong passwords on the site's login and two on the admin's
        client = _client()
        site = [on_site(client, admin_email, WRONG) for _ in range(3)]
        admin = [on_admin(client, admin_email, WRONG) for _ in range(2)]
        assert all(WRONG_ON_SITE in page for page in site)
        assert all(WRONG_ON_ADMIN in page for page in admin)
        # when a sixth attempt is made, on either page, even with the right password
        # then both refuse and say when to try again
        assert LOCKED_5 in on_site(client, admin_email, WRONG)
        assert LOCKED_5 in on_admin(client, admin_email, PASSWORD)
        assert LOCKED_5 in on_site(client, admin_email, PASSWORD)
        assert client.get("/accounts/email/").status_code == 302  # not signed in

    def test_an_account_locked_on_the_admin_is_locked_on_the_site_from_another_address(
        self, admin_email: str
    ) -> None:
        # given five wrong passwords for an account on the admin login
        for _ in range(5):
            on_admin(_client(), admin_email, WRONG)
        # when the account is tried from a fresh address on the site's login
        page = on_site(_client(), admin_email.upper(), PASSWORD)
        # then it is refused too: the count is the account's, in whatever case it is typed
        assert LOCKED_5 in page

    def test_the_counts_are_kept_in_the_shared_redis(self, admin_email: str) -> None:
        # given the site's cache is the Redis every web process uses
        assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
        address = next(_addresses)
        # when a wrong password is typed on the admin login
        on_admin(Client(REMOTE_ADDR=address), admin_email, WRONG)
        # then another connection to that Redis (as another web process opens) finds the failure
        # counted against the address and against the account (allauth's keys; the account's
        # is the hash of host and e-mail)
        other = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
        keys = {k.decode() for k in other.scan_iter("*allauth:rl:allauth.account:login_failed:*")}
        account = hashlib.sha256(f"testserver:{admin_email}".encode()).hexdigest()
        assert any(key.endswith(f":ip:{address}") for key in keys), keys
        assert any(key.endswith(f"/key:{account}") for key in keys), keys
