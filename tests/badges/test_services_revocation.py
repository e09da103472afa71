"""Revoking a badge (``badges.services.badge_revoke``): the public reason and the private note go
where each belongs, pathway certificates follow the badges they require (unless the admin keeps
them), nothing is revoked twice, and a certificate comes back only when the educator re-earns
what was revoked. What a verifier sees is read as our site serves it (status list, verification
page, Open Badges 2.0 assertion), and once by Digital Bazaar's independent verifier."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from badges import documents, services
from badges.errors import BadgeError
from badges.models import Badge, StatusList
from badges.services.revocation import certificate_reason
from programs.models import (
    AuditEvent,
    Credential,
    Membership,
    Organization,
    Pathway,
    StaffRole,
    User,
)
from reviews import services as review_services
from submissions import services as submission_services
from submissions.models import Application
from tests.badges.test_independent_verifier import documents_for, verify_independently
from tests.badges.test_views_backpack import earn
from tests.factories import OrganizationFactory, PathwayFactory, UserFactory
from tests.reviews.conftest import decide, submit_attempt

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tasks_run_at_once")]

REASON = "The lesson plan was copied from a published source."
NOTE = "We compared it with the 2019 district handbook, page 12; call me before re-applying."


@pytest.fixture
def educator() -> User:
    return UserFactory(email="ines.ortega@example.org", full_name="Inés Ortega")


@pytest.fixture
def riverside() -> Organization:
    return OrganizationFactory(name="Riverside Unified", slug="riverside")


@pytest.fixture
def admin(riverside: Organization) -> User:
    return UserFactory(email="admin@riverside.example")


@dataclass
class Earned:
    """Two badges of an educator and the certificate of the pathway they complete."""

    one: Badge
    two: Badge
    pathway: Pathway
    certificate: Badge


def earn_pathway(educator: User, organization: Organization) -> Earned:
    """Two badges ("Questioning Strategies", "Formative Assessment") earned through the real
    path, and the "Inquiry Certificate" of the published pathway they complete."""
    one = earn(educator, organization, title="Questioning Strategies")
    two = earn(educator, organization, title="Formative Assessment")
    pathway = PathwayFactory(organization=organization, certificate_name="Inquiry Certificate")
    assert one.version is not None and two.version is not None
    pathway.credentials.set([one.version.credential_id, two.version.credential_id])
    [certificate] = services.pathways_check(organization=organization, user=educator)
    assert certificate.kind == Badge.Kind.PATHWAY and not certificate.is_revoked
    return Earned(one, two, pathway, certificate)


@pytest.fixture
def earned(educator: User, riverside: Organization) -> Earned:
    return earn_pathway(educator, riverside)


def revoke(badge: Badge, captured: Any, **kwargs: Any) -> services.Revocation:
    """Revoke, with the on-commit e-mails run (as the worker would)."""
    kwargs.setdefault("reason", REASON)
    kwargs.setdefault("actor", None)
    with captured(execute=True):
        return services.badge_revoke(badge=badge, **kwargs)


def served_bits(client: Client, badge: Badge) -> bytes:
    """The bits of the badge's status list as our site serves them, decoded."""
    url = badge.credential["credentialStatus"]["statusListCredential"]
    response = client.get(url[len(documents.site_url("")) :])
    assert response.status_code == 200
    return documents.decode_bits(json.loads(response.content)["credentialSubject"]["encodedList"])


def fresh(badge: Badge) -> Badge:
    return Badge.objects.get(pk=badge.pk)


def revoked_mail(badge: Badge) -> list[Any]:
    return [m for m in mail.outbox if m.subject == f"Your badge “{badge.name}” was revoked"]


# --- The public reason and the private note -----------------------------------------------------


