"""A badge of a credential with a Spanish edition (docs/decisions/0037): its Achievement keeps
the organization's text, says its language (``inLanguage``) and points to the Spanish edition
(``related``), a JSON-LD Achievement served at that address; the badge stays schema-valid,
verifies (ours and Digital Bazaar's), and signs the same from a canonical template (the batch
path) as the ordinary way. The badge pages show the edition to Spanish readers."""

from __future__ import annotations

import copy
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.test import Client
from django.urls import reverse

from badges import canon_templates, dataintegrity, services
from badges.models import Badge
from programs.models import Organization
from tests.badges.conftest import ROOT, assert_valid_ob3
from tests.badges.test_independent_verifier import VALID, documents_for, verify_independently
from tests.badges.test_views_backpack import earn, logged_in
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

TITLE_ES = "Círculos restaurativos"
SUMMARY_ES = "Dirija las reuniones del personal en círculo."
EDITION = {"title": "Restorative Circles", "title_es": TITLE_ES, "summary_es": SUMMARY_ES}


@cache
def _achievement_schema() -> dict[str, Any]:
    schema = json.loads(
        (ROOT / "badges" / "schema" / "ob_v3p0_achievementcredential_schema.json").read_text()
    )
    return {"$defs": schema["$defs"], "$ref": "#/$defs/Achievement"}


def achievement_of(badge: Badge) -> dict[str, Any]:
    achievement: dict[str, Any] = badge.credential["credentialSubject"]["achievement"]
    return achievement


def path_of(url: str) -> str:
    site = settings.SITE_URL.rstrip("/")
    assert url.startswith(site + "/")
    return url[len(site) :]


@pytest.fixture
def issued(approve: Any) -> Badge:
    application = approve(**EDITION)
    return services.badge_issue(application_id=application.pk)


