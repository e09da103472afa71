"""Content negotiation for the common clients: a badge's address (/badges/<id>/) gives browsers
its page and JSON clients its signed credential, labelled with the media types VC Data Model 2.0
registers (``application/vc``) or the JSON-LD / JSON they asked for; /badges/<id>.json always
gives the credential. Every answer that depends on Accept says so (``Vary: Accept``)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from badges import services
from badges.models import Badge
from badges.views import documents as media

pytestmark = pytest.mark.django_db

CHROME = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,"
    "*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
VALIDATOR_CORE = "application/ld+json, application/json, image/png, image/svg+xml"


@pytest.fixture
def badge(approve: Any) -> Badge:
    return services.badge_issue(application_id=approve().pk)


def _get(client: Client, url: str, accept: str | None) -> Any:
    return client.get(url, **({"HTTP_ACCEPT": accept} if accept is not None else {}))


class TestTheBadgeAddress:
    @pytest.mark.parametrize(
        ("accept", "served"),
        [
            ("application/json", "application/json"),
            ("application/ld+json", "application/ld+json"),
            ("application/vc", "application/vc"),
            ("application/vc+ld+json", "application/vc"),  # the type's name while drafted
            (VALIDATOR_CORE, "application/ld+json"),
            ("application/json;q=0.5, application/vc", "application/vc"),
            ("text/html;q=0.1, application/json", "application/json"),
            (
                'application/ld+json; profile="https://www.w3.org/ns/credentials/v2"',
                "application/ld+json",
            ),
        ],
    )
    def test_json_clients_get_the_signed_credential(
        self, client: Client, badge: Badge, accept: str, served: str
    ) -> None:
        # when a client that prefers JSON asks for the badge's address
        response = _get(client, reverse("badges:verify", args=[badge.public_id]), accept)
        # then it gets the signed credential, labelled as it asked, and told it depends on Accept
        assert response.status_code == 200
        assert response["Content-Type"] == served
        assert json.loads(response.content) == badge.credential
        assert response["Vary"] == "Accept"
        assert response["Access-Control-Allow-Origin"] == "*"

    @pytest.mark.parametrize(
        "accept",
        [CHROME, FIREFOX, "*/*", None, "text/html", "image/png", "application/json;q=0, */*"],
    )
    def test_browsers_and_everything_else_get_the_page(
        self, client: Client, badge: Badge, accept: str | None
    ) -> None:
        response = _get(client, reverse("badges:verify", args=[badge.public_id]), accept)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html")
        assert "Accept" in response["Vary"]
        assert badge.name in response.content.decode()

    def test_the_page_announces_the_credential_with_its_registered_type(
        self, client: Client, badge: Badge
    ) -> None:
        html = client.get(reverse("badges:verify", args=[badge.public_id])).content.decode()
        json_url = reverse("badges:json", args=[badge.public_id])
        assert f'<link rel="alternate" type="application/vc" href="{json_url}"' in html

    def test_an_unknown_badge_is_not_found_in_json_either(self, client: Client) -> None:
        response = client.get(
            reverse("badges:verify", args=[uuid.uuid4()]), HTTP_ACCEPT="application/json"
        )
        assert response.status_code == 404


class TestTheJsonAddress:
    @pytest.mark.parametrize(
        ("accept", "served"),
        [
            (None, "application/vc"),  # a wallet fetching the file: its registered type
            ("*/*", "application/vc"),
            ("application/json", "application/json"),
            ("application/ld+json", "application/ld+json"),
            ("application/vc+ld+json", "application/vc"),
            (VALIDATOR_CORE, "application/ld+json"),
            (FIREFOX, "application/json"),  # a browser shows JSON instead of downloading it
            (CHROME, "application/json"),
        ],
    )
    def test_always_gives_the_credential_labelled_for_the_client(
        self, client: Client, badge: Badge, accept: str | None, served: str
    ) -> None:
        response = _get(client, reverse("badges:json", args=[badge.public_id]), accept)
        assert response.status_code == 200
        assert response["Content-Type"] == served
        assert response["Vary"] == "Accept"
        assert response["Content-Disposition"] == (
            f'inline; filename="badge-{badge.public_id}.json"'
        )
        assert json.loads(response.content) == badge.credential

    def test_an_unknown_badge_has_no_json(self, client: Client) -> None:
        assert client.get(reverse("badges:json", args=[uuid.uuid4()])).status_code == 404


class TestNegotiation:
    """The rules themselves (RFC 9110 §12.5.1): the most specific range sets a type's quality;
    q=0 refuses it; ties go to the server's order."""

    @pytest.mark.parametrize(
        ("accept", "chosen"),
        [
            ("application/*", "application/vc"),
            ("application/*;q=0.9, text/html;q=0.8", "application/vc"),
            ("application/json;q=0, application/*;q=0.5", "application/vc"),
            ("application/json;q=0", None),
            ("text/plain", None),
            ("application/json;q=bad, text/html;q=0.2", "text/html"),
            ("TEXT/HTML", "text/html"),
        ],
    )
    def test_negotiate(self, accept: str, chosen: str | None) -> None:
        request = RequestFactory().get("/", HTTP_ACCEPT=accept)
        assert media.negotiate(request, ("text/html", *media.CREDENTIAL_TYPES)) == chosen
