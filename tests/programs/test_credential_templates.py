"""Start from a template, or duplicate a credential: a new credential begins mostly built."""

from __future__ import annotations

from typing import Any

import pytest

from credentials_site.exceptions import ApplicationError
from programs import services
from programs.credential_templates import TEMPLATES
from programs.models import (
    AuditEvent,
    Credential,
    CredentialVersion,
    EvidenceRequirement,
    QuizChoice,
    RubricLevel,
)
from tests.factories import (
    OrganizationFactory,
    ProgramFactory,
    UserFactory,
    make_credential,
)

pytestmark = pytest.mark.django_db


def content_of(version: CredentialVersion) -> dict[str, Any]:
    """What a reader of the version sees: requirements with their quiz, rubric, resources."""
    return {
        "requirements": [
            (
                r.position,
                r.title,
                r.kind,
                r.instructions,
                list(r.accepted_file_kinds),
                r.pass_mark_percent,
                [
                    (q.prompt, [(c.text, c.is_correct) for c in q.choices.all()])
                    for q in r.questions.all()
                ],
            )
            for r in version.requirements.prefetch_related("questions__choices")
        ],
        "criteria": [
            (
                c.title,
                c.requirement.title if c.requirement else None,
                c.passing_score,
                [(level.score, level.label, level.descriptor) for level in c.levels.all()],
            )
            for c in version.criteria.select_related("requirement").prefetch_related("levels")
        ],
        "resources": [(r.kind, r.title, r.url) for r in version.resources.all()],
    }


class TestTemplateLibrary:
    def test_the_library_covers_the_seeds_examples(self) -> None:
        assert len(TEMPLATES) >= 8
        includes = {key: template.includes for key, template in TEMPLATES.items()}
        assert "20-question quiz" in includes["tool-quiz"]
        assert includes["lesson-and-video"][0] == "3 requirements"
        assert "4\u00d73 rubric" in includes["lesson-and-video"]
        kinds = {r["kind"] for r in TEMPLATES["reflective-leadership"].spec["requirements"]}
        assert kinds == {"text"}
        assert "coaching" in TEMPLATES["coaching-cycle"].spec["competency"]

    def test_every_template_creates_a_draft_that_can_be_published(self) -> None:
        org = OrganizationFactory()
        program = ProgramFactory(organization=org)
        for key, template in TEMPLATES.items():
            draft = services.credential_create_from_template(
                organization=org, program=program, template_key=key, slug=key, actor=None
            )
            assert draft.state == CredentialVersion.State.DRAFT and draft.number == 1
            assert draft.title == template.title
            assert services.credential_version_problems(version=draft) == [], key
            spec = template.spec
            assert draft.requirements.count() == len(spec["requirements"])
            assert draft.resources.count() == len(spec["resources"])
            levels = {len(spec["scale"])}
            assert {c.levels.count() for c in draft.criteria.all()} == levels
            services.credential_version_publish(version=draft, actor=None)
            assert Credential.objects.get(slug=key).status == Credential.Status.PUBLISHED

    def test_the_tool_template_has_its_twenty_questions_with_answers(self) -> None:
        org = OrganizationFactory()
        draft = services.credential_create_from_template(
            organization=org,
            program=ProgramFactory(organization=org),
            template_key="tool-quiz",
            slug="seesaw",
            title="Seesaw",
            actor=UserFactory(),
        )
        assert draft.title == "Seesaw"
        quiz = draft.requirements.get(kind=EvidenceRequirement.Kind.QUIZ)
        assert quiz.questions.count() == 20 and quiz.pass_mark_percent == 80
        assert QuizChoice.objects.filter(question__requirement=quiz, is_correct=True).count() == 20
        event = AuditEvent.objects.get(action="credential.created_from_template")
        assert event.data == {"template": "tool-quiz"} and event.organization_id == org.pk

    def test_an_unknown_template_or_a_taken_slug_is_a_field_error(self) -> None:
        org = OrganizationFactory()
        program = ProgramFactory(organization=org)
        taken = make_credential(org, program=program)
        before = Credential.objects.count()
        with pytest.raises(ApplicationError) as error:
            services.credential_create_from_template(
                organization=org, program=program, template_key="nope", slug="x", actor=None
            )
        assert "template_key" in error.value.fields
        with pytest.raises(ApplicationError) as error:
            services.credential_create_from_template(
                organization=org,
                program=program,
                template_key="tool-quiz",
                slug=taken.credential.slug,
                actor=None,
            )
        assert error.value.fields == {"slug": [services.templates.SLUG_TAKEN]}
        with pytest.raises(ApplicationError) as error:
            services.credential_create_from_template(
                organization=org,
                program=program,
                template_key="tool-quiz",
                slug="Not a slug!",
                actor=None,
            )
        assert "slug" in error.value.fields
        assert Credential.objects.count() == before

    def test_another_organizations_program_is_refused(self) -> None:
        org, other = OrganizationFactory(), OrganizationFactory()
        with pytest.raises(ApplicationError) as error:
            services.credential_create_from_template(
                organization=org,
                program=ProgramFactory(organization=other),
                template_key="tool-quiz",
                slug="x",
                actor=None,
            )
        assert "program" in error.value.fields
        assert not Credential.objects.filter(slug="x").exists()


class TestDuplicate:
    def test_a_duplicate_copies_everything_and_is_independent(self) -> None:
        org = OrganizationFactory()
        program = ProgramFactory(organization=org)
        source = services.credential_create_from_template(
            organization=org, program=program, template_key="tool-quiz", slug="tool", actor=None
        )
        source.badge_design = {"shape": "circle", "icon": "star", "title": "", "level": ""}
        source.badge_image_alt = "A star"
        source.save()
        services.credential_version_publish(version=source, actor=None)
        actor = UserFactory()

        copy = services.credential_duplicate(
            credential=source.credential, slug="tool-copy", title="Tool, copy", actor=actor
        )

        assert copy.credential_id != source.credential_id
        assert copy.credential.program_id == program.pk
        assert (copy.number, copy.state, copy.title) == (
            1,
            CredentialVersion.State.DRAFT,
            "Tool, copy",
        )
        assert copy.badge_design == source.badge_design and copy.badge_image_alt == "A star"
        assert content_of(copy) == content_of(source)
        assert services.credential_version_problems(version=copy) == []
        # the copy's rubric points at the copy's requirements, not the source's
        assert not copy.criteria.filter(requirement__version=source).exists()
        # editing the copy leaves the source as it was
        before = content_of(source)
        RubricLevel.objects.filter(criterion__version=copy).update(descriptor="changed")
        copy.requirements.filter(kind="quiz").delete()
        assert content_of(source) == before
        event = AuditEvent.objects.get(action="credential.duplicated")
        assert event.actor == actor and event.object_id == str(copy.credential_id)

    def test_a_taken_slug_is_a_field_error_and_nothing_is_created(self) -> None:
        org = OrganizationFactory()
        source = make_credential(org)
        other = make_credential(org)
        before = (Credential.objects.count(), CredentialVersion.objects.count())
        with pytest.raises(ApplicationError) as error:
            services.credential_duplicate(
                credential=source.credential,
                slug=other.credential.slug,
                title="Copy",
                actor=None,
            )
        assert error.value.fields == {"slug": [services.templates.SLUG_TAKEN]}
        assert (Credential.objects.count(), CredentialVersion.objects.count()) == before
