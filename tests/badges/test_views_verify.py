"""The public verification page of a badge: who earned what, from whom, when, its status, the
checks, its evidence, link previews, content negotiation, and the owner's share panel."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from html import unescape
from html.parser import HTMLParser
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from badges import services, sharing
from badges.models import Badge
from submissions.models import EvidenceItem
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class _Page(HTMLParser):
    """The <meta> tags and the links of a page, attributes unescaped."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: list[dict[str, str]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "meta" and values.get("content") is not None:
            key = values.get("property") or values.get("name")
            if key:
                self.meta[key] = values["content"]
        if tag == "a":
            self.links.append(values)


def _page(client: Client, badge: Badge, **headers: Any) -> Any:
    return client.get(reverse("badges:verify", args=[badge.public_id]), **headers)


@pytest.fixture
def issue(approve: Any) -> Any:
    """Issue the badge of a new approval (keyword arguments go to the credential version)."""

    def run(**fields: Any) -> Badge:
        fields.setdefault("educator", UserFactory(full_name="Maria Lopez"))
        return services.badge_issue(application_id=approve(**fields).pk)

    return run


class TestWhatThePageSays:
    def test_anyone_sees_who_earned_what_from_whom_and_that_it_is_valid(
        self, client: Client, issue: Any
    ) -> None:
        # given an issued badge
        badge = issue(title="Formative Assessment")
        # when an anonymous visitor opens its page
        response = _page(client, badge)
        # then it names the earner (not their e-mail), the achievement, the issuer and the state
        assert response.status_code == 200
        html = response.content.decode()
        assert "Maria Lopez" in html
        assert badge.recipient.email not in html
        assert "Formative Assessment" in html
        assert badge.organization.name in html
        assert reverse("programs:catalog", args=[badge.organization.slug]) in html
        assert re.search(r'<h2 id="state-heading"[^>]*>.*?Valid\s*</h2>', html, re.S)
        assert "Signature</strong> — passed" in html
        # the criteria and the rubric level reached
        narrative = badge.credential["credentialSubject"]["achievement"]["criteria"]["narrative"]
        assert narrative.splitlines()[0] in html
        assert "Plan aligns with the method" in html
        assert "Meets" in html
        # the "Verify now" button calls the JSON check from a static script
        assert reverse("badges:check", args=[badge.public_id]) in html
        assert "js/badge-verify.js" in html
        assert '<button type="button" class="button" data-role="verify" hidden>' in html
        assert "css/badges.css" in html

    def test_a_revoked_badge_says_revoked_with_the_reason_and_the_check_agrees(
        self, client: Client, issue: Any
    ) -> None:
        # given a revoked badge
        badge = issue()
        services.badge_revoke(badge=badge, reason="The evidence was not original.", actor=None)
        # when its page and its check are opened
        html = _page(client, badge).content.decode()
        check = client.get(reverse("badges:check", args=[badge.public_id])).json()
        # then both say revoked, the page with the reason and the date
        assert "Revoked" in html
        assert "The evidence was not original." in html
        assert timezone.localtime(Badge.objects.get(pk=badge.pk).revoked_at).strftime("%Y") in html
        assert "badge-state-valid" not in html
        assert "<title>Revoked: " in html
        assert _Page(html).meta["og:title"].startswith("Revoked: ")
        assert "revoked" in _Page(html).meta["og:description"]
        assert check["status"] == "revoked"
        assert check["verified"] is False
        assert any(c["check"] == "status" and not c["ok"] for c in check["checks"])

    def test_an_expired_badge_says_expired(self, client: Client, issue: Any) -> None:
        # given a badge valid for one month
        badge = issue(expiry_policy="months", expiry_months=1)
        assert badge.valid_until is not None
        later = badge.valid_until + dt.timedelta(days=3)
        # when the page is opened after that month
        with mock.patch("django.utils.timezone.now", return_value=later):
            html = _page(client, badge).content.decode()
            check = client.get(reverse("badges:check", args=[badge.public_id])).json()
        # then it says expired, with the date, not valid
        assert "badge-state-expired" in html
        assert "Expired" in html
        assert f"expired on {badge.valid_until.day}" in html
        assert check["status"] == "expired"

    def test_a_spanish_reader_gets_the_result_and_each_check_in_spanish(
        self, client: Client, issue: Any
    ) -> None:
        # given a badge valid for one month, opened after that month
        badge = issue(expiry_policy="months", expiry_months=1)
        assert badge.valid_until is not None
        later = badge.valid_until + dt.timedelta(days=3)
        day = badge.credential["validUntil"][:10]
        # when a visitor whose browser prefers Spanish opens its page and re-checks it
        with mock.patch("django.utils.timezone.now", return_value=later):
            html = unescape(_page(client, badge, HTTP_ACCEPT_LANGUAGE="es").content.decode())
            check = client.get(
                reverse("badges:check", args=[badge.public_id]), HTTP_ACCEPT_LANGUAGE="es"
            ).json()
        # then the result and the checks' messages are in Spanish, the status codes unchanged
        assert re.search(r'<h2 id="state-heading"[^>]*>.*?Vencida\s*</h2>', html, re.S)
        assert "Firma</strong> — superada: Firmada con la clave publicada del emisor." in html
        assert f"Fechas de validez</strong> — falló: Venció el {day}." in html
        assert "Signed by the issuer's published key." not in html
        assert check["status"] == "expired"
        messages = {c["check"]: c["message"] for c in check["checks"]}
        assert messages["expiry"] == f"Venció el {day}."
        assert messages["signature"] == "Firmada con la clave publicada del emisor."

    def test_an_unknown_badge_is_not_found(self, client: Client) -> None:
        response = client.get(reverse("badges:verify", args=[uuid.uuid4()]))
        assert response.status_code == 404

    def test_a_private_badge_still_verifies_for_someone_with_the_link(
        self, client: Client, issue: Any
    ) -> None:
        # given a badge its earner made private
        badge = issue()
        services.badge_visibility_set(badge=badge, user=badge.recipient, is_public=False)
        # when someone holding the link opens it
        response = _page(client, badge)
        # then it verifies, but asks search engines not to index it
        assert response.status_code == 200
        html = response.content.decode()
        assert "badge-state-valid" in html
        assert _Page(html).meta.get("robots") == "noindex"


