"""Badges into wallets (issue 23): "Add to wallet" makes a one-time, expiring link for one of the
educator's own badges; a wallet collects the credential through the VC-API exchange the link
names (``POST /api/v1/exchanges/<id>/``), as the Learner Credential Wallet does, and what it
receives verifies with Digital Bazaar's verifier. Expired, reused and revoked offers are refused
with nothing changed; anyone else's badge is 404."""

from __future__ import annotations

import datetime as dt
import json
import re
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from badges import services
from badges.models import Badge, WalletExchange
from programs.models import User
from tests.badges.test_independent_verifier import VALID, documents_for, verify_independently
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def badge(approve: Any) -> Badge:
    return services.badge_issue(application_id=approve().pk)


@pytest.fixture
def educator(badge: Badge) -> User:
    return badge.recipient


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def wallet_page(badge: Badge) -> str:
    return f"/me/badges/{badge.public_id}/wallet/"


def offer(educator: User, badge: Badge) -> WalletExchange:
    """The educator presses "Add to wallet": the page then shows the new link."""
    client = signed_in(educator)
    response = client.post(wallet_page(badge))
    assert response.status_code == 302
    assert response["Location"] == wallet_page(badge)
    return WalletExchange.objects.get(
        badge=badge, used_at__isnull=True, expires_at__gt=timezone.now()
    )


def wallet() -> Client:
    """A wallet app: no session, and CSRF checks on as for any client without our cookie."""
    return Client(enforce_csrf_checks=True)


def collect(url: str, body: Any = None) -> Any:
    payload = json.dumps({} if body is None else body)
    return wallet().post(url, payload, content_type="application/json")


def state(exchange: WalletExchange) -> tuple[Any, ...]:
    exchange.refresh_from_db()
    return (exchange.used_at, exchange.expires_at, exchange.updated_at)


class TestAWalletCollectsTheBadge:
    def test_the_link_on_the_page_leads_a_wallet_to_a_credential_that_verifies(
        self, educator: User, badge: Badge, client: Client, tmp_path: Path
    ) -> None:
        # given the educator made a wallet link and opened the page with its QR code
        exchange = offer(educator, badge)
        page = signed_in(educator).get(wallet_page(badge))
        assert page.status_code == 200
        html = page.content.decode()
        assert "<svg" in html and 'role="img"' in html
        assert "Make a new link" in html
        assert "15 minutes left" in html
        deep_link = unescape(re.search(r'href="(https://lcw\.app/[^"]+)"', html).group(1))  # type: ignore[union-attr]
        # the link is the Learner Credential Wallet's request naming our VC-API exchange
        parts = urlsplit(deep_link)
        assert (parts.netloc, parts.path) == ("lcw.app", "/request.html")
        request = json.loads(parse_qs(parts.query)["request"][0])
        site = urlsplit(settings.SITE_URL)
        assert request["credentialRequestOrigin"] == f"{site.scheme}://{site.netloc}"
        exchange_url = request["protocols"]["vcapi"]
        assert (
            exchange_url
            == f"{settings.SITE_URL.rstrip('/')}/api/v1/exchanges/{exchange.public_id}/"
        )
        assert exchange_url in html  # shown for other VC-API wallets too

        # when a wallet POSTs {} to the exchange, without a session or CSRF token
        response = collect(urlsplit(exchange_url).path)

        # then it receives a presentation holding the credential exactly as issued
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("application/json")
        presentation = response.json()["verifiablePresentation"]
        assert presentation["type"] == ["VerifiablePresentation"]
        assert presentation["@context"] == ["https://www.w3.org/ns/credentials/v2"]
        [credential] = presentation["verifiableCredential"]
        assert credential == badge.credential
        assert list(credential) == list(badge.credential)  # keys in the order they were signed
        # and Digital Bazaar's verifier accepts it against the documents our site serves
        result = verify_independently(credential, documents_for(client, credential), tmp_path)
        assert result == VALID
        # and the offer is used up
        exchange.refresh_from_db()
        assert exchange.used_at is not None

    def test_a_legacy_learner_credential_wallet_request_is_answered_too(
        self, educator: User, badge: Badge
    ) -> None:
        # given an older LCW, which POSTs a DID Authentication presentation instead of {}
        exchange = offer(educator, badge)
        did_auth = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": "VerifiablePresentation",
            "holder": "did:key:z6MkqJAUa299LgRoKiaHtFG6KWVK1iUddAM5oUHsGRto9hfz",
            "proof": {"type": "DataIntegrityProof", "challenge": "anything"},
        }
        # when / then the credential comes back unchanged (the holder is not bound into it)
        response = collect(services.exchange_url(exchange), did_auth)
        assert response.status_code == 200
        assert response.json()["verifiablePresentation"]["verifiableCredential"] == [
            badge.credential
        ]


