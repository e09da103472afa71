"""A pathway certificate follows its badges, end to end through a real Celery worker on Redis:
the worker issues two badges and the certificate they complete; a program admin revokes one
badge through the API; the certificate is revoked in the same commit, and the worker then
e-mails the educator about each. What a verifier sees is read as our site serves it.

The tests commit for real (``transaction=True``), so on-commit callbacks queue the tasks as in
production."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from badges import documents
from badges.models import Badge
from programs.models import AuditEvent, Organization, StaffRole, User
from tests.badges.test_worker import approve_committed
from tests.factories import PathwayFactory, StaffRoleFactory, UserFactory, make_credential
from tests.worker import running_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

PUBLIC = "The recording was found to be another educator's work."
NOTE = "Compared with the 2021 conference video; you may re-apply after 1 March."


@pytest.fixture
def celery_worker() -> Iterator[None]:
    with running_worker():
        yield


def served_bits(client: Client, badge: Badge) -> bytes:
    url = badge.credential["credentialStatus"]["statusListCredential"]
    response = client.get(url[len(documents.site_url("")) :])
    assert response.status_code == 200
    return documents.decode_bits(json.loads(response.content)["credentialSubject"]["encodedList"])


def revoked_mail(badge: Badge) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if m.subject == f"Your badge “{badge.name}” was revoked"]


def test_the_worker_issues_the_certificate_and_e_mails_both_revocations(
    celery_worker: None, org: Organization, reviewer: User, client: Client
) -> None:
    # given a published pathway of two credentials, and an educator approved for both: the
    # worker issues the two badges, then the certificate they complete
    educator = UserFactory(email="ines.ortega@example.org")
    versions = [make_credential(org, non_member_fee=0, title=t) for t in ("Inquiry", "Feedback")]
    pathway = PathwayFactory(organization=org, certificate_name="Classroom Inquiry Certificate")
    pathway.credentials.set([v.credential_id for v in versions])
    for version in versions:
        approve_committed(org, reviewer, educator=educator, version=version)
    certificate = wait_for(
        lambda: Badge.objects.filter(recipient=educator, pathway=pathway).first(),
        what="the worker to issue the pathway certificate",
    )
    inquiry = Badge.objects.get(recipient=educator, version=versions[0])
    assert not documents.bit_is_set(served_bits(client, certificate), certificate.status_index)
    mail.outbox.clear()
    # when a program admin revokes the first badge through the API, with a private note
    admin = StaffRoleFactory(
        organization=org, role=StaffRole.Role.PROGRAM_ADMIN, user=UserFactory()
    ).user
    api = APIClient()
    api.force_login(admin)
    response = api.post(
        f"/api/v1/orgs/{org.slug}/badges/{inquiry.public_id}/revoke",
        {"reason": PUBLIC, "private_note": NOTE},
        format="json",
    )
    # then the answer lists the certificate revoked with it
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "revoked"
    assert [c["id"] for c in body["certificates_revoked"]] == [str(certificate.public_id)]
    assert body["certificates_revoked"][0]["revocation_reason"] == (
        "A badge this certificate requires, “Inquiry”, was revoked."
    )
    # and the worker e-mails the educator about each: the note only in the badge's e-mail
    wait_for(
        lambda: revoked_mail(inquiry) and revoked_mail(certificate),
        what="the worker to send both revocation e-mails",
    )
    [about_badge] = revoked_mail(inquiry)
    [about_certificate] = revoked_mail(certificate)
    assert about_badge.to == about_certificate.to == [educator.email]
    assert f"Reason: {PUBLIC}" in about_badge.body and NOTE in about_badge.body
    assert "“Inquiry”, was revoked." in about_certificate.body
    assert NOTE not in about_certificate.body
    # and the status list as served has both bits set
    bits = served_bits(client, certificate)
    assert documents.bit_is_set(bits, inquiry.status_index)
    assert documents.bit_is_set(bits, certificate.status_index)
    # and the certificate's verification page says revoked, and why; never the note
    page = client.get(f"/badges/{certificate.public_id}/").content.decode()
    assert "Revoked" in page
    assert "A badge this certificate requires, “Inquiry”, was revoked." in page
    assert "conference video" not in page
    badge_page = client.get(f"/badges/{inquiry.public_id}/").content.decode()
    assert PUBLIC.replace("'", "&#x27;") in badge_page
    assert "conference video" not in badge_page
    # and both revocations are in the audit trail, by the admin
    events = AuditEvent.objects.filter(action="badge.revoked").order_by("pk")
    assert [(e.object_id, e.actor_id) for e in events] == [
        (str(inquiry.pk), admin.pk),
        (str(certificate.pk), admin.pk),
    ]
