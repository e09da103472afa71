"""Issuing: one signed, schema-valid OB 3.0 credential per approval, whatever happens."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db.models import F
from django.test import Client
from django_scopes import scope, scopes_disabled

from badges import dataintegrity, documents, services
from badges.models import Badge, SigningKey, StatusList
from submissions.models import Application, EvidenceItem
from tests.badges.conftest import assert_valid_ob3
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_an_approval_is_issued_a_signed_schema_valid_credential(approve: Any) -> None:
    # given an approved application
    application = approve(credit_hours=3)
    # when the badge is issued
    badge = services.badge_issue(application_id=application.pk)
    # then it is a valid, signed OB 3.0 credential about this educator and achievement
    credential = badge.credential
    assert_valid_ob3(credential)
    assert credential["issuer"]["id"] == documents.issuer_did(application.organization)
    subject = credential["credentialSubject"]
    assert subject["identifier"][0]["identityHash"] == documents.identity_hash(
        application.educator.email.lower(), badge.salt
    )
    assert subject["achievement"]["achievementType"] == "MicroCredential"
    assert subject["achievement"]["creditsAvailable"] == 3.0
    assert subject["result"][0]["achievedLevel"].endswith("-level-1")
    assert credential["credentialStatus"]["statusListIndex"] == str(badge.status_index)
    check = services.credential_verify(organization=application.organization, credential=credential)
    assert check["verified"], check
    application.refresh_from_db()
    assert application.status == Application.Status.AWARDED


def test_issuing_twice_returns_the_same_badge(approve: Any) -> None:
    application = approve()
    first = services.badge_issue(application_id=application.pk)
    second = services.badge_issue(application_id=application.pk)
    assert first.pk == second.pk
    assert Badge.objects.filter(application=application).count() == 1


def test_only_public_evidence_appears_on_the_credential(approve: Any) -> None:
    application = approve()
    EvidenceItem.objects.filter(application=application, kind="text").update(visibility="public")
    badge = services.badge_issue(application_id=application.pk)
    evidence = badge.credential["evidence"]
    assert [e["name"] for e in evidence] == ["Reflection"]
    assert "exit tickets" in evidence[0]["narrative"]


def test_revocation_sets_the_status_bit_and_verification_says_revoked(approve: Any) -> None:
    application = approve()
    badge = services.badge_issue(application_id=application.pk)
    # when a program admin revokes it
    services.badge_revoke(badge=badge, reason="Evidence was not the educator's own.", actor=None)
    # then the signed status list has its bit set and the check reports it
    badge.status_list.refresh_from_db()
    bits = documents.decode_bits(badge.status_list.credential["credentialSubject"]["encodedList"])
    assert len(bits) * 8 >= 131_072
    assert documents.bit_is_set(bits, badge.status_index)
    check = services.credential_verify(organization=badge.organization, credential=badge.credential)
    assert check["status"] == "revoked"
    assert not check["verified"]


def test_a_rotated_key_still_verifies_old_badges(approve: Any) -> None:
    application = approve()
    old = services.badge_issue(application_id=application.pk)
    services.signing_key_rotate(organization=application.organization, actor=None)
    assert SigningKey.objects.filter(organization=application.organization).count() == 2
    check = services.credential_verify(organization=old.organization, credential=old.credential)
    assert check["verified"], check
    new = services.badge_issue(application_id=approve().pk)
    assert new.signing_key_id != old.signing_key_id
    assert dataintegrity.verify(
        new.credential,
        resolve_key=lambda m: dataintegrity.public_key_from_multibase(m.split("#")[1]),
    ).verified


def test_the_subject_has_the_educators_permanent_profile_address_once_they_opted_in(
    approve: Any, client: Client
) -> None:
    # given an educator with no public profile
    private = services.badge_issue(application_id=approve().pk)
    assert "id" not in private.credential["credentialSubject"]
    # when another educator made their profile public before their badge was issued
    educator = UserFactory(email="ines@example.org")
    services.profile_save(user=educator, handle="ines", headline="", is_public=True)
    badge = services.badge_issue(application_id=approve(educator=educator).pk)
    # then the credential names them by the permanent address of that profile
    subject_id = badge.credential["credentialSubject"]["id"]
    assert subject_id == documents.site_url(f"/u/id/{educator.public_id}/")
    assert_valid_ob3(badge.credential)
    assert services.credential_verify(organization=badge.organization, credential=badge.credential)[
        "verified"
    ]
    # and the address leads to the profile, whatever its handle is now
    services.profile_save(user=educator, handle="ines-ortega", headline="", is_public=True)
    response = client.get(f"/u/id/{educator.public_id}/")
    assert response.status_code == 302
    assert response["Location"] == "/u/ines-ortega/"


def test_the_credential_is_served_with_its_keys_in_the_order_they_were_signed(
    approve: Any, client: Client
) -> None:
    badge = services.badge_issue(application_id=approve().pk)
    served = client.get(f"/badges/{badge.public_id}.json").content.decode()
    # @context first, then id and type, as issued (jsonb would have reordered them)
    assert list(json.loads(served))[:3] == ["@context", "id", "type"]
    badge.refresh_from_db()
    assert list(badge.credential["credentialSubject"])[:2] == ["type", "identifier"]
    assert services.credential_verify(organization=badge.organization, credential=badge.credential)[
        "verified"
    ]


def test_a_full_status_list_is_followed_by_a_new_one(approve: Any) -> None:
    first = services.badge_issue(application_id=approve().pk)
    # when the organization's list has no free bit left
    StatusList.objects.filter(pk=first.status_list_id).update(next_index=F("size"))
    badge = services.badge_issue(application_id=approve().pk)
    # then the badge gets the first bit of a new, signed list
    assert (badge.status_list.number, badge.status_index) == (2, 0)
    new_list = StatusList.objects.get(organization=badge.organization, number=2)
    assert new_list.next_index == 1
    assert new_list.credential["id"].endswith(f"/o/{badge.organization.slug}/status/2")
    assert badge.credential["credentialStatus"]["statusListCredential"] == new_list.credential["id"]


@pytest.mark.scoped
def test_an_application_of_another_organization_is_not_issued_in_this_ones_scope(
    approve: Any,
) -> None:
    with scopes_disabled():
        other = approve(organization=OrganizationFactory(slug="elsewhere"))
        mine = approve()
    # when issuing runs in the first organization's scope for the other one's application
    with scope(organization=mine.organization_id), pytest.raises(Application.DoesNotExist):
        services.badge_issue(application_id=other.pk)
    # then nothing was issued; in its own scope it is
    with scope(organization=other.organization_id):
        assert services.badge_issue(application_id=other.pk).organization_id == (
            other.organization_id
        )
    with scopes_disabled():
        assert Badge.objects.filter(application=other).count() == 1


def test_the_issued_badge_carries_its_status_list_as_stored(approve: Any) -> None:
    badge = services.badge_issue(application_id=approve().pk)
    stored = StatusList.objects.get(pk=badge.status_list_id)
    # the list the service hands back reads its columns from the database, not defaults
    assert badge.status_list.number == stored.number
    assert bytes(badge.status_list.bits) == bytes(stored.bits)
    assert badge.status_list.credential == stored.credential != {}
