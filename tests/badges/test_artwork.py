"""Badge artwork: a program admin uploads a checked PNG or SVG, or designs one in the brand
colour, with alt text; it is served safely, named by the credential's achievement.image, baked
into the badge images and shown on the credential page and catalog card."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from badges import baking, services
from badges.models import Badge
from programs import services as program_services
from programs.models import AuditEvent, CredentialVersion, Organization, StaffRole, User
from reviews import services as review_services
from submissions import services as submission_services
from tests.badges.conftest import assert_valid_ob3
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    StaffRoleFactory,
    UserFactory,
    make_credential,
)
from tests.reviews.conftest import decide, submit_attempt

pytestmark = pytest.mark.django_db

SAFE_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
    b'<circle cx="5" cy="5" r="4" fill="#123456"/></svg>'
)


def png(width: int = 120, height: int = 120, colour: str = "#c0ffee") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def huge_png() -> bytes:
    """A real PNG of about 50 MB: random-looking pixels that do not compress."""
    out = io.BytesIO()
    Image.frombytes("RGB", (4100, 4100), bytes(range(256)) * (4100 * 4100 * 3 // 256 + 1)).save(
        out, format="PNG", compress_level=0
    )
    return out.getvalue()


@pytest.fixture
def admin(org: Organization) -> User:
    return StaffRoleFactory(
        organization=org, role=StaffRole.Role.PROGRAM_ADMIN, user=UserFactory()
    ).user


@pytest.fixture
def draft(org: Organization) -> CredentialVersion:
    return make_credential(org, title="Formative Feedback", publish=False, non_member_fee=0)


def artwork_url(version: CredentialVersion) -> str:
    return reverse("admin:programs_credentialversion_artwork", args=[version.pk])


def image_url(version: CredentialVersion) -> str:
    return reverse(
        "badges:achievement_image",
        args=[version.organization.slug, version.credential.slug, version.number],
    )


def upload(client: Client, version: CredentialVersion, name: str, data: bytes, **fields: Any):  # type: ignore[no-untyped-def]
    file = io.BytesIO(data)
    file.name = name
    return client.post(
        artwork_url(version),
        {"source": "upload", "image": file, "alt": "A teal square", **fields},
    )


def errors_of(response: Any) -> list[str]:
    form = response.context["form"]
    return [str(e) for errors in form.errors.values() for e in errors]


def issue(version: CredentialVersion, reviewer: User, capture: Any) -> Badge:
    educator = UserFactory()
    MembershipFactory(organization=version.organization, user=educator, member_until=None)
    application = submission_services.application_apply(
        credential=version.credential, educator=educator
    )
    submit_attempt(application, educator)
    with capture(execute=False):
        claim = review_services.review_claim_next(
            organization=version.organization, reviewer=reviewer
        )
        decide(claim, reviewer, "approve")
    return services.badge_issue(application_id=application.pk)


class TestUploadRefused:
    @pytest.mark.parametrize(
        ("svg", "says"),
        [
            (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "script"),
            (
                b'<svg xmlns="http://www.w3.org/2000/svg"><rect onload="alert(1)"/></svg>',
                "event handler",
            ),
            (
                b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
                b'<a x:href="javascript:alert(1)"><rect/></a></svg>',
                "javascript:",
            ),
            (
                b'<svg xmlns="http://www.w3.org/2000/svg">'
                b'<image href="https://evil.example/track.png"/></svg>',
                "outside the file",
            ),
            (
                b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://e.x/a.css);'
                b"</style></svg>",
                "imports",
            ),
            (
                b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>hi</p>'
                b"</foreignObject></svg>",
                "foreignObject",
            ),
            (
                b'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                b'<svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
                "DTD",
            ),
            (b"GIF89a not an image we take", "neither a PNG nor"),
        ],
    )
    def test_unsafe_svg_is_refused_with_a_clear_message_and_nothing_changes(
        self, client: Client, admin: User, draft: CredentialVersion, svg: bytes, says: str
    ) -> None:
        # given a program admin on a draft's artwork page
        client.force_login(admin)
        # when they upload an SVG that could run script or load something from elsewhere
        response = upload(client, draft, "badge.png", svg)  # the name does not matter
        # then the page says why, and the version keeps no artwork
        assert response.status_code == 200
        assert any(says in error for error in errors_of(response)), errors_of(response)
        assert says in response.content.decode().replace("&lt;", "<").replace("&gt;", ">")
        draft.refresh_from_db()
        assert not draft.has_artwork and not draft.badge_image_alt
        assert not AuditEvent.objects.filter(action="badge_artwork.changed").exists()

    def test_a_50_mb_image_is_refused(
        self, client: Client, admin: User, draft: CredentialVersion
    ) -> None:
        client.force_login(admin)
        data = huge_png()
        assert len(data) > 50 * 1000 * 1000
        response = upload(client, draft, "big.png", data)
        assert "larger than 2 MB" in " ".join(errors_of(response))
        draft.refresh_from_db()
        assert not draft.has_artwork

    def test_a_png_over_2048_pixels_is_refused(
        self, client: Client, admin: User, draft: CredentialVersion
    ) -> None:
        client.force_login(admin)
        response = upload(client, draft, "wide.png", png(3000, 100))
        assert "3000 by 100 pixels" in " ".join(errors_of(response))

    def test_alt_text_is_required(
        self, client: Client, admin: User, draft: CredentialVersion
    ) -> None:
        client.force_login(admin)
        response = upload(client, draft, "ok.png", png(), alt="")
        assert response.status_code == 200
        assert errors_of(response)
        draft.refresh_from_db()
        assert not draft.has_artwork


class TestUploadedPng:
    def test_appears_on_the_page_and_in_a_new_badge_which_still_verifies(
        self,
        client: Client,
        admin: User,
        reviewer: User,
        draft: CredentialVersion,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        # given a program admin uploads a PNG (named .svg: the content decides) to a draft
        client.force_login(admin)
        picture = png()
        response = upload(client, draft, "badge.svg", picture, alt="A teal square badge")
        assert response.status_code == 302
        assert AuditEvent.objects.filter(action="badge_artwork.changed").count() == 1
        # and publishes it
        version = program_services.credential_version_publish(version=draft, actor=admin)
        client.logout()
        # then the public image is the PNG, labelled by its content
        served = client.get(image_url(version))
        assert served.status_code == 200
        assert served["Content-Type"] == "image/png"
        assert served["X-Content-Type-Options"] == "nosniff"
        assert served.content == picture
        # and the credential page and the catalog card show it with its alt text, no letter
        page = client.get(version.credential.get_absolute_url()).content.decode()
        assert f'src="{image_url(version)}" alt="A teal square badge"' in page
        assert "badge-placeholder" not in page
        catalog = client.get(reverse("programs:catalog", args=[version.organization.slug]))
        assert f'src="{image_url(version)}" alt="A teal square badge"' in catalog.content.decode()
        # and a badge issued now names it, captioned with the alt text, and verifies
        badge = issue(version, reviewer, django_capture_on_commit_callbacks)
        image = badge.credential["credentialSubject"]["achievement"]["image"]
        assert image["id"].endswith(image_url(version))
        assert image["type"] == "Image"
        assert image["caption"] == "A teal square badge"
        assert_valid_ob3(badge.credential)
        assert services.credential_verify(
            organization=badge.organization, credential=badge.credential
        )["verified"]
        # and the baked PNG is the uploaded picture carrying the credential
        baked = client.get(reverse("badges:png", args=[badge.public_id])).content
        assert json.loads(baking.unbake_png(baked) or "") == badge.credential
        with Image.open(io.BytesIO(baked)) as opened:
            assert opened.size == (120, 120)


class TestUploadedSvg:
    def test_a_safe_svg_is_served_with_a_policy_that_forbids_script(
        self, client: Client, admin: User, draft: CredentialVersion
    ) -> None:
        client.force_login(admin)
        assert upload(client, draft, "badge.svg", SAFE_SVG).status_code == 302
        version = program_services.credential_version_publish(version=draft, actor=admin)
        client.logout()
        served = client.get(image_url(version))
        assert served["Content-Type"] == "image/svg+xml"
        assert served["Content-Security-Policy"] == (
            "default-src 'none'; style-src 'unsafe-inline'"
        )
        assert served["X-Content-Type-Options"] == "nosniff"
        assert served.content == SAFE_SVG
        # a second (cached) read carries the same headers
        again = client.get(image_url(version))
        assert again["Content-Security-Policy"] == served["Content-Security-Policy"]

    def test_the_baked_svg_shows_the_uploaded_svg(
        self,
        client: Client,
        admin: User,
        reviewer: User,
        draft: CredentialVersion,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        client.force_login(admin)
        assert upload(client, draft, "badge.svg", SAFE_SVG).status_code == 302
        version = program_services.credential_version_publish(version=draft, actor=admin)
        badge = issue(version, reviewer, django_capture_on_commit_callbacks)
        baked = client.get(reverse("badges:svg", args=[badge.public_id])).content
        assert json.loads(baking.unbake_svg(baked) or "") == badge.credential
        embedded = "data:image/svg+xml;base64," + base64.b64encode(SAFE_SVG).decode()
        assert embedded in baked.decode()
        # and the baked PNG shows it too (drawn, not the generated placeholder)
        baked_png = client.get(reverse("badges:png", args=[badge.public_id])).content
        assert json.loads(baking.unbake_png(baked_png) or "") == badge.credential
        with Image.open(io.BytesIO(baked_png)) as opened:
            assert opened.size == (400, 400)
            assert opened.convert("RGB").getpixel((200, 200)) == (0x12, 0x34, 0x56)


class TestDesigned:
    def test_a_design_uses_the_brand_colour_and_goes_into_the_baked_badge(
        self,
        client: Client,
        admin: User,
        reviewer: User,
        org: Organization,
        draft: CredentialVersion,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        # given an organization whose brand colour is dark green
        org.brand_colour = "#14532d"
        org.save()
        client.force_login(admin)
        # when the admin designs a shield with a book icon
        response = client.post(
            artwork_url(draft),
            {
                "source": "design",
                "shape": "shield",
                "icon": "book",
                "title": "Feedback",
                "level": "Level 2",
                "alt": "Green shield with a book: Feedback, Level 2",
            },
        )
        assert response.status_code == 302
        version = program_services.credential_version_publish(version=draft, actor=admin)
        client.logout()
        # then the served SVG is filled with the brand colour and carries the title and level
        served = client.get(image_url(version))
        assert served["Content-Type"] == "image/svg+xml"
        svg = served.content.decode()
        assert 'fill="#14532d"' in svg
        assert ">Feedback<" in svg and ">Level 2<" in svg
        assert "<title>Green shield with a book: Feedback, Level 2</title>" in svg
        # and the baked PNG shows the design: its centre column is the brand colour
        badge = issue(version, reviewer, django_capture_on_commit_callbacks)
        baked = client.get(reverse("badges:png", args=[badge.public_id])).content
        assert json.loads(baking.unbake_png(baked) or "") == badge.credential
        with Image.open(io.BytesIO(baked)) as opened:
            assert opened.convert("RGB").getpixel((200, 40)) == (0x14, 0x53, 0x2D)
            assert opened.convert("RGB").getpixel((30, 380))[:3] != (0x14, 0x53, 0x2D)
        assert_valid_ob3(badge.credential)

    def test_an_unknown_shape_is_refused(
        self, client: Client, admin: User, draft: CredentialVersion
    ) -> None:
        client.force_login(admin)
        response = client.post(
            artwork_url(draft), {"source": "design", "shape": "star", "icon": "book", "alt": "x"}
        )
        assert response.status_code == 200
        draft.refresh_from_db()
        assert not draft.has_artwork


class TestTenancy:
    def test_another_organizations_admin_cannot_see_or_set_the_artwork(
        self, client: Client, draft: CredentialVersion
    ) -> None:
        # given a program admin of another organization
        other = OrganizationFactory(slug="bravo")
        intruder = StaffRoleFactory(
            organization=other, role=StaffRole.Role.PROGRAM_ADMIN, user=UserFactory()
        ).user
        client.force_login(intruder)
        # when they open or post to A's version's artwork page
        assert client.get(artwork_url(draft)).status_code == 404
        response = upload(client, draft, "x.png", png())
        # then it does not exist for them, and nothing changed
        assert response.status_code == 404
        draft.refresh_from_db()
        assert not draft.has_artwork

    def test_a_published_version_is_frozen(
        self, client: Client, admin: User, org: Organization
    ) -> None:
        version = make_credential(org)
        client.force_login(admin)
        assert client.get(artwork_url(version)).status_code == 200
        response = upload(client, version, "x.png", png())
        assert response.status_code == 404
        version.refresh_from_db()
        assert not version.has_artwork