class TestContentNegotiation:
    @pytest.mark.parametrize(
        ("accept", "served"),
        [
            ("application/ld+json", "application/ld+json"),
            ("application/vc+ld+json", "application/vc"),  # the type's draft name
        ],
    )
    def test_json_ld_clients_get_the_signed_credential(
        self, client: Client, issue: Any, accept: str, served: str
    ) -> None:
        badge = issue()
        response = _page(client, badge, HTTP_ACCEPT=accept)
        assert response.status_code == 200
        assert response["Content-Type"] == served
        assert "Accept" in response["Vary"]
        assert json.loads(response.content) == badge.credential

    def test_browsers_get_the_page(self, client: Client, issue: Any) -> None:
        badge = issue()
        response = _page(
            client, badge, HTTP_ACCEPT="text/html,application/xhtml+xml,application/ld+json;q=0.5"
        )
        assert response["Content-Type"].startswith("text/html")

    def test_the_json_address_always_gives_the_credential(self, client: Client, issue: Any) -> None:
        badge = issue()
        response = client.get(reverse("badges:json", args=[badge.public_id]))
        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == "*"
        assert json.loads(response.content) == badge.credential


class TestLinkPreviews:
    def test_open_graph_and_twitter_tags_use_absolute_addresses(
        self, client: Client, issue: Any
    ) -> None:
        # given a badge
        badge = issue(title="Culturally Responsive Teaching")
        # when a social site reads its page
        meta = _Page(_page(client, badge).content.decode()).meta
        # then the preview has the name, a description, the page and its picture, all absolute
        site = settings.SITE_URL.rstrip("/")
        assert "Culturally Responsive Teaching" in meta["og:title"]
        assert "Maria Lopez" in meta["og:title"]
        assert badge.organization.name in meta["og:description"] or (
            badge.credential["issuer"]["name"] in meta["og:description"]
        )
        assert meta["og:url"] == site + reverse("badges:verify", args=[badge.public_id])
        assert (
            meta["og:image"] == badge.credential["credentialSubject"]["achievement"]["image"]["id"]
        )
        assert meta["og:image"].startswith(site + "/o/")
        assert meta["twitter:card"] == "summary"
        assert meta["twitter:image"] == meta["og:image"]

    def test_the_preview_image_is_served(self, client: Client, issue: Any) -> None:
        badge = issue()
        image = badge.credential["credentialSubject"]["achievement"]["image"]["id"]
        response = client.get(urlsplit(image).path)
        assert response.status_code == 200
        assert response.content.startswith(b"\x89PNG")


