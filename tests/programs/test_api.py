"""The public catalog API (read-only): organizations, focus areas, credentials, pathways."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from programs import services
from programs.models import (
    Credential,
    CredentialVersion,
    EvidenceRequirement,
    QuizChoice,
    QuizQuestion,
    Resource,
)
from tests.conftest import assert_same_query_count
from tests.factories import (
    AudienceFactory,
    CategoryFactory,
    FocusAreaFactory,
    OrganizationFactory,
    PathwayFactory,
    ProgramFactory,
    credential_of,
    make_credential,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def _slugs(response: Any) -> list[str]:
    return [item["slug"] for item in response.json()["results"]]


def _credentials_url(org_slug: str) -> str:
    return f"/api/v1/orgs/{org_slug}/credentials/"


def _detail_url(org_slug: str, credential_slug: str) -> str:
    return f"/api/v1/orgs/{org_slug}/credentials/{credential_slug}/"


def _add_quiz(version: CredentialVersion) -> None:
    quiz = EvidenceRequirement.objects.create(
        organization=version.organization,
        version=version,
        position=3,
        title="Check your understanding",
        instructions="Answer the questions.",
        kind=EvidenceRequirement.Kind.QUIZ,
        pass_mark_percent=80,
    )
    for n in (1, 2):
        question = QuizQuestion.objects.create(
            organization=version.organization,
            requirement=quiz,
            position=n,
            prompt=f"Secret question {n}?",
        )
        QuizChoice.objects.create(
            organization=version.organization,
            question=question,
            position=1,
            text=f"Right answer {n}",
            is_correct=True,
        )
        QuizChoice.objects.create(
            organization=version.organization,
            question=question,
            position=2,
            text=f"Wrong answer {n}",
        )


class TestOrganizationList:
    def test_lists_publishing_organizations_with_counts_and_links(self, api: APIClient) -> None:
        # given two catalog organizations and one that does not publish a catalog
        org = OrganizationFactory(name="Alpha Association", short_name="AA", tagline="Lead on")
        make_credential(org)
        make_credential(org)
        make_credential(org, publish=False)
        OrganizationFactory(name="Beta District")
        OrganizationFactory(name="Hidden", publishes_catalog=False)
        # when
        response = api.get("/api/v1/organizations/")
        # then
        assert response.status_code == 200
        results = response.json()["results"]
        assert [o["name"] for o in results] == ["Alpha Association", "Beta District"]
        alpha = results[0]
        assert alpha["slug"] == org.slug
        assert alpha["short_name"] == "AA"
        assert alpha["tagline"] == "Lead on"
        assert alpha["brand_colour"] == "#1f4e79"
        assert alpha["logo"] is None
        assert alpha["published_count"] == 2
        assert alpha["catalog_url"] == f"http://testserver/o/{org.slug}/"
        assert alpha["api_url"] == f"http://testserver/api/v1/orgs/{org.slug}/"
        assert "id" not in alpha and "pk" not in alpha


class TestOrganizationDetail:
    def test_shows_the_issuer_profile_falling_back_to_the_organization(
        self, api: APIClient
    ) -> None:
        # given one organization with an issuer profile and one without
        plain = OrganizationFactory(
            name="Plain Org", website="https://plain.example.org", contact_email="hi@plain.org"
        )
        issuer = OrganizationFactory(
            name="Issuer Org",
            issuer_name="Issuer Org Badges",
            issuer_url="https://badges.example.org",
            issuer_email="badges@example.org",
            issuer_description="We award badges.",
        )
        make_credential(plain)
        # when
        plain_body = api.get(f"/api/v1/orgs/{plain.slug}/").json()
        issuer_body = api.get(f"/api/v1/orgs/{issuer.slug}/").json()
        # then
        assert plain_body["name"] == "Plain Org"
        assert plain_body["published_count"] == 1
        assert plain_body["issuer"] == {
            "name": "Plain Org",
            "url": "https://plain.example.org",
            "email": "hi@plain.org",
            "description": "",
        }
        assert issuer_body["issuer"] == {
            "name": "Issuer Org Badges",
            "url": "https://badges.example.org",
            "email": "badges@example.org",
            "description": "We award badges.",
        }
        assert issuer_body["published_count"] == 0

    def test_unknown_organization_is_a_json_404(self, api: APIClient) -> None:
        # when
        responses = [
            api.get("/api/v1/orgs/no-such-org/"),
            api.get(_credentials_url("no-such-org")),
            api.get(_detail_url("no-such-org", "anything")),
        ]
        # then
        for response in responses:
            assert response.status_code == 404
            assert response.json()["code"] == "not_found"
            assert response.json()["fields"] == {}


class TestFocusAreaList:
    def test_lists_focus_areas_with_published_counts(self, api: APIClient) -> None:
        # given
        org = OrganizationFactory()
        area = FocusAreaFactory(organization=org, name="Self", description="About yourself")
        empty = FocusAreaFactory(organization=org, name="Others")
        make_credential(org, focus_area=area)
        make_credential(org, focus_area=area, publish=False)
        FocusAreaFactory(organization=OrganizationFactory(), name="Elsewhere")
        # when
        response = api.get(f"/api/v1/orgs/{org.slug}/focus-areas/")
        # then
        assert response.status_code == 200
        by_slug = {item["slug"]: item for item in response.json()["results"]}
        assert [item["name"] for item in response.json()["results"]] == ["Others", "Self"]
        assert set(by_slug) == {area.slug, empty.slug}
        assert by_slug[area.slug] == {
            "slug": area.slug,
            "name": "Self",
            "description": "About yourself",
            "published_count": 1,
        }
        assert by_slug[empty.slug]["published_count"] == 0


class TestCredentialList:
    def test_lists_only_published_credentials_of_the_organization(self, api: APIClient) -> None:
        # given published credentials and a draft in org A, and a credential of org B
        org, other = OrganizationFactory(currency="EUR"), OrganizationFactory()
        area = FocusAreaFactory(organization=org, name="Coaching")
        category = CategoryFactory(organization=org, name="Leadership")
        audience = AudienceFactory(organization=org, name="Teachers")
        published = make_credential(
            org,
            title="Leadership Coaching",
            focus_area=area,
            categories=[category],
            audiences=[audience],
            credit_hours=3,
            member_fee=10,
            non_member_fee=75,
        )
        draft = make_credential(org, title="Unfinished draft", publish=False)
        foreign = make_credential(other, title="Other org's credential")
        # when
        response = api.get(_credentials_url(org.slug))
        # then
        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 1
        [item] = body["results"]
        credential = credential_of(published)
        assert item["slug"] == credential.slug
        assert item["slug"] not in {credential_of(draft).slug, credential_of(foreign).slug}
        assert item["public_id"] == str(credential.public_id)
        assert item["title"] == "Leadership Coaching"
        assert item["summary"] == published.summary
        assert item["level"] == "foundational"
        assert item["focus_area"] == {"slug": area.slug, "name": "Coaching"}
        assert item["categories"] == [{"slug": category.slug, "name": "Leadership"}]
        assert item["audiences"] == [{"slug": audience.slug, "name": "Teachers"}]
        assert item["credit_hours"] == "3.0"
        assert item["ceus"] is None
        assert (item["member_fee"], item["non_member_fee"]) == ("10.00", "75.00")
        assert item["currency"] == "EUR"
        assert item["members_only"] is False
        assert item["version"] == 1
        assert item["published_at"] is not None
        assert item["url"] == f"http://testserver/o/{org.slug}/credentials/{credential.slug}/"
        assert item["api_url"] == "http://testserver" + _detail_url(org.slug, credential.slug)
        assert "id" not in item and "pk" not in item

    def test_other_organizations_credentials_never_appear(self, api: APIClient) -> None:
        # given org B with a search-matching credential and a same-named focus area
        org, other = OrganizationFactory(), OrganizationFactory()
        make_credential(org, title="Formative Assessment")
        other_area = FocusAreaFactory(organization=other, slug="shared-slug")
        make_credential(other, title="Formative Feedback", focus_area=other_area)
        # when
        everything = api.get(_credentials_url(org.slug))
        searched = api.get(_credentials_url(org.slug), {"q": "formative"})
        by_foreign_area = api.get(_credentials_url(org.slug), {"focus_area": "shared-slug"})
        # then
        assert [i["title"] for i in everything.json()["results"]] == ["Formative Assessment"]
        assert [i["title"] for i in searched.json()["results"]] == ["Formative Assessment"]
        assert by_foreign_area.json()["results"] == []

    def test_filters_by_focus_area_category_level_audience_and_search(self, api: APIClient) -> None:
        # given
        org = OrganizationFactory()
        self_area = FocusAreaFactory(organization=org, name="Preparation of Self")
        others_area = FocusAreaFactory(organization=org, name="Development of Others")
        coaching = CategoryFactory(organization=org, name="Coaching")
        leaders = AudienceFactory(organization=org, name="School leaders")
        coaching_version = make_credential(
            org,
            title="Leadership Coaching",
            focus_area=others_area,
            categories=[coaching],
            audiences=[leaders],
            level=CredentialVersion.Level.ADVANCED,
        )
        conversations_version = make_credential(
            org, title="Crucial Conversations Training", focus_area=self_area
        )
        coaching_slug = credential_of(coaching_version).slug
        conversations_slug = credential_of(conversations_version).slug
        url = _credentials_url(org.slug)
        # when / then
        assert _slugs(api.get(url, {"focus_area": others_area.slug})) == [coaching_slug]
        assert _slugs(api.get(url, {"focus_area": self_area.slug})) == [conversations_slug]
        assert _slugs(api.get(url, {"category": coaching.slug})) == [coaching_slug]
        assert _slugs(api.get(url, {"level": "advanced"})) == [coaching_slug]
        assert _slugs(api.get(url, {"audience": leaders.slug})) == [coaching_slug]
        assert _slugs(api.get(url, {"q": "conversations"})) == [conversations_slug]
        assert _slugs(api.get(url, {"q": "astrophysics"})) == []
        assert _slugs(api.get(url, {"q": "coaching", "level": "foundational"})) == []
        assert sorted(_slugs(api.get(url, {"q": ""}))) == sorted(
            [coaching_slug, conversations_slug]
        )

    def test_an_unknown_level_is_a_field_error(self, api: APIClient) -> None:
        # given
        org = OrganizationFactory()
        # when
        response = api.get(_credentials_url(org.slug), {"level": "expert"})
        # then
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "invalid"
        assert set(body["fields"]) == {"level"}

    def test_is_paginated(self, api: APIClient) -> None:
        # given more credentials than a page holds
        org = OrganizationFactory()
        program = ProgramFactory(organization=org)
        for _ in range(21):
            make_credential(org, program=program)
        # when
        first = api.get(_credentials_url(org.slug)).json()
        second = api.get(_credentials_url(org.slug), {"page": 2}).json()
        # then
        assert first["count"] == 21
        assert len(first["results"]) == 20 and first["next"] is not None
        assert len(second["results"]) == 1 and second["previous"] is not None

    def test_query_count_does_not_grow_with_credentials(
        self, api: APIClient, count_queries
    ) -> None:
        # given one complete credential
        org = OrganizationFactory()
        area = FocusAreaFactory(organization=org)
        category = CategoryFactory(organization=org)
        audience = AudienceFactory(organization=org)
        program = ProgramFactory(organization=org)

        def add() -> None:
            make_credential(
                org, program=program, focus_area=area, categories=[category], audiences=[audience]
            )

        add()
        # when listed with 1 and then with 20 credentials
        small = count_queries(lambda: api.get(_credentials_url(org.slug)))
        for _ in range(19):
            add()
        large = count_queries(lambda: api.get(_credentials_url(org.slug)))
        # then
        assert api.get(_credentials_url(org.slug)).json()["count"] == 20
        assert_same_query_count(small, large)


class TestCredentialDetail:
    def test_shows_the_current_version_in_full_without_quiz_answers(self, api: APIClient) -> None:
        # given a published credential with a quiz, a resource and a method
        org = OrganizationFactory(contact_email="programs@org.example")
        version = make_credential(
            org,
            publish=False,
            title="Formative Assessment",
            key_method="Exit tickets",
            method_components="Plan\n\nTeach\n  Reflect  ",
            learning_objectives="Design a check\nAct on it",
            research="Black & Wiliam (1998).",
            expiry_policy=CredentialVersion.ExpiryPolicy.MONTHS,
            expiry_months=24,
            reviewers_required=2,
            max_attempts=2,
        )
        _add_quiz(version)
        Resource.objects.create(
            organization=org,
            version=version,
            kind=Resource.Kind.VIDEO,
            title="Watch this",
            url="https://video.example.org/1",
            description="Ten minutes.",
        )
        services.credential_version_publish(version=version, actor=None)
        credential = credential_of(version)
        # when
        response = api.get(_detail_url(org.slug, credential.slug))
        # then
        assert response.status_code == 200
        body = response.json()
        assert body["slug"] == credential.slug
        assert body["public_id"] == str(credential.public_id)
        assert body["title"] == "Formative Assessment"
        assert body["competency"] == version.competency
        assert body["key_method"] == "Exit tickets"
        assert body["method_components"] == ["Plan", "Teach", "Reflect"]
        assert body["learning_objectives"] == ["Design a check", "Act on it"]
        assert body["research"] == "Black & Wiliam (1998)."
        assert body["resources"] == [
            {
                "kind": "video",
                "title": "Watch this",
                "url": "https://video.example.org/1",
                "description": "Ten minutes.",
            }
        ]
        assert [r["title"] for r in body["requirements"]] == [
            "Lesson plan",
            "Reflection",
            "Check your understanding",
        ]
        lesson, reflection, quiz = body["requirements"]
        assert lesson["kind"] == "file"
        assert lesson["accepted_file_kinds"] == ["document"]
        assert (lesson["max_file_size_mb"], lesson["max_files"]) == (20, 1)
        assert (reflection["word_min"], reflection["word_max"]) == (100, 500)
        assert quiz["kind"] == "quiz"
        assert quiz["pass_mark_percent"] == 80
        assert quiz["question_count"] == 2
        assert body["rubric"] == [
            {
                "title": "Plan aligns with the method",
                "description": "",
                "requirement": "Lesson plan",
                "passing_score": 1,
                "levels": [
                    {
                        "score": 0,
                        "label": "Not yet",
                        "descriptor": "The plan does not use the method.",
                    },
                    {"score": 1, "label": "Meets", "descriptor": "The plan uses every component."},
                ],
            }
        ]
        assert body["expiry"] == {
            "policy": "months",
            "months": 24,
            "display": "Valid for 2 years after it is awarded",
        }
        assert (body["reviewers_required"], body["max_attempts"]) == (2, 2)
        assert body["contact_email"] == "programs@org.example"
        assert body["version"] == 1 and body["state"] == "published" and body["is_current"]
        assert [v["number"] for v in body["versions"]] == [1]
        # and nothing of the quiz beyond its question count leaks
        raw = response.content.decode()
        for secret in ("Secret question", "Right answer", "Wrong answer", "is_correct"):
            assert secret not in raw, secret
        assert '"id"' not in raw and '"pk"' not in raw

    def test_a_program_contact_overrides_the_organization(self, api: APIClient) -> None:
        # given
        org = OrganizationFactory(contact_email="programs@org.example", contact_name="Org Desk")
        program = ProgramFactory(
            organization=org, contact_email="coach@org.example", contact_name="Coach"
        )
        credential = credential_of(make_credential(org, program=program))
        # when
        body = api.get(_detail_url(org.slug, credential.slug)).json()
        # then
        assert (body["contact_name"], body["contact_email"]) == ("Coach", "coach@org.example")

    def test_reads_an_earlier_version_by_number(self, api: APIClient) -> None:
        # given a credential whose version 1 was superseded by version 2
        org = OrganizationFactory()
        v1 = make_credential(org, title="Old title")
        credential = credential_of(v1)
        v2 = services.credential_version_create_draft(credential=credential, actor=None)
        v2.title = "New title"
        v2.save()
        services.credential_version_publish(version=v2, actor=None)
        url = _detail_url(org.slug, credential.slug)
        # when
        current = api.get(url).json()
        earlier = api.get(url, {"version": 1}).json()
        # then
        assert (current["title"], current["version"], current["is_current"]) == (
            "New title",
            2,
            True,
        )
        assert (earlier["title"], earlier["version"], earlier["state"]) == (
            "Old title",
            1,
            "superseded",
        )
        assert earlier["is_current"] is False
        assert earlier["url"].endswith(f"/o/{org.slug}/credentials/{credential.slug}/v1/")
        assert earlier["api_url"].endswith(f"{url}?version=1")
        assert [(v["number"], v["state"]) for v in current["versions"]] == [
            (2, "published"),
            (1, "superseded"),
        ]
        assert [r["title"] for r in earlier["requirements"]] == ["Lesson plan", "Reflection"]
        # and the list shows only the current version
        assert [i["title"] for i in api.get(_credentials_url(org.slug)).json()["results"]] == [
            "New title"
        ]

    def test_a_draft_version_number_is_404(self, api: APIClient) -> None:
        # given a published v1 and an unpublished draft v2
        org = OrganizationFactory()
        credential = credential_of(make_credential(org))
        services.credential_version_create_draft(credential=credential, actor=None)
        # when
        response = api.get(_detail_url(org.slug, credential.slug), {"version": 2})
        # then
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"

    @pytest.mark.parametrize("bad", ["two", "1.5", "0", "-1"])
    def test_a_bad_version_is_a_field_error(self, api: APIClient, bad: str) -> None:
        # given
        org = OrganizationFactory()
        credential = credential_of(make_credential(org))
        # when
        response = api.get(_detail_url(org.slug, credential.slug), {"version": bad})
        # then
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "invalid"
        assert body["message"]
        assert list(body["fields"]) == ["version"]
        assert body["fields"]["version"]

    def test_drafts_are_404(self, api: APIClient) -> None:
        # given a credential never published
        org = OrganizationFactory()
        draft = credential_of(make_credential(org, publish=False))
        # when
        response = api.get(_detail_url(org.slug, draft.slug))
        # then
        assert response.status_code == 404
        assert response.json() == {
            "code": "not_found",
            "message": response.json()["message"],
            "fields": {},
        }

    def test_another_organizations_credential_is_404(self, api: APIClient) -> None:
        # given a credential of org B
        org, other = OrganizationFactory(), OrganizationFactory()
        make_credential(org)
        foreign = credential_of(make_credential(other))
        # when it is asked for under org A's slug
        response = api.get(_detail_url(org.slug, foreign.slug))
        also_by_version = api.get(_detail_url(org.slug, foreign.slug), {"version": 1})
        # then
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        assert response.json()["fields"] == {}
        assert also_by_version.status_code == 404
        # and it is there under its own organization
        assert api.get(_detail_url(other.slug, foreign.slug)).status_code == 200

    def test_an_unknown_credential_is_404(self, api: APIClient) -> None:
        # given
        org = OrganizationFactory()
        # when
        response = api.get(_detail_url(org.slug, "no-such-credential"))
        # then
        assert response.status_code == 404
        body = response.json()
        assert (body["code"], body["fields"]) == ("not_found", {})
        assert isinstance(body["message"], str) and body["message"]

    def test_a_retired_credential_is_404(self, api: APIClient) -> None:
        # given
        org = OrganizationFactory()
        credential = credential_of(make_credential(org))
        services.credential_retire(credential=credential, actor=None)
        # when / then
        assert api.get(_detail_url(org.slug, credential.slug)).status_code == 404
        assert api.get(_credentials_url(org.slug)).json()["results"] == []


class TestPathwayList:
    def test_lists_published_pathways_with_their_published_credentials(
        self, api: APIClient
    ) -> None:
        # given a pathway of one published credential and one draft, and a hidden pathway
        org = OrganizationFactory()
        published = credential_of(make_credential(org, title="Step one"))
        draft = credential_of(make_credential(org, title="Step two", publish=False))
        pathway = PathwayFactory(organization=org, certificate_name="STEM Foundations Certificate")
        pathway.credentials.set([published, draft])
        PathwayFactory(organization=org, is_published=False)
        PathwayFactory(organization=OrganizationFactory())
        # when
        response = api.get(f"/api/v1/orgs/{org.slug}/pathways/")
        # then
        assert response.status_code == 200
        [item] = response.json()["results"]
        assert item["slug"] == pathway.slug
        assert item["certificate_name"] == "STEM Foundations Certificate"
        assert item["url"] == f"http://testserver/o/{org.slug}/pathways/{pathway.slug}/"
        assert [(c["slug"], c["title"]) for c in item["credentials"]] == [
            (published.slug, "Step one")
        ]

    def test_query_count_does_not_grow_with_pathways(self, api: APIClient, count_queries) -> None:
        # given
        org = OrganizationFactory()
        credential = credential_of(make_credential(org))

        def add() -> None:
            PathwayFactory(organization=org).credentials.set([credential])

        add()
        # when
        small = count_queries(lambda: api.get(f"/api/v1/orgs/{org.slug}/pathways/"))
        for _ in range(19):
            add()
        large = count_queries(lambda: api.get(f"/api/v1/orgs/{org.slug}/pathways/"))
        # then
        assert_same_query_count(small, large)


class TestListQueryCounts:
    def test_organizations_and_focus_areas_do_not_grow_with_rows(
        self, api: APIClient, count_queries
    ) -> None:
        # given
        org = OrganizationFactory()
        make_credential(org, focus_area=FocusAreaFactory(organization=org))
        # when
        small_orgs = count_queries(lambda: api.get("/api/v1/organizations/"))
        small_areas = count_queries(lambda: api.get(f"/api/v1/orgs/{org.slug}/focus-areas/"))
        for _ in range(19):
            make_credential(OrganizationFactory())
            FocusAreaFactory(organization=org)
        large_orgs = count_queries(lambda: api.get("/api/v1/organizations/"))
        large_areas = count_queries(lambda: api.get(f"/api/v1/orgs/{org.slug}/focus-areas/"))
        # then
        assert_same_query_count(small_orgs, large_orgs)
        assert_same_query_count(small_areas, large_areas)


class TestReadOnly:
    @pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
    def test_write_methods_are_405(self, api: APIClient, method: str) -> None:
        # given
        org = OrganizationFactory()
        credential = credential_of(make_credential(org))
        urls = [
            "/api/v1/organizations/",
            f"/api/v1/orgs/{org.slug}/",
            f"/api/v1/orgs/{org.slug}/focus-areas/",
            _credentials_url(org.slug),
            _detail_url(org.slug, credential.slug),
            f"/api/v1/orgs/{org.slug}/pathways/",
        ]
        for url in urls:
            # when
            response = getattr(api, method)(url, {"title": "x"}, format="json")
            # then
            assert response.status_code == 405, url
            body = response.json()
            assert body["code"] == "method_not_allowed"
            assert body["fields"] == {}
        # and nothing changed
        assert Credential.objects.get(pk=credential.pk).current_version.title != "x"


class TestSchema:
    def test_the_schema_documents_the_catalog(self, api: APIClient) -> None:
        # when
        response = api.get("/api/schema/", {"format": "json"})
        # then
        assert response.status_code == 200
        schema = json.loads(response.content)
        paths = schema["paths"]
        for path in [
            "/api/v1/organizations/",
            "/api/v1/orgs/{org_slug}/",
            "/api/v1/orgs/{org_slug}/focus-areas/",
            "/api/v1/orgs/{org_slug}/credentials/",
            "/api/v1/orgs/{org_slug}/credentials/{credential_slug}/",
            "/api/v1/orgs/{org_slug}/pathways/",
        ]:
            assert set(paths[path]) == {"get"}, path
        list_params = {
            p["name"] for p in paths[_credentials_url("{org_slug}")]["get"]["parameters"]
        }
        assert {"focus_area", "category", "level", "audience", "q", "page"} <= list_params
        detail = paths[_detail_url("{org_slug}", "{credential_slug}")]["get"]
        assert "version" in {p["name"] for p in detail["parameters"]}
        assert "404" in detail["responses"]

    def test_the_docs_page_renders(self, api: APIClient) -> None:
        assert api.get("/api/docs/").status_code == 200
