"""LTI 1.3 launch (issue 23): a platform simulated by tests/lti_platform.py (its JWKS fetched
over HTTP by pylti1p3's own validation). A bad signature, a wrong audience, an expired token or
a replayed nonce is refused with a page that says why; a valid launch signs the learner in
(matched by verified e-mail, or a new account) and lands on the credential; deep linking
returns a signed LtiDeepLinkingResponse naming the chosen credential; another organization's
platform or credential answers 404."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from allauth.account.models import EmailAddress
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client, override_settings

from programs.models import LtiGradeLink, LtiIdentity, LtiPlatform, Organization, StaffRole, User
from tests.factories import (
    OrganizationFactory,
    StaffRoleFactory,
    UserFactory,
    credential_of,
    make_credential,
)
from tests.lti_platform import CLAIM, CLIENT_ID, DL, ISSUER, SimulatedPlatform

pytestmark = pytest.mark.django_db


@pytest.fixture
def riverside() -> Organization:
    return OrganizationFactory(slug="riverside", name="Riverside Unified")


@pytest.fixture
def credential_slug(riverside: Organization) -> str:
    return credential_of(make_credential(riverside, title="Formative Assessment")).slug


def launched(
    client: Client, lms: SimulatedPlatform, org: str, *, key: Any = None, **claims: Any
) -> Any:
    state, nonce = lms.login(client, org)
    token = lms.sign(lms.claims(nonce=nonce, org_slug=org, **claims), key=key)
    return client.post(f"/o/{org}/lti/launch/", {"id_token": token, "state": state})


def signed_in(client: Client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def refusal(response: Any) -> str:
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


class TestValidLaunch:
    def test_a_new_learner_gets_an_account_and_lands_on_the_credential(
        self, lms: SimulatedPlatform, riverside: Organization, credential_slug: str
    ) -> None:
        # given the platform registered with Riverside
        platform = lms.register(riverside)
        client = Client()
        # when a learner nobody knows launches from the course
        response = launched(client, lms, "riverside", credential=credential_slug)
        # then they land on the credential's page, signed in to a new account
        assert response.status_code == 302
        assert response["Location"] == f"/o/riverside/credentials/{credential_slug}/"
        user = signed_in(client)
        assert user is not None and user.email == "learner@example.org"
        assert user.full_name == "Lee Learner"
        assert client.get(response["Location"]).status_code == 200
        assert LtiIdentity.objects.get(platform=platform).user == user
        # whose address, outside the platform's e-mail domains, is still to be confirmed
        assert not EmailAddress.objects.get(user=user).verified
        # and the library fetched the platform's keys over HTTP
        assert [r.path for r in lms.requests] == ["/jwks"]
        # and the AGS line item is remembered for the score
        link = LtiGradeLink.objects.get(user=user)
        assert link.lineitem_url == f"{lms.base_url}/lineitems/1/lineitem"

    def test_an_account_with_the_verified_address_is_the_one_signed_in(
        self, lms: SimulatedPlatform, riverside: Organization, credential_slug: str
    ) -> None:
        # given an educator whose address is verified, in the platform's e-mail domains
        lms.register(riverside, email_domains=["example.org"])
        educator = UserFactory(email="Learner@Example.org")
        client = Client()
        # when the platform launches them with that address
        response = launched(client, lms, "riverside", credential=credential_slug)
        # then that account is signed in, no new one is made
        assert response.status_code == 302
        assert signed_in(client) == educator
        assert User.objects.filter(email__iexact="learner@example.org").count() == 1
        # and the next launch (another address at the LMS) finds them by the platform's user id
        client2 = Client()
        again = launched(
            client2, lms, "riverside", credential=credential_slug, email="new@example.org"
        )
        assert again.status_code == 302
        assert signed_in(client2) == educator

    def test_an_account_with_the_address_unverified_is_not_reached(
        self, lms: SimulatedPlatform, riverside: Organization, credential_slug: str
    ) -> None:
        # given an account whose address was never confirmed
        lms.register(riverside)
        owner = UserFactory(email="learner@example.org")
        EmailAddress.objects.filter(user=owner).update(verified=False)
        client = Client()
        # when the platform launches someone with that address
        response = launched(client, lms, "riverside", credential=credential_slug)
        # then nobody is signed in and the page says why
        assert response.status_code == 403
        assert "already has the address learner@example.org" in refusal(response)
        assert signed_in(client) is None
        assert not LtiIdentity.objects.exists()

    def test_a_verified_account_outside_the_platforms_domains_is_reached_once_signed_in(
        self, lms: SimulatedPlatform, riverside: Organization, credential_slug: str
    ) -> None:
        # given an educator with a verified personal address the LMS is no authority for
        platform = lms.register(riverside, email_domains=["riverside.k12.ca.us"])
        educator = UserFactory(email="learner@example.org")
        client = Client()
        # when the platform launches with that address, nobody is signed in
        refused = launched(client, lms, "riverside", credential=credential_slug)
        assert refused.status_code == 403
        assert "Sign in to Tessera" in refusal(refused)
        assert signed_in(client) is None
        # when the educator signs in to Tessera first and launches again
        client.force_login(educator)
        response = launched(client, lms, "riverside", credential=credential_slug)
        # then the platform's user is linked to their account
        assert response.status_code == 302
        assert signed_in(client) == educator
        assert LtiIdentity.objects.get(platform=platform).user == educator

    def test_a_new_account_in_the_platforms_domains_has_its_address_verified(
        self, lms: SimulatedPlatform, riverside: Organization, credential_slug: str
    ) -> None:
        lms.register(riverside, email_domains=["riverside.k12.ca.us"])
        client = Client()
        response = launched(
            client, lms, "riverside", credential=credential_slug, email="t@riverside.k12.ca.us"
        )
        assert response.status_code == 302
        user = signed_in(client)
        assert user is not None
        assert EmailAddress.objects.get(user=user, email="t@riverside.k12.ca.us").verified


class TestRefusedLaunch:
    def test_a_bad_signature(
        self, lms: SimulatedPlatform, riverside: Organization, credential_slug: str
    ) -> None:
        lms.register(riverside)
        client = Client()
        forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        response = launched(client, lms, "riverside", key=forger, credential=credential_slug)
        assert response.status_code == 400
        assert "signature does not match" in refusal(response)
        assert signed_in(client) is None
        assert not User.objects.filter(email="learner@example.org").exists()

    def test_a_wrong_audience(
        self, lms: SimulatedPlatform, riverside: Organization, credential_slug: str
    ) -> None:
        lms.register(riverside)
        client = Client()
        response = launched(
            client, lms, "riverside", credential=credential_slug, aud="another-tool"
        )
        assert response.status_code == 400
        assert "addressed to the audience another-tool" in refusal(response)
        assert signed_in(client) is None

    def test_an_expired_token(
        self, lms: SimulatedPlatform, riverside: Organization, credential_slug: str
    ) -> None:
        lms.register(riverside)
        client = Client()
        past = int(time.time()) - 3600
        response = launched(
            client, lms, "riverside", credential=credential_slug, iat=past - 60, exp=past
        )
        assert response.status_code == 400
        assert "The launch has expired" in refusal(response)
        assert signed_in(client) is None

    def test_a_replayed_nonce(
        self, lms: SimulatedPlatform, riverside: Organization, credential_slug: str
    ) -> None:
        # given a launch that succeeded
        lms.register(riverside)
        client = Client()
        state, nonce = lms.login(client, "riverside")
        token = lms.sign(lms.claims(nonce=nonce, org_slug="riverside", credential=credential_slug))
        first = client.post("/o/riverside/lti/launch/", {"id_token": token, "state": state})
        assert first.status_code == 302
        # when the same id_token is posted again, with the state cookie, from another browser
        replay = Client()
        for name, morsel in client.cookies.items():
            if name.startswith("lti1p3-"):
                replay.cookies[name] = morsel.value
        response = replay.post("/o/riverside/lti/launch/", {"id_token": token, "state": state})
        # then it is refused
        assert response.status_code == 400
        assert "already used" in refusal(response)
        assert signed_in(replay) is None

    def test_a_nonce_the_tool_never_issued(
        self, lms: SimulatedPlatform, riverside: Organization, credential_slug: str
    ) -> None:
        lms.register(riverside)
        client = Client()
        state, _ = lms.login(client, "riverside")
        token = lms.sign(
            lms.claims(nonce="made-up", org_slug="riverside", credential=credential_slug)
        )
        response = client.post("/o/riverside/lti/launch/", {"id_token": token, "state": state})
        assert response.status_code == 400
        assert "nonce is unknown" in refusal(response)

    def test_platform_urls_on_private_addresses_are_refused_outside_the_test_profile(
        self, lms: SimulatedPlatform, riverside: Organization, credential_slug: str
    ) -> None:
        # given production's rule (no loopback, private or link-local platform URLs)
        lms.register(riverside)
        client = Client()
        with override_settings(LTI_ALLOW_PRIVATE_ADDRESSES=False):
            response = launched(client, lms, "riverside", credential=credential_slug)
        # then the JWKS on 127.0.0.1 is never fetched and the launch is refused
        assert response.status_code == 400
        assert "loopback" in refusal(response)
        assert lms.requests == []


class TestAcrossOrganizations:
    def test_a_platform_of_one_organization_cannot_launch_into_anothers_credential(
        self, lms: SimulatedPlatform, riverside: Organization
    ) -> None:
        # given the platform registered with Riverside, and a credential of another organization
        lms.register(riverside)
        other = OrganizationFactory(slug="lakeside")
        theirs = credential_of(make_credential(other)).slug
        client = Client()
        # when it launches into the other's credential through Riverside's URL
        response = launched(client, lms, "riverside", credential=theirs)
        # then: not found, nobody signed in
        assert response.status_code == 404
        assert signed_in(client) is None
        # and the other organization's own login URL does not know the platform
        login = client.get(
            "/o/lakeside/lti/login/",
            {
                "iss": ISSUER,
                "client_id": CLIENT_ID,
                "login_hint": "x",
                "target_link_uri": "http://testserver/o/lakeside/lti/launch/",
            },
        )
        assert login.status_code == 404
        assert "No learning platform" in login.content.decode()

    def test_a_launch_posted_to_another_organization_is_not_found(
        self, lms: SimulatedPlatform, riverside: Organization, credential_slug: str
    ) -> None:
        lms.register(riverside)
        OrganizationFactory(slug="lakeside")
        client = Client()
        state, nonce = lms.login(client, "riverside")
        token = lms.sign(lms.claims(nonce=nonce, org_slug="riverside", credential=credential_slug))
        response = client.post("/o/lakeside/lti/launch/", {"id_token": token, "state": state})
        assert response.status_code == 404
        assert signed_in(client) is None

    def test_the_jwks_of_an_organization_holds_only_its_own_keys(
        self, lms: SimulatedPlatform, riverside: Organization
    ) -> None:
        mine = lms.register(riverside)
        other = OrganizationFactory(slug="lakeside")
        assert Client().get("/o/lakeside/lti/jwks/").json() == {"keys": []}
        [key] = Client().get("/o/riverside/lti/jwks/").json()["keys"]
        assert (
            jwt.PyJWK(key).key.public_numbers()
            == jwt.algorithms.RSAAlgorithm.from_jwk(key).public_numbers()
        )
        assert mine.tool_public_key and other.pk != riverside.pk


class TestDeepLinking:
    def test_the_chosen_credential_goes_back_in_a_signed_response(
        self, lms: SimulatedPlatform, riverside: Organization, credential_slug: str
    ) -> None:
        # given an instructor adding Tessera to a course (a deep-linking launch)
        lms.register(riverside)
        client = Client()
        state, nonce = lms.login(client, "riverside")
        token = lms.sign(
            lms.claims(
                nonce=nonce,
                org_slug="riverside",
                message_type="LtiDeepLinkingRequest",
                **{
                    CLAIM + "roles": [
                        "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
                    ]
                },
            )
        )
        chooser = client.post("/o/riverside/lti/launch/", {"id_token": token, "state": state})
        assert chooser.status_code == 200
        page = chooser.content.decode()
        assert "Formative Assessment" in page
        launch_id = chooser.context["launch_id"]
        # when they pick the credential
        response = client.post(
            "/o/riverside/lti/deep-link/", {"launch_id": launch_id, "credential": credential_slug}
        )
        # then the page posts a JWT, signed with the tool's key, back to the platform
        assert response.status_code == 200
        assert response.context["return_url"] == f"{lms.base_url}/deep-link-return"
        assert "form-action" in response["Content-Security-Policy"]
        assert lms.base_url in response["Content-Security-Policy"]
        [jwk] = Client().get("/o/riverside/lti/jwks/").json()["keys"]
        header = jwt.get_unverified_header(response.context["jwt"])
        assert header["kid"] == jwk["kid"]
        message = jwt.decode(
            response.context["jwt"],
            jwt.PyJWK(jwk).key,
            algorithms=["RS256"],
            audience=ISSUER,
        )
        assert message["iss"] == CLIENT_ID
        assert message[CLAIM + "message_type"] == "LtiDeepLinkingResponse"
        assert message[DL + "data"] == "opaque-platform-data"
        [item] = message[DL + "content_items"]
        assert item["type"] == "ltiResourceLink"
        assert item["url"].endswith("/o/riverside/lti/launch/")
        assert item["custom"] == {"credential": credential_slug}
        assert item["lineItem"]["scoreMaximum"] == 1
        # and nobody was signed in by the instructor's launch
        assert signed_in(client) is None

    def test_a_choice_with_an_unknown_launch_is_refused(self, riverside: Organization) -> None:
        response = Client().post(
            "/o/riverside/lti/deep-link/", {"launch_id": "lti1p3-launch-x", "credential": "x"}
        )
        assert response.status_code == 400
        assert "no deep-linking launch" in response.content.decode()


class TestAdmin:
    def test_a_program_admin_registers_a_platform_and_gets_a_tool_key(
        self, riverside: Organization
    ) -> None:
        # given a program admin of Riverside
        user = UserFactory(email="admin@riverside.example.org")
        StaffRoleFactory(organization=riverside, user=user, role=StaffRole.Role.PROGRAM_ADMIN)
        client = Client()
        client.force_login(user)
        # when they register their LMS
        response = client.post(
            "/admin/programs/ltiplatform/add/",
            {
                "name": "Riverside Canvas",
                "is_active": "on",
                "issuer": ISSUER,
                "client_id": CLIENT_ID,
                "deployment_ids": "d1,d2",
                "auth_login_url": "https://lms.example.edu/auth",
                "auth_token_url": "https://lms.example.edu/token",
                "key_set_url": "https://lms.example.edu/jwks",
                "email_domains": "riverside.k12.ca.us",
            },
        )
        # then it is saved in their organization with a key pair, the private key encrypted
        assert response.status_code == 302, response.content.decode()[:3000]
        platform = LtiPlatform.objects.get()
        assert platform.organization == riverside
        assert platform.deployment_ids == ["d1", "d2"]
        assert platform.email_domains == ["riverside.k12.ca.us"]
        assert "PRIVATE KEY" in platform.tool_private_key
        assert "PRIVATE KEY" not in platform.tool_private_key_encrypted
        page = client.get(f"/admin/programs/ltiplatform/{platform.pk}/change/").content.decode()
        assert "/o/riverside/lti/login/" in page and "/o/riverside/lti/jwks/" in page
        assert "PRIVATE KEY" not in page

    def test_another_organizations_platform_is_not_found(
        self, lms: SimulatedPlatform, riverside: Organization
    ) -> None:
        other = OrganizationFactory(slug="lakeside")
        theirs = lms.register(other)
        user = UserFactory(email="admin@riverside.example.org")
        StaffRoleFactory(organization=riverside, user=user, role=StaffRole.Role.PROGRAM_ADMIN)
        client = Client()
        client.force_login(user)
        response = client.get(f"/admin/programs/ltiplatform/{theirs.pk}/change/")
        assert response.status_code == 404
