"""The site has an icon: every page links it, and /favicon.ico (asked by browsers on their own)
leads to it."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def icon_href(page: str) -> str:
    match = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
    assert match, "no icon linked"
    return match.group(1)


def test_pages_link_the_icon_and_it_is_served(client: Client) -> None:
    # when someone opens the home page and the login page
    for path in ("/", "/accounts/login/"):
        page = client.get(path).content.decode()
        # then each links the icon, which is served as SVG
        href = icon_href(page)
        assert href.endswith("favicon.svg")
        icon = client.get(href)
        assert icon.status_code == 200
        assert icon["Content-Type"].startswith("image/svg+xml")
        assert b"<svg" in b"".join(icon.streaming_content)  # type: ignore[attr-defined]


def test_favicon_ico_leads_to_the_icon(client: Client) -> None:
    # when a browser asks for /favicon.ico on its own
    response = client.get("/favicon.ico", follow=True)
    # then it gets the icon
    assert response.redirect_chain and response.redirect_chain[0][0].endswith("favicon.svg")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")


def test_the_admin_links_the_icon(admin_client: Client) -> None:
    assert icon_href(admin_client.get("/admin/").content.decode()).endswith("favicon.svg")
