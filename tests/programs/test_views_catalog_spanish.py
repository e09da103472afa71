"""The educator's side of the programs app in Spanish (decision 0036): the catalog and credential
pages follow the visitor's language, and what the shared cache keeps (anonymous pages, the
fragments of signed-in pages) is kept per language, never answering one language's copy to
another's visitor."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import translation

from programs.models import CredentialVersion, Membership
from programs.templatetags.wording import possessive
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory, make_credential

pytestmark = pytest.mark.django_db


class TestAnonymousPages:
    def test_the_catalog_follows_the_browser_and_each_language_keeps_its_own_copy(
        self, client: Client
    ) -> None:
        # given
        org = OrganizationFactory()
        make_credential(org, title="Crucial Conversations Training")
        url = f"/o/{org.slug}/"
        # when: Spanish first (its copy is stored), then English, then Spanish again
        spanish = client.get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()
        english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        spanish_again = client.get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()
        # then
        assert "<h1>Microcredenciales</h1>" in spanish
        assert "Buscar y filtrar" in spanish and "1 microcredencial" in spanish
        assert "Crucial Conversations Training" in spanish  # the organization's words stay
        assert "<h1>Micro-credentials</h1>" in english and "Microcredenciales" not in english
        assert "1 micro-credential" in english
        assert spanish_again == spanish

    def test_the_credential_page_in_spanish(self, client: Client) -> None:
        # given
        org = OrganizationFactory()
        version = make_credential(
            org,
            title="Leadership Coaching",
            expiry_policy=CredentialVersion.ExpiryPolicy.MONTHS,
            expiry_months=24,
        )
        url = version.credential.get_absolute_url()
        # when
        body = client.get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()
        english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        # then
        assert "Evidencias que enviará" in body and "Rúbrica de evaluación" in body
        assert "Válida durante 2 años después de ser otorgada" in body
        assert "Evidence you will submit" in english
        assert "Valid for 2 years after it is awarded" in english


class TestSignedInPages:
    def test_the_fragments_of_a_credential_page_are_kept_per_language(self, client: Client) -> None:
        # given: a member who reads the page in English, then chooses Spanish
        org = OrganizationFactory()
        version = make_credential(org, title="Leadership Coaching")
        user = UserFactory()
        MembershipFactory(organization=org, user=user, member_until=None)
        client.force_login(user)
        url = version.credential.get_absolute_url()
        english = client.get(url).content.decode()
        user.language = "es"
        user.save(update_fields=["language"])
        # when
        spanish = client.get(url).content.decode()
        # then
        assert "Evidence you will submit" in english
        assert "Evidencias que enviará" in spanish and "Evidence you will submit" not in spanish
        assert "Cuota y requisitos" in spanish
        assert f"Miembro de {org.short_name or org.name}" in spanish


class TestWordsMadeInCode:
    def test_a_membership_is_described_in_the_active_language(self) -> None:
        org = OrganizationFactory(short_name="GAEL")
        membership = MembershipFactory(
            organization=org, member_until=dt.date(2030, 6, 30), status=Membership.Status.ACTIVE
        )
        with translation.override("es"):
            assert membership.describe() == "Miembro de GAEL hasta el 2030-06-30"
        with translation.override("en"):
            assert membership.describe() == "GAEL Member until 2030-06-30"

    def test_the_possessive_is_english_only(self) -> None:
        with translation.override("es"):
            assert possessive("GAEL") == "GAEL"
        with translation.override("en"):
            assert possessive("GAEL") == "GAEL's"