class TestTheCredential:
    def test_the_achievement_says_its_language_and_points_to_the_spanish_edition(
        self, issued: Badge, client: Client, tmp_path: Path
    ) -> None:
        # given a badge of a credential with a Spanish edition
        achievement = achievement_of(issued)
        # then it carries the organization's text, in its language, and the edition's address
        assert (achievement["name"], achievement["inLanguage"]) == ("Restorative Circles", "en")
        version = issued.version
        assert version is not None
        assert achievement["related"] == [
            {
                "id": f"{achievement['id']}achievement-es.json",
                "type": ["Related"],
                "inLanguage": "es",
                "version": "1",
            }
        ]
        # and it is schema-valid and verifies, here and with Digital Bazaar's verifier
        assert_valid_ob3(issued.credential)
        check = services.credential_verify(
            organization=issued.organization, credential=issued.credential
        )
        assert check["verified"] and check["status"] == "valid", check
        documents = documents_for(client, issued.credential)
        assert verify_independently(issued.credential, documents, tmp_path) == VALID

    def test_a_credential_without_an_edition_points_nowhere(self, approve: Any) -> None:
        badge = services.badge_issue(application_id=approve().pk)
        achievement = achievement_of(badge)
        assert achievement["inLanguage"] == "en" and "related" not in achievement

    def test_an_organization_writing_in_spanish_says_so(self, approve: Any) -> None:
        gael = OrganizationFactory(slug="gael", content_language="es")
        badge = services.badge_issue(application_id=approve(organization=gael).pk)
        achievement = achievement_of(badge)
        assert achievement["inLanguage"] == "es" and "related" not in achievement
        assert_valid_ob3(badge.credential)

    def test_the_batch_path_signs_it_byte_for_byte_as_the_single_path(
        self, approve: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given two badges of one credential with a Spanish edition (one shape), unsigned, their
        # achievement a Constant as issuing passes it
        for name in ("_slots", "_templates", "_builds"):
            monkeypatch.setattr(canon_templates, name, dataintegrity._Recent(maxsize=256))
        first = services.badge_issue(application_id=approve(**EDITION).pk)
        application = approve(**EDITION)
        second = services.badge_issue(application_id=application.pk)
        key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
        plain = dataintegrity.canonize
        ordinary: list[int] = []

        def counted(document: dict[str, Any], **options: Any) -> str:
            ordinary.append(1)
            return plain(document, **options)

        for badge in (first, second, second):  # the template made, then used
            unsigned = {k: v for k, v in copy.deepcopy(badge.credential).items() if k != "proof"}
            constant = copy.deepcopy(unsigned)
            constant["credentialSubject"]["achievement"] = dataintegrity.Constant(
                unsigned["credentialSubject"]["achievement"],
                key=hashlib.sha256(
                    json.dumps(unsigned["credentialSubject"]["achievement"]).encode()
                ).hexdigest(),
            )
            # when it is canonicalized and signed from its shape's template, and the plain way
            ordinary.clear()
            monkeypatch.setattr(dataintegrity, "canonize", counted)
            templated = canon_templates.canonize(constant)
            monkeypatch.setattr(dataintegrity, "canonize", plain)
            # then the N-Quads and the proof are the same, byte for byte
            assert templated == dataintegrity.canonize(unsigned)
            options = {
                "private_key": key,
                "verification_method": "did:example:issuer#key-1",
                "created": "2026-12-06T09:30:52Z",
            }
            signed = dataintegrity.sign(constant, canonicalize=canon_templates.canonize, **options)
            assert signed["proof"] == dataintegrity.sign(unsigned, **options)["proof"]
        assert not ordinary  # the last came from its shape's template

    def test_a_batch_issues_badges_with_the_edition_that_verify(self, approve: Any) -> None:
        applications = [approve(**EDITION) for _ in range(3)]
        result = services.badge_issue_batch(
            application_ids=[a.pk for a in applications], chunk_size=2
        )
        assert sorted(result.issued) == sorted(a.pk for a in applications)
        for badge in Badge.objects.filter(application__in=applications):
            assert achievement_of(badge)["related"][0]["inLanguage"] == "es"
            assert_valid_ob3(badge.credential)
            check = services.credential_verify(
                organization=badge.organization, credential=badge.credential
            )
            assert check["verified"] and check["status"] == "valid", check


class TestTheEditionDocument:
    def test_the_spanish_edition_answers_where_the_badge_points(
        self, issued: Badge, client: Client
    ) -> None:
        # when a verifier follows the badge's related achievement
        achievement = achievement_of(issued)
        response = client.get(path_of(achievement["related"][0]["id"]))
        # then it gets the Spanish edition: its own id, the Spanish text, a link back
        assert response.status_code == 200
        assert response["Content-Type"] == "application/ld+json"
        edition = json.loads(response.content)
        assert edition["id"] == achievement["related"][0]["id"]
        assert (edition["name"], edition["description"]) == (TITLE_ES, SUMMARY_ES)
        assert edition["inLanguage"] == "es"
        assert edition["related"] == [
            {"id": achievement["id"], "type": ["Related"], "inLanguage": "en", "version": "1"}
        ]
        assert edition["criteria"] == achievement["criteria"]
        # an OB 3.0 Achievement, whose every term the contexts define (safe-mode expansion)
        errors = list(jsonschema.Draft201909Validator(_achievement_schema()).iter_errors(edition))
        assert not errors, [e.message for e in errors]
        assert dataintegrity.canonize(edition)

    def test_no_edition_no_document_and_another_organizations_slug_is_not_found(
        self, issued: Badge, approve: Any, client: Client, org: Organization
    ) -> None:
        version = issued.version
        assert version is not None
        slug = version.credential.slug

        def edition_url(organization: str, credential: str, language: str = "es") -> str:
            return reverse(
                "badges:achievement_edition", args=[organization, credential, 1, language]
            )

        assert client.get(edition_url(org.slug, slug)).status_code == 200
        # another organization's address for this credential: 404
        gael = OrganizationFactory(slug="gael")
        assert client.get(edition_url(gael.slug, slug)).status_code == 404
        # a language it has no edition in, or the organization's own: 404
        assert client.get(edition_url(org.slug, slug, "fr")).status_code == 404
        assert client.get(edition_url(org.slug, slug, "en")).status_code == 404
        # a credential without an edition: 404
        plain = services.badge_issue(application_id=approve().pk)
        assert plain.version is not None
        other = plain.version.credential.slug
        assert client.get(edition_url(org.slug, other)).status_code == 404


class TestBadgePages:
    def test_my_badges_and_the_badge_page_in_spanish_show_the_edition(self) -> None:
        educator = UserFactory(language="es")
        badge = earn(educator, OrganizationFactory(slug="riverside"), **EDITION)
        client = logged_in(educator)
        backpack = client.get(reverse("badges:backpack")).content.decode()
        assert f'<h3><a href="{reverse("badges:verify", args=[badge.public_id])}">' in backpack
        assert TITLE_ES in backpack and "Restorative Circles</a>" not in backpack
        verify = Client().get(
            reverse("badges:verify", args=[badge.public_id]), HTTP_ACCEPT_LANGUAGE="es"
        )
        html = verify.content.decode()
        assert f'<h1 id="badge-title">{TITLE_ES}</h1>' in html
        assert f"<p>{SUMMARY_ES}</p>" in html

    def test_the_badge_page_in_english_shows_the_name_it_was_issued_with(self) -> None:
        badge = earn(UserFactory(), OrganizationFactory(slug="riverside"), **EDITION)
        html = Client().get(reverse("badges:verify", args=[badge.public_id])).content.decode()
        assert '<h1 id="badge-title">Restorative Circles</h1>' in html
        assert TITLE_ES not in html
