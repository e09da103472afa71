"""Audit actions are spelt one way, ``<entity>.<past-tense verb>``, and the events recorded
before the outliers were renamed read the same way after migration 0005."""

from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps

from programs import services
from programs.models import AuditEvent, Credential
from tests.factories import OrganizationFactory, make_credential

pytestmark = pytest.mark.django_db

migration = importlib.import_module("programs.migrations.0005_audit_action_names")
SPELLING = re.compile(r"^[a-z_]+\.[a-z]+ed$")  # the verb is one word


def record(organization, action: str, obj) -> AuditEvent:  # type: ignore[no-untyped-def]
    return services.audit_record(
        organization=organization, actor=None, action=action, obj=obj, summary=action
    )


class TestRenamedActions:
    def test_every_new_name_follows_the_one_spelling(self) -> None:
        # then each renamed action reads <entity>.<past-tense verb>
        assert all(SPELLING.match(new) for new in migration.RENAMED.values())
        assert not any(SPELLING.match(old) for old in migration.RENAMED)

    def test_recorded_events_are_renamed_and_the_others_are_left_alone(self) -> None:
        # given events recorded under the old names, and one already spelt the new way
        org = OrganizationFactory()
        credential = Credential.objects.get(pk=make_credential(org).credential_id)
        old = {action: record(org, action, credential) for action in migration.RENAMED}
        published = record(org, "credential.published", credential)
        # when the migration runs
        migration.forwards(apps, None)
        # then every old event carries its new name, and nothing else changed
        for action, event in old.items():
            event.refresh_from_db()
            assert event.action == migration.RENAMED[action]
        published.refresh_from_db()
        assert published.action == "credential.published"
        # and migrating back restores the old names
        migration.backwards(apps, None)
        assert {
            e.action for e in AuditEvent.objects.filter(pk__in=[e.pk for e in old.values()])
        } == set(migration.RENAMED)

    def test_a_new_draft_of_a_credential_is_recorded_as_drafted(self) -> None:
        # given a published credential
        org = OrganizationFactory()
        credential = Credential.objects.get(pk=make_credential(org).credential_id)
        # when an admin starts its next version
        draft = services.credential_version_create_draft(credential=credential, actor=None)
        # then the audit trail says the credential was drafted again
        event = AuditEvent.objects.get(object_id=str(credential.pk), action="credential.drafted")
        assert f"Draft version {draft.number}" in event.summary
