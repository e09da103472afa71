"""Sessions end after a time without any request: 2 hours for staff (any staff role, or platform
staff), 2 weeks for an educator who ticked "Remember me", 2 hours (and the browser's end) for one
who did not. The idle clock is moved in these tests (``programs.security._now``), never slept."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from programs import security
from programs.models import StaffRole, User
from tests.factories import OrganizationFactory, StaffRoleFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # the factories' password
PAGE = "/me/profile/"  # a page only a signed-in person sees
HOUR = 60 * 60
SIGNED_OUT = "You were signed out after 2 hours without activity."


@dataclass
class Clock:
    now: float

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The clock idle sessions are measured with, moved by the test."""
    moved = Clock(now=time.time())
    monkeypatch.setattr(security, "_now", lambda: moved.now)
    return moved


def reviewer() -> User:
    user = UserFactory()
    StaffRoleFactory(organization=OrganizationFactory(), user=user, role=StaffRole.Role.REVIEWER)
    return user


def sign_in(client: Client, user: User, *, remember: bool, next_url: str = "") -> str:
    data = {"login": user.email, "password": PASSWORD}
    if remember:
        data["remember"] = "on"
    if next_url:
        data["next"] = next_url
    response = client.post("/accounts/login/", data)
    assert response.status_code == 302, response.content.decode()
    return str(response["Location"])


def signed_in(client: Client) -> bool:
    return client.get(PAGE).status_code == 200


class TestStaff:
    def test_a_reviewer_idle_past_two_hours_signs_in_again_and_comes_back(
        self, client: Client, clock: Clock
    ) -> None:
        # given a reviewer who signed in, ticking "Remember me", and opened a page
        user = reviewer()
        sign_in(client, user, remember=True)
        assert signed_in(client)
        # when they come back to it after 2 hours and a minute without a request
        clock.advance(2 * HOUR + 60)
        response = client.get(PAGE)
        # then they are signed out and asked to sign in, told why, with the way back kept
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={PAGE}"
        login_page = client.get(response["Location"]).content.decode()
        assert SIGNED_OUT in login_page
        # and after signing in they are back on the page they were on
        assert sign_in(client, user, remember=False, next_url=PAGE) == PAGE
        assert signed_in(client)

    def test_each_request_counts_as_activity(self, client: Client, clock: Clock) -> None:
        # given a reviewer who keeps using the site, a request every hour and three quarters
        sign_in(client, reviewer(), remember=False)
        assert signed_in(client)
        for _ in range(3):
            clock.advance(HOUR + 45 * 60)
            # then they stay signed in, five hours on
            assert signed_in(client)

    def test_a_program_admin_idle_in_the_admin_comes_back_through_the_admin_login(
        self, client: Client, clock: Clock
    ) -> None:
        # given a program admin signed in on the admin login, on a page of the admin
        user = UserFactory()
        StaffRoleFactory(organization=OrganizationFactory(), user=user)
        client.post("/admin/login/", {"username": user.email, "password": PASSWORD})
        page = "/admin/programs/program/"
        assert client.get(page).status_code == 200
        # when they come back after more than 2 hours
        clock.advance(2 * HOUR + 60)
        response = client.get(page)
        # then the admin's login asks them in again and brings them back
        assert response.status_code == 302
        assert response["Location"] == f"/admin/login/?next={page}"
        assert SIGNED_OUT in client.get(response["Location"]).content.decode()
        back = client.post(
            response["Location"], {"username": user.email, "password": PASSWORD, "next": page}
        )
        assert back["Location"] == page

    def test_platform_staff_time_out_as_staff(self, client: Client, clock: Clock) -> None:
        # given a platform operator with no role in any organization
        operator = UserFactory(is_staff=True)
        sign_in(client, operator, remember=True)
        assert signed_in(client)
        # when idle for 3 hours
        clock.advance(3 * HOUR)
        # then they are signed out
        assert not signed_in(client)


class TestEducators:
    def test_an_educator_who_ticked_remember_me_stays_signed_in_after_three_hours(
        self, client: Client, clock: Clock
    ) -> None:
        # given an educator who ticked "Remember me": their cookie outlives the browser
        sign_in(client, UserFactory(), remember=True)
        assert signed_in(client)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        assert cookie["max-age"] == settings.SESSION_IDLE_REMEMBERED_SECONDS
        # when they come back 3 hours later
        clock.advance(3 * HOUR)
        # then they are still signed in
        assert signed_in(client)

    def test_a_remembered_educator_idle_for_more_than_two_weeks_signs_in_again(
        self, client: Client, clock: Clock
    ) -> None:
        # given
        sign_in(client, UserFactory(), remember=True)
        assert signed_in(client)
        # when
        clock.advance(14 * 24 * HOUR + 60)
        response = client.get(PAGE)
        # then
        assert response["Location"] == f"/accounts/login/?next={PAGE}"
        assert "You were signed out after 14 days without activity." in (
            client.get(response["Location"]).content.decode()
        )

    def test_an_educator_who_did_not_tick_it_is_signed_out_after_two_hours(
        self, client: Client, clock: Clock
    ) -> None:
        # given an educator who did not tick "Remember me": their cookie ends with the browser
        sign_in(client, UserFactory(), remember=False)
        assert signed_in(client)
        assert client.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == ""
        # when idle for an hour and a half, then for 2 hours and a minute
        clock.advance(HOUR + 30 * 60)
        assert signed_in(client)
        clock.advance(2 * HOUR + 60)
        # then the second time they are signed out
        assert not signed_in(client)


class TestCost:
    def test_activity_is_written_at_most_once_a_minute(self, client: Client, clock: Clock) -> None:
        # given a reviewer who just signed in
        sign_in(client, reviewer(), remember=True)

        def page_queries() -> tuple[int, int]:
            """Session writes, and all queries, made by one page."""
            with CaptureQueriesContext(connection) as queries:
                assert signed_in(client)
            sql = [q["sql"].lstrip() for q in queries.captured_queries]
            writes = sum(
                1 for q in sql if "django_session" in q and q.startswith(("UPDATE", "INSERT"))
            )
            return writes, len(sql)

        # then their first page does not write the session (it keeps what the pages read about
        # them in the cache: programs.user_facts)
        assert page_queries()[0] == 0
        steady = page_queries()
        assert steady[0] == 0
        # nor do pages within the same minute, which cost exactly as much
        clock.advance(59)
        assert page_queries() == steady
        # once a minute has passed, one page writes it (which keeps it alive), the next does not
        clock.advance(2)
        assert page_queries()[0] == 1
        assert page_queries() == steady

    def test_an_api_call_after_the_limit_is_answered_as_to_anyone(
        self, client: Client, clock: Clock
    ) -> None:
        # given a reviewer idle past the limit whose page's script calls the API
        sign_in(client, reviewer(), remember=False)
        assert signed_in(client)
        clock.advance(2 * HOUR + 60)
        # when
        response = client.get("/api/v1/organizations/", HTTP_ACCEPT="application/json")
        # then it gets its JSON, not a login page, and the session is over
        assert response.status_code == 200 and response["Content-Type"] == "application/json"
        assert client.get(PAGE)["Location"] == f"/accounts/login/?next={PAGE}"