class TestSharePanel:
    def test_the_owner_sees_the_share_panel(self, client: Client, issue: Any) -> None:
        # given a badge and its earner, logged in
        badge = issue()
        client.force_login(badge.recipient)
        # when they open its page
        html = _page(client, badge).content.decode()
        # then they can add it to LinkedIn, copy the link and a signature, and download it
        assert "Share your badge" in html
        assert "https://www.linkedin.com/profile/add?" in html
        assert 'data-copy="share-link-' in html
        assert "E-mail signature" in html
        for name in ("badges:json", "badges:png", "badges:svg"):
            assert reverse(name, args=[badge.public_id]) in html

    @pytest.mark.parametrize("who", ["anonymous", "someone else"])
    def test_others_do_not_see_it(self, client: Client, issue: Any, who: str) -> None:
        badge = issue()
        if who == "someone else":
            client.force_login(UserFactory())
        html = _page(client, badge).content.decode()
        assert "Share your badge" not in html
        assert "linkedin.com" not in html

    def test_the_linkedin_address_carries_each_field(self, client: Client, issue: Any) -> None:
        # given a badge that expires
        badge = issue(title="Data-Driven Instruction", expiry_policy="months", expiry_months=24)
        assert badge.valid_until is not None
        client.force_login(badge.recipient)
        # when the owner's page is read
        links = _Page(_page(client, badge).content.decode()).links
        href = next(
            a["href"] for a in links if a.get("href", "").startswith("https://www.linkedin")
        )
        # then LinkedIn's add-to-profile address has every field, encoded
        parts = urlsplit(href)
        assert (parts.scheme, parts.netloc, parts.path) == (
            "https",
            "www.linkedin.com",
            "/profile/add",
        )
        query = parse_qs(parts.query, strict_parsing=True)
        issued = badge.issued_at.astimezone(dt.UTC)
        until = badge.valid_until.astimezone(dt.UTC)
        assert query == {
            "startTask": ["CERTIFICATION_NAME"],
            "name": ["Data-Driven Instruction"],
            "organizationName": [badge.credential["issuer"]["name"]],
            "issueYear": [str(issued.year)],
            "issueMonth": [str(issued.month)],
            "expirationYear": [str(until.year)],
            "expirationMonth": [str(until.month)],
            "certUrl": [services.badge_url(badge)],
            "certId": [str(badge.public_id)],
        }
        assert " " not in href and "://" not in parts.query  # every value URL-encoded

    def test_linkedin_leaves_out_an_expiry_the_badge_does_not_have(self, issue: Any) -> None:
        badge = issue(title="Family Engagement & Outreach")
        query = parse_qs(urlsplit(sharing.linkedin_url(badge)).query)
        assert "expirationYear" not in query and "expirationMonth" not in query
        assert query["name"] == ["Family Engagement & Outreach"]

    def test_the_signature_snippet_links_the_picture_to_the_page(self, issue: Any) -> None:
        badge = issue()
        share = sharing.share_context(badge)
        snippet = share["signature_html"]
        assert f'href="{services.badge_url(badge)}"' in snippet
        assert f'src="{sharing.image_url(badge)}"' in snippet
        assert "alt=" in snippet

    def test_a_revoked_badge_is_not_offered_for_sharing(self, client: Client, issue: Any) -> None:
        badge = issue()
        services.badge_revoke(badge=badge, reason="Withdrawn.", actor=None)
        client.force_login(badge.recipient)
        html = _page(client, badge).content.decode()
        assert "can no longer be shared" in html
        assert "linkedin.com" not in html


class TestEvidence:
    def _issue_with_public_file(self, approve: Any) -> tuple[Badge, EvidenceItem]:
        application = approve(educator=UserFactory(full_name="Sam Reyes"))
        item = EvidenceItem.objects.get(application=application, kind="file")
        EvidenceItem.objects.filter(pk=item.pk).update(visibility="public")
        return services.badge_issue(application_id=application.pk), item

    def test_a_public_file_is_linked_and_redirects_to_a_signed_address(
        self, client: Client, approve: Any
    ) -> None:
        # given a badge whose file evidence the educator made public
        badge, item = self._issue_with_public_file(approve)
        url = reverse("badges:evidence", args=[badge.public_id, item.public_id])
        # when the page is opened and the link followed
        html = _page(client, badge).content.decode()
        response = client.get(url)
        # then the page links it and the link redirects to a short-lived signed address
        assert url in html
        assert response.status_code == 302
        assert "Signature=" in response["Location"] or "X-Amz-Signature=" in response["Location"]

    def test_a_file_no_longer_public_is_not_served(self, client: Client, approve: Any) -> None:
        badge, item = self._issue_with_public_file(approve)
        EvidenceItem.objects.filter(pk=item.pk).update(visibility="reviewers")
        url = reverse("badges:evidence", args=[badge.public_id, item.public_id])
        assert client.get(url).status_code == 404
        assert "no longer shared" in _page(client, badge).content.decode()

    def test_another_applications_item_is_not_found(self, client: Client, approve: Any) -> None:
        # given two badges, each with public file evidence
        badge, _ = self._issue_with_public_file(approve)
        _, other_item = self._issue_with_public_file(approve)
        # when the other application's item is asked for through the first badge
        url = reverse("badges:evidence", args=[badge.public_id, other_item.public_id])
        # then it is not found
        assert client.get(url).status_code == 404

    def test_a_revoked_badge_shows_no_evidence(self, client: Client, approve: Any) -> None:
        badge, item = self._issue_with_public_file(approve)
        services.badge_revoke(badge=badge, reason="Withdrawn.", actor=None)
        url = reverse("badges:evidence", args=[badge.public_id, item.public_id])
        assert client.get(url).status_code == 404
        assert url not in _page(client, badge).content.decode()

    def test_public_text_evidence_shows_its_narrative(self, client: Client, approve: Any) -> None:
        application = approve()
        EvidenceItem.objects.filter(application=application, kind="text").update(
            visibility="public"
        )
        badge = services.badge_issue(application_id=application.pk)
        assert "exit tickets" in _page(client, badge).content.decode()
