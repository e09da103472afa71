"""Baked images: the signed credential inside the PNG and SVG the educator downloads, in the
format 1EdTech's validator reads."""

from __future__ import annotations

import io
import json
import struct
import uuid
import zlib
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from badges import artwork, baking, dataintegrity, services
from badges.models import Badge
from tests.badges.conftest import VECTORS
from tests.factories import UserFactory

FIXTURES: Path = VECTORS / "validator-ob30"


def _text_chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    out = []
    offset = 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        if kind in (b"iTXt", b"tEXt", b"zTXt"):
            out.append((kind, png[offset + 8 : offset + 8 + length]))
        offset += 12 + length
    return out


class TestValidatorFixtures:
    """1EdTech's own baked files unbake with our readers: the same format both ways."""

    def test_the_validators_png_unbakes(self) -> None:
        text = baking.unbake_png((FIXTURES / "simple-json.png").read_bytes())
        assert text is not None
        credential = json.loads(text)
        assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
        assert credential["name"] == "Teamwork Badge"

    def test_the_validators_svg_unbakes(self) -> None:
        text = baking.unbake_svg((FIXTURES / "simple-json.svg").read_bytes())
        assert text is not None
        credential = json.loads(text)
        assert credential["name"] == "Teamwork Badge"
        assert credential["proof"]

    def test_the_jwt_forms_unbake_to_a_compact_jwt(self) -> None:
        for name in ("simple-jwt.png", "simple-jwt.svg"):
            data = (FIXTURES / name).read_bytes()
            text = baking.unbake_png(data) if name.endswith(".png") else baking.unbake_svg(data)
            assert text is not None and text.count(".") == 2, name

    def test_rebaking_the_validators_png_keeps_one_credential_chunk(self) -> None:
        # given the validator's baked PNG
        original = (FIXTURES / "simple-json.png").read_bytes()
        # when another credential is baked into it
        baked = baking.bake_png(original, '{"name": "Replacement"}')
        # then there is exactly one, uncompressed, openbadgecredential chunk: the new one
        chunks = [c for c in _text_chunks(baked) if c[1].startswith(b"openbadgecredential\x00")]
        assert len(chunks) == 1
        kind, data = chunks[0]
        assert kind == b"iTXt"
        assert data[len(b"openbadgecredential\x00")] == 0  # compression flag: uncompressed
        assert json.loads(baking.unbake_png(baked) or "") == {"name": "Replacement"}
        Image.open(io.BytesIO(baked)).load()  # still a valid image


class TestBakeAndUnbake:
    def test_a_png_round_trips_byte_for_byte_text(self) -> None:
        png = artwork.generated_png("Round Trip", "RUSD", "#1f4e79")
        text = json.dumps({"name": "Café ✓", "note": "unicode survives"}, ensure_ascii=False)
        baked = baking.bake_png(png, text)
        assert baking.unbake_png(baked) == text
        assert baking.unbake_png(png) is None
        with Image.open(io.BytesIO(baked)) as image:
            image.load()
            assert image.size == (artwork.SIZE, artwork.SIZE)
            assert image.text.get("openbadgecredential") == text  # type: ignore[attr-defined]

    def test_every_chunk_crc_is_valid(self) -> None:
        baked = baking.bake_png(artwork.generated_png("CRC", "RUSD", "#1f4e79"), "{}")
        offset = 8
        while offset < len(baked):
            (length,) = struct.unpack(">I", baked[offset : offset + 4])
            body = baked[offset + 4 : offset + 8 + length]
            (crc,) = struct.unpack(">I", baked[offset + 8 + length : offset + 12 + length])
            assert zlib.crc32(body) == crc
            offset += 12 + length

    def test_not_a_png_is_refused(self) -> None:
        with pytest.raises(baking.BakingError):
            baking.bake_png(b"GIF89a...", "{}")
        with pytest.raises(baking.BakingError):
            baking.unbake_png(b"\x89PNG\r\n\x1a\n\x00\x00")

    def test_an_svg_carries_the_credential_first_with_the_picture_embedded(self) -> None:
        png = artwork.generated_png("SVG", "RUSD", "#1f4e79")
        text = '{"narrative": "ends with ]]> inside"}'
        svg = baking.bake_svg(text, png)
        start = svg.index("<svg")
        root = svg[start : svg.index(">", start) + 1]
        assert 'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"' in root
        # the credential is the first child of <svg>: nothing between them
        assert svg.index("<openbadges:credential>") == start + len(root)
        assert "data:image/png;base64," in svg
        assert baking.unbake_svg(svg) == text

    def test_an_svg_with_entity_declarations_is_refused(self) -> None:
        svg = (
            '<!DOCTYPE svg [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
            '<svg xmlns="http://www.w3.org/2000/svg">&b;</svg>'
        )
        with pytest.raises(baking.BakingError):
            baking.unbake_svg(svg)


@pytest.mark.django_db
class TestDownloads:
    @pytest.fixture
    def badge(self, approve: Any) -> Badge:
        application = approve(title="Project-Based Learning", educator=UserFactory())
        return services.badge_issue(application_id=application.pk)

    def test_the_baked_png_unbakes_to_the_identical_signed_credential(
        self, client: Client, badge: Badge
    ) -> None:
        # when anyone downloads the PNG of an issued badge
        response = client.get(reverse("badges:png", args=[badge.public_id]))
        # then it is an attachment named after the badge, carrying the signed credential
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response["Content-Disposition"] == (
            'attachment; filename="project-based-learning.png"'
        )
        text = baking.unbake_png(response.content)
        assert text is not None
        credential = json.loads(text)
        assert credential == badge.credential
        check = services.credential_verify(organization=badge.organization, credential=credential)
        assert check["verified"], check
        # and the picture is the achievement's own image
        with Image.open(io.BytesIO(response.content)) as image:
            assert image.size == (artwork.SIZE, artwork.SIZE)

    def test_the_baked_svg_unbakes_to_the_identical_signed_credential(
        self, client: Client, badge: Badge
    ) -> None:
        response = client.get(reverse("badges:svg", args=[badge.public_id]))
        assert response.status_code == 200
        assert response["Content-Type"] == "image/svg+xml"
        assert response["Content-Disposition"] == (
            'attachment; filename="project-based-learning.svg"'
        )
        text = baking.unbake_svg(response.content)
        assert text is not None
        assert json.loads(text) == badge.credential

    def test_a_tampered_baked_credential_fails_verification(
        self, client: Client, badge: Badge
    ) -> None:
        text = baking.unbake_png(client.get(reverse("badges:png", args=[badge.public_id])).content)
        credential = json.loads(text or "")
        credential["name"] = "Something else"
        result = dataintegrity.verify(
            credential,
            resolve_key=lambda m: dataintegrity.public_key_from_multibase(m.split("#")[1]),
        )
        assert not result.verified

    def test_an_unknown_badge_has_no_image(self, client: Client) -> None:
        assert client.get(reverse("badges:png", args=[uuid.uuid4()])).status_code == 404
        assert client.get(reverse("badges:svg", args=[uuid.uuid4()])).status_code == 404

    def test_the_view_image_and_the_baked_image_show_the_same_picture(
        self, client: Client, badge: Badge
    ) -> None:
        # the base of the baked image is the achievement image the credential names
        assert badge.version is not None
        served = client.get(
            reverse(
                "badges:achievement_image",
                args=[badge.organization.slug, badge.version.credential.slug, badge.version.number],
            )
        ).content
        assert served == artwork.achievement_png(badge)
