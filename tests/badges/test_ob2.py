"""Open Badges 2.0 hosted documents: an Assertion per badge, a BadgeClass per credential version
and per pathway, an Issuer per organization — consistent with the signed 3.0 credential."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from badges import documents, ob2, services
from badges.models import Badge
from programs.models import Organization
from submissions.models import EvidenceItem
from tests.factories import OrganizationFactory, PathwayFactory, UserFactory

pytestmark = pytest.mark.django_db

CONTEXT = "https://w3id.org/openbadges/v2"


def _get(client: Client, url: str) -> Any:
    """GET a hosted document by its absolute id (as a backpack would) and parse it."""
    response = client.get(urlsplit(url).path)
    assert response.status_code == 200, (url, response.status_code)
    assert response["Access-Control-Allow-Origin"] == "*"
    return json.loads(response.content)


@pytest.fixture
def badge(approve: Any) -> Badge:
    application = approve(title="Restorative Practices", expiry_policy="months", expiry_months=36)
    EvidenceItem.objects.filter(application=application, kind="text").update(visibility="public")
    return services.badge_issue(application_id=application.pk)


class TestAssertion:
    def test_the_assertion_says_what_the_credential_says(
        self, client: Client, badge: Badge
    ) -> None:
        # when a 2.0 backpack fetches the hosted assertion
        url = reverse("badges:ob2_assertion", args=[badge.public_id])
        assertion = _get(client, url)
        credential = badge.credential
        # then it is a hosted 2.0 assertion with the credential's recipient hash and dates
        assert assertion["@context"] == CONTEXT
        assert assertion["type"] == "Assertion"
        assert assertion["id"] == settings.SITE_URL.rstrip("/") + url
        assert assertion["verification"] == {"type": "hosted"}
        identifier = credential["credentialSubject"]["identifier"][0]
        assert assertion["recipient"] == {
            "type": "email",
            "hashed": True,
            "salt": badge.salt,
            "identity": identifier["identityHash"],
        }
        assert assertion["recipient"]["identity"] == documents.identity_hash(
            badge.recipient.email.lower(), badge.salt
        )
        assert assertion["issuedOn"] == credential["validFrom"]
        assert assertion["expires"] == credential["validUntil"]
        assert "revoked" not in assertion
        assert [e["name"] for e in assertion["evidence"]] == ["Reflection"]
        assert "exit tickets" in assertion["evidence"][0]["narrative"]

    def test_its_badge_class_and_issuer_match_the_credential(
        self, client: Client, badge: Badge
    ) -> None:
        # given the hosted assertion
        assertion = _get(client, reverse("badges:ob2_assertion", args=[badge.public_id]))
        # when its badge class and that class's issuer are followed
        badge_class = _get(client, assertion["badge"])
        issuer = _get(client, badge_class["issuer"])
        # then they name the same achievement and issuer as the 3.0 credential
        achievement = badge.credential["credentialSubject"]["achievement"]
        assert badge_class["@context"] == CONTEXT
        assert badge_class["type"] == "BadgeClass"
        assert badge_class["id"] == assertion["badge"]
        assert badge_class["name"] == achievement["name"] == badge.credential["name"]
        assert badge_class["description"] == achievement["description"]
        assert badge_class["criteria"]["narrative"] == achievement["criteria"]["narrative"]
        assert badge_class["image"] == achievement["image"]["id"]
        assert client.get(urlsplit(badge_class["image"]).path).status_code == 200
        assert issuer["type"] == "Issuer"
        assert issuer["id"] == badge_class["issuer"]
        assert issuer["name"] == badge.credential["issuer"]["name"]
        assert issuer["url"] == badge.credential["issuer"]["url"]
        assert issuer["email"] == badge.credential["issuer"]["email"]

    def test_a_revoked_badge_is_reported_revoked_with_its_reason(
        self, client: Client, badge: Badge
    ) -> None:
        # given a revoked badge
        services.badge_revoke(badge=badge, reason="Plagiarised evidence.", actor=None)
        url = ob2.assertion_url(badge)
        # when its hosted assertion is fetched
        response = client.get(urlsplit(url).path)
        # then it answers 410 Gone (the status readers: Mozilla's Backpack, 1EdTech's
        # validator-core) with the assertion itself, revoked, and the reason (the body readers)
        assert response.status_code == 410
        assert response["Content-Type"] == "application/ld+json"
        assertion = json.loads(response.content)
        assert assertion["revoked"] is True
        assert assertion["revocationReason"] == "Plagiarised evidence."
        assert (assertion["id"], assertion["type"]) == (url, "Assertion")

    def test_validator_core_reads_a_revoked_badge_as_revoked_and_a_valid_one_as_valid(
        self, client: Client, approve: Any
    ) -> None:
        # given a revoked badge and a valid one
        revoked = services.badge_issue(application_id=approve().pk)
        services.badge_revoke(badge=revoked, reason="Issued in error.", actor=None)
        valid = services.badge_issue(application_id=approve().pk)
        # then openbadges-validator-core's hosted check (tasks/graph.py: it parses the body
        # whatever the status; a 410 whose body is the Assertion with the fetched id is
        # "revoked"; the body's revoked flag alone it does not read) and a reader of the body's
        # revoked flag both see the revoked one revoked, and only that one
        for badge, expected in ((revoked, True), (valid, False)):
            url = ob2.assertion_url(badge)
            response = client.get(urlsplit(url).path)
            body = json.loads(response.content)
            status_reading = (
                response.status_code == 410
                and "Assertion" in [body.get("type")]
                and body.get("id") == url
            )
            body_reading = body.get("revoked") is True
            assert (status_reading, body_reading) == (expected, expected), badge
            assert response.status_code == (410 if expected else 200)

    def test_a_badge_that_does_not_expire_has_no_expiry(self, client: Client, approve: Any) -> None:
        badge = services.badge_issue(application_id=approve().pk)
        assertion = _get(client, reverse("badges:ob2_assertion", args=[badge.public_id]))
        assert "expires" not in assertion

    def test_an_unknown_badge_has_no_assertion(self, client: Client) -> None:
        url = reverse("badges:ob2_assertion", args=[uuid.uuid4()])
        assert client.get(url).status_code == 404

    def test_the_verification_page_links_the_assertion(self, client: Client, badge: Badge) -> None:
        html = client.get(reverse("badges:verify", args=[badge.public_id])).content.decode()
        assert ob2.assertion_url(badge) in html
        assert "Open Badges 2.0" in html


class TestTenancy:
    def test_another_organizations_slug_does_not_serve_this_badge_class(
        self, client: Client, badge: Badge
    ) -> None:
        # given a second organization
        other = OrganizationFactory(slug="elsewhere")
        version = badge.version
        assert version is not None
        # when org A's credential is asked for under org B's address
        url = reverse(
            "badges:ob2_badgeclass", args=[other.slug, version.credential.slug, version.number]
        )
        # then it is not found (and under A's own address it is)
        assert client.get(url).status_code == 404
        own = reverse(
            "badges:ob2_badgeclass",
            args=[badge.organization.slug, version.credential.slug, version.number],
        )
        assert client.get(own).status_code == 200

    def test_an_unknown_organization_has_no_issuer(self, client: Client) -> None:
        assert client.get(reverse("badges:ob2_issuer", args=["nobody-here"])).status_code == 404

    def test_each_organization_has_its_own_issuer(self, client: Client, badge: Badge) -> None:
        other = OrganizationFactory(slug="elsewhere", name="Elsewhere Schools")
        issuer = _get(client, reverse("badges:ob2_issuer", args=[other.slug]))
        assert issuer["name"] == "Elsewhere Schools"
        assert issuer["id"].endswith("/o/elsewhere/ob2/issuer.json")


class TestPathwayBadgeClass:
    def test_a_pathway_certificate_points_at_the_pathway_class(
        self, client: Client, approve: Any, org: Organization
    ) -> None:
        # given an educator who completed a one-credential pathway
        educator = UserFactory()
        application = approve(educator=educator, title="Inquiry Science")
        credential_badge = services.badge_issue(application_id=application.pk)
        pathway = PathwayFactory(organization=org, certificate_name="STEM Certificate")
        assert credential_badge.version is not None
        pathway.credentials.add(credential_badge.version.credential)
        [certificate] = services.pathways_check(organization=org, user=educator)
        # when its hosted assertion and class are fetched
        assertion = _get(client, reverse("badges:ob2_assertion", args=[certificate.public_id]))
        badge_class = _get(client, assertion["badge"])
        # then the class is the pathway's, naming its component credential
        assert assertion["badge"].endswith(f"/o/{org.slug}/ob2/pathways/{pathway.slug}.json")
        assert badge_class["name"] == "STEM Certificate" == certificate.credential["name"]
        assert [a["targetName"] for a in badge_class["alignment"]] == ["Inquiry Science"]

    def test_another_organizations_slug_does_not_serve_the_pathway(
        self, client: Client, org: Organization
    ) -> None:
        pathway = PathwayFactory(organization=org)
        other = OrganizationFactory(slug="elsewhere")
        url = reverse("badges:ob2_pathway_badgeclass", args=[other.slug, pathway.slug])
        assert client.get(url).status_code == 404
        own = reverse("badges:ob2_pathway_badgeclass", args=[org.slug, pathway.slug])
        assert client.get(own).status_code == 200

    def test_an_unpublished_pathway_without_certificates_is_not_found(
        self, client: Client, org: Organization
    ) -> None:
        pathway = PathwayFactory(organization=org, is_published=False)
        url = reverse("badges:ob2_pathway_badgeclass", args=[org.slug, pathway.slug])
        assert client.get(url).status_code == 404
