"""Single sign-on in the admin and on the organization's pages: the provider's settings, its
secret stored encrypted and never shown, bad input refused with a message, another
organization's provider not found; the "Sign in with …" buttons where they belong."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from programs import secrets
from programs.models import Organization, SignOnProvider, StaffRole, User
from tests.factories import OrganizationFactory, StaffRoleFactory, UserFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/programs/signonprovider/add/"
SECRET = "s3cr3t-from-the-identity-provider"


@pytest.fixture
def riverside() -> Organization:
    return OrganizationFactory(slug="riverside", name="Riverside Unified", short_name="RUSD")


@pytest.fixture
def program_admin(riverside: Organization) -> User:
    user = UserFactory(email="admin@riverside.example.org")
    StaffRoleFactory(organization=riverside, user=user, role=StaffRole.Role.PROGRAM_ADMIN)
    return user


def admin_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def oidc_form(**changes: str) -> dict[str, Any]:
    return {
        "protocol": "oidc",
        "name": "Riverside Google Workspace",
        "is_active": "on",
        "server_url": "https://accounts.google.com",
        "client_id": "riverside-client",
        "client_secret": SECRET,
        "email_domains": "riverside.k12.ca.us",
        "membership_rule": "domain",
        "membership_domains": "riverside.k12.ca.us",
        **changes,
    }


def errors_of(response: Any) -> str:
    return response.content.decode()


class TestAdmin:
    def test_a_program_admin_configures_oidc_and_the_secret_is_stored_encrypted(
        self, program_admin: User, riverside: Organization
    ) -> None:
        client = admin_client(program_admin)
        # when
        response = client.post(ADD, oidc_form())
        # then
        assert response.status_code == 302, errors_of(response)
        sign_on = SignOnProvider.objects.get()
        assert sign_on.organization == riverside
        assert SECRET not in sign_on.client_secret_encrypted
        assert sign_on.client_secret == SECRET
        # and the change page never shows it, but says one is stored and where to point the IdP
        page = client.get(f"/admin/programs/signonprovider/{sign_on.pk}/change/").content.decode()
        assert SECRET not in page and sign_on.client_secret_encrypted not in page
        assert "yes (encrypted)" in page
        assert "/accounts/oidc/oidc-riverside/login/callback/" in page

    def test_saving_without_a_secret_keeps_the_stored_one(
        self, program_admin: User, riverside: Organization
    ) -> None:
        client = admin_client(program_admin)
        client.post(ADD, oidc_form())
        sign_on = SignOnProvider.objects.get()
        response = client.post(
            f"/admin/programs/signonprovider/{sign_on.pk}/change/",
            oidc_form(client_secret="", name="Riverside staff"),
        )
        assert response.status_code == 302, errors_of(response)
        sign_on.refresh_from_db()
        assert (sign_on.name, sign_on.client_secret) == ("Riverside staff", SECRET)

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"client_secret": ""}, "OpenID Connect needs the client secret"),
            ({"server_url": ""}, "OpenID Connect needs this."),
            ({"membership_domains": ""}, "Name at least one domain whose people are members."),
            ({"membership_domains": "@riverside.k12.ca.us"}, "is not an e-mail domain"),
            (
                {"membership_rule": "claim", "membership_claim": "groups"},
                "Give the value, e.g. gael-members.",
            ),
            (
                {"email_authentication": "on", "email_domains": ""},
                "only those addresses may reach existing accounts",
            ),
            (
                {"protocol": "saml", "server_url": "", "idp_entity_id": "https://idp.example"},
                "Give the signing certificate, or a metadata URL.",
            ),
        ],
    )
    def test_bad_input_is_refused_with_a_message_and_nothing_saved(
        self, program_admin: User, riverside: Organization, changes: dict[str, str], message: str
    ) -> None:
        response = admin_client(program_admin).post(ADD, oidc_form(**changes))
        assert response.status_code == 200
        assert message in errors_of(response)
        assert not SignOnProvider.objects.exists()

    def test_another_organizations_provider_is_not_found(
        self, program_admin: User, riverside: Organization
    ) -> None:
        other = OrganizationFactory(slug="elsewhere")
        theirs = SignOnProvider(
            organization=other,
            protocol="oidc",
            name="Theirs",
            server_url="https://x.example",
            client_id="theirs",
        )
        theirs.client_secret = "theirs"
        theirs.save()
        client = admin_client(program_admin)
        assert client.get(f"/admin/programs/signonprovider/{theirs.pk}/change/").status_code == 404
        listing = client.get("/admin/programs/signonprovider/").content.decode()
        assert "Theirs" not in listing


class TestSecrets:
    def test_a_secret_no_key_reads_is_said_in_the_admin_and_its_sign_in_is_not_found(
        self, program_admin: User, riverside: Organization, settings: Any
    ) -> None:
        # given a provider whose secret was stored under a key since replaced
        sign_on = provider(riverside, "Riverside Google Workspace")
        settings.SSO_SECRET_KEYS = ["a new secret for the providers' secrets " + "x" * 8]
        # then the admin says so, and its sign-in is not found rather than failing
        page = admin_client(program_admin).get(
            f"/admin/programs/signonprovider/{sign_on.pk}/change/"
        )
        assert "unreadable: This secret was stored under another key" in page.content.decode()
        assert Client().post("/accounts/oidc/oidc-riverside/login/").status_code == 404

    def test_a_secret_stored_under_another_key_is_unreadable_not_wrong(self, settings: Any) -> None:
        token = secrets.secret_encrypt(SECRET)
        settings.SSO_SECRET_KEYS = ["another secret for the providers' secrets " + "x" * 8]
        with pytest.raises(secrets.SecretUnreadable):
            secrets.secret_decrypt(token)

    def test_keys_rotate_the_first_encrypts_every_one_decrypts(self, settings: Any) -> None:
        old, new = "the old secret " + "o" * 32, "the new secret " + "n" * 32
        settings.SSO_SECRET_KEYS = [old]
        token = secrets.secret_encrypt(SECRET)
        settings.SSO_SECRET_KEYS = [new, old]
        assert secrets.secret_decrypt(token) == SECRET
        rotated = secrets.secret_encrypt(SECRET)
        settings.SSO_SECRET_KEYS = [new]
        assert secrets.secret_decrypt(rotated) == SECRET


def provider(organization: Organization, name: str, **fields: Any) -> SignOnProvider:
    sign_on = SignOnProvider(
        organization=organization,
        protocol=fields.pop("protocol", "oidc"),
        name=name,
        server_url=fields.pop("server_url", "https://idp.example"),
        client_id=name,
        **fields,
    )
    sign_on.client_secret = "x"
    sign_on.save()
    return sign_on


class TestButtons:
    def test_the_catalog_and_the_login_page_from_it_show_the_organizations_providers(
        self, client: Client, riverside: Organization
    ) -> None:
        provider(riverside, "Riverside Google Workspace")
        provider(riverside, "Riverside old provider", is_active=False, protocol="saml")
        # (a SAML row needs no more than this to be listed; it is inactive, so it is not)
        provider(OrganizationFactory(slug="elsewhere"), "Elsewhere Entra ID")
        catalog = client.get("/o/riverside/").content.decode()
        login = client.get("/accounts/login/?next=/o/riverside/credentials/x/").content.decode()
        for page in (catalog, login):
            assert "Sign in with Riverside Google Workspace" in page
            assert 'action="/accounts/oidc/oidc-riverside/login/"' in page
            assert "old provider" not in page and "Elsewhere" not in page
        assert "Or sign in with your RUSD account:" in login

    def test_their_forms_may_go_to_the_provider_and_nowhere_else(
        self, client: Client, riverside: Organization
    ) -> None:
        # browsers apply form-action to the redirect of a form's submission: the button's POST
        # is redirected to the provider, so its origin is allowed on the pages that show it
        provider(riverside, "Riverside Google Workspace", server_url="https://idp.example/o")
        provider(
            OrganizationFactory(slug="elsewhere"), "Elsewhere", server_url="https://else.example"
        )
        for url in (
            "/o/riverside/",
            "/accounts/login/?next=/o/riverside/",
            "/accounts/oidc/oidc-riverside/login/",
        ):
            policy = client.get(url)["Content-Security-Policy"]
            assert "form-action 'self' https://idp.example;" in policy + ";", (url, policy)
            assert "else.example" not in policy
        assert "idp.example" not in client.get("/accounts/login/")["Content-Security-Policy"]

    def test_the_login_page_from_no_organization_shows_none(
        self, client: Client, riverside: Organization
    ) -> None:
        provider(riverside, "Riverside Google Workspace")
        for url in (
            "/accounts/login/",
            "/accounts/login/?next=/me/badges/",
            "/accounts/login/?next=/o/nope/",
        ):
            assert "Sign in with" not in client.get(url).content.decode()

    def test_signed_in_people_see_no_buttons(self, client: Client, riverside: Organization) -> None:
        provider(riverside, "Riverside Google Workspace")
        client.force_login(UserFactory())
        assert "Sign in with" not in client.get("/o/riverside/").content.decode()
