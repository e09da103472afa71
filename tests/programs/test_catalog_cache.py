"""The shared cache of an organization's public pages and documents (credentials_site.
public_cache): the catalog (with its filters), credential pages (current and ``/v<n>/``),
pathway pages, the issuer documents and images. A second anonymous read costs no SQL; publishing,
a new version, retiring, and the admin's edits of pathways and of the issuer show at once, to
plain and conditional GETs; one organization's copy never answers for another's."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from programs import services
from programs.models import StaffRole
from tests.factories import StaffRoleFactory, UserFactory, credential_of
from tests.programs.test_admin import Tenant, form_data, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def a() -> Tenant:
    return make_tenant("Alpha")


@pytest.fixture
def b() -> Tenant:
    return make_tenant("Bravo")


def urls(t: Tenant) -> dict[str, str]:
    slug, credential = t.org.slug, t.credential.slug
    number = t.version.number
    return {
        "catalog": f"/o/{slug}/",
        "search": f"/o/{slug}/?q=Coaching&page=1",
        "filtered": f"/o/{slug}/?focus={t.focus_area.slug}",
        "credential": f"/o/{slug}/credentials/{credential}/",
        "version": f"/o/{slug}/credentials/{credential}/v{number}/",
        "pathway": f"/o/{slug}/pathways/{t.pathway.slug}/",
        "issuer": f"/o/{slug}/issuer",
        "ob2 issuer": reverse("badges:ob2_issuer", args=[slug]),
        "ob2 class": reverse("badges:ob2_badgeclass", args=[slug, credential, number]),
        "ob2 pathway": reverse("badges:ob2_pathway_badgeclass", args=[slug, t.pathway.slug]),
        "image": reverse("badges:achievement_image", args=[slug, credential, number]),
        "pathway image": reverse("badges:pathway_image", args=[slug, t.pathway.slug]),
    }


def warm(client: Client, t: Tenant) -> dict[str, Any]:
    answers = {}
    for name, url in urls(t).items():
        first = client.get(url)
        assert first.status_code == 200, name
        answers[name] = client.get(url)
        assert answers[name].content == first.content, name
    return answers


def text(response: Any) -> str:
    return str(response.content.decode())


class TestAHit:
    def test_a_second_anonymous_read_costs_no_sql(
        self, client: Client, a: Tenant, django_assert_max_num_queries: Any
    ) -> None:
        first = warm(client, a)
        for name, url in urls(a).items():
            with django_assert_max_num_queries(0):
                again = client.get(url)
                by_tag = client.get(url, HTTP_IF_NONE_MATCH=first[name]["ETag"])
            assert again.content == first[name].content, name
            assert again["ETag"] == first[name]["ETag"], name
            assert again["Cache-Control"].startswith("public, max-age="), name
            assert by_tag.status_code == 304, name
        page = client.get(urls(a)["catalog"])
        assert page["Cache-Control"] == "public, max-age=60, stale-while-revalidate=300"
        assert "Cookie" in page["Vary"]
        assert page["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
        assert "csrfmiddlewaretoken" not in text(page)

    def test_filters_search_and_pages_are_copies_of_their_own(
        self, client: Client, a: Tenant
    ) -> None:
        # given a second credential in another focus area, and the filtered catalog cached
        other = services.credential_create(
            organization=a.org,
            program_id=a.program.pk,
            slug="other-one",
            title="Unrelated Literacy Credential",
            summary="s",
            competency="c",
            actor=None,
        )
        assert other.pk
        filtered = warm(client, a)["filtered"]
        # then another filter is not its copy
        assert "Alpha Coaching Credential" in text(filtered)
        assert text(client.get(f"/o/{a.org.slug}/?focus=nothing-here")) != text(filtered)
        assert "Alpha Coaching Credential" not in text(client.get(f"/o/{a.org.slug}/?q=zebra"))


class TestChangesShowAtOnce:
    def test_a_new_version_published_shows_at_once(self, client: Client, a: Tenant) -> None:
        before = warm(client, a)
        # when a new version is published with a new title
        draft = services.credential_version_create_draft(credential=a.credential, actor=None)
        draft.title = "Alpha Coaching Credential, Second Edition"
        draft.save(update_fields=["title"])
        services.credential_version_publish(version=draft, actor=None)
        # then the catalog, the search and the credential page show it, old copies unconfirmed
        for name in ("catalog", "search", "credential"):
            response = client.get(urls(a)[name], HTTP_IF_NONE_MATCH=before[name]["ETag"])
            assert response.status_code == 200, name
            assert "Second Edition" in text(response), name
        # and the first version's page stays readable, saying it is superseded by the new one
        assert client.get(urls(a)["version"]).status_code == 200

    def test_a_retired_credential_leaves_the_catalog_at_once(
        self, client: Client, a: Tenant
    ) -> None:
        before = warm(client, a)
        assert "Alpha Coaching Credential" in text(before["catalog"])
        services.credential_retire(credential=credential_of(a.version), actor=None)
        catalog = client.get(urls(a)["catalog"], HTTP_IF_NONE_MATCH=before["catalog"]["ETag"])
        assert catalog.status_code == 200
        assert "Alpha Coaching Credential" not in text(catalog)

    def test_a_pathway_unpublished_in_the_admin_is_gone_at_once(
        self, client: Client, a: Tenant
    ) -> None:
        before = warm(client, a)
        assert "Alpha Pathway" in text(before["catalog"])
        # when the program admin unpublishes the pathway in the admin
        admin = Client()
        admin.force_login(a.admin)
        url = f"/admin/programs/pathway/{a.pathway.pk}/change/"
        data = form_data(admin, url)
        data.pop("is_published", None)
        assert admin.post(url, data).status_code == 302
        # then its page is gone and the catalog no longer lists it, at once
        assert client.get(urls(a)["pathway"]).status_code == 404
        catalog = client.get(urls(a)["catalog"], HTTP_IF_NONE_MATCH=before["catalog"]["ETag"])
        assert catalog.status_code == 200
        assert "Alpha Pathway" not in text(catalog)

    def test_the_issuer_edited_in_the_admin_shows_at_once(self, client: Client, a: Tenant) -> None:
        before = warm(client, a)
        # when the owner renames the organization in the admin
        owner = UserFactory()
        StaffRoleFactory(organization=a.org, user=owner, role=StaffRole.Role.OWNER)
        admin = Client()
        admin.force_login(owner)
        url = f"/admin/programs/organization/{a.org.pk}/change/"
        data = form_data(admin, url)
        data["name"] = "Alpha Educators Renamed"
        assert admin.post(url, data).status_code == 302
        # then every document and page naming it says so, old copies unconfirmed
        for name in ("issuer", "ob2 issuer", "catalog", "credential"):
            response = client.get(urls(a)[name], HTTP_IF_NONE_MATCH=before[name]["ETag"])
            assert response.status_code == 200, name
            assert "Alpha Educators Renamed" in text(response), name


class TestWhoGetsTheSharedCopy:
    def test_a_member_gets_their_own_catalog_never_the_shared_one(
        self, client: Client, a: Tenant
    ) -> None:
        anonymous = warm(client, a)["catalog"]
        member = Client()
        member.force_login(a.membership.user)
        mine = member.get(urls(a)["catalog"])
        assert mine["Cache-Control"] == "private, no-cache"
        assert mine.content != anonymous.content
        assert 'action="/accounts/logout/"' in text(mine)
        # and the anonymous copy is unchanged
        assert client.get(urls(a)["catalog"]).content == anonymous.content


class TestASignedInCatalog:
    def test_its_list_is_read_once_per_change_and_a_change_shows_at_once(
        self, a: Tenant, b: Tenant, count_queries: Any
    ) -> None:
        """A signed-in visitor's catalog is their own page, but its list, filters and pathways
        (the same for everyone) come from the shared cache until the catalog changes."""
        member = Client()
        member.force_login(a.membership.user)
        url = urls(a)["catalog"]
        first = count_queries(lambda: member.get(url))
        again = count_queries(lambda: member.get(url))

        def reads_credentials(ctx: Any) -> bool:
            return any("programs_credentialversion" in q["sql"] for q in ctx.captured_queries)

        assert reads_credentials(first) and not reads_credentials(again)
        assert len(again) < len(first)
        page = text(member.get(url))
        assert "Alpha Coaching Credential" in page
        assert "Alpha Member" in page or 'action="/accounts/logout/"' in page  # their own page
        # another organization's list never answers here
        other = Client()
        other.force_login(b.membership.user)
        assert "Alpha Coaching Credential" not in text(other.get(urls(b)["catalog"]))
        # a credential published now is listed at the next request
        services.credential_version_publish(version=a.draft, actor=a.admin)
        assert "Alpha Draft Credential" in text(member.get(url))

    def test_a_free_text_search_is_read_every_time(self, a: Tenant, count_queries: Any) -> None:
        member = Client()
        member.force_login(a.membership.user)
        url = urls(a)["search"]
        for _ in range(2):
            ctx = count_queries(lambda: member.get(url))
            assert any("programs_credentialversion" in q["sql"] for q in ctx.captured_queries)
        assert "Alpha Coaching Credential" in text(member.get(url))


class TestHead:
    def test_every_page_and_document_answers_head_as_get_without_a_body(
        self, client: Client, a: Tenant
    ) -> None:
        for name, url in urls(a).items():
            for _ in range(2):  # a miss, then a hit
                head = client.head(url)
                get = client.get(url)
                assert head.status_code == get.status_code == 200, name
                assert head.content == b"", name
                assert head["Content-Type"] == get["Content-Type"], name
        assert client.head("/").status_code == 200
        assert client.head(f"/o/{a.org.slug}/did.json").status_code == 200


class TestAcrossOrganizations:
    def test_one_organizations_copy_never_answers_for_another(
        self, client: Client, a: Tenant, b: Tenant
    ) -> None:
        mine, theirs = warm(client, a), warm(client, b)
        assert "Alpha Association" in text(mine["catalog"])
        assert "Bravo Association" in text(theirs["catalog"])
        assert "Alpha" not in text(theirs["catalog"])
        # when the first publishes, the second's copies stand (a 304 on its old copy)
        draft = services.credential_version_create_draft(credential=a.credential, actor=None)
        services.credential_version_publish(version=draft, actor=None)
        again = client.get(urls(b)["catalog"], HTTP_IF_NONE_MATCH=theirs["catalog"]["ETag"])
        assert again.status_code == 304
        changed = client.get(urls(a)["catalog"], HTTP_IF_NONE_MATCH=mine["catalog"]["ETag"])
        assert changed.status_code == 200


class TestANewRelease:
    def test_pages_cached_by_the_previous_release_are_not_served(
        self,
        client: Client,
        a: Tenant,
        settings: Any,
        count_queries: Any,
        django_assert_max_num_queries: Any,
    ) -> None:
        """A deployment with other templates (or static files, or another RELEASE) renders its
        pages afresh: a cached page would carry the old release's markup for a day."""
        from credentials_site import public_cache

        catalog = urls(a)["catalog"]
        client.get(catalog)
        with django_assert_max_num_queries(0):
            client.get(catalog)
        settings.RELEASE = "next"
        public_cache._release.cache_clear()
        try:
            fresh = count_queries(lambda: client.get(catalog))
            assert len(fresh) > 0  # rendered again, not read from the previous release's entry
            with django_assert_max_num_queries(0):
                client.get(catalog)  # and cached for this release
        finally:
            public_cache._release.cache_clear()
