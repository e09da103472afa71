"""The educator's journey once in Spanish (issue 23, decision 0036): a browser that asks for
Spanish gets every page in Spanish, axe-clean at both widths — signing up, the verification
e-mail, GAEL's catalog, the credential, applying, uploading through the real uploader, answering,
submitting — and the account keeps the language for its e-mails. The language switcher brings
English back, and the choice follows the account."""

from __future__ import annotations

import re
from pathlib import Path

from django.core import mail
from playwright.sync_api import Page, expect

from programs.models import Membership, Organization, User
from submissions.models import Application
from tests.e2e.conftest import Journey
from tests.e2e.data import words, write_files

NAME = "Lucía Hernández"
EMAIL = "lucia.hernandez@escuela.example"
PASSWORD = "Jacaranda-Primavera-2026"
REFLECTION = words(420)


def test_an_educator_reading_spanish_signs_up_applies_uploads_and_submits(
    demo: None, journey: Journey, tmp_path: Path, video: bytes
) -> None:
    page: Page = journey.new_page("desktop", locale="es-MX")
    chosen = write_files(tmp_path, video=video)
    plan, rehearsal = chosen["pdf"], chosen["video"]

    # given a visitor whose browser asks for Spanish
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Ir al contenido")).to_be_focused()
    journey.step(page, "inicio")

    # when they sign up
    page.get_by_role("link", name="Registrarse").first.click()
    page.get_by_label("Su nombre tal como aparecerá en sus insignias").fill(NAME)
    page.get_by_label("Correo electrónico").fill(EMAIL)
    page.get_by_label(re.compile(r"^Contraseña:?$")).fill(PASSWORD)
    page.get_by_label(re.compile(r"Contraseña \(de nuevo\)")).fill(PASSWORD)
    journey.step(page, "registro")
    page.get_by_role("button", name=re.compile("Registrarse", re.I)).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile("verifi", re.I))
    journey.step(page, "verificación enviada")

    # then the e-mail that confirms the address is in Spanish, and the account keeps Spanish
    assert len(mail.outbox) == 1, [m.subject for m in mail.outbox]
    educator = User.objects.get(email=EMAIL)
    assert educator.language == "es"
    body = str(mail.outbox[0].body)
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", body)
    assert link, body
    page.goto(link.group(0))
    journey.step(page, "confirmar dirección")
    page.get_by_role("button", name=re.compile("Confirmar", re.I)).click()
    expect(page.get_by_role("button", name="Cerrar sesión")).to_be_visible()

    gael = Organization.objects.get(slug="gael")
    Membership.objects.create(organization=gael, user=educator, member_number="GAEL-26-0777")

    # when they find GAEL's catalog and filter it
    page.goto("/o/gael/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.get_by_role("combobox", name="Área de enfoque").select_option("preparation-of-self")
    page.get_by_role("button", name="Mostrar resultados").click()
    expect(page).to_have_url(re.compile(r"focus=preparation-of-self"))
    journey.step(page, "catálogo")

    # and open a credential (GAEL wrote it in English: marked as English on the Spanish page)
    page.get_by_role("link", name="Crucial Conversations Training").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Crucial Conversations Training")
    expect(page.locator(".apply-box")).to_contain_text("Gratis para usted como miembro de GAEL")
    journey.step(page, "credencial")
    page.get_by_role("button", name="Solicitar esta microcredencial").click()
    expect(page.locator(".app-facts")).to_contain_text("En curso")
    journey.step(page, "solicitud iniciada")

    # and upload their evidence through the uploader, which speaks Spanish too
    for step, path in ((1, plan), (2, rehearsal)):
        uploader = page.locator(f"#step-{step}-uploader")
        uploader.locator("input[type=file]").first.set_input_files(path)
        expect(page.locator(f"#step-{step}-upload-status")).to_contain_text(
            f"«{path.name}» se subió y se revisó."
        )
        expect(page.locator(f"#step-{step}-items")).to_contain_text(path.name)
    journey.step(page, "archivos subidos")
    for filename in (plan.name, rehearsal.name):
        item = page.locator(".item", has_text=filename)
        item.get_by_role("radio", name="No").check()
        item.get_by_role("button", name=re.compile("Guardar datos de privacidad")).click()
        expect(page.locator(".item", has_text=filename).locator(".privacy-todo")).to_have_count(0)

    # and write the reflection, which saves as they type
    page.get_by_label("Su respuesta").fill(REFLECTION)
    expect(page.locator("#step-3-save-status")).to_have_text("Guardado")
    journey.step(page, "respuesta guardada")

    # when they come back to it and submit
    page.reload()
    expect(page.get_by_label("Su respuesta")).to_have_value(REFLECTION)
    expect(page.locator(".ready-note")).to_contain_text("Todos los pasos están hechos")
    page.get_by_role("button", name="Enviar mi evidencia").click()

    # then it says so, here and on their dashboard
    expect(page.locator(".app-facts")).to_contain_text("Enviada")
    journey.step(page, "enviada")
    application = Application.objects.get(educator=educator)
    assert application.status == Application.Status.SUBMITTED
    page.get_by_role("link", name="Mi aprendizaje").first.click()
    expect(page.get_by_role("main")).to_contain_text("Enviada")
    journey.step(page, "mi aprendizaje")

    # and the e-mail that confirms the submission is in Spanish (their account's language)
    confirmation = [m for m in mail.outbox if EMAIL in m.to][-1]
    assert confirmation.subject == "Recibimos su evidencia para «Crucial Conversations Training»"
    assert "está en la cola de revisión" in str(confirmation.body)

    # when they switch to English in the footer
    page.get_by_label("Idioma").select_option("en")
    page.get_by_role("button", name="Cambiar idioma").click()

    # then the same page is in English, and the account remembers it
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("main")).to_contain_text("Submitted")
    educator.refresh_from_db()
    assert educator.language == "en"
