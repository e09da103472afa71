"""Preview a version as educators will see it, and publish with a confirmation that shows what
still blocks, what changes since the published version and who stays on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from credentials_site import public_cache
from programs import selectors, services
from programs.models import (
    CredentialVersion,
    EvidenceRequirement,
    Organization,
    QuizChoice,
    QuizQuestion,
    RubricCriterion,
    RubricLevel,
    StaffRole,
    User,
)
from programs.services.version_diff import Change
from submissions.models import Application
from tests.conftest import assert_same_query_count
from tests.factories import OrganizationFactory, StaffRoleFactory, UserFactory, make_credential

pytestmark = pytest.mark.django_db


# --- Helpers -----------------------------------------------------------------------------------


def admin_of(org: Organization) -> User:
    user = UserFactory()
    StaffRoleFactory(organization=org, user=user, role=StaffRole.Role.PROGRAM_ADMIN)
    return user


def new_draft(version: CredentialVersion) -> CredentialVersion:
    return services.credential_version_create_draft(credential=version.credential, actor=None)


def diff(old: CredentialVersion | None, new: CredentialVersion) -> list[Change]:
    ids = [new.pk] + ([old.pk] if old else [])
    loaded = selectors.credential_version_with_contents(version_ids=ids)
    return services.credential_version_diff(old=loaded[old.pk] if old else None, new=loaded[new.pk])


def add_quiz(version: CredentialVersion, *, correct: int = 1) -> EvidenceRequirement:
    org = version.organization
    quiz = EvidenceRequirement.objects.create(
        organization=org,
        version=version,
        position=3,
        title="Check your understanding",
        instructions="Answer the questions.",
        kind=EvidenceRequirement.Kind.QUIZ,
        pass_mark_percent=80,
    )
    question = QuizQuestion.objects.create(
        organization=org, requirement=quiz, position=1, prompt="What comes first?"
    )
    for position, text in enumerate(("The plan", "The reflection"), start=1):
        QuizChoice.objects.create(
            organization=org,
            question=question,
            position=position,
            text=text,
            is_correct=position == correct,
        )
    return quiz


def body(response: Any) -> str:
    return response.content.decode()


def publish_url(version: CredentialVersion) -> str:
    return reverse("admin:programs_credentialversion_publish", args=[version.pk])


def preview_url(version: CredentialVersion) -> str:
    return reverse("admin:programs_credentialversion_preview", args=[version.pk])


def page_url(version: CredentialVersion) -> str:
    return reverse("admin:programs_credentialversion_preview_page", args=[version.pk])


def apply(version: CredentialVersion, status: str = Application.Status.APPLIED) -> Application:
    return Application.objects.create(
        organization=version.organization,
        educator=UserFactory(),
        credential=version.credential,
        version=version,
        status=status,
    )


# --- The comparison ----------------------------------------------------------------------------


class TestVersionDiff:
    def test_first_publication_has_no_diff(self) -> None:
        draft = make_credential(OrganizationFactory(), publish=False)
        assert diff(None, draft) == []

    def test_an_unchanged_copy_has_no_diff(self) -> None:
        published = make_credential(OrganizationFactory())
        add_quiz(published)
        assert diff(published, new_draft(published)) == []

    def test_field_change(self) -> None:
        # given
        published = make_credential(OrganizationFactory())
        draft = new_draft(published)
        # when
        CredentialVersion.objects.filter(pk=draft.pk).update(
            title="Renamed credential", max_attempts=2
        )
        # then
        changes = diff(published, draft)
        assert (
            Change(
                "Catalog page",
                "The credential",
                "changed",
                "Title",
                published.title,
                "Renamed credential",
            )
            in changes
        )
        assert Change("Catalog page", "The credential", "changed", "Max attempts", "3", "2") in (
            changes
        )
        assert len(changes) == 2

    def test_requirement_added_and_removed(self) -> None:
        # given
        published = make_credential(OrganizationFactory())
        draft = new_draft(published)
        # when one requirement is removed and a quiz added
        draft.requirements.get(title="Reflection").delete()
        add_quiz(draft)
        # then
        changes = diff(published, draft)
        section = "Evidence requirements"
        assert Change(section, "“Reflection”", "removed") in changes
        assert Change(section, "“Check your understanding”", "added") in changes
        assert len(changes) == 2

    def test_requirement_renamed_and_changed(self) -> None:
        published = make_credential(OrganizationFactory())
        draft = new_draft(published)
        draft.requirements.filter(title="Reflection").update(title="Your reflection", word_max=800)
        changes = diff(published, draft)
        subject = "“Your reflection”"
        assert (
            Change(
                "Evidence requirements",
                subject,
                "changed",
                "Title",
                "Reflection",
                "Your reflection",
            )
            in changes
        )
        assert any(c.subject == subject and c.old == "500" and c.new == "800" for c in changes)

    def test_rubric_level_changed(self) -> None:
        # given
        published = make_credential(OrganizationFactory())
        draft = new_draft(published)
        # when a level is reworded and another added
        criterion = draft.criteria.get()
        criterion.levels.filter(score=1).update(label="Proficient")
        RubricLevel.objects.create(
            organization=draft.organization,
            criterion=criterion,
            score=2,
            label="Exemplary",
            descriptor="Students lead.",
        )
        # then
        changes = diff(published, draft)
        subject = "Criterion “Plan aligns with the method”"
        assert (
            Change(
                "Rubric",
                f"{subject}, level 1 “Proficient”",
                "changed",
                "Label",
                "Meets",
                "Proficient",
            )
            in changes
        )
        assert Change("Rubric", f"{subject}, level 2 “Exemplary”", "added") in changes
        assert len(changes) == 2

    def test_rubric_criterion_removed(self) -> None:
        published = make_credential(OrganizationFactory())
        draft = new_draft(published)
        RubricCriterion.objects.filter(version=draft).delete()
        assert diff(published, draft) == [
            Change("Rubric", "Criterion “Plan aligns with the method”", "removed")
        ]

    def test_quiz_choice_changed(self) -> None:
        # given a published quiz whose first choice is correct
        org = OrganizationFactory()
        draft_one = make_credential(org, publish=False)
        add_quiz(draft_one, correct=1)
        published = services.credential_version_publish(version=draft_one, actor=None)
        draft = new_draft(published)
        # when the draft marks the second choice correct instead
        choices = QuizChoice.objects.filter(question__requirement__version=draft)
        choices.filter(position=1).update(is_correct=False)
        choices.filter(position=2).update(is_correct=True, text="The reflection, first")
        # then
        changes = diff(published, draft)
        question = "“Check your understanding”, question “What comes first?”"
        assert (
            Change("Quiz", f"{question}, choice “The plan”", "changed", "Is correct", "Yes", "No")
            in changes
        )
        assert (
            Change(
                "Quiz",
                f"{question}, choice “The reflection, first”",
                "changed",
                "Text",
                "The reflection",
                "The reflection, first",
            )
            in changes
        )
        assert all(change.section == "Quiz" for change in changes)


# --- The confirmation ---------------------------------------------------------------------------


class TestPublishConfirmation:
    def test_shows_changes_and_applications_in_progress_and_publishes_on_post(
        self, client: Client
    ) -> None:
        # given a published version with applications, and a changed draft
        org = OrganizationFactory()
        published = make_credential(org, title="Questioning Credential")
        for status in ("applied", "submitted", "in_review", "needs_revision"):
            apply(published, status)
        for status in ("approved", "awarded", "withdrawn", "not_awarded"):
            apply(published, status)
        draft = new_draft(published)
        draft.requirements.get(title="Reflection").delete()
        client.force_login(admin_of(org))
        # when the admin opens the confirmation
        page = client.get(publish_url(draft))
        # then it shows what changes and who stays, and a button; nothing is published yet
        assert page.status_code == 200
        text = body(page)
        assert "4 applications in progress" in text and "4 on version 1" in text
        assert "<caption>Changes from version 1 to version 2</caption>" in text
        assert "“Reflection”" in text and "Removed" in text
        assert 'value="Publish version 2"' in text
        draft.refresh_from_db()
        assert draft.state == CredentialVersion.State.DRAFT
        # when they confirm
        response = client.post(publish_url(draft))
        # then it is published
        draft.refresh_from_db()
        assert draft.state == CredentialVersion.State.PUBLISHED
        assert response.status_code == 302
        assert response["Location"] == reverse(
            "admin:programs_credential_change", args=[draft.credential_id]
        )

    def test_blockers_shown_and_no_button(self, client: Client) -> None:
        # given a draft without a rubric
        org = OrganizationFactory()
        draft = make_credential(org, publish=False)
        RubricCriterion.objects.filter(version=draft).delete()
        client.force_login(admin_of(org))
        # when
        text = body(client.get(publish_url(draft)))
        # then
        assert "This version cannot be published yet" in text
        assert "Add at least one rubric criterion." in text
        assert "Publish version 1" not in text
        assert "first publication" in text

    def test_a_post_of_a_blocked_version_changes_nothing(self, client: Client) -> None:
        org = OrganizationFactory()
        draft = make_credential(org, publish=False)
        RubricCriterion.objects.filter(version=draft).delete()
        client.force_login(admin_of(org))
        response = client.post(publish_url(draft), follow=True)
        assert "Add at least one rubric criterion." in body(response)
        draft.refresh_from_db()
        assert draft.state == CredentialVersion.State.DRAFT

    def test_a_published_version_has_nothing_to_confirm(self, client: Client) -> None:
        org = OrganizationFactory()
        published = make_credential(org)
        client.force_login(admin_of(org))
        text = body(client.get(publish_url(published)))
        assert "Version 1 is already published (current); only a draft can be published." in text
        assert "<form" not in text.split('id="content-main"', 1)[1]

    def test_the_draft_page_links_to_the_confirmation(self, client: Client) -> None:
        org = OrganizationFactory()
        draft = make_credential(org, publish=False)
        client.force_login(admin_of(org))
        text = body(client.get(reverse("admin:programs_credentialversion_change", args=[draft.pk])))
        assert f'<a href="{publish_url(draft)}">Publish this version</a>' in text
        assert f'<a href="{preview_url(draft)}">Preview</a>' in text

    def test_another_organization_gets_404(self, client: Client) -> None:
        theirs = make_credential(OrganizationFactory(), publish=False)
        client.force_login(admin_of(OrganizationFactory()))
        assert client.get(publish_url(theirs)).status_code == 404
        assert client.post(publish_url(theirs)).status_code == 404
        theirs.refresh_from_db()
        assert theirs.state == CredentialVersion.State.DRAFT

    def test_query_count_does_not_grow_with_requirements(
        self, client: Client, count_queries: Callable[..., Any]
    ) -> None:
        # given two credentials, each with a changed draft; the second has many more parts
        org = OrganizationFactory()
        client.force_login(admin_of(org))
        drafts = []
        for quizzes in (1, 6):
            published = make_credential(org, publish=False)
            for n in range(quizzes):
                add_quiz(published).questions.update(prompt=f"Question {n}")
            services.credential_version_publish(version=published, actor=None)
            drafts.append(new_draft(published))
        small, big = drafts
        for version in (small, big):
            version.requirements.update(instructions="Changed.")
            apply(CredentialVersion.objects.get(credential=version.credential, number=1))
        # when
        client.get(publish_url(small))
        few = count_queries(lambda: client.get(publish_url(small)))
        many = count_queries(lambda: client.get(publish_url(big)))
        # then
        assert_same_query_count(few, many)


# --- The preview -------------------------------------------------------------------------------


class TestPreview:
    def test_the_preview_frames_the_page_at_two_widths(self, client: Client) -> None:
        org = OrganizationFactory()
        draft = make_credential(org, publish=False)
        client.force_login(admin_of(org))
        response = client.get(preview_url(draft))
        text = body(response)
        assert response.status_code == 200
        assert text.count(f'src="{page_url(draft)}"') == 2
        assert 'width="1280"' in text and 'width="390"' in text
        assert 'title="Preview of the public page, phone width"' in text

    def test_the_draft_reads_as_published_and_stays_private(
        self, client: Client, forget_public_pages: Callable[[], None]
    ) -> None:
        # given a published credential whose draft changes the title, and its public pages
        # in the shared cache
        org = OrganizationFactory()
        published = make_credential(org, title="Coaching Cycles")
        draft = new_draft(published)
        CredentialVersion.objects.filter(pk=draft.pk).update(title="Coaching Cycles, revised")
        forget_public_pages()
        public_url = published.credential.get_absolute_url()
        catalog_url = f"/o/{org.slug}/"
        assert "Coaching Cycles, revised" not in body(Client().get(catalog_url))
        Client().get(public_url)
        token = public_cache.shared_cache.get(
            public_cache.token_key(public_cache.ORGANIZATION, org.slug)
        )
        admin = admin_of(org)
        client.force_login(admin)
        # when the admin previews the draft
        response = client.get(page_url(draft))
        # then it shows the draft as educators will see it, marked and never stored
        text = body(response)
        assert response.status_code == 200
        assert "<h1>Coaching Cycles, revised</h1>" in text
        assert "Preview — not public" in text
        assert "Log in to apply" in text and admin.email not in text
        assert response["X-Robots-Tag"] == "noindex"
        assert {"private", "no-store"} <= {
            part.strip() for part in response["Cache-Control"].split(",")
        }
        assert response["X-Frame-Options"] == "SAMEORIGIN"
        csp = response["Content-Security-Policy"]
        assert "frame-ancestors 'self'" in csp and "form-action 'none'" in csp
        # its links and forms go nowhere
        assert 'href="/' not in text.split("<main", 1)[1]
        assert 'action="/' not in text
        # and nothing public changed: not in the catalog, the public page and cache as before
        assert "Coaching Cycles, revised" not in body(Client().get(catalog_url))
        assert "Coaching Cycles, revised" not in body(Client().get(public_url))
        assert token == public_cache.shared_cache.get(
            public_cache.token_key(public_cache.ORGANIZATION, org.slug)
        )
        draft.refresh_from_db()
        assert draft.state == CredentialVersion.State.DRAFT

    def test_public_pages_still_refuse_framing(self, client: Client) -> None:
        version = make_credential(OrganizationFactory())
        response = Client().get(version.credential.get_absolute_url())
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"

    def test_another_organization_gets_404(self, client: Client) -> None:
        theirs = make_credential(OrganizationFactory(), publish=False)
        client.force_login(admin_of(OrganizationFactory()))
        assert client.get(preview_url(theirs)).status_code == 404
        assert client.get(page_url(theirs)).status_code == 404

    def test_someone_who_is_not_an_admin_is_refused(self, client: Client) -> None:
        org = OrganizationFactory()
        draft = make_credential(org, title="Secret Draft", publish=False)
        reviewer = UserFactory()
        StaffRoleFactory(organization=org, user=reviewer, role=StaffRole.Role.REVIEWER)
        client.force_login(reviewer)
        for url in (preview_url(draft), page_url(draft), publish_url(draft)):
            response = client.get(url)
            assert response.status_code in (302, 403, 404), url
            assert "Secret Draft" not in body(response)