class TestRefusals:
    def test_a_reused_exchange_is_refused_and_changes_nothing(
        self, educator: User, badge: Badge
    ) -> None:
        # given a wallet already collected the badge
        exchange = offer(educator, badge)
        url = services.exchange_url(exchange)
        assert collect(url).status_code == 200
        before = state(exchange)
        # when the same link is used again
        response = collect(url)
        # then it is gone, in the house format, and nothing changed
        assert response.status_code == 410
        body = response.json()
        assert body["code"] == "exchange_used"
        assert set(body) == {"code", "message", "fields"}
        assert "already used" in body["message"]
        assert "verifiablePresentation" not in body
        assert state(exchange) == before

    def test_an_expired_exchange_is_refused_and_changes_nothing(
        self, educator: User, badge: Badge
    ) -> None:
        # given a link made more than 15 minutes ago
        exchange = offer(educator, badge)
        WalletExchange.objects.filter(pk=exchange.pk).update(
            expires_at=timezone.now() - dt.timedelta(seconds=1)
        )
        before = state(exchange)
        # when a wallet tries it
        response = collect(services.exchange_url(exchange))
        # then it is refused, and the offer stays unused
        assert response.status_code == 410
        assert response.json()["code"] == "exchange_expired"
        assert "expired" in response.json()["message"]
        assert state(exchange) == before
        assert before[0] is None
        # and the page offers to make a new link instead of the old one
        page = signed_in(educator).get(wallet_page(badge)).content.decode()
        assert exchange.public_id not in page
        assert "Make a wallet link" in page

    def test_a_new_link_ends_the_earlier_one(self, educator: User, badge: Badge) -> None:
        # given a link, then "make a new link"
        first = offer(educator, badge)
        second = offer(educator, badge)
        assert first.pk != second.pk
        # then the first no longer works and the second does
        assert collect(services.exchange_url(first)).json()["code"] == "exchange_expired"
        assert collect(services.exchange_url(second)).status_code == 200

    def test_a_badge_revoked_after_the_offer_is_not_handed_over(
        self, educator: User, badge: Badge
    ) -> None:
        # given a link, then the organization revokes the badge
        exchange = offer(educator, badge)
        services.badge_revoke(
            badge=badge, reason="Evidence was not the educator's own.", actor=None
        )
        # when a wallet tries the link
        response = collect(services.exchange_url(exchange))
        # then it is refused and the offer stays unused
        assert response.status_code == 410
        assert response.json()["code"] == "revoked"
        exchange.refresh_from_db()
        assert exchange.used_at is None

    def test_a_revoked_badge_gets_no_offer(self, educator: User, badge: Badge) -> None:
        # given a revoked badge
        services.badge_revoke(
            badge=badge, reason="Evidence was not the educator's own.", actor=None
        )
        client = signed_in(educator)
        # when its earner asks for a wallet link
        response = client.post(wallet_page(badge), follow=True)
        # then none is made, and the page says why
        assert WalletExchange.objects.count() == 0
        assert "cannot be added to a wallet" in response.content.decode()
        assert "Add to wallet" not in client.get("/me/badges/").content.decode()

    def test_a_body_that_is_not_an_object_is_refused_without_using_the_offer(
        self, educator: User, badge: Badge
    ) -> None:
        exchange = offer(educator, badge)
        url = services.exchange_url(exchange)
        response = collect(url, ["not", "an", "object"])
        assert response.status_code == 400
        assert response.json()["fields"] == {"body": ["Expected a JSON object."]}
        assert collect(url, "{broken").status_code == 400
        exchange.refresh_from_db()
        assert exchange.used_at is None

    def test_an_unknown_exchange_is_404_in_the_house_format(self) -> None:
        response = collect("/api/v1/exchanges/no-such-exchange-id/")
        assert response.status_code == 404
        assert response.json() == {"code": "not_found", "message": "Not found.", "fields": {}}

    def test_only_post_is_allowed(self, educator: User, badge: Badge) -> None:
        exchange = offer(educator, badge)
        assert wallet().get(services.exchange_url(exchange)).status_code == 405
        exchange.refresh_from_db()
        assert exchange.used_at is None


class TestWhoMayOffer:
    def test_another_users_badge_is_404_and_nothing_is_made(self, badge: Badge) -> None:
        # given someone signed in who did not earn the badge
        other = signed_in(UserFactory())
        # when they ask for its wallet page or a link
        assert other.get(wallet_page(badge)).status_code == 404
        assert other.post(wallet_page(badge)).status_code == 404
        # then no offer exists
        assert WalletExchange.objects.count() == 0

    def test_signing_in_is_required(self, badge: Badge) -> None:
        response = Client().post(wallet_page(badge))
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
        assert WalletExchange.objects.count() == 0

    def test_my_badges_and_the_badge_page_offer_add_to_wallet(
        self, educator: User, badge: Badge
    ) -> None:
        client = signed_in(educator)
        action = f'action="{wallet_page(badge)}"'
        assert action in client.get("/me/badges/").content.decode()
        assert action in client.get(f"/badges/{badge.public_id}/").content.decode()
        # and the badge's public page shows no such button to anyone else
        assert action not in Client().get(f"/badges/{badge.public_id}/").content.decode()


def test_the_exchange_runs_in_its_badges_organization_scope(
    educator: User, badge: Badge, approve: Any
) -> None:
    # given the educator's offers of badges from two organizations
    exchange = offer(educator, badge)
    elsewhere = services.badge_issue(
        application_id=approve(organization=OrganizationFactory(), educator=educator).pk
    )
    other = offer(educator, elsewhere)
    # when a wallet collects each, the middleware enters the exchange's organization (requests
    # run scoped, whatever the test's own opt-out)
    for item, expected in ((exchange, badge), (other, elsewhere)):
        response = collect(services.exchange_url(item))
        assert response.status_code == 200
        assert response.wsgi_request.organization.pk == expected.organization_id  # type: ignore[attr-defined]
        assert response.json()["verifiablePresentation"]["verifiableCredential"] == [
            expected.credential
        ]
