"""The credential builder: one page and one autosave endpoint that edit a whole draft through
``services.credential_version_builder_save``."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from credentials_site.exceptions import ApplicationError
from programs import services
from programs.models import (
    AuditEvent,
    CredentialVersion,
    EvidenceRequirement,
    QuizChoice,
    RubricCriterion,
    StaffRole,
)
from tests.factories import (
    OrganizationFactory,
    ProgramFactory,
    StaffRoleFactory,
    UserFactory,
    make_credential,
)

pytestmark = pytest.mark.django_db


def full_document() -> dict[str, Any]:
    """A complete credential: file, text and quiz requirements (two questions), a 3 by 3 rubric."""
    level = lambda label: {"label": label, "descriptor": f"{label} work."}  # noqa: E731
    return {
        "version": {
            "title": "Restorative Circles",
            "summary": "Run staff meetings as circles.",
            "competency": "The leader facilitates a restorative circle.",
            "level": "level_1",
            "estimated_hours": "6.5",
            "members_only": False,
            "member_fee": "0",
            "non_member_fee": "40",
            "expiry_policy": "months",
            "expiry_months": "24",
            "reviewers_required": "1",
            "max_attempts": "3",
            "research": "Circles build trust (Costello, 2010).",
            "categories": [],
            "audiences": [],
            "focus_area": None,
        },
        "requirements": [
            {
                "key": "plan",
                "title": "Meeting plan",
                "kind": "file",
                "instructions": "Upload the plan.",
                "required": True,
                "accepted_file_kinds": ["document"],
                "max_file_size_mb": "20",
                "max_files": "1",
                "word_min": "50",  # not a file's setting: dropped
            },
            {
                "key": "reflection",
                "title": "Reflection",
                "kind": "text",
                "instructions": "What happened?",
                "required": True,
                "word_min": "200",
                "word_max": "600",
            },
            {
                "key": "quiz",
                "title": "Check your understanding",
                "kind": "quiz",
                "instructions": "Answer both.",
                "required": True,
                "pass_mark_percent": "50",
                "questions": [
                    {
                        "prompt": "Who speaks?",
                        "choices": [
                            {"text": "The holder of the talking piece", "is_correct": True},
                            {"text": "Anyone", "is_correct": False},
                        ],
                    },
                    {
                        "prompt": "How does it end?",
                        "choices": [
                            {"text": "With commitments", "is_correct": True},
                            {"text": "With a vote", "is_correct": False},
                        ],
                    },
                ],
            },
        ],
        "rubric": {
            "scores": [1, 2, 3],
            "criteria": [
                {
                    "title": f"Criterion {n}",
                    "description": "",
                    "requirement": "plan" if n == 1 else None,
                    "passing": 1,
                    "levels": [level("Developing"), level("Proficient"), level("Exemplary")],
                }
                for n in (1, 2, 3)
            ],
        },
        "resources": [
            {"kind": "link", "title": "Circle guide", "url": "https://example.org/circles"}
        ],
    }


@pytest.fixture
def org() -> Any:
    return OrganizationFactory()


@pytest.fixture
def admin(org: Any) -> Any:
    user = UserFactory()
    StaffRoleFactory(organization=org, user=user, role=StaffRole.Role.PROGRAM_ADMIN)
    return user


@pytest.fixture
def draft(org: Any) -> CredentialVersion:
    program = ProgramFactory(organization=org)
    return services.credential_create(
        organization=org,
        program_id=program.pk,
        slug="circles",
        title="Circles",
        summary="s",
        competency="c",
        actor=None,
    )


class TestService:
    def test_a_full_document_builds_a_publishable_draft(self, draft: Any, admin: Any) -> None:
        assert services.credential_version_problems(version=draft)  # empty: blocked
        services.credential_version_builder_save(version=draft, data=full_document(), actor=admin)
        draft.refresh_from_db()
        assert draft.title == "Restorative Circles"
        assert (draft.expiry_months, str(draft.non_member_fee)) == (24, "40.00")
        requirements = list(draft.requirements.all())
        assert [(r.position, r.kind) for r in requirements] == [
            (1, "file"),
            (2, "text"),
            (3, "quiz"),
        ]
        assert requirements[0].word_min is None  # a file requirement keeps only its settings
        quiz = requirements[2]
        assert [q.position for q in quiz.questions.all()] == [1, 2]
        assert QuizChoice.objects.filter(question__requirement=quiz, is_correct=True).count() == 2
        criteria = list(draft.criteria.prefetch_related("levels"))
        assert [c.position for c in criteria] == [1, 2, 3]
        assert criteria[0].requirement == requirements[0]
        assert [lv.score for lv in criteria[0].levels.all()] == [1, 2, 3]
        assert {c.passing_score for c in criteria} == {2}
        assert draft.resources.get().title == "Circle guide"
        assert services.credential_version_problems(version=draft) == []
        services.credential_version_publish(version=draft, actor=admin)

    def test_saving_again_replaces_and_the_document_reads_back(
        self, draft: Any, admin: Any
    ) -> None:
        document = full_document()
        services.credential_version_builder_save(version=draft, data=document, actor=admin)
        read = services.credential_version_builder_document(version=draft)
        read["requirements"].pop(0)  # the plan goes; the criterion that scored it scores all
        read["rubric"]["criteria"].reverse()
        services.credential_version_builder_save(version=draft, data=read, actor=admin)
        assert [r.title for r in draft.requirements.all()] == [
            "Reflection",
            "Check your understanding",
        ]
        assert [c.title for c in draft.criteria.all()] == [
            "Criterion 3",
            "Criterion 2",
            "Criterion 1",
        ]
        assert RubricCriterion.objects.get(version=draft, title="Criterion 1").requirement is None
        # autosave writes often: one audit entry for the sitting
        assert AuditEvent.objects.filter(action="credential.built", actor=admin).count() == 1

    def test_errors_name_their_fields_and_nothing_changes(self, draft: Any, admin: Any) -> None:
        document = full_document()
        document["version"]["title"] = ""
        document["version"]["expiry_months"] = "soon"
        document["requirements"][1]["kind"] = "essay"
        document["requirements"][2]["questions"][1]["choices"][0]["text"] = ""
        document["rubric"]["scores"] = [1, 1, "x"]
        document["rubric"]["criteria"][2]["levels"][0]["descriptor"] = ""
        document["rubric"]["criteria"][1]["passing"] = None
        document["resources"][0]["url"] = "not a link"
        with pytest.raises(ApplicationError) as error:
            services.credential_version_builder_save(version=draft, data=document, actor=admin)
        assert set(error.value.fields) == {
            "version.title",
            "version.expiry_months",
            "requirements.1.kind",
            "requirements.2.questions.1.choices.0.text",
            "rubric.scores.1",
            "rubric.scores.2",
            "rubric.criteria.2.levels.0.descriptor",
            "rubric.criteria.1.passing",
            "resources.0.url",
        }
        draft.refresh_from_db()
        assert draft.title == "Circles"
        assert not draft.requirements.exists()

    def test_another_organizations_choices_are_refused(self, draft: Any, admin: Any) -> None:
        theirs = make_credential(OrganizationFactory(), publish=False)
        from tests.factories import FocusAreaFactory

        their_focus = FocusAreaFactory(organization=theirs.organization)
        document = full_document()
        document["version"]["focus_area"] = their_focus.pk
        with pytest.raises(ApplicationError) as error:
            services.credential_version_builder_save(version=draft, data=document, actor=admin)
        assert "version.focus_area" in error.value.fields
        # and an admin of one organization cannot save another's draft
        with pytest.raises(ApplicationError) as error:
            services.credential_version_builder_save(
                version=theirs, data=full_document(), actor=admin
            )
        assert error.value.code == "not_allowed"

    def test_a_published_version_is_refused(self, org: Any, admin: Any) -> None:
        published = make_credential(org)
        with pytest.raises(ApplicationError) as error:
            services.credential_version_builder_save(
                version=published, data=full_document(), actor=admin
            )
        assert error.value.code == "not_editable"
        assert published.requirements.count() == 2


def builder(version: CredentialVersion) -> str:
    return reverse("admin:programs_credentialversion_builder", args=[version.pk])


def save_url(version: CredentialVersion) -> str:
    return reverse("admin:programs_credentialversion_builder_save", args=[version.pk])


class TestPages:
    def test_the_page_posts_the_form_and_the_endpoint_answers_json(
        self, client: Client, draft: Any, admin: Any
    ) -> None:
        client.force_login(admin)
        page = client.get(builder(draft))
        assert page.status_code == 200
        html = page.content.decode()
        assert 'name="version.title"' in html and "Add at least one evidence requirement." in html
        # the form's own fields, as the script posts them
        form = {
            "version.title": "Circles",
            "version.summary": "s",
            "version.competency": "c",
            "version.level": "foundational",
            "version.estimated_hours": "5",
            "version.member_fee": "0",
            "version.non_member_fee": "",
            "version.members_only": "on",
            "version.expiry_policy": "never",
            "version.reviewers_required": "1",
            "version.max_attempts": "3",
            "requirements.0.key": "n1",
            "requirements.0.title": "Quiz",
            "requirements.0.kind": "quiz",
            "requirements.0.instructions": "Answer.",
            "requirements.0.required": "on",
            "requirements.0.pass_mark_percent": "100",
            "requirements.0.questions.0.prompt": "Two and two?",
            "requirements.0.questions.0.choices.0.text": "Three",
            "requirements.0.questions.0.choices.1.text": "Four",
            "requirements.0.questions.0.correct": "1",
            "rubric.scores.0": "1",
            "rubric.scores.1": "2",
            "rubric.criteria.0.title": "Accuracy",
            "rubric.criteria.0.requirement": "n1",
            "rubric.criteria.0.passing": "1",
            "rubric.criteria.0.levels.0.label": "Some",
            "rubric.criteria.0.levels.0.descriptor": "Some right.",
            "rubric.criteria.0.levels.1.label": "All",
            "rubric.criteria.0.levels.1.descriptor": "All right.",
        }
        response = client.post(save_url(draft), form)
        assert response.status_code == 200, response.content
        assert response.json()["problems"] == []
        choice = QuizChoice.objects.get(question__requirement__version=draft, is_correct=True)
        assert choice.text == "Four"
        assert RubricCriterion.objects.get(version=draft).requirement.title == "Quiz"  # type: ignore[union-attr]

        # an error comes back by field, and nothing changes
        response = client.post(save_url(draft), {**form, "requirements.0.title": ""})
        assert response.status_code == 400
        assert response.json()["fields"] == {
            "requirements.0.title": ["This field cannot be blank."]
        }
        assert EvidenceRequirement.objects.get(version=draft).title == "Quiz"

        # without the script (or restoring what the browser kept), the page shows the errors
        # with what was sent, and saves nothing
        response = client.post(builder(draft), {**form, "rubric.criteria.0.title": ""})
        assert response.status_code == 200
        html = response.content.decode()
        assert "rubric.criteria.0.title: This field cannot be blank." in html
        assert 'value="Two and two?"' not in html and ">Two and two?</textarea>" in html
        assert RubricCriterion.objects.get(version=draft).title == "Accuracy"
        # and saves it once it is right
        response = client.post(builder(draft), {**form, "version.title": "Circles 2"})
        assert response.status_code == 302
        draft.refresh_from_db()
        assert draft.title == "Circles 2"

    def test_json_documents_are_accepted_too(self, client: Client, draft: Any, admin: Any) -> None:
        client.force_login(admin)
        response = client.post(
            save_url(draft), json.dumps(full_document()), content_type="application/json"
        )
        assert response.status_code == 200, response.content
        assert draft.requirements.count() == 3

    def test_another_organizations_draft_is_not_found(
        self, client: Client, draft: Any, admin: Any
    ) -> None:
        theirs = make_credential(OrganizationFactory(), publish=False)
        client.force_login(admin)
        assert client.get(builder(theirs)).status_code == 404
        response = client.post(
            save_url(theirs), json.dumps(full_document()), content_type="application/json"
        )
        assert response.status_code == 404
        assert theirs.requirements.count() == 2

    def test_a_reviewer_is_refused(self, client: Client, org: Any, draft: Any) -> None:
        reviewer = UserFactory()
        StaffRoleFactory(organization=org, user=reviewer, role=StaffRole.Role.REVIEWER)
        client.force_login(reviewer)
        assert client.get(builder(draft)).status_code == 302  # to the admin's login
        response = client.post(
            save_url(draft), json.dumps(full_document()), content_type="application/json"
        )
        assert response.status_code == 302
        assert not draft.requirements.exists()

    def test_a_published_version_opens_its_own_page(
        self, client: Client, org: Any, admin: Any
    ) -> None:
        published = make_credential(org)
        client.force_login(admin)
        response = client.get(builder(published))
        assert response.status_code == 302
        assert response["Location"] == reverse(
            "admin:programs_credentialversion_change", args=[published.pk]
        )
        response = client.post(
            save_url(published), json.dumps(full_document()), content_type="application/json"
        )
        assert response.status_code == 409

    def test_the_page_costs_the_same_queries_whatever_the_draft_holds(
        self, client: Client, draft: Any, admin: Any, count_queries: Any
    ) -> None:
        from tests.conftest import assert_same_query_count

        client.force_login(admin)
        small = copy.deepcopy(full_document())
        small["requirements"] = small["requirements"][2:]  # the quiz
        small["rubric"]["criteria"] = small["rubric"]["criteria"][:1]
        services.credential_version_builder_save(version=draft, data=small, actor=admin)
        client.get(builder(draft))  # warm the session and caches
        few = count_queries(lambda: client.get(builder(draft)))
        large = full_document()
        large["requirements"] *= 3
        large["rubric"]["criteria"] *= 3
        large["resources"] *= 4
        for n, requirement in enumerate(large["requirements"]):
            requirement["key"] = f"k{n}"
        services.credential_version_builder_save(version=draft, data=large, actor=admin)
        many = count_queries(lambda: client.get(builder(draft)))
        assert_same_query_count(few, many)

    def test_new_credentials_and_drafts_open_in_the_builder(
        self, client: Client, org: Any, admin: Any
    ) -> None:
        program = ProgramFactory(organization=org)
        client.force_login(admin)
        response = client.post(
            "/admin/programs/credential/add/",
            {
                "program": program.pk,
                "slug": "new-one",
                "title": "New one",
                "summary": "s",
                "competency": "c",
            },
        )
        version = CredentialVersion.objects.get(credential__slug="new-one")
        assert response["Location"] == builder(version)
        change = client.get(
            reverse("admin:programs_credentialversion_change", args=[version.pk])
        ).content.decode()
        assert f'href="{builder(version)}"' in change and "Open the builder" in change
        listing = client.get(reverse("admin:programs_credential_changelist")).content.decode()
        assert f'<a href="{builder(version)}">Build draft v1</a>' in listing
