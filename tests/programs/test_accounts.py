"""Educators sign up with e-mail and password, verify the address, log in and reset the password
(django-allauth); one account serves every organization."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from programs.models import User
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory, make_credential

pytestmark = pytest.mark.django_db

PASSWORD = "a-long passphrase 2026"


def _link(message: str) -> str:
    match = re.search(r"https?://[^/\s]+(/\S+)", message)
    assert match, message
    return match.group(1)


def test_signup_requires_email_verification_then_logs_in(client: Client) -> None:
    # given a visitor signing up
    response = client.post(
        "/accounts/signup/",
        {
            "full_name": "Maria Lopez",
            "email": "Teacher@School.example",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    # then they are asked to confirm their address and are not logged in yet
    assert response.status_code == 302
    assert "/accounts/confirm-email/" in response["Location"]
    user = User.objects.get(email__iexact="teacher@school.example")
    assert len(mail.outbox) == 1
    assert client.get("/accounts/email/").status_code == 302  # not logged in

    # when they follow the link in the e-mail and confirm
    confirm_path = _link(mail.outbox[0].body)
    assert client.get(confirm_path).status_code == 200
    response = client.post(confirm_path)
    # then the address is verified and they are logged in
    assert response.status_code == 302
    assert user.emailaddress_set.get().verified
    assert client.get("/accounts/email/").status_code == 200
    # and their badges will carry the name they gave
    user.refresh_from_db()
    assert (user.full_name, user.name_for_badges) == ("Maria Lopez", "Maria Lopez")


def test_signup_with_a_taken_email_creates_nothing_and_tells_the_owner(client: Client) -> None:
    # given an existing account
    owner_name = UserFactory(email="taken@example.org").full_name
    # when someone signs up with the same address
    response = client.post(
        "/accounts/signup/",
        {
            "full_name": "Someone Else",
            "email": "taken@example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    # then the page does not reveal that the account exists (no enumeration), no second
    # account is made, and the owner is told by e-mail
    assert response.status_code == 302
    assert User.objects.filter(email__iexact="taken@example.org").count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["taken@example.org"]
    assert "already" in mail.outbox[0].body.lower()
    # and the owner's name is not touched by the stranger's form
    assert User.objects.get(email__iexact="taken@example.org").full_name == owner_name


class TestTheNameOnBadges:
    """Sign-up asks for the name the educator's badges will carry, first, and requires it."""

    def test_the_form_asks_for_it_first_with_a_label_that_says_what_it_is_for(
        self, client: Client
    ) -> None:
        html = client.get("/accounts/signup/").content.decode()
        label = '<label for="id_full_name">Your name as it will appear on your badges'
        assert label in html
        assert html.index(label) < html.index('<label for="id_email">')
        field = re.search(r"<input[^>]*name=\"full_name\"[^>]*>", html)
        assert field, html
        assert "required" in field.group(0) and 'autocomplete="name"' in field.group(0)

    @pytest.mark.parametrize("blank", ["", "    ", None])
    def test_a_blank_name_is_refused_beside_its_field_and_creates_nothing(
        self, client: Client, blank: str | None
    ) -> None:
        # when a visitor signs up without a name
        data = {"email": "noname@example.org", "password1": PASSWORD, "password2": PASSWORD}
        if blank is not None:
            data["full_name"] = blank
        response = client.post("/accounts/signup/", data)
        # then the form comes back with the error on the name field, and nothing is made
        assert response.status_code == 200
        html = response.content.decode()
        assert re.search(
            r'<ul class="errorlist" id="id_full_name_error"><li>Enter your name: it is the name '
            r"your badges will carry.</li></ul>",
            html,
        ), html
        assert 'aria-describedby="id_full_name_helptext id_full_name_error"' in html
        assert not User.objects.filter(email="noname@example.org").exists()
        assert mail.outbox == []

    def test_the_name_is_tidied(self, client: Client) -> None:
        client.post(
            "/accounts/signup/",
            {
                "full_name": "  Maria \n  Lopez ",
                "email": "tidy@example.org",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )
        assert User.objects.get(email="tidy@example.org").full_name == "Maria Lopez"


def test_weak_password_is_refused_and_creates_nothing(client: Client) -> None:
    response = client.post(
        "/accounts/signup/",
        {
            "full_name": "Ada Park",
            "email": "new@example.org",
            "password1": "12345678",
            "password2": "12345678",
        },
    )
    assert response.status_code == 200
    assert (
        "too common" in response.content.decode() or "entirely numeric" in response.content.decode()
    )
    assert not User.objects.filter(email="new@example.org").exists()


def test_login_and_password_reset(client: Client) -> None:
    UserFactory(email="educator@example.org")
    assert (
        client.post(
            "/accounts/login/", {"login": "educator@example.org", "password": "wrong"}
        ).status_code
        == 200
    )
    response = client.post(
        "/accounts/login/",
        {"login": "educator@example.org", "password": "correct horse battery staple"},
    )
    assert response.status_code == 302
    client.post("/accounts/logout/")

    client.post("/accounts/password/reset/", {"email": "educator@example.org"})
    assert len(mail.outbox) == 1
    reset_path = _link(mail.outbox[0].body)
    response = client.get(reset_path, follow=True)
    form_path = response.redirect_chain[-1][0] if response.redirect_chain else reset_path
    response = client.post(form_path, {"password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    assert client.login(email="educator@example.org", password=PASSWORD)


def test_one_account_across_organizations(client: Client) -> None:
    # given one educator who is a member of one organization and not of another
    gael = OrganizationFactory(short_name="GAEL")
    district = OrganizationFactory(short_name="RUSD")
    user = UserFactory()
    MembershipFactory(organization=gael, user=user, member_until=None)
    gael_credential = make_credential(gael)
    district_credential = make_credential(district)
    client.force_login(user)
    # when they open both catalogs' credentials with the same session
    at_gael = client.get(f"/o/{gael.slug}/credentials/{gael_credential.credential.slug}/")
    at_district = client.get(
        f"/o/{district.slug}/credentials/{district_credential.credential.slug}/"
    )
    # then both know who they are, and only GAEL shows a membership
    assert user.email in at_gael.content.decode() and user.email in at_district.content.decode()
    assert "GAEL Member" in at_gael.content.decode()
    assert "RUSD Member" not in at_district.content.decode()


# --- Password rules: 12 characters at least, not common, not like the name or the address -------


def _signup(client: Client, password: str, **fields: str) -> str:
    data = {
        "full_name": "Maria Lopez",
        "email": "maria.lopez@school.example",
        "password1": password,
        "password2": password,
        **fields,
    }
    response = client.post("/accounts/signup/", data)
    return response.content.decode() if response.status_code == 200 else ""


class TestPasswordRules:
    @pytest.mark.parametrize(
        ("password", "message"),
        [
            ("Maple-tree7", "This password is too short. It must contain at least 12 characters."),
            ("qwertyqwerty", "This password is too common."),
            ("MariaLopez2026", "The password is too similar to the full name."),
            ("maria.lopez.school", "The password is too similar to the e-mail address."),
        ],
    )
    def test_a_weak_password_is_refused_beside_its_field_and_creates_nothing(
        self, client: Client, password: str, message: str
    ) -> None:
        # when someone signs up with it
        page = _signup(client, password)
        # then the password field says what is wrong, and no account is made
        assert f'<ul class="errorlist" id="id_password1_error"><li>{message}</li>' in page
        assert not User.objects.filter(email="maria.lopez@school.example").exists()
        assert not mail.outbox

    def test_a_long_enough_password_like_the_demo_ones_is_accepted(self, client: Client) -> None:
        # when someone signs up with a 17-character password shaped like the demo ones
        response = client.post(
            "/accounts/signup/",
            {
                "full_name": "Maria Lopez",
                "email": "maria.lopez@school.example",
                "password1": "tessera-demo-2026",
                "password2": "tessera-demo-2026",
            },
        )
        # then the account is made and the address must be confirmed
        assert response.status_code == 302
        assert User.objects.filter(email="maria.lopez@school.example").exists()

    def test_a_password_change_to_a_short_one_is_refused(self, client: Client) -> None:
        # given a signed-in educator
        user = UserFactory(email="changer@example.org")
        client.force_login(user)
        # when they change their password to an 11-character one
        response = client.post(
            "/accounts/password/change/",
            {
                "oldpassword": "correct horse battery staple",
                "password1": "Maple-tree7",
                "password2": "Maple-tree7",
            },
        )
        # then it is refused beside the field and the old password still works
        assert response.status_code == 200
        assert "It must contain at least 12 characters." in response.content.decode()
        user.refresh_from_db()
        assert user.check_password("correct horse battery staple")

    def test_a_reset_to_a_common_password_is_refused(self, client: Client) -> None:
        # given an educator who asked for a reset link
        user = UserFactory(email="forgetful@example.org")
        client.post("/accounts/password/reset/", {"email": "forgetful@example.org"})
        reset_path = _link(mail.outbox[0].body)
        response = client.get(reset_path, follow=True)
        form_path = response.redirect_chain[-1][0] if response.redirect_chain else reset_path
        # when they choose a common password
        response = client.post(
            form_path, {"password1": "qwerty123456", "password2": "qwerty123456"}
        )
        # then it is refused and nothing changed
        assert response.status_code == 200
        assert "This password is too common." in response.content.decode()
        user.refresh_from_db()
        assert user.check_password("correct horse battery staple")
