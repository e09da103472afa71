"""Single sign-on through real identity providers started by the suite (tests/sso_idp): an
OpenID Connect provider (django-oauth-toolkit) and a SAML 2.0 one (pysaml2), each in its own
process, driven by a requests session as a browser would be."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.core import mail
from django.core.cache import cache
from pytest_django.live_server_helper import LiveServer

from programs.models import AuditEvent, Membership, Organization, SignOnProvider, User
from tests.factories import OrganizationFactory, UserFactory
from tests.sso_idp.fixtures import Browser, oidc_provider, person, saml_provider
from tests.sso_idp.launch import IdentityProvider

pytestmark = pytest.mark.django_db(transaction=True)

Rule = SignOnProvider.MembershipRule


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    """allauth limits the e-mails it sends per address (in Redis, which outlives a test): each
    test starts with none sent."""
    cache.clear()


@pytest.fixture
def riverside() -> Organization:
    return OrganizationFactory(slug="riverside", name="Riverside Unified", short_name="RUSD")


@pytest.fixture
def gael() -> Organization:
    return OrganizationFactory(slug="gael", name="GAEL", short_name="GAEL")


def sign_in_from_catalog(
    live_server: LiveServer, organization: Organization, button: str, email: str
) -> Browser:
    browser = Browser(live_server.url)
    browser.get(f"/o/{organization.slug}/")
    browser.submit(f"Sign in with {button}")
    browser.sign_in_at_provider(email)
    return browser


class TestOpenIDConnect:
    def test_first_sign_in_makes_the_account_and_the_membership_by_domain(
        self, live_server: LiveServer, identity_provider: IdentityProvider, riverside: Organization
    ) -> None:
        # given Riverside's provider, whose staff (@riverside.k12.ca.us) are members
        oidc_provider(
            riverside,
            identity_provider,
            name="Riverside Google Workspace",
            membership_rule=Rule.DOMAIN,
            membership_domains=["riverside.k12.ca.us"],
        )
        identity_provider.set_people({"ana@riverside.k12.ca.us": person("ana@riverside.k12.ca.us")})
        # when Ana signs in from Riverside's catalog
        browser = sign_in_from_catalog(
            live_server, riverside, "Riverside Google Workspace", "ana@riverside.k12.ca.us"
        )
        # then she is back on the catalog, signed in, with her name and a verified address
        assert browser.page is not None and browser.page.url == f"{live_server.url}/o/riverside/"
        assert browser.signed_in_email() == "ana@riverside.k12.ca.us"
        ana = User.objects.get(email="ana@riverside.k12.ca.us")
        assert ana.full_name == "Ana Ruiz"
        assert EmailAddress.objects.get(user=ana).verified
        assert SocialAccount.objects.get(user=ana).provider == "oidc-riverside"
        # and a member of Riverside, recorded
        membership = Membership.objects.get(user=ana)
        assert membership.organization == riverside and membership.is_current()
        assert AuditEvent.objects.filter(
            organization=riverside, action="membership.created", actor=ana, data__source="sso"
        ).exists()
        assert "RUSD Member" in browser.get("/o/riverside/").text

    def test_membership_by_claim_only_for_those_holding_its_value(
        self, live_server: LiveServer, identity_provider: IdentityProvider, gael: Organization
    ) -> None:
        # given GAEL's provider, whose group gael-members are members
        oidc_provider(
            gael,
            identity_provider,
            name="GAEL",
            membership_rule=Rule.CLAIM,
            membership_claim="groups",
            membership_claim_value="gael-members",
        )
        identity_provider.set_people(
            {
                "member@school.org": person("member@school.org", groups=["staff", "gael-members"]),
                "guest@school.org": person("guest@school.org", groups=["staff"]),
            }
        )
        # when both sign in
        member = sign_in_from_catalog(live_server, gael, "GAEL", "member@school.org")
        guest = sign_in_from_catalog(live_server, gael, "GAEL", "guest@school.org")
        # then both are signed in, and only the one in the group is a member
        assert member.signed_in_email() == "member@school.org"
        assert guest.signed_in_email() == "guest@school.org"
        assert list(Membership.objects.values_list("user__email", flat=True)) == [
            "member@school.org"
        ]

    def test_a_second_sign_in_reaches_the_same_account_and_keeps_a_lapsed_membership(
        self, live_server: LiveServer, identity_provider: IdentityProvider, riverside: Organization
    ) -> None:
        oidc_provider(
            riverside,
            identity_provider,
            membership_rule=Rule.DOMAIN,
            membership_domains=["riverside.k12.ca.us"],
        )
        identity_provider.set_people({"ana@riverside.k12.ca.us": person("ana@riverside.k12.ca.us")})
        sign_in_from_catalog(live_server, riverside, "RUSD accounts", "ana@riverside.k12.ca.us")
        Membership.objects.update(status=Membership.Status.LAPSED)
        # when she signs in again
        again = sign_in_from_catalog(
            live_server, riverside, "RUSD accounts", "ana@riverside.k12.ca.us"
        )
        # then the same one account, and the admin's lapse stands
        assert again.signed_in_email() == "ana@riverside.k12.ca.us"
        assert User.objects.filter(email="ana@riverside.k12.ca.us").count() == 1
        assert Membership.objects.get().status == Membership.Status.LAPSED


class TestSAML:
    def test_first_sign_in_makes_the_account_and_the_membership_by_domain(
        self, live_server: LiveServer, identity_provider: IdentityProvider, riverside: Organization
    ) -> None:
        # given Riverside's SAML provider, the authority for its domain
        saml_provider(
            riverside,
            identity_provider,
            name="Riverside ClassLink",
            email_domains=["riverside.k12.ca.us"],
            membership_rule=Rule.DOMAIN,
            membership_domains=["riverside.k12.ca.us"],
        )
        identity_provider.set_people(
            {"ben@riverside.k12.ca.us": person("ben@riverside.k12.ca.us", name="Ben Okafor")}
        )
        # when Ben signs in from the catalog
        browser = sign_in_from_catalog(
            live_server, riverside, "Riverside ClassLink", "ben@riverside.k12.ca.us"
        )
        # then
        assert browser.page is not None and browser.page.url == f"{live_server.url}/o/riverside/"
        assert browser.signed_in_email() == "ben@riverside.k12.ca.us"
        ben = User.objects.get(email="ben@riverside.k12.ca.us")
        assert ben.full_name == "Ben Okafor"
        assert EmailAddress.objects.get(user=ben).verified
        assert SocialAccount.objects.get(user=ben).provider == "saml-riverside"
        assert Membership.objects.get(user=ben).organization == riverside

    def test_the_idp_configured_by_its_metadata_url(
        self, live_server: LiveServer, identity_provider: IdentityProvider, riverside: Organization
    ) -> None:
        # given Riverside's SAML provider given by its metadata address alone
        saml_provider(
            riverside,
            identity_provider,
            name="Riverside ClassLink",
            idp_sso_url="",
            idp_x509_cert="",
            idp_metadata_url=identity_provider.saml_entity_id,
            email_domains=["riverside.k12.ca.us"],
        )
        identity_provider.set_people({"ben@riverside.k12.ca.us": person("ben@riverside.k12.ca.us")})
        # when Ben signs in, then he is in
        browser = sign_in_from_catalog(
            live_server, riverside, "Riverside ClassLink", "ben@riverside.k12.ca.us"
        )
        assert browser.signed_in_email() == "ben@riverside.k12.ca.us"

    def test_membership_by_attribute(
        self, live_server: LiveServer, identity_provider: IdentityProvider, gael: Organization
    ) -> None:
        saml_provider(
            gael,
            identity_provider,
            email_domains=["school.org"],
            membership_rule=Rule.CLAIM,
            membership_claim="urn:oid:1.3.6.1.4.1.5923.1.1.1.1",  # eduPersonAffiliation
            membership_claim_value="gael-members",
        )
        identity_provider.set_people(
            {
                "member@school.org": person("member@school.org", groups=["gael-members"]),
                "guest@school.org": person("guest@school.org", groups=["staff"]),
            }
        )
        sign_in_from_catalog(live_server, gael, "GAEL SAML", "member@school.org")
        sign_in_from_catalog(live_server, gael, "GAEL SAML", "guest@school.org")
        assert list(Membership.objects.values_list("user__email", flat=True)) == [
            "member@school.org"
        ]


class TestNoTakeover:
    """An address already on an account reaches it only when the provider verified it, the
    organization trusts the provider by e-mail, and the address is in its domains."""

    @pytest.fixture
    def existing(self) -> User:
        user = UserFactory(email="ana@riverside.k12.ca.us", full_name="Ana Ruiz")
        return user

    def test_a_trusted_verified_address_reaches_the_existing_account(
        self,
        live_server: LiveServer,
        identity_provider: IdentityProvider,
        riverside: Organization,
        existing: User,
    ) -> None:
        oidc_provider(
            riverside,
            identity_provider,
            email_domains=["riverside.k12.ca.us"],
            email_authentication=True,
        )
        identity_provider.set_people({"ana@riverside.k12.ca.us": person("ana@riverside.k12.ca.us")})
        browser = sign_in_from_catalog(
            live_server, riverside, "RUSD accounts", "ana@riverside.k12.ca.us"
        )
        assert browser.signed_in_email() == "ana@riverside.k12.ca.us"
        assert SocialAccount.objects.get().user == existing
        assert User.objects.count() == 1

    @pytest.mark.parametrize(
        ("claims", "trust"),
        [
            pytest.param({"email_verified": False}, True, id="unverified-address"),
            pytest.param({}, False, id="provider-not-trusted-by-email"),
        ],
    )
    def test_an_untrusted_assertion_does_not_reach_the_existing_account(
        self,
        live_server: LiveServer,
        identity_provider: IdentityProvider,
        riverside: Organization,
        existing: User,
        claims: dict[str, object],
        trust: bool,
    ) -> None:
        oidc_provider(
            riverside,
            identity_provider,
            email_domains=["riverside.k12.ca.us"],
            email_authentication=trust,
        )
        identity_provider.set_people(
            {"mallory": person("ana@riverside.k12.ca.us", name="Mallory", **claims)}
        )
        browser = sign_in_from_catalog(live_server, riverside, "RUSD accounts", "mallory")
        self.assert_not_taken_over(browser, existing)

    def test_an_account_that_never_confirmed_the_address_is_not_reached(
        self,
        live_server: LiveServer,
        identity_provider: IdentityProvider,
        riverside: Organization,
        existing: User,
    ) -> None:
        # given an account that typed Ana's school address but never confirmed it
        EmailAddress.objects.filter(user=existing).update(verified=False)
        oidc_provider(
            riverside,
            identity_provider,
            email_domains=["riverside.k12.ca.us"],
            email_authentication=True,
        )
        # when the real Ana signs in with the district's provider
        identity_provider.set_people({"ana": person("ana@riverside.k12.ca.us")})
        browser = sign_in_from_catalog(live_server, riverside, "RUSD accounts", "ana")
        # then she is not put into that account
        self.assert_not_taken_over(browser, existing)

    def test_a_verified_address_outside_the_providers_domains_does_not(
        self,
        live_server: LiveServer,
        identity_provider: IdentityProvider,
        riverside: Organization,
    ) -> None:
        # given an educator's personal account, and Riverside's provider trusted for its domain
        personal = UserFactory(email="ana.ruiz@gmail.com")
        oidc_provider(
            riverside,
            identity_provider,
            email_domains=["riverside.k12.ca.us"],
            email_authentication=True,
        )
        # when the provider asserts (verified) that address, foreign to it
        identity_provider.set_people({"mallory": person("ana.ruiz@gmail.com", name="Mallory")})
        browser = sign_in_from_catalog(live_server, riverside, "RUSD accounts", "mallory")
        # then
        self.assert_not_taken_over(browser, personal)

    def test_saml_address_outside_the_providers_domains_does_not(
        self,
        live_server: LiveServer,
        identity_provider: IdentityProvider,
        gael: Organization,
    ) -> None:
        personal = UserFactory(email="ana.ruiz@gmail.com")
        saml_provider(
            gael, identity_provider, email_domains=["gael.org"], email_authentication=True
        )
        identity_provider.set_people({"mallory": person("ana.ruiz@gmail.com", name="Mallory")})
        browser = sign_in_from_catalog(live_server, gael, "GAEL SAML", "mallory")
        self.assert_not_taken_over(browser, personal)

    @staticmethod
    def assert_not_taken_over(browser: Browser, user: User) -> None:
        # allauth's enumeration-safe answer: "we sent a confirmation e-mail", and the e-mail
        # goes to the account's owner, who did not ask to sign in
        assert browser.page is not None
        assert browser.page.url.endswith("/accounts/confirm-email/")
        assert [m.to for m in mail.outbox] == [[user.email]]
        assert browser.signed_in_email() is None
        assert not SocialAccount.objects.filter(user=user).exists()
        user.refresh_from_db()
        assert user.full_name != "Mallory"
        assert User.objects.filter(email__iexact=user.email).count() == 1


class TestForeignAddressOnANewAccount:
    def test_an_address_outside_the_providers_domains_must_be_confirmed_by_e_mail(
        self, live_server: LiveServer, identity_provider: IdentityProvider, riverside: Organization
    ) -> None:
        # given Riverside's provider, the authority for its own domain only
        oidc_provider(
            riverside,
            identity_provider,
            email_domains=["riverside.k12.ca.us"],
            membership_rule=Rule.DOMAIN,
            membership_domains=["gmail.com"],  # (a careless rule: still no membership below)
        )
        # when it asserts a verified Gmail address for someone new here
        identity_provider.set_people({"someone": person("someone.new@gmail.com")})
        browser = sign_in_from_catalog(live_server, riverside, "RUSD accounts", "someone")
        # then the address is not taken as verified: confirm it first, nothing signed in
        assert browser.page is not None
        assert browser.page.url.endswith("/accounts/confirm-email/")
        assert browser.signed_in_email() is None
        assert not EmailAddress.objects.get(email="someone.new@gmail.com").verified
        assert [m.to for m in mail.outbox] == [["someone.new@gmail.com"]]
        assert not Membership.objects.exists()
