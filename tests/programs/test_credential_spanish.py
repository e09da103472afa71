"""A credential's Spanish edition (docs/decisions/0037): an optional Spanish title and summary
per version, authored in the builder and the admin API's draft, shown to visitors reading in
Spanish on the catalog, the credential page and the application pages; everyone else reads the
organization's own text."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from credentials_site.exceptions import ApplicationError
from programs import selectors, services
from programs.models import CredentialVersion, Organization, StaffRole
from submissions import services as submission_services
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    ProgramFactory,
    StaffRoleFactory,
    UserFactory,
    credential_of,
    make_credential,
)

pytestmark = pytest.mark.django_db

TITLE_ES = "Círculos restaurativos"
SUMMARY_ES = "Dirija las reuniones del personal en círculo."


@pytest.fixture
def org() -> Organization:
    return OrganizationFactory(slug="riverside")


@pytest.fixture
def admin(org: Organization) -> Any:
    return StaffRoleFactory(organization=org, role=StaffRole.Role.PROGRAM_ADMIN).user


@pytest.fixture
def draft(org: Organization) -> CredentialVersion:
    return services.credential_create(
        organization=org,
        program_id=ProgramFactory(organization=org).pk,
        slug="circles",
        title="Restorative Circles",
        summary="Run staff meetings as circles.",
        competency="c",
        actor=None,
    )


@pytest.fixture
def published(org: Organization) -> CredentialVersion:
    return make_credential(
        org, title="Restorative Circles", title_es=TITLE_ES, summary_es=SUMMARY_ES
    )


def save(version: CredentialVersion, actor: Any, **overview: Any) -> CredentialVersion:
    document = services.credential_version_builder_document(version=version)
    document["version"].update(overview)
    return services.credential_version_builder_save(version=version, data=document, actor=actor)


def refused_fields(version: CredentialVersion, actor: Any, **overview: Any) -> dict[str, Any]:
    """The field errors of a refused save; the draft is unchanged."""
    before = CredentialVersion.objects.values().get(pk=version.pk)
    with pytest.raises(ApplicationError) as refused:
        save(version, actor, **overview)
    after = CredentialVersion.objects.values().get(pk=version.pk)
    assert before == after
    return refused.value.fields or {}


class TestAuthoring:
    def test_the_builder_saves_and_reads_back_the_spanish_edition(
        self, draft: CredentialVersion, admin: Any
    ) -> None:
        # given a draft; when the builder saves a Spanish title and summary
        save(draft, admin, title_es=TITLE_ES, summary_es=SUMMARY_ES)
        # then they are kept and its document reads them back
        draft.refresh_from_db()
        assert (draft.title_es, draft.summary_es) == (TITLE_ES, SUMMARY_ES)
        overview = services.credential_version_builder_document(version=draft)["version"]
        assert (overview["title_es"], overview["summary_es"]) == (TITLE_ES, SUMMARY_ES)
        # and clearing both removes the edition
        save(draft, admin, title_es="", summary_es="")
        draft.refresh_from_db()
        assert (draft.title_es, draft.summary_es) == ("", "")

    def test_half_an_edition_is_refused_naming_the_missing_half(
        self, draft: CredentialVersion, admin: Any
    ) -> None:
        # a summary without a title, and a title without a summary
        fields = refused_fields(draft, admin, title_es="", summary_es=SUMMARY_ES)
        assert list(fields) == ["version.title_es"]
        assert "Add the Spanish title too" in fields["version.title_es"][0]
        fields = refused_fields(draft, admin, title_es=TITLE_ES, summary_es=" ")
        assert list(fields) == ["version.summary_es"]
        assert "Add the Spanish summary too" in fields["version.summary_es"][0]

    def test_the_edition_keeps_the_english_length_limits(
        self, draft: CredentialVersion, admin: Any
    ) -> None:
        fields = refused_fields(draft, admin, title_es="t" * 201, summary_es="s" * 401)
        assert set(fields) == {"version.title_es", "version.summary_es"}

    def test_a_new_version_copies_the_edition_and_a_published_one_is_frozen(
        self, published: CredentialVersion, admin: Any
    ) -> None:
        # given a published version with its edition
        with pytest.raises(ApplicationError):
            save(published, admin, title_es="Otro título", summary_es="Otro resumen.")
        # when it is edited as a new version, the draft starts with the edition
        new = services.credential_version_create_draft(
            credential=credential_of(published), actor=admin
        )
        assert (new.title_es, new.summary_es) == (TITLE_ES, SUMMARY_ES)

    def test_the_publish_confirmation_lists_a_changed_edition(
        self, published: CredentialVersion, admin: Any
    ) -> None:
        draft = services.credential_version_create_draft(
            credential=credential_of(published), actor=admin
        )
        save(draft, admin, title_es="Círculos, revisado", summary_es=SUMMARY_ES)
        loaded = selectors.credential_version_with_contents(version_ids=[published.pk, draft.pk])
        changes = services.credential_version_diff(old=loaded[published.pk], new=loaded[draft.pk])
        assert [(c.field, c.old, c.new) for c in changes] == [
            ("Spanish title", TITLE_ES, "Círculos, revisado")
        ]

    def test_the_builder_page_offers_the_edition_unless_the_organization_writes_in_spanish(
        self, client: Client, draft: CredentialVersion, admin: Any, org: Organization
    ) -> None:
        client.force_login(admin)
        url = reverse("admin:programs_credentialversion_builder", args=[draft.pk])
        assert 'name="version.title_es"' in client.get(url).content.decode()
        Organization.objects.filter(pk=org.pk).update(content_language="es")
        assert 'name="version.title_es"' not in client.get(url).content.decode()

    def test_the_admin_api_draft_carries_the_edition(
        self, published: CredentialVersion, org: Organization
    ) -> None:
        owner = StaffRoleFactory(organization=org, role=StaffRole.Role.OWNER).user
        token = services.organization_token_create(
            organization=org, name="sync", scopes=("credentials:write",), actor=owner
        )
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token.secret}")
        address = (
            f"/api/v1/orgs/{org.slug}/admin/credentials/{credential_of(published).slug}/draft/"
        )
        document = api.post(address).json()["document"]
        assert document["version"]["title_es"] == TITLE_ES
        # half an edition: the API names the field, like the builder
        half = copy.deepcopy(document)
        half["version"]["summary_es"] = ""
        answer = api.put(address, half, format="json")
        assert answer.status_code == 400
        assert "version.summary_es" in answer.json()["fields"]
        document["version"]["title_es"] = "Círculos, revisado"
        assert api.put(address, document, format="json").status_code == 200


def catalog(org: Organization) -> str:
    return reverse("programs:catalog", args=[org.slug])


def page(version: CredentialVersion) -> str:
    return credential_of(version).get_absolute_url()


class TestPages:
    def test_the_catalog_in_spanish_shows_the_spanish_edition(
        self, client: Client, org: Organization, published: CredentialVersion
    ) -> None:
        other = make_credential(org, title="Questioning Strategies")
        html = client.get(catalog(org), HTTP_ACCEPT_LANGUAGE="es").content.decode()
        # the edition, in the page's language: no lang attribute needed
        assert f'<h3><a href="{page(published)}">{TITLE_ES}</a></h3>' in html
        assert f"<p>{SUMMARY_ES}</p>" in html
        assert "Restorative Circles" not in html
        # a credential without one keeps the organization's text, marked as English
        assert f'<h3 lang="en"><a href="{page(other)}">Questioning Strategies</a></h3>' in html

    def test_the_catalog_in_english_shows_the_organizations_text(
        self, client: Client, org: Organization, published: CredentialVersion
    ) -> None:
        html = client.get(catalog(org), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert f'<h3><a href="{page(published)}">Restorative Circles</a></h3>' in html
        assert TITLE_ES not in html

    def test_the_credential_page_in_spanish_shows_the_spanish_edition(
        self, client: Client, published: CredentialVersion
    ) -> None:
        html = client.get(page(published), HTTP_ACCEPT_LANGUAGE="es").content.decode()
        assert f"<h1>{TITLE_ES}</h1>" in html
        assert f'<p class="lead">{SUMMARY_ES}</p>' in html
        assert f"<title>{TITLE_ES} — " in html

    def test_the_credential_page_in_english_shows_the_organizations_text(
        self, client: Client, published: CredentialVersion
    ) -> None:
        html = client.get(page(published)).content.decode()
        assert "<h1>Restorative Circles</h1>" in html
        assert TITLE_ES not in html

    def test_a_spanish_organizations_text_is_marked_on_english_pages(self, client: Client) -> None:
        # given an organization writing in Spanish (no edition to add)
        gael = OrganizationFactory(slug="gael", content_language="es")
        version = make_credential(gael, title="Lectura en voz alta", summary="Lea en voz alta.")
        html = client.get(page(version), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert '<h1 lang="es">Lectura en voz alta</h1>' in html

    def test_the_edition_of_another_organizations_slug_is_not_found(
        self, client: Client, published: CredentialVersion
    ) -> None:
        gael = OrganizationFactory(slug="gael")
        slug = credential_of(published).slug
        url = reverse("programs:credential_detail", args=[gael.slug, slug])
        assert client.get(url, HTTP_ACCEPT_LANGUAGE="es").status_code == 404

    def test_the_educators_pages_show_the_spanish_title(
        self, client: Client, org: Organization, published: CredentialVersion
    ) -> None:
        # given an educator reading in Spanish with an application
        educator = UserFactory(language="es")
        MembershipFactory(organization=org, user=educator)
        application = submission_services.application_apply(
            credential=credential_of(published), educator=educator
        )
        client.force_login(educator)
        # then the dashboard and the application page show the edition
        dashboard = client.get(reverse("submissions:dashboard")).content.decode()
        assert TITLE_ES in dashboard and "Restorative Circles" not in dashboard
        own = reverse("submissions:application", args=[org.slug, application.public_id])
        assert f"<h1>{TITLE_ES}</h1>" in client.get(own).content.decode()


class TestHelper:
    def test_one_rule_for_every_page(self, org: Organization, published: CredentialVersion) -> None:
        version = CredentialVersion.objects.select_related("organization").get(pk=published.pk)
        with translation.override("es"):
            title = version.localized_title()
            assert (str(title), title.language, title.lang_attribute) == (TITLE_ES, "es", "")
        with translation.override("en"):
            title = version.localized_title()
            assert (str(title), title.lang_attribute) == ("Restorative Circles", "")
        without = make_credential(org)
        version = CredentialVersion.objects.select_related("organization").get(pk=without.pk)
        with translation.override("es"):
            assert version.localized_summary().lang_attribute == ' lang="en"'
