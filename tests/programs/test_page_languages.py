"""Pages in the visitor's language (decision 0036) with the caches in front of them: the shared
cache of anonymous pages keeps one copy per language (cookie first, then Accept-Language), and a
signed-in person's cached credential-page fragments never show in another language than theirs."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.programs.test_admin import Tenant, make_tenant

pytestmark = pytest.mark.django_db

SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es-MX,es;q=0.9,en;q=0.5"}


@pytest.fixture
def a() -> Tenant:
    return make_tenant("Alpha")


def html_lang(response: Any) -> str:
    text = response.content.decode()
    start = text.index("<html lang=") + len('<html lang="')
    return text[start : text.index('"', start)]


class TestTheSharedCacheKeepsEachLanguage:
    @pytest.mark.parametrize("page", ["catalog", "credential"])
    def test_a_spanish_visitor_never_gets_the_english_copy(
        self, client: Client, a: Tenant, page: str, django_assert_max_num_queries: Any
    ) -> None:
        url = f"/o/{a.org.slug}/"
        if page == "credential":
            url += f"credentials/{a.version.credential.slug}/"
        english = client.get(url)
        assert english["Content-Language"] == "en"
        assert html_lang(english) == "en"
        spanish = client.get(url, **SPANISH)
        assert spanish["Content-Language"] == "es"
        assert html_lang(spanish) == "es"
        assert spanish.content != english.content
        # both copies are kept: each answers again from the cache, without SQL
        with django_assert_max_num_queries(0):
            again_english = client.get(url, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
            again_spanish = client.get(url, **SPANISH)
        assert again_english.content == english.content
        assert again_spanish.content == spanish.content
        for response in (english, spanish):
            vary = {part.strip() for part in response["Vary"].split(",")}
            assert {"Accept-Language", "Cookie"} <= vary

    def test_the_language_cookie_wins_over_the_browser(self, client: Client, a: Tenant) -> None:
        url = f"/o/{a.org.slug}/"
        client.get(url)  # the English copy is cached
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
        chosen = client.get(url, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
        assert chosen["Content-Language"] == "es"
        assert html_lang(chosen) == "es"


class TestSignedInFragments:
    def test_the_credential_page_follows_the_persons_language(
        self, client: Client, a: Tenant
    ) -> None:
        url = f"/o/{a.org.slug}/credentials/{a.version.credential.slug}/"
        client.force_login(a.membership.user)
        english = client.get(url)
        assert english.status_code == 200
        assert html_lang(english) == "en"
        member = a.membership.user
        member.language = "es"
        member.save(update_fields=["language"])
        spanish = client.get(url)
        assert html_lang(spanish) == "es"
        # the fragments cached for the English page are not reused for the Spanish one
        assert english.content.decode().count('lang="') >= 1
        assert spanish.content != english.content
