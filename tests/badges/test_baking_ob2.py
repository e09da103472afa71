"""The PNG for Open Badges 2.0 backpacks: the badge picture with one iTXt chunk, keyword
``openbadges``, whose text is the hosted Assertion's URL (OB 2.0 "Baking"), offered on the
owner's badge page beside the 3.0 downloads."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from badges import artwork, baking, ob2, services
from badges.models import Badge
from tests.badges.test_baking import _text_chunks
from tests.badges.test_views_backpack import logged_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LABEL = "PNG for Open Badges 2.0 backpacks"


@pytest.fixture
def badge(approve: Any) -> Badge:
    application = approve(title="Project-Based Learning", educator=UserFactory())
    return services.badge_issue(application_id=application.pk)


def _download(client: Client, badge: Badge) -> Any:
    return client.get(reverse("badges:png_ob2", args=[badge.public_id]))


class TestTheDownload:
    def test_unbakes_to_the_url_of_the_badges_2_0_assertion(
        self, client: Client, badge: Badge
    ) -> None:
        # when anyone downloads the 2.0 PNG of an issued badge
        response = _download(client, badge)
        # then it is a PNG attachment named after the badge
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response["Content-Disposition"] == (
            'attachment; filename="project-based-learning-ob2.png"'
        )
        # and the project's own reader finds the hosted assertion's URL in it
        url = baking.unbake_png(response.content, keyword=baking.OB2_KEYWORD)
        assert url == ob2.assertion_url(badge)
        # and that URL answers with the badge's 2.0 assertion, for the same earner as the 3.0
        # credential
        fetched = client.get(urlsplit(url).path)
        assert fetched.status_code == 200
        assertion = json.loads(fetched.content)
        assert (assertion["type"], assertion["id"]) == ("Assertion", url)
        assert (
            assertion["recipient"]["identity"]
            == (badge.credential["credentialSubject"]["identifier"][0]["identityHash"])
        )

    def test_carries_one_openbadges_chunk_as_the_2_0_baking_rules_say(
        self, client: Client, badge: Badge
    ) -> None:
        png = _download(client, badge).content
        chunks = _text_chunks(png)
        # one iTXt chunk, keyword "openbadges", uncompressed, no language, the URL as its text
        assert chunks == [
            (b"iTXt", b"openbadges\x00\x00\x00\x00\x00" + ob2.assertion_url(badge).encode())
        ]
        # and no 3.0 credential: a 2.0 backpack would not read it
        assert baking.unbake_png(png) is None

    def test_the_picture_is_the_badges_own(self, client: Client, badge: Badge) -> None:
        # the download is the achievement's picture, byte for byte, with the chunk added
        png = _download(client, badge).content
        rebaked = baking.bake_png(
            artwork.achievement_png(badge), ob2.assertion_url(badge), keyword=baking.OB2_KEYWORD
        )
        assert rebaked == png

    def test_a_revoked_badges_baked_url_says_revoked(self, client: Client, badge: Badge) -> None:
        # given a badge revoked after its 2.0 PNG was downloaded
        url = baking.unbake_png(_download(client, badge).content, keyword=baking.OB2_KEYWORD)
        services.badge_revoke(badge=badge, reason="Issued in error.", actor=None)
        # when a 2.0 backpack follows the URL in the image
        response = client.get(urlsplit(url or "").path)
        # then the assertion answers gone, and says revoked
        assert response.status_code == 410
        assert json.loads(response.content)["revoked"] is True

    def test_an_unknown_badge_has_no_image(self, client: Client) -> None:
        assert client.get(reverse("badges:png_ob2", args=[uuid.uuid4()])).status_code == 404


class TestBaking:
    def test_rebaking_replaces_the_2_0_chunk_and_keeps_a_3_0_credential(self) -> None:
        # given a PNG with a 3.0 credential and an old 2.0 URL
        picture = baking.bake_png(
            baking.bake_png(_small_png(), '{"id": "urn:uuid:1"}'),
            "https://old.example/assertion",
            keyword=baking.OB2_KEYWORD,
        )
        # when it is baked with a new 2.0 URL
        baked = baking.bake_png(
            picture, "https://new.example/assertion", keyword=baking.OB2_KEYWORD
        )
        # then it holds the new URL once, and the 3.0 credential still
        assert baking.unbake_png(baked, keyword=baking.OB2_KEYWORD) == (
            "https://new.example/assertion"
        )
        assert [kind for kind, _ in _text_chunks(baked)] == [b"iTXt", b"iTXt"]
        assert baking.unbake_png(baked) == '{"id": "urn:uuid:1"}'


def _small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "#1f4e79").save(buffer, format="PNG")
    return buffer.getvalue()


class TestOnTheOwnersPages:
    def test_the_owner_finds_it_beside_the_other_downloads(self, badge: Badge) -> None:
        client = logged_in(badge.recipient)
        href = reverse("badges:png_ob2", args=[badge.public_id])
        for page in (reverse("badges:verify", args=[badge.public_id]), "/me/badges/"):
            html = client.get(page).content.decode()
            assert f'<a href="{href}" download="project-based-learning-ob2.png">{LABEL}</a>' in (
                html
            ), page
            assert "Badge image (SVG)" in html

    def test_visitors_do_not_see_the_downloads(self, client: Client, badge: Badge) -> None:
        html = client.get(reverse("badges:verify", args=[badge.public_id])).content.decode()
        assert LABEL not in html
