"""Security headers: a Content-Security-Policy on every page (scripts only from this site or with
the request's nonce, no framing), a Permissions-Policy, and a badge's embeddable card as the only
page other sites may frame."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from badges import services, sharing
from badges.models import Badge
from programs.models import StaffRole
from tests.factories import OrganizationFactory, StaffRoleFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def directives(response: Any) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    out = {}
    for part in header.split(";"):
        name, *values = part.strip().split()
        out[name] = values
    return out


@pytest.fixture
def badge(approve: Any) -> Badge:
    educator = UserFactory(full_name="Maria Lopez")
    return services.badge_issue(application_id=approve(educator=educator).pk)


def test_every_page_has_a_policy_that_refuses_inline_scripts_and_framing(client: Client) -> None:
    organization = OrganizationFactory()
    for url in ("/", f"/o/{organization.slug}/", "/accounts/login/", "/admin/login/", "/api/docs/"):
        response = client.get(url)
        assert response.status_code == 200, url
        policy = directives(response)
        # scripts only from this site, or an inline one carrying this response's nonce
        assert policy["script-src"][0] == "'self'", url
        assert [v for v in policy["script-src"][1:] if not v.startswith("'nonce-")] == [], url
        assert "'unsafe-inline'" not in policy["script-src"], url
        assert policy["frame-ancestors"] == ["'none'"], url
        assert response["X-Frame-Options"] == "DENY", url
        # features the site never uses are off
        assert "camera=()" in response["Permissions-Policy"], url
        assert "geolocation=()" in response["Permissions-Policy"], url
    # evidence is shown and uploaded only from the evidence store's origin besides the site
    from django.conf import settings

    store = settings.AWS_S3_PUBLIC_ENDPOINT_URL or settings.AWS_S3_ENDPOINT_URL
    origin = "/".join(store.split("/")[:3])
    assert origin in policy["media-src"] and origin in policy["connect-src"]


def test_an_inline_script_runs_only_with_its_responses_nonce(client: Client) -> None:
    # given a page whose template needs an inline script (the conflicts form, with an error)
    organization = OrganizationFactory()
    reviewer = StaffRoleFactory(organization=organization, role=StaffRole.Role.REVIEWER).user
    client.force_login(reviewer)
    url = f"/o/{organization.slug}/review/conflicts/"
    nonces = []
    for _ in range(2):
        response = client.post(url, {"kind": "school"})
        assert response.status_code == 400
        (nonce,) = re.findall(r'<script nonce="([^"]+)">', response.content.decode())
        # then the policy admits that script by its nonce, and the nonce is new every time
        assert f"'nonce-{nonce}'" in directives(response)["script-src"]
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_the_api_docs_need_no_inline_script(client: Client) -> None:
    html = client.get("/api/docs/").content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []


def test_no_template_has_an_inline_script_without_the_nonce() -> None:
    # given every template of the project
    templates = [
        path
        for folder in ("templates", "programs", "submissions", "reviews", "badges")
        for path in (ROOT / folder).rglob("*.html")
    ]
    assert len(templates) > 40
    offenders = []
    for path in templates:
        text = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and "csp_nonce" not in tag and "application/ld+json" not in tag:
                offenders.append(f"{path.relative_to(ROOT)}: {tag}")
        if re.search(r"\son[a-z]+=\"", text):
            offenders.append(f"{path.relative_to(ROOT)}: an on…= event attribute")
    assert offenders == []


def test_the_badge_card_alone_may_be_framed_by_any_site(client: Client, badge: Badge) -> None:
    response = client.get(reverse("badges:card", args=[badge.public_id]))
    assert response.status_code == 200
    assert directives(response)["frame-ancestors"] == ["*"]
    assert "X-Frame-Options" not in response
    # and nothing else of the badge is, its verification page included (tests/badges/test_embed)
    for name in ("badges:verify", "badges:json"):
        response = client.get(reverse(name, args=[badge.public_id]))
        assert directives(response)["frame-ancestors"] == ["'none'"], name


def test_the_card_shows_the_badge_the_signed_name_and_its_status(
    client: Client, badge: Badge
) -> None:
    # given the educator renamed themselves after the badge was issued
    badge.recipient.full_name = "Someone Else"
    badge.recipient.save(update_fields=["full_name"])
    html = client.get(reverse("badges:card", args=[badge.public_id])).content.decode()
    # then the card names them as the credential does, with its status checked now
    assert "Earned by <strong>Maria Lopez</strong>" in html
    assert "Someone Else" not in html
    assert "✓ Valid: verified just now" in html
    assert f'href="{services.badge_url(badge)}" target="_top"' in html
    # and after revocation it says so
    services.badge_revoke(badge=badge, reason="Issued in error.", actor=None)
    html = client.get(reverse("badges:card", args=[badge.public_id])).content.decode()
    assert ">Revoked<" in html


def test_the_owner_gets_the_embed_snippet(client: Client, badge: Badge) -> None:
    client.force_login(badge.recipient)
    html = client.get(reverse("badges:verify", args=[badge.public_id])).content.decode()
    assert "Embed on a web page" in html
    card_url = reverse("badges:card", args=[badge.public_id])
    assert card_url in sharing.embed_html(badge)
    assert "&lt;iframe src=" in html


def test_an_unknown_card_is_404(client: Client) -> None:
    assert client.get("/badges/00000000-0000-0000-0000-000000000000/card").status_code == 404
