"""Embedding a badge on a portfolio or a school site: its card is the one page any site may
frame (the verification page and everything else refuse, cached copies too), and its address
pasted into an oEmbed consumer (found from the page's discovery link) gives the card's iframe."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from badges import services, sharing
from badges.models import Badge
from tests.badges.test_security_headers import directives
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def badge(approve: Any) -> Badge:
    return services.badge_issue(
        application_id=approve(educator=UserFactory(full_name="Maria Lopez")).pk
    )


def oembed(client: Client, url: str, **params: str) -> Any:
    return client.get("/oembed?" + urlencode({"url": url, **params}))


def test_only_the_card_may_be_framed_by_other_sites(client: Client, badge: Badge) -> None:
    card = reverse("badges:card", args=[badge.public_id])
    others = [
        reverse("badges:verify", args=[badge.public_id]),
        reverse("badges:json", args=[badge.public_id]),
        "/oembed?" + urlencode({"url": services.badge_url(badge)}),
        f"/o/{badge.organization.slug}/",
    ]
    # read twice: rendered, then from the shared cache of public pages
    for _ in range(2):
        answer = client.get(card)
        assert answer.status_code == 200
        assert directives(answer)["frame-ancestors"] == ["*"]
        assert "X-Frame-Options" not in answer
        for url in others:
            answer = client.get(url)
            assert answer.status_code == 200, url
            assert directives(answer)["frame-ancestors"] == ["'none'"], url
            assert answer["X-Frame-Options"] == "DENY", url


def test_the_oembed_answer_is_the_cards_iframe(client: Client, badge: Badge) -> None:
    answer = oembed(client, services.badge_url(badge), format="json")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/json")
    assert answer["Access-Control-Allow-Origin"] == "*"
    document = answer.json()
    assert document == {
        "version": "1.0",
        "type": "rich",
        "title": badge.name,
        "author_name": "Maria Lopez",
        "provider_name": badge.organization.name,
        "provider_url": sharing.documents.site_url(f"/o/{badge.organization.slug}/"),
        "html": sharing.embed_html(badge),
        "width": 360,
        "height": 180,
    }
    src = re.search(r'<iframe src="([^"]+)"', document["html"])
    assert src and urlsplit(src.group(1)).path == reverse("badges:card", args=[badge.public_id])
    # and the card's own address, or a consumer's smaller space, give it too
    card = sharing.documents.site_url(reverse("badges:card", args=[badge.public_id]))
    small = oembed(client, card, maxwidth="300", maxheight="400").json()
    assert (small["width"], small["height"]) == (300, 180)
    assert 'width="300" height="180"' in small["html"]


def test_the_badge_page_links_its_oembed_address(client: Client, badge: Badge) -> None:
    html = client.get(reverse("badges:verify", args=[badge.public_id])).content.decode()
    link = re.search(r'<link rel="alternate" type="application/json\+oembed" href="([^"]+)"', html)
    assert link, "no oEmbed discovery link"
    href = urlsplit(unescape(link.group(1)))
    answer = client.get(f"{href.path}?{href.query}")
    assert answer.status_code == 200
    assert answer.json()["html"] == sharing.embed_html(badge)


def test_a_revoked_badge_still_embeds_and_says_so(client: Client, badge: Badge) -> None:
    services.badge_revoke(badge=badge, reason="Issued in error.", actor=None)
    document = oembed(client, services.badge_url(badge)).json()
    assert document["title"] == f"Revoked: {badge.name}"
    card = client.get(reverse("badges:card", args=[badge.public_id]))
    assert card.status_code == 200 and ">Revoked<" in card.content.decode()


def test_what_names_no_badge_of_this_site_is_a_404_naming_the_field(
    client: Client, badge: Badge
) -> None:
    organization = badge.organization
    site = sharing.documents.site_url("")
    for url in [
        # another site's address of the same badge
        "https://elsewhere.example" + reverse("badges:verify", args=[badge.public_id]),
        # a page of this site that is not a badge's
        f"{site}/o/{organization.slug}/",
        f"{site}{reverse('badges:json', args=[badge.public_id])}",
        # no such badge
        f"{site}/badges/00000000-0000-0000-0000-000000000000/",
        "not an address",
    ]:
        answer = oembed(client, url)
        assert answer.status_code == 404, url
        assert answer.json()["fields"]["url"] == [
            "This is not the address of a badge on this site."
        ], url


def test_a_badge_of_another_organization_embeds_by_its_own_address(
    client: Client, approve: Any, badge: Badge
) -> None:
    # given a badge of another organization (its page outside any organization's URL)
    other = services.badge_issue(application_id=approve(organization=OrganizationFactory()).pk)
    # then each address gives its own badge's card, never the other's
    for each in (badge, other):
        document = oembed(client, services.badge_url(each)).json()
        assert document["provider_name"] == each.organization.name
        assert str(each.public_id) in document["html"]


def test_bad_requests_are_refused_with_the_field(client: Client, badge: Badge) -> None:
    url = services.badge_url(badge)
    cases = [
        ({"url": url, "format": "xml"}, 501, "format"),
        ({"url": url, "maxwidth": "wide"}, 400, "maxwidth"),
        ({"url": url, "maxheight": "0"}, 400, "maxheight"),
        ({"url": ""}, 400, "url"),
    ]
    for params, status, field in cases:
        answer = client.get("/oembed?" + urlencode(params))
        assert answer.status_code == status, params
        assert field in answer.json()["fields"], params