class TestReasons:
    def test_the_public_reason_is_public_and_the_private_note_goes_only_to_the_educator(
        self,
        educator: User,
        riverside: Organization,
        admin: User,
        client: Client,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        # given a badge
        badge = earn(educator, riverside)
        mail.outbox.clear()
        # when a program admin revokes it with a public reason and a private note
        revoke(badge, django_capture_on_commit_callbacks, private_note=NOTE, actor=admin)
        # then the educator's e-mail carries both, saying which one the world sees
        [message] = revoked_mail(badge)
        assert message.to == [educator.email]
        assert f"Reason: {REASON}" in message.body
        assert "shown to anyone who checks the badge" in message.body
        assert NOTE in message.body
        # and the audit trail keeps both, with who did it
        event = AuditEvent.objects.get(action="badge.revoked", object_id=str(badge.pk))
        assert event.actor == admin
        assert event.data["public_reason"] == REASON
        assert event.data["private_note"] == NOTE
        # and the verification page, the OB 2.0 assertion and the signed JSON show the reason,
        # never the note
        page = client.get(f"/badges/{badge.public_id}/").content.decode()
        assert "Revoked" in page and REASON in page
        assert "district handbook" not in page
        assertion = json.loads(client.get(f"/badges/{badge.public_id}/ob2").content)
        assert assertion["revoked"] is True
        assert assertion["revocationReason"] == REASON
        assert "district handbook" not in json.dumps(assertion)
        for path in (f"/badges/{badge.public_id}.json", f"/badges/{badge.public_id}/check"):
            response = client.get(path)
            assert response.status_code == 200, path
            assert "district handbook" not in response.content.decode()

    def test_the_private_note_is_optional(
        self, educator: User, riverside: Organization, django_capture_on_commit_callbacks: Any
    ) -> None:
        badge = earn(educator, riverside)
        mail.outbox.clear()
        revoke(badge, django_capture_on_commit_callbacks, private_note="   ")
        badge = fresh(badge)
        assert badge.is_revoked and badge.revocation_note == ""
        [message] = revoked_mail(badge)
        assert "for you only" not in message.body

    @pytest.mark.parametrize(
        ("given", "field", "code"),
        [
            ({"reason": ""}, "reason", "reason_required"),
            ({"reason": "   ", "private_note": NOTE}, "reason", "reason_required"),
            ({"reason": "x" * 501}, "reason", "invalid"),
            ({"private_note": "x" * 2001}, "private_note", "invalid"),
        ],
    )
    def test_bad_texts_are_refused_by_field_and_change_nothing(
        self,
        given: dict[str, str],
        field: str,
        code: str,
        earned: Earned,
        client: Client,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        # given a badge a certificate requires
        mail.outbox.clear()
        # when it is revoked with a bad text
        with pytest.raises(BadgeError) as refused:
            revoke(earned.one, django_capture_on_commit_callbacks, **given)
        # then the error names the field, and nothing changed: badge, certificate, list, mail
        assert refused.value.code == code
        assert refused.value.fields[field]
        for badge in (earned.one, earned.certificate):
            assert not fresh(badge).is_revoked
            assert not documents.bit_is_set(served_bits(client, badge), badge.status_index)
        assert mail.outbox == []
        assert not AuditEvent.objects.filter(action="badge.revoked").exists()


# --- Pathway certificates follow their parts ------------------------------------------------------


class TestCascade:
    def test_revoking_a_badge_revokes_the_certificate_that_requires_it(
        self,
        earned: Earned,
        educator: User,
        admin: User,
        client: Client,
        tmp_path: Path,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        # given an educator's certificate built on two badges
        mail.outbox.clear()
        # when a program admin revokes one of the badges
        revocation = revoke(
            earned.one, django_capture_on_commit_callbacks, private_note=NOTE, actor=admin
        )
        # then the certificate is revoked with it, with its own public reason, by the same admin
        assert [c.pk for c in revocation.certificates] == [earned.certificate.pk]
        certificate = fresh(earned.certificate)
        assert certificate.is_revoked
        assert certificate.revocation_reason == (
            "A badge this certificate requires, “Questioning Strategies”, was revoked."
        )
        assert certificate.revocation_reason == certificate_reason(earned.one)
        assert certificate.revocation_note == ""
        assert certificate.revoked_by == admin
        # and the other badge stands
        assert not fresh(earned.two).is_revoked
        # and the served status list has both bits set, and the other badge's clear
        bits = served_bits(client, earned.one)
        assert documents.bit_is_set(bits, earned.one.status_index)
        assert documents.bit_is_set(served_bits(client, certificate), certificate.status_index)
        assert not documents.bit_is_set(bits, earned.two.status_index)
        # and the certificate's page says revoked, and why
        page = client.get(f"/badges/{certificate.public_id}/").content.decode()
        assert "Revoked" in page
        assert "A badge this certificate requires, “Questioning Strategies”, was revoked." in page
        assert "district handbook" not in page
        # and the educator gets one e-mail per badge, the note only in the badge's
        [about_badge] = revoked_mail(earned.one)
        [about_certificate] = revoked_mail(certificate)
        assert about_badge.to == about_certificate.to == [educator.email]
        assert NOTE in about_badge.body
        assert certificate_reason(earned.one) in about_certificate.body
        assert NOTE not in about_certificate.body
        # and each is audited
        event = AuditEvent.objects.get(action="badge.revoked", object_id=str(certificate.pk))
        assert event.actor == admin
        assert event.data["because_of"] == str(earned.one.public_id)
        parent = AuditEvent.objects.get(action="badge.revoked", object_id=str(earned.one.pk))
        assert parent.data["certificates_revoked"] == [str(certificate.public_id)]
        # and Digital Bazaar's verifier, given what we serve, reports the certificate revoked
        result = verify_independently(
            certificate.credential, documents_for(client, certificate.credential), tmp_path
        )
        assert result["signature"] is True
        assert result["revoked"] is True
        assert result["status"] == "revoked"

    def test_the_admin_may_keep_the_certificates_valid(
        self,
        earned: Earned,
        admin: User,
        client: Client,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        mail.outbox.clear()
        # when the admin revokes a badge and explicitly keeps the certificates
        revocation = revoke(
            earned.one, django_capture_on_commit_callbacks, keep_certificates=True, actor=admin
        )
        # then only the badge is revoked; the certificate is untouched, and the audit says so
        assert revocation.certificates == []
        assert [c.pk for c in revocation.kept] == [earned.certificate.pk]
        certificate = fresh(earned.certificate)
        assert not certificate.is_revoked
        bits = served_bits(client, certificate)
        assert not documents.bit_is_set(bits, certificate.status_index)
        assert documents.bit_is_set(bits, earned.one.status_index)
        assert revoked_mail(certificate) == []
        event = AuditEvent.objects.get(action="badge.revoked", object_id=str(earned.one.pk))
        assert event.data["certificates_kept_valid"] == [str(certificate.public_id)]
        assert "kept valid" in event.summary
        assert not AuditEvent.objects.filter(object_id=str(certificate.pk), action="badge.revoked")

    def test_a_certificate_is_not_revoked_twice(
        self, earned: Earned, django_capture_on_commit_callbacks: Any
    ) -> None:
        # given the certificate was revoked with the first badge
        revoke(earned.one, django_capture_on_commit_callbacks)
        first = fresh(earned.certificate)
        mail.outbox.clear()
        # when the second badge it required is revoked as well
        revocation = revoke(earned.two, django_capture_on_commit_callbacks, reason="Another.")
        # then the certificate keeps its first revocation: same time, reason, one audit event
        assert revocation.certificates == []
        again = fresh(earned.certificate)
        assert (again.revoked_at, again.revocation_reason) == (
            first.revoked_at,
            first.revocation_reason,
        )
        assert (
            AuditEvent.objects.filter(
                action="badge.revoked", object_id=str(earned.certificate.pk)
            ).count()
            == 1
        )
        assert revoked_mail(earned.certificate) == []
        assert len(revoked_mail(earned.two)) == 1

    def test_revoking_a_badge_twice_is_refused_and_changes_nothing(
        self, earned: Earned, client: Client, django_capture_on_commit_callbacks: Any
    ) -> None:
        revoke(earned.one, django_capture_on_commit_callbacks, private_note=NOTE)
        before = fresh(earned.one)
        list_before = StatusList.objects.get(pk=before.status_list_id).credential
        mail.outbox.clear()
        # when it is revoked again
        with pytest.raises(BadgeError) as refused:
            revoke(earned.one, django_capture_on_commit_callbacks, reason="Again.")
        # then the message says so, and nothing changed (not even the list's signature)
        assert refused.value.code == "already_revoked"
        assert "already revoked" in refused.value.message
        after = fresh(earned.one)
        assert (after.revoked_at, after.revocation_reason, after.revocation_note) == (
            before.revoked_at,
            REASON,
            NOTE,
        )
        assert StatusList.objects.get(pk=before.status_list_id).credential == list_before
        assert mail.outbox == []
        assert AuditEvent.objects.filter(action="badge.revoked").count() == 2  # badge + cert

    def test_revoking_the_certificate_leaves_its_badges_alone(
        self, earned: Earned, client: Client, django_capture_on_commit_callbacks: Any
    ) -> None:
        mail.outbox.clear()
        # when the admin revokes the certificate itself
        revocation = revoke(earned.certificate, django_capture_on_commit_callbacks)
        # then only the certificate is revoked, with the admin's reason
        assert revocation.certificates == []
        assert fresh(earned.certificate).revocation_reason == REASON
        bits = served_bits(client, earned.certificate)
        assert documents.bit_is_set(bits, earned.certificate.status_index)
        for badge in (earned.one, earned.two):
            assert not fresh(badge).is_revoked
            assert not documents.bit_is_set(bits, badge.status_index)
        assert [m.subject for m in mail.outbox] == [
            f"Your badge “{earned.certificate.name}” was revoked"
        ]

    def test_another_educators_certificate_is_not_touched(
        self,
        earned: Earned,
        riverside: Organization,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        # given a colleague who holds the same pathway's certificate
        colleague = UserFactory()
        for badge in (earned.one, earned.two):
            assert badge.version is not None
            again(colleague, riverside, badge.version.credential_id)
        [theirs] = services.pathways_check(organization=riverside, user=colleague)
        # when the first educator's badge is revoked
        revoke(earned.one, django_capture_on_commit_callbacks)
        # then only the first educator's certificate follows
        assert fresh(earned.certificate).is_revoked
        assert not fresh(theirs).is_revoked

    def test_certificates_requiring_runs_the_same_queries_for_1_or_5_badges(
        self, earned: Earned, riverside: Organization, count_queries: Any
    ) -> None:
        # given five educators' badges, each required by a certificate
        badges = [earned.one]
        for _ in range(4):
            person = UserFactory()
            mine = [again(person, riverside, c.pk) for c in earned.pathway.credentials.all()]
            services.pathways_check(organization=riverside, user=person)
            badges.append(mine[0])
        # when the admin's page asks which certificates require one badge, and five
        one = count_queries(lambda: services.certificates_requiring(badges=badges[:1]))
        five = count_queries(lambda: services.certificates_requiring(badges=badges))
        # then the count does not grow, and each badge gets its own educator's certificate
        assert len(one) == len(five) == 4
        found = services.certificates_requiring(badges=badges)
        assert [[c.recipient_id for c in certificates] for certificates in found.values()] == [
            [b.recipient_id] for b in badges
        ]


# --- Earning the badge again --------------------------------------------------------------------


def again(educator: User, organization: Organization, credential_id: int) -> Badge:
    """A badge for an existing credential through the real path (apply, submit, approve,
    issue)."""
    credential = Credential.objects.get(pk=credential_id)
    Membership.objects.get_or_create(organization=organization, user=educator)
    reviewer = UserFactory()
    StaffRole.objects.create(organization=organization, user=reviewer, role=StaffRole.Role.REVIEWER)
    application = submission_services.application_apply(credential=credential, educator=educator)
    submit_attempt(application, educator)
    claim = review_services.review_claim_next(organization=organization, reviewer=reviewer)
    decide(claim, reviewer, "approve")
    return services.badge_issue(application_id=application.pk)


class TestEarningAgain:
    def test_re_earning_the_revoked_badge_brings_a_new_certificate(
        self,
        earned: Earned,
        educator: User,
        riverside: Organization,
        client: Client,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        # given the certificate was revoked with one of its badges
        revoke(earned.one, django_capture_on_commit_callbacks)
        assert services.pathways_check(organization=riverside, user=educator) == []
        # when the educator earns that badge again. Today the website does not let them apply
        # again (the awarded application stays open); closing it stands in for that step.
        Application.objects.filter(pk=earned.one.application_id).update(
            status=Application.Status.WITHDRAWN
        )
        assert earned.one.version is not None
        new_badge = again(educator, riverside, earned.one.version.credential_id)
        # then the pathway check issues a new certificate beside the revoked one
        [new_certificate] = services.pathways_check(organization=riverside, user=educator)
        assert new_certificate.pk != earned.certificate.pk
        assert not new_certificate.is_revoked
        assert fresh(earned.certificate).is_revoked
        check = services.credential_verify(
            organization=riverside, credential=new_certificate.credential
        )
        assert check["status"] == "valid", check
        # and it is issued once: the check again returns nothing new
        assert services.pathways_check(organization=riverside, user=educator) == []
        assert services.pathway_badge_issue(pathway=earned.pathway, user=educator) == (
            new_certificate
        )
        assert Badge.objects.filter(recipient=educator, pathway=earned.pathway).count() == 2
        # and revoking the new badge revokes the new certificate only
        revocation = revoke(new_badge, django_capture_on_commit_callbacks)
        assert [c.pk for c in revocation.certificates] == [new_certificate.pk]

    def test_a_certificate_revoked_on_its_own_is_not_issued_again(
        self,
        earned: Earned,
        educator: User,
        riverside: Organization,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        # given the admin revoked the certificate itself (its badges stay valid)
        revoke(earned.certificate, django_capture_on_commit_callbacks)
        # when the pathway check runs again (as the sweep does)
        issued = services.pathways_check(organization=riverside, user=educator)
        # then no new certificate comes back by itself
        assert issued == []
        assert services.pathways_completed(organization=riverside, user=educator) == []
        with pytest.raises(BadgeError):
            services.pathway_badge_issue(pathway=earned.pathway, user=educator)
        assert Badge.objects.filter(recipient=educator, kind=Badge.Kind.PATHWAY).count() == 1
