"""The language switcher in every page's footer (templates/base.html, credentials_site.locale):
a visitor's browser language picks the page's language; the switcher sets a visitor's language
cookie without any CSRF cookie (public pages are cached), and a signed-in person's choice is
kept on their account, wins over the browser, and needs the CSRF token."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from credentials_site.mail import mail_build
from programs.models import User
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

MISSING = "/no-such-page/"


def html_lang(page: str) -> str:
    match = re.search(r'<html lang="([^"]+)">', page)
    assert match, "no lang on <html>"
    return match.group(1)


class TestVisitor:
    def test_a_spanish_browser_gets_the_spanish_page(self, client: Client) -> None:
        # when a visitor whose browser prefers Spanish opens a missing page
        response = client.get(MISSING, headers={"accept-language": "es"})
        page = response.content.decode()
        # then the page is in Spanish and says so
        assert response.status_code == 404
        assert html_lang(page) == "es"
        assert "Página no encontrada" in page
        assert "Cambiar idioma" in page
        assert "Page not found" not in page

    def test_an_english_browser_gets_the_english_page(self, client: Client) -> None:
        # when a visitor without a Spanish preference opens the same page
        page = client.get(MISSING, headers={"accept-language": "en"}).content.decode()
        # then it is in English, with the switcher offering each language in its own name
        assert html_lang(page) == "en"
        assert "Page not found" in page
        assert '<option value="en" lang="en" selected>English</option>' in page
        assert '<option value="es" lang="es">Español</option>' in page
        assert "csrfmiddlewaretoken" not in page

    def test_the_switcher_sets_the_cookie_and_goes_back(self, client: Client) -> None:
        # when a visitor chooses Spanish in the footer of the home page
        response = client.post("/i18n/language/", {"language": "es", "next": "/"})
        # then they go back to the page, which is now in Spanish, with no CSRF cookie set
        assert response.status_code == 302
        assert response["Location"] == "/"
        assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
        assert settings.CSRF_COOKIE_NAME not in response.cookies
        page = client.get("/", headers={"accept-language": "en"}).content.decode()
        assert html_lang(page) == "es"

    def test_the_cached_public_page_follows_the_language(self, client: Client) -> None:
        # given the home page rendered (and cached) for a Spanish visitor
        spanish = client.get("/", headers={"accept-language": "es"}).content.decode()
        assert html_lang(spanish) == "es"
        # when an English visitor opens it next
        english = Client().get("/", headers={"accept-language": "en"}).content.decode()
        # then they get the English page, not the Spanish entry
        assert html_lang(english) == "en"
        assert "Log in" in english

    def test_an_unknown_language_changes_nothing(self, client: Client) -> None:
        # when the switcher is sent a language the site does not have
        response = client.post("/i18n/language/", {"language": "xx", "next": "/"})
        # then no cookie is set and the pages stay in the browser's language
        assert response.status_code == 302
        assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
        page = client.get(MISSING, headers={"accept-language": "en"}).content.decode()
        assert html_lang(page) == "en"


class TestSignedIn:
    def test_the_choice_is_kept_on_the_account_and_wins(self) -> None:
        # given a signed-in person whose browser prefers English
        user = UserFactory()
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        page = client.get(MISSING, headers={"accept-language": "en"}).content.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, "the switcher of a signed-in person carries the CSRF token"
        # when they choose Spanish
        response = client.post(
            "/i18n/language/",
            {"language": "es", "next": MISSING, "csrfmiddlewaretoken": token.group(1)},
        )
        # then it is kept on their account, and their next page is Spanish despite the browser
        assert response.status_code == 302
        assert response["Location"] == MISSING
        user.refresh_from_db()
        assert user.language == "es"
        client.cookies.pop(settings.LANGUAGE_COOKIE_NAME, None)
        page = client.get(MISSING, headers={"accept-language": "en"}).content.decode()
        assert html_lang(page) == "es"

    def test_a_post_without_the_csrf_token_is_refused(self) -> None:
        # given a signed-in person
        user = UserFactory()
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        # when something posts the switcher for them without the token
        response = client.post("/i18n/language/", {"language": "es", "next": "/"})
        # then it is refused and nothing changes
        assert response.status_code == 403
        assert User.objects.get(pk=user.pk).language == ""

    def test_an_unknown_language_changes_nothing(self) -> None:
        # given a signed-in person who chose Spanish
        user = UserFactory(language="es")
        client = Client()
        client.force_login(user)
        # when the switcher is sent a language the site does not have
        client.post("/i18n/language/", {"language": "xx", "next": "/"})
        # then their choice stays
        assert User.objects.get(pk=user.pk).language == "es"


class TestMail:
    def test_an_e_mail_is_written_in_the_language_given(self) -> None:
        # given an organization
        org = OrganizationFactory(name="Riverside Schools & Co")
        # when an e-mail about it is built in Spanish (a worker task passes user.language)
        message = mail_build(
            template="join_approved",
            subject="Ya es miembro de Riverside",
            to=["ana@example.org"],
            context={"link": "http://testserver/o/x/", "contact": ""},
            organization=org,
            language="es",
        )
        # then both parts are Spanish, the HTML one says so, and nothing else changed language
        assert message.body.startswith("Riverside Schools & Co aprobó su solicitud de ingreso")
        html = next(content for content, kind in message.alternatives if kind == "text/html")
        assert '<html lang="es">' in str(html)
        assert "Solicitar ahora" in str(html)
        assert translation.get_language() != "es"
