from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db.models import Count, Model, Q
from django.test import Client

from programs.demo_data import DEMO_PASSWORD
from programs.models import (
    Credential,
    CredentialVersion,
    EvidenceRequirement,
    FocusArea,
    Membership,
    Organization,
    Pathway,
    QuizQuestion,
    RubricCriterion,
    StaffRole,
    User,
)

pytestmark = pytest.mark.django_db

GAEL_TITLES = [
    "Crucial Conversations Training",
    "Leadership Coaching",
    "Shared Leadership Best Practices",
    "Literacy Leadership Institutes",
]
DEMO_EMAILS = [
    "educator@gael.demo",
    "reviewer@gael.demo",
    "admin@gael.demo",
    "educator@riverside.demo",
    "reviewer@riverside.demo",
    "admin@riverside.demo",
    "superuser@tessera.demo",
]


def run_load_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    models: list[type[Model]] = [
        Organization,
        Credential,
        CredentialVersion,
        EvidenceRequirement,
        QuizQuestion,
        RubricCriterion,
        User,
        StaffRole,
        Membership,
        Pathway,
    ]
    return {model.__name__: model._default_manager.count() for model in models}


class TestLoadDemo:
    def test_gael_has_its_focus_areas_and_four_published_credentials(self) -> None:
        # when
        run_load_demo()
        # then
        gael = Organization.objects.get(slug="gael")
        assert gael.short_name == "GAEL"
        assert gael.contact_email == "cflesher@gael.org"
        assert list(FocusArea.objects.filter(organization=gael).values_list("name", flat=True)) == [
            "Preparation of Self",
            "Development of Others",
            "Leading the Organization to Produce Positive Results",
        ]
        published = Credential.objects.filter(
            organization=gael, status=Credential.Status.PUBLISHED
        ).select_related("current_version")
        versions = [c.current_version for c in published if c.current_version is not None]
        assert sorted(v.title for v in versions) == sorted(GAEL_TITLES)
        assert all(v.members_only for v in versions)

    def test_screencastify_quiz_has_twenty_questions_with_one_correct_choice(self) -> None:
        run_load_demo()

        credential = Credential.objects.get(
            organization__slug="riverside-usd", slug="screencastify"
        )
        version = credential.current_version
        assert version is not None
        quiz = version.requirements.get(kind=EvidenceRequirement.Kind.QUIZ)
        assert quiz.pass_mark_percent == 80
        questions = quiz.questions.annotate(
            n_choices=Count("choices"),
            n_correct=Count("choices", filter=Q(choices__is_correct=True)),
        )
        assert questions.count() == 20
        for question in questions:
            assert 3 <= question.n_choices <= 4, question.prompt
            assert question.n_correct == 1, question.prompt
        video = version.requirements.get(kind=EvidenceRequirement.Kind.FILE)
        assert video.accepted_file_kinds == ["video"]

    def test_pathway_stacks_three_credentials(self) -> None:
        run_load_demo()

        pathway = Pathway.objects.get(organization__slug="riverside-usd")
        assert pathway.certificate_name == "Digital Teaching Foundations Certificate"
        assert sorted(pathway.credentials.values_list("slug", flat=True)) == [
            "flipped-learning-level-1",
            "google-classroom",
            "screencastify",
        ]

    def test_every_published_version_is_complete(self) -> None:
        run_load_demo()

        versions = CredentialVersion.objects.exclude(state=CredentialVersion.State.DRAFT)
        assert versions.count() == 11  # 10 credentials, one of them with a second version
        assert not CredentialVersion.objects.filter(state=CredentialVersion.State.DRAFT).exists()
        for version in versions:
            assert version.requirements.exists(), version
            for criterion in version.criteria.all():
                scores = list(criterion.levels.values_list("score", flat=True))
                assert len(scores) >= 2, criterion
                assert criterion.passing_score in scores, criterion
            for requirement in version.requirements.filter(kind=EvidenceRequirement.Kind.FILE):
                assert requirement.accepted_file_kinds, requirement

    def test_leadership_coaching_has_a_superseded_first_version(self, client: Client) -> None:
        run_load_demo()

        credential = Credential.objects.get(organization__slug="gael", slug="leadership-coaching")
        states = dict(credential.versions.values_list("number", "state"))
        assert states == {
            1: CredentialVersion.State.SUPERSEDED,
            2: CredentialVersion.State.PUBLISHED,
        }
        assert credential.current_version is not None
        assert credential.current_version.number == 2
        v1, v2 = credential.versions.order_by("number")
        assert v2.estimated_hours > v1.estimated_hours
        assert v2.resources.count() == v1.resources.count() + 1
        assert client.get("/o/gael/credentials/leadership-coaching/v1/").status_code == 200

    def test_demo_users_can_log_in_with_their_roles(self) -> None:
        run_load_demo()

        for email in DEMO_EMAILS:
            assert authenticate(email=email, password=DEMO_PASSWORD) is not None, email
        assert Client().login(email="educator@gael.demo", password=DEMO_PASSWORD)
        gael_roles = set(
            StaffRole.objects.filter(
                organization__slug="gael", user__email="admin@gael.demo"
            ).values_list("role", flat=True)
        )
        assert gael_roles == {StaffRole.Role.PROGRAM_ADMIN, StaffRole.Role.OWNER}
        assert StaffRole.objects.filter(
            organization__slug="riverside-usd",
            user__email="reviewer@riverside.demo",
            role=StaffRole.Role.REVIEWER,
        ).exists()
        membership = Membership.objects.get(organization__slug="gael")
        assert membership.user.email == "educator@gael.demo"
        assert membership.status == Membership.Status.ACTIVE
        superuser = User.objects.get(email="superuser@tessera.demo")
        assert superuser.is_superuser and superuser.is_staff

    def test_second_run_creates_and_changes_nothing(self) -> None:
        # given
        run_load_demo()
        before = counts()
        updated = {v.pk: v.updated_at for v in CredentialVersion.objects.all()}
        # when
        output = run_load_demo()
        # then
        assert counts() == before
        assert {v.pk: v.updated_at for v in CredentialVersion.objects.all()} == updated
        assert "nothing changed" in output

    def test_output_lists_addresses_and_logins(self) -> None:
        output = run_load_demo("--base-url", "http://localhost:9000/")

        assert "http://localhost:9000/o/gael/" in output
        assert "http://localhost:9000/o/riverside-usd/" in output
        assert "http://localhost:9000/admin/" in output
        assert "http://localhost:9000/api/docs/" in output
        assert DEMO_PASSWORD in output
        for email in DEMO_EMAILS:
            assert email in output


class TestDemoCatalog:
    def test_gael_catalog_lists_the_four_credentials(self, client: Client) -> None:
        # given
        run_load_demo()
        # when
        response = client.get("/o/gael/")
        # then
        assert response.status_code == 200
        body = response.content.decode()
        for title in GAEL_TITLES:
            assert title in body

    def test_riverside_catalog_and_pathway_render(self, client: Client) -> None:
        run_load_demo()

        catalog = client.get("/o/riverside-usd/")
        pathway = client.get("/o/riverside-usd/pathways/digital-teaching-tools/")

        assert catalog.status_code == 200
        assert "Screencastify" in catalog.content.decode()
        assert pathway.status_code == 200
        assert "Digital Teaching Foundations Certificate" in pathway.content.decode()
