"""The badges admin and services in Spanish (decision 0036): the revoke page, its messages, the
verification checks and the educator's e-mail subject follow the language; the signed
credential does not (it is data, and its signature must not change)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import translation

from badges import services
from badges.models import Badge
from programs.models import Organization, StaffRole, User
from tests.badges.test_admin_revocation import revoke_url
from tests.badges.test_services_revocation import earn_pathway
from tests.factories import OrganizationFactory, StaffRoleFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tasks_run_at_once")]

ES = {"HTTP_ACCEPT_LANGUAGE": "es"}


@pytest.fixture
def riverside() -> Organization:
    return OrganizationFactory(name="Riverside Unified", slug="riverside")


@pytest.fixture
def admin_client(client: Client, riverside: Organization) -> Client:
    admin = StaffRoleFactory(
        organization=riverside, role=StaffRole.Role.PROGRAM_ADMIN, user=UserFactory()
    ).user
    client.force_login(admin)
    return client


@pytest.fixture
def educator() -> User:
    return UserFactory(email="ines.ortega@example.org")


@pytest.fixture
def parts(educator: User, riverside: Organization) -> tuple[Badge, Badge, Badge]:
    earned = earn_pathway(educator, riverside)
    return earned.one, earned.two, earned.certificate


def html(response: Any) -> str:
    return response.content.decode()


class TestTheRevokePage:
    def test_it_is_in_spanish_for_a_spanish_browser(
        self, admin_client: Client, parts: tuple[Badge, Badge, Badge]
    ) -> None:
        one, _, _certificate = parts
        # when an admin whose browser asks for Spanish opens the revoke page
        page = html(admin_client.get(revoke_url(one), **ES))
        # then its text is Spanish, and the badge's own name is not translated
        assert "La revocación no se puede deshacer." in page
        assert "Certificado de ruta de aprendizaje que requiere esta insignia" in page
        assert 'value="Sí, revocar esta insignia"' in page
        assert one.name in page

    def test_its_messages_are_in_spanish_and_the_public_reason_is_kept_as_written(
        self, admin_client: Client, parts: tuple[Badge, Badge, Badge]
    ) -> None:
        one, _, certificate = parts
        # when the admin revokes without a reason, then with one
        refused = html(admin_client.post(revoke_url(one), {"reason": ""}, **ES))
        done = admin_client.post(
            revoke_url(one), {"reason": "Copiado.", "private_note": ""}, follow=True, **ES
        )
        # then the refusal and the confirmation are Spanish
        assert "Indique un motivo: se muestra a cualquiera que verifique esta insignia." in refused
        assert "Se revocó “" in html(done)
        # and the certificate's public reason (shown in the OB 2.0 assertion) stays as written
        certificate.refresh_from_db()
        assert certificate.revocation_reason.startswith("A badge this certificate requires")


class TestVerificationAndMail:
    def test_the_checks_are_in_spanish_and_the_credential_is_unchanged(
        self, parts: tuple[Badge, Badge, Badge]
    ) -> None:
        one, _, _certificate = parts
        # when the badge is checked in Spanish and in English
        with translation.override("es"):
            spanish = services.credential_verify(
                organization=one.organization, credential=one.credential
            )
        with translation.override("en"):
            english = services.credential_verify(
                organization=one.organization, credential=one.credential
            )
        # then the messages follow the language, the verdict does not
        assert spanish["verified"] is english["verified"] is True
        assert spanish["checks"][0]["message"] == "Firmada con la clave publicada del emisor."
        assert english["checks"][0]["message"] == "Signed by the issuer's published key."

    def test_the_educators_email_subject_is_in_their_language(
        self,
        educator: User,
        parts: tuple[Badge, Badge, Badge],
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        one, _, _certificate = parts
        educator.language = "es"
        educator.save(update_fields=["language"])
        mail.outbox.clear()
        # when their badge is revoked (by an admin whose own language is English)
        with django_capture_on_commit_callbacks(execute=True):
            services.badge_revoke(badge=one, reason="Copied.", actor=None, keep_certificates=True)
        # then the e-mail's subject is Spanish
        subjects = [message.subject for message in mail.outbox]
        assert f"Su insignia “{one.name}” fue revocada" in subjects
