"""Issuing: one signed, schema-valid OB 3.0 credential per approval, whatever happens."""

from __future__ import annotations

from typing import Any

import pytest

from badges import dataintegrity, documents, services
from badges.models import Badge, SigningKey
from submissions.models import Application, EvidenceItem
from tests.badges.conftest import assert_valid_ob3

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
