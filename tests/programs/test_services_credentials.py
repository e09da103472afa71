"""Credential versions: draft → published → superseded, through the services."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from credentials_site.exceptions import ApplicationError
from programs import services
from programs.models import AuditEvent, Credential, CredentialVersion, EvidenceRequirement
from tests.factories import OrganizationFactory, ProgramFactory, make_credential

pytestmark = pytest.mark.django_db


class TestPublish:
    def test_publishing_a_draft_puts_it_in_the_catalog_and_records_it(self) -> None:
        org = OrganizationFactory()
        draft = make_credential(org, publish=False)
        services.credential_version_publish(version=draft, actor=None)
        credential = Credential.objects.get(pk=draft.credential_id)
        assert credential.status == Credential.Status.PUBLISHED
        assert credential.current_version_id == draft.pk
        assert AuditEvent.objects.filter(
            organization=org, action="credential.published", object_id=str(credential.pk)
        ).exists()

    def test_an_incomplete_draft_is_refused_with_every_problem_and_changes_nothing(self) -> None:
        org = OrganizationFactory()
        program = ProgramFactory(organization=org)
        draft = services.credential_create(
            organization=org,
            program_id=program.pk,
            slug="empty",
            title="Empty",
            summary="s",
            competency="c",
            actor=None,
        )
        with pytest.raises(ApplicationError) as error:
            services.credential_version_publish(version=draft, actor=None)
        problems = error.value.fields["version"]
        assert "Add at least one evidence requirement." in problems
        assert "Add at least one rubric criterion." in problems
        assert any("non-members" in p for p in problems)
        draft.refresh_from_db()
        assert draft.state == CredentialVersion.State.DRAFT
        assert Credential.objects.get(pk=draft.credential_id).status == Credential.Status.DRAFT

    def test_publishing_twice_is_refused(self) -> None:
        version = make_credential(OrganizationFactory())
        with pytest.raises(ApplicationError, match="already published"):
            services.credential_version_publish(version=version, actor=None)


class TestNewVersion:
    def test_editing_a_published_credential_makes_a_full_copy_as_a_draft(self) -> None:
        # given a published credential with requirements and a rubric
        v1 = make_credential(OrganizationFactory(), title="Formative Assessment")
        credential = Credential.objects.get(pk=v1.credential_id)
        # when a program admin edits it
        v2 = services.credential_version_create_draft(credential=credential, actor=None)
        # then a draft v2 carries everything, and v1 is untouched and still current
        assert (v2.number, v2.state) == (2, CredentialVersion.State.DRAFT)
        assert [r.title for r in v2.requirements.all()] == [r.title for r in v1.requirements.all()]
        criterion = v2.criteria.get()
        assert criterion.requirement.version_id == v2.pk  # re-linked to the copy
        assert [lvl.label for lvl in criterion.levels.all()] == ["Not yet", "Meets"]
        credential.refresh_from_db()
        assert credential.current_version_id == v1.pk
        # asking again returns the same draft rather than a third version
        again = services.credential_version_create_draft(credential=credential, actor=None)
        assert again.pk == v2.pk

    def test_publishing_the_new_version_supersedes_the_old_one(self) -> None:
        v1 = make_credential(OrganizationFactory())
        credential = Credential.objects.get(pk=v1.credential_id)
        v2 = services.credential_version_create_draft(credential=credential, actor=None)
        v2.title = "Renamed"
        v2.save()
        services.credential_version_publish(version=v2, actor=None)
        v1.refresh_from_db()
        credential.refresh_from_db()
        assert v1.state == CredentialVersion.State.SUPERSEDED
        assert credential.current_version_id == v2.pk
        assert EvidenceRequirement.objects.filter(version=v1).count() == 2  # old content kept

    def test_the_database_allows_one_published_version_per_credential(self) -> None:
        v1 = make_credential(OrganizationFactory())
        v1.pk = None
        v1.number = 9
        with pytest.raises(IntegrityError), transaction.atomic():
            v1.save()


def test_retire_takes_a_credential_out_of_the_catalog_once() -> None:
    credential = Credential.objects.get(pk=make_credential(OrganizationFactory()).credential_id)
    services.credential_retire(credential=credential, actor=None)
    credential.refresh_from_db()
    assert credential.status == Credential.Status.RETIRED
    with pytest.raises(ApplicationError, match="already retired"):
        services.credential_retire(credential=credential, actor=None)


@pytest.mark.parametrize(
    ("colour", "ok"), [("#1f4e79", True), ("#0b5394", True), ("#ffeb3b", False), ("blue", False)]
)
def test_brand_colour_must_be_readable_behind_white_text(colour: str, ok: bool) -> None:
    org = OrganizationFactory.build(brand_colour=colour, slug="brand-test", name="Brand test")
    if ok:
        org.full_clean()
    else:
        with pytest.raises(ValidationError) as error:
            org.full_clean()
        assert "brand_colour" in error.value.message_dict
