"""Start from a template, or duplicate a credential: a new credential begins mostly built."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from credentials_site.exceptions import ApplicationError
from programs import credential_templates, services
from programs.credential_templates import TEMPLATES
from programs.models import (
    AuditEvent,
    Credential,
    CredentialVersion,
    EvidenceRequirement,
    Organization,
    Program,
    QuizChoice,
    RubricLevel,
    StaffRole,
    User,
)
from tests.factories import (
    OrganizationFactory,
    ProgramFactory,
    StaffRoleFactory,
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

    def test_an_unknown_template_a_taken_slug_or_a_bad_title_is_a_field_error(self) -> None:
        org = OrganizationFactory()
        program = ProgramFactory(organization=org)
        taken = make_credential(org, program=program).credential.slug
        before = Credential.objects.count()
        cases = [
            ({"template_key": "nope"}, {"template_key"}),
            ({"slug": taken}, {"slug"}),
            ({"slug": "Not a slug!"}, {"slug"}),
            ({"title": "x" * 201}, {"title"}),
        ]
        for changes, fields in cases:
            arguments = {"template_key": "tool-quiz", "slug": "new", "title": None, **changes}
            with pytest.raises(ApplicationError) as error:
                services.credential_create_from_template(
                    organization=org, program=program, actor=None, **arguments
                )
            assert set(error.value.fields) == fields, changes
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


# --- The admin ---------------------------------------------------------------------------------


def admin_of(org: Organization, role: str = StaffRole.Role.PROGRAM_ADMIN) -> User:
    user = UserFactory()
    StaffRoleFactory(organization=org, user=user, role=role)
    return user


@pytest.fixture
def org() -> Organization:
    return OrganizationFactory(name="Alpha Association")


@pytest.fixture
def program(org: Organization) -> Program:
    return ProgramFactory(organization=org, name="Alpha Program")


GALLERY = "admin:programs_credential_templates"


def duplicate_url(credential: Credential) -> str:
    return reverse("admin:programs_credential_duplicate", args=[credential.pk])


class TestGallery:
    def test_the_gallery_shows_every_template_and_is_linked_from_the_list(
        self, client: Client, org: Organization, program: Program
    ) -> None:
        client.force_login(admin_of(org))
        html = client.get(reverse(GALLERY)).content.decode()
        for template in TEMPLATES.values():
            assert escape(template.kind_label) in html and escape(template.summary) in html
        assert "2 requirements · 20-question quiz · 2\u00d74 rubric" in html
        assert f'<option value="{program.pk}">Alpha Program</option>' in html
        changelist = client.get(reverse("admin:programs_credential_changelist")).content.decode()
        assert reverse(GALLERY) in changelist and "New from a template" in changelist

    def test_its_query_count_does_not_grow_with_the_templates(
        self,
        client: Client,
        org: Organization,
        program: Program,
        monkeypatch: pytest.MonkeyPatch,
        count_queries: Any,
    ) -> None:
        from tests.conftest import assert_same_query_count

        client.force_login(admin_of(org))
        ProgramFactory(organization=org)
        url = reverse(GALLERY)
        client.get(url)  # warm the session and caches
        keys = list(TEMPLATES)[:2]
        monkeypatch.setattr(credential_templates, "TEMPLATES", {k: TEMPLATES[k] for k in keys})
        small = count_queries(lambda: client.get(url))
        monkeypatch.setattr(credential_templates, "TEMPLATES", TEMPLATES)
        large = count_queries(lambda: client.get(url))
        assert_same_query_count(small, large)

    def test_choosing_a_template_creates_the_draft_and_opens_it(
        self, client: Client, org: Organization, program: Program
    ) -> None:
        user = admin_of(org)
        client.force_login(user)
        response = client.post(
            reverse(GALLERY),
            {
                "template": "lesson-and-video",
                "lesson-and-video-program": program.pk,
                "lesson-and-video-slug": "think-pair-share",
                "lesson-and-video-title": "Think-Pair-Share in Practice",
            },
        )
        credential = Credential.objects.get(organization=org, slug="think-pair-share")
        draft = credential.versions.get()
        assert response.status_code == 302
        assert response["Location"] == reverse(
            "admin:programs_credentialversion_builder", args=[draft.pk]
        )
        assert draft.title == "Think-Pair-Share in Practice" and draft.requirements.count() == 3
        assert AuditEvent.objects.filter(
            action="credential.created_from_template", actor=user
        ).exists()

    def test_a_taken_address_is_shown_on_the_card_and_nothing_is_created(
        self, client: Client, org: Organization, program: Program
    ) -> None:
        taken = make_credential(org, program=program)
        client.force_login(admin_of(org))
        before = Credential.objects.count()
        response = client.post(
            reverse(GALLERY),
            {
                "template": "tool-quiz",
                "tool-quiz-program": program.pk,
                "tool-quiz-slug": taken.credential.slug,
                "tool-quiz-title": "",
            },
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert services.templates.SLUG_TAKEN in html
        assert 'id="id_tool-quiz-slug_error"' in html and "<details open>" in html
        assert Credential.objects.count() == before

    def test_another_organizations_program_is_not_a_choice(
        self, client: Client, org: Organization, program: Program
    ) -> None:
        other = ProgramFactory(organization=OrganizationFactory())
        client.force_login(admin_of(org))
        response = client.post(
            reverse(GALLERY),
            {"template": "tool-quiz", "tool-quiz-program": other.pk, "tool-quiz-slug": "x"},
        )
        assert response.status_code == 200
        assert not Credential.objects.filter(slug="x").exists()

    def test_an_admin_of_two_organizations_chooses_the_program_and_so_the_organization(
        self, client: Client, org: Organization, program: Program
    ) -> None:
        other = OrganizationFactory(name="Bravo District")
        other_program = ProgramFactory(organization=other, name="Bravo Program")
        user = admin_of(org)
        StaffRoleFactory(organization=other, user=user, role=StaffRole.Role.OWNER)
        client.force_login(user)
        html = client.get(reverse(GALLERY)).content.decode()
        assert "Alpha Association: Alpha Program" in html
        assert "Bravo District: Bravo Program" in html
        client.post(
            reverse(GALLERY),
            {
                "template": "coaching-cycle",
                "coaching-cycle-program": other_program.pk,
                "coaching-cycle-slug": "coaching",
                "coaching-cycle-title": "",
            },
        )
        created = Credential.objects.get(slug="coaching")
        assert (created.organization_id, created.program_id) == (other.pk, other_program.pk)
        assert created.versions.get().title == TEMPLATES["coaching-cycle"].title

    def test_people_who_do_not_run_the_organization_are_refused(
        self, client: Client, org: Organization, program: Program
    ) -> None:
        source = make_credential(org, program=program)
        for role in (StaffRole.Role.REVIEWER, StaffRole.Role.SENIOR_REVIEWER):
            client.force_login(admin_of(org, role))
            for url in (reverse(GALLERY), duplicate_url(source.credential)):
                response = client.post(url, {"template": "tool-quiz", "slug": "x", "title": "X"})
                assert response.status_code == 302
                assert response["Location"].startswith("/admin/login/")
        assert not Credential.objects.filter(slug="x").exists()


class TestDuplicatePage:
    def test_the_change_page_offers_duplicate_and_the_copy_opens_as_a_draft(
        self, client: Client, org: Organization, program: Program
    ) -> None:
        source = make_credential(org, program=program, title="Coaching")
        client.force_login(admin_of(org))
        change = client.get(
            reverse("admin:programs_credential_change", args=[source.credential_id])
        )
        url = duplicate_url(source.credential)
        assert url in change.content.decode()
        form = client.get(url).content.decode()
        assert "Coaching (copy)" in form and f"{source.credential.slug}-copy" in form

        response = client.post(url, {"slug": "coaching-2", "title": "Coaching for coaches"})

        copy = Credential.objects.get(organization=org, slug="coaching-2").versions.get()
        assert response["Location"] == reverse(
            "admin:programs_credentialversion_builder", args=[copy.pk]
        )
        assert copy.title == "Coaching for coaches" and copy.requirements.count() == 2

    def test_a_taken_address_is_a_field_error(
        self, client: Client, org: Organization, program: Program
    ) -> None:
        source = make_credential(org, program=program)
        client.force_login(admin_of(org))
        before = Credential.objects.count()
        response = client.post(
            duplicate_url(source.credential), {"slug": source.credential.slug, "title": "Copy"}
        )
        assert response.status_code == 200
        assert 'id="id_slug_error"' in response.content.decode()
        assert Credential.objects.count() == before

    def test_another_organizations_credential_is_not_found(
        self, client: Client, org: Organization, program: Program
    ) -> None:
        other = make_credential(OrganizationFactory())
        client.force_login(admin_of(org))
        url = duplicate_url(other.credential)
        assert client.get(url).status_code == 404
        assert client.post(url, {"slug": "stolen", "title": "Stolen"}).status_code == 404
        assert not Credential.objects.filter(slug="stolen").exists()
