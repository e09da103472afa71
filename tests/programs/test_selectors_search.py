"""Catalog search: a stored, GIN-indexed tsvector, ranked, counted with the page."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client

from credentials_site.pagination import WindowCountPaginator
from credentials_site.tenancy import tenant_scope
from programs import selectors, services
from programs.models import CatalogSearchEntry, CredentialVersion
from tests.conftest import assert_same_query_count
from tests.factories import (
    AudienceFactory,
    CategoryFactory,
    OrganizationFactory,
    make_credential,
)

pytestmark = pytest.mark.django_db


def titles(organization, **filters: str) -> list[str]:
    with tenant_scope(organization):
        found = selectors.credential_list_published(
            organization=organization, filters=selectors.CatalogFilters(**filters)
        )
        return [credential.current_version.title for credential in found]


class TestSearch:
    def test_best_match_first_title_then_competency_then_summary(self) -> None:
        # given three credentials that mention "coaching" in one place each
        org = OrganizationFactory()
        make_credential(org, title="Reading Circles", summary="Peer coaching for teachers.")
        make_credential(org, title="Team Meetings", competency="The educator leads coaching.")
        make_credential(org, title="Instructional Coaching")
        make_credential(org, title="Unrelated Credential")
        # when
        found = titles(org, q="coaching")
        # then the title's match ranks first, then the competency's, then the summary's
        assert found == ["Instructional Coaching", "Team Meetings", "Reading Circles"]

    def test_stemming_and_websearch_syntax(self) -> None:
        org = OrganizationFactory()
        make_credential(org, title="Crucial Conversations Training")
        make_credential(org, title="Leadership Coaching")
        make_credential(org, title="Coaching Conversations")

        assert titles(org, q="conversation") == [
            "Coaching Conversations",
            "Crucial Conversations Training",
        ] or titles(org, q="conversation") == [
            "Crucial Conversations Training",
            "Coaching Conversations",
        ]
        assert titles(org, q="coaching -conversations") == ["Leadership Coaching"]
        assert titles(org, q='"crucial conversations"') == ["Crucial Conversations Training"]
        assert titles(org, q="coaching or crucial") != []
        assert titles(org, q="astrophysics") == []

    def test_the_stored_vector_follows_an_edited_draft(self) -> None:
        # the stored vector is PostgreSQL's: it changes with the row, whoever writes it
        org = OrganizationFactory()
        version = make_credential(org, title="Old Title", publish=False)
        with tenant_scope(org):
            version.title = "Restorative Circles"
            version.save(update_fields=["title"])
            matched = CredentialVersion.objects.filter(
                pk=version.pk, search_vector="restorative"
            ).exists()
        assert matched

    def test_search_combines_with_every_filter_and_stays_one_row_per_credential(self) -> None:
        org = OrganizationFactory()
        coaching, mentoring = (
            CategoryFactory(organization=org, name="Coaching"),
            CategoryFactory(organization=org, name="Mentoring"),
        )
        teachers, leaders = (
            AudienceFactory(organization=org, name="Teachers"),
            AudienceFactory(organization=org, name="Leaders"),
        )
        make_credential(
            org,
            title="Literacy Coaching",
            level=CredentialVersion.Level.LEVEL_1,
            categories=[coaching, mentoring],
            audiences=[teachers, leaders],
        )
        make_credential(org, title="Literacy Walkthroughs", categories=[mentoring])

        assert titles(org, q="literacy", category=coaching.slug) == ["Literacy Coaching"]
        assert titles(org, q="literacy", audience=leaders.slug) == ["Literacy Coaching"]
        assert titles(org, q="literacy", level="level_1") == ["Literacy Coaching"]
        assert sorted(titles(org, q="literacy", category=mentoring.slug)) == [
            "Literacy Coaching",
            "Literacy Walkthroughs",
        ]

    def test_other_organizations_credentials_are_not_found(self) -> None:
        org, other = OrganizationFactory(), OrganizationFactory()
        make_credential(other, title="Literacy Coaching")
        assert titles(org, q="literacy") == []


class TestIndex:
    def test_a_gin_index_on_the_stored_vector(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'catalogsearchentry_document'"
            )
            (definition,) = cursor.fetchone()
        assert "USING gin (document)" in definition

    def test_the_trigger_keeps_one_entry_per_published_version(self) -> None:
        # given a published credential, then a second version of it published
        org = OrganizationFactory()
        first = make_credential(org, title="Restorative Circles")
        with tenant_scope(org):
            draft = services.credential_version_create_draft(
                credential=first.credential, actor=None
            )
            draft.title = "Restorative Practices"
            draft.save(update_fields=["title"])
            drafted = set(CatalogSearchEntry.objects.values_list("version_id", flat=True))
            services.credential_version_publish(version=draft, actor=None)
            published = set(CatalogSearchEntry.objects.values_list("version_id", flat=True))
        # then the draft had no entry, and after publishing only the new version has one
        assert first.pk in drafted and draft.pk not in drafted
        assert draft.pk in published and first.pk not in published
        assert titles(org, q="practices") == ["Restorative Practices"]
        assert titles(org, q="circles") == []

    def test_the_query_reads_the_stored_column_and_parses_no_text(self) -> None:
        org = OrganizationFactory()
        with tenant_scope(org):
            qs = selectors.credential_list_published(
                organization=org, filters=selectors.CatalogFilters(q="coaching")
            )
            sql = str(qs.query)
        assert re.search(r'"document" @@ \(?websearch_to_tsquery', sql), sql
        assert "to_tsvector" not in sql
        assert "DISTINCT" not in sql


class TestPagesAndCounts:
    def test_count_is_right_on_every_page_and_pages_do_not_overlap(self, client: Client) -> None:
        # given 30 matching credentials and 3 that do not match
        org = OrganizationFactory()
        for i in range(30):
            make_credential(org, title=f"Literacy Circle {i:02d}")
        for _ in range(3):
            make_credential(org, title="Mathematics")
        seen: list[str] = []
        # when the three pages are read (12 a page)
        for number in (1, 2, 3):
            body = client.get(f"/o/{org.slug}/", {"q": "literacy", "page": number}).content
            text = body.decode()
            # then each says 30 matches and 3 pages
            assert "30 micro-credentials match" in text
            assert f"Page {number} of 3" in text
            seen += re.findall(r"Literacy Circle \d\d", text)
        assert sorted(seen) == [f"Literacy Circle {i:02d}" for i in range(30)]
        # a page past the end shows the last one, with the same count
        last = client.get(f"/o/{org.slug}/", {"q": "literacy", "page": 9}).content.decode()
        assert "Page 3 of 3" in last and "30 micro-credentials match" in last

    def test_no_match_is_an_empty_first_page(self) -> None:
        org = OrganizationFactory()
        make_credential(org, title="Mathematics")
        with tenant_scope(org):
            qs = selectors.credential_list_published(
                organization=org, filters=selectors.CatalogFilters(q="astrophysics")
            )
            page = WindowCountPaginator(qs, 12).get_page(1)
        assert page.paginator.count == 0 and list(page) == []

    def test_page_and_count_are_one_statement(self, count_queries) -> None:
        org = OrganizationFactory()
        for i in range(15):
            make_credential(org, title=f"Literacy Circle {i}")
        with tenant_scope(org):
            qs = selectors.credential_list_published(
                organization=org, filters=selectors.CatalogFilters(q="literacy")
            ).prefetch_related(None)
            captured = count_queries(
                lambda: WindowCountPaginator(qs, 12).get_page(2).paginator.count
            )
        assert len(captured) == 1, [q["sql"] for q in captured.captured_queries]

    def test_search_query_count_does_not_grow_with_matches(
        self, client: Client, count_queries
    ) -> None:
        org = OrganizationFactory()
        category = CategoryFactory(organization=org)
        make_credential(org, title="Literacy Circle", categories=[category])
        small = count_queries(lambda: client.get(f"/o/{org.slug}/", {"q": "literacy"}))
        for i in range(25):
            make_credential(org, title=f"Literacy Circle {i}", categories=[category])
        large = count_queries(lambda: client.get(f"/o/{org.slug}/", {"q": "literacy", "page": 2}))
        assert_same_query_count(small, large)

    def test_api_counts_search_results(self, client: Client) -> None:
        org = OrganizationFactory()
        for i in range(3):
            make_credential(org, title=f"Literacy Circle {i}")
        make_credential(org, title="Mathematics")
        body = client.get(f"/api/v1/orgs/{org.slug}/credentials/", {"q": "literacy"}).json()
        assert body["count"] == 3
        assert (
            client.get(
                f"/api/v1/orgs/{org.slug}/credentials/", {"q": "literacy", "page": 2}
            ).status_code
            == 404
        )
        past_any_offset = client.get(f"/api/v1/orgs/{org.slug}/credentials/", {"page": "9" * 18})
        assert past_any_offset.status_code == 404
        assert past_any_offset.json()["fields"] == {"page": ["The last page is 1."]}
