"""The shared cache of a badge's public paths (credentials_site.public_cache): a second anonymous
read costs no SQL; a revocation, an expiry, a key rotation or compromise shows at once on every
path (page, card, JSON, OB 2.0 assertion, status list, DID document), to plain and conditional
GETs alike; a signed-in visitor never gets the shared copy; HEAD answers as GET."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from badges import documents, services
from badges.models import Badge
from programs.models import Organization
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def issue(approve: Any) -> Any:
    def run(**fields: Any) -> Badge:
        fields.setdefault("educator", UserFactory(full_name="Maria Lopez"))
        return services.badge_issue(application_id=approve(**fields).pk)

    return run


def paths(badge: Badge) -> dict[str, tuple[str, dict[str, str]]]:
    """Every public path of a badge, with the headers a client sends for it."""
    org = badge.organization
    return {
        "page": (reverse("badges:verify", args=[badge.public_id]), {}),
        "credential": (reverse("badges:verify", args=[badge.public_id]), JSON),
        "json": (reverse("badges:json", args=[badge.public_id]), {}),
        "card": (reverse("badges:card", args=[badge.public_id]), {}),
        "ob2": (reverse("badges:ob2_assertion", args=[badge.public_id]), {}),
        "status": (f"/o/{org.slug}/status/{badge.status_list.number}", {}),
        "did": (f"/o/{org.slug}/did.json", {}),
    }


def warm(client: Client, badge: Badge) -> dict[str, Any]:
    """Read every path twice (the second from the cache); their answers."""
    answers = {}
    for name, (url, headers) in paths(badge).items():
        first = client.get(url, **headers)
        answers[name] = client.get(url, **headers)
        assert answers[name].content == first.content, name
        assert answers[name]["ETag"] == first["ETag"], name
    return answers


def status_bit(response: Any, badge: Badge) -> bool:
    encoded = json.loads(response.content)["credentialSubject"]["encodedList"]
    return documents.bit_is_set(documents.decode_bits(encoded), badge.status_index)


def assert_changed_everywhere(client: Client, badge: Badge, before: dict[str, Any]) -> None:
    """No path answers 304 to the copy of ``before``, nor serves its entry again."""
    for name, (url, headers) in paths(badge).items():
        if name == "did":
            continue  # the issuer's keys: only key changes change it
        again = client.get(url, HTTP_IF_NONE_MATCH=before[name]["ETag"], **headers)
        assert again.status_code != 304, name
        assert again["ETag"] != before[name]["ETag"], name


class TestAHit:
    def test_a_second_anonymous_read_costs_no_sql_and_says_how_to_cache_it(
        self, client: Client, issue: Any, django_assert_max_num_queries: Any
    ) -> None:
        # given a badge whose paths were read once
        badge = issue()
        first = {name: client.get(url, **h) for name, (url, h) in paths(badge).items()}
        # when they are read again, then no statement reaches the database
        for name, (url, headers) in paths(badge).items():
            with django_assert_max_num_queries(0):
                again = client.get(url, **headers)
            # and the answer is the same, with its validators and cache policy
            assert again.status_code == first[name].status_code, name
            assert again.content == first[name].content, name
            assert again["ETag"] and again["Last-Modified"], name
            assert again["Cache-Control"].startswith("public"), name
            assert "Content-Security-Policy" in again, name
        page = client.get(paths(badge)["page"][0])
        # what says whether the badge is valid is revalidated on every use
        assert page["Cache-Control"] == "public, no-cache"
        assert "Cookie" in page["Vary"] and "Accept" in page["Vary"]
        assert client.get(paths(badge)["credential"][0], **JSON)["Vary"] == "Accept"
        # the page still refuses framing, and the card still allows it, as when rendered
        assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
        assert page["X-Frame-Options"] == "DENY"
        card = client.get(paths(badge)["card"][0])
        assert "frame-ancestors *" in card["Content-Security-Policy"]
        assert "X-Frame-Options" not in card
        # and its markup carries no nonce nor CSRF token
        assert "nonce=" not in page.content.decode()
        assert "csrfmiddlewaretoken" not in page.content.decode()

    def test_a_conditional_get_of_the_same_copy_answers_304_without_sql(
        self, client: Client, issue: Any, django_assert_max_num_queries: Any
    ) -> None:
        badge = issue()
        answers = warm(client, badge)
        for name, (url, headers) in paths(badge).items():
            with django_assert_max_num_queries(0):
                by_tag = client.get(url, HTTP_IF_NONE_MATCH=answers[name]["ETag"], **headers)
                by_date = client.get(
                    url, HTTP_IF_MODIFIED_SINCE=answers[name]["Last-Modified"], **headers
                )
            assert by_tag.status_code == 304, name
            assert by_date.status_code == 304, name
            assert by_tag.content == b""

    def test_the_page_and_the_credential_are_not_each_others_copy(
        self, client: Client, issue: Any
    ) -> None:
        # given the page was cached
        badge = issue()
        url = paths(badge)["page"][0]
        assert client.get(url)["Content-Type"].startswith("text/html")
        client.get(url)
        # when a JSON client asks the same address, then it gets the credential
        response = client.get(url, **JSON)
        assert response["Content-Type"] == "application/json"
        assert json.loads(response.content) == badge.credential


class TestChangesShowAtOnce:
    def test_a_revocation_shows_on_every_path_at_once(self, client: Client, issue: Any) -> None:
        # given every path of a valid badge read and cached
        badge = issue()
        before = warm(client, badge)
        assert "badge-state-valid" in before["page"].content.decode()
        assert not status_bit(before["status"], badge)
        assert before["ob2"].status_code == 200
        # when it is revoked
        services.badge_revoke(badge=badge, reason="Issued in error.", actor=None)
        # then every path says so at once, and no old copy is confirmed by a conditional GET
        assert_changed_everywhere(client, badge, before)
        now = {name: client.get(url, **h) for name, (url, h) in paths(badge).items()}
        assert "Issued in error." in now["page"].content.decode()
        assert "badge-state-valid" not in now["page"].content.decode()
        assert ">Revoked<" in now["card"].content.decode()
        assert now["ob2"].status_code == 410
        assert json.loads(now["ob2"].content)["revoked"] is True
        assert status_bit(now["status"], badge)
        # and a second read (now from the cache) still says revoked
        assert client.get(paths(badge)["ob2"][0]).status_code == 410
        assert ">Revoked<" in client.get(paths(badge)["card"][0]).content.decode()

    def test_an_expired_badge_is_never_served_as_valid_from_the_cache(
        self, client: Client, issue: Any
    ) -> None:
        # given a badge valid for a month, read and cached while valid
        badge = issue(expiry_policy="months", expiry_months=1)
        assert badge.valid_until is not None
        before = warm(client, badge)
        assert "badge-state-valid" in before["page"].content.decode()
        # when the month has passed (no service runs: expiry is a date)
        later = badge.valid_until + dt.timedelta(seconds=1)
        with mock.patch("django.utils.timezone.now", return_value=later):
            page = client.get(paths(badge)["page"][0])
            card = client.get(paths(badge)["card"][0])
            stale = client.get(paths(badge)["page"][0], HTTP_IF_NONE_MATCH=before["page"]["ETag"])
        # then page and card say expired, and the valid copy is not confirmed
        assert "badge-state-expired" in page.content.decode()
        assert "badge-state-valid" not in page.content.decode()
        assert "Expired" in card.content.decode()
        assert stale.status_code == 200

    def test_a_rotated_key_is_published_at_once(self, client: Client, issue: Any) -> None:
        badge = issue()
        before = warm(client, badge)
        # when the organization's key is rotated
        key = services.signing_key_rotate(organization=badge.organization, actor=None)
        # then the DID document lists the new key, and the old copy is not confirmed
        did = client.get(paths(badge)["did"][0], HTTP_IF_NONE_MATCH=before["did"]["ETag"])
        assert did.status_code == 200
        assert key.key_id in did.content.decode()
        # and the status list, re-signed with it, is served re-signed
        status = client.get(paths(badge)["status"][0])
        assert json.loads(status.content)["proof"][0]["verificationMethod"].endswith(key.key_id)
        # and the badge, signed by the retired key, still verifies
        assert "badge-state-valid" in client.get(paths(badge)["page"][0]).content.decode()

    def test_a_compromised_key_leaves_and_its_badges_stop_verifying_at_once(
        self, client: Client, issue: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        badge = issue()
        before = warm(client, badge)
        leaked = badge.signing_key
        # when the key that signed it is marked compromised (its badges not re-signed yet)
        with django_capture_on_commit_callbacks(execute=False):
            services.signing_key_compromise(key=leaked, actor=None)
        # then it leaves the DID document, and the badge's page no longer says valid
        assert_changed_everywhere(client, badge, before)
        assert leaked.key_id not in client.get(paths(badge)["did"][0]).content.decode()
        page = client.get(paths(badge)["page"][0]).content.decode()
        assert "badge-state-valid" not in page
        # and once re-signed, the page (and the new credential) say valid again
        services.key_compromise_resign(compromise_id=leaked.compromise.pk, batch_size=10)
        resigned = Badge.objects.get(pk=badge.pk)
        response = client.get(paths(badge)["json"][0])
        assert json.loads(response.content) == resigned.credential
        assert "badge-state-valid" in client.get(paths(badge)["page"][0]).content.decode()

    def test_the_earner_choosing_not_to_be_named_shows_at_once(
        self, client: Client, issue: Any
    ) -> None:
        # given a cached page of a badge whose earner is named
        badge = issue()
        before = warm(client, badge)
        earner = badge.recipient
        # when the earner says badges should not name them
        client.force_login(earner)
        client.post(
            reverse("programs:badge_name"),
            {"full_name": earner.full_name, "name_on_badges_public": ""},
        )
        client.logout()
        client.cookies.clear()
        # then the page is rendered again (its copy is not confirmed)
        again = client.get(paths(badge)["page"][0], HTTP_IF_NONE_MATCH=before["page"]["ETag"])
        assert again.status_code == 200
        assert again["ETag"] != before["page"]["ETag"]


class TestWhoGetsTheSharedCopy:
    def test_a_signed_in_visitor_gets_their_own_page_never_the_shared_one(
        self, client: Client, issue: Any
    ) -> None:
        # given the anonymous page is cached
        badge = issue()
        url = paths(badge)["page"][0]
        anonymous = warm(client, badge)["page"]
        # when the earner opens it signed in
        owner = Client()
        owner.force_login(badge.recipient)
        mine = owner.get(url)
        # then they get their page (with the share panel), private, not the shared copy
        assert mine["Cache-Control"] == "private, no-cache"
        assert "Cookie" in mine["Vary"]
        assert mine.content != anonymous.content
        assert 'action="/accounts/logout/"' in mine.content.decode()
        # and another signed-in person never gets the earner's page
        other = Client()
        other.force_login(UserFactory())
        theirs = other.get(url)
        assert theirs["Cache-Control"] == "private, no-cache"
        assert badge.recipient.email not in theirs.content.decode()
        assert mine.content != theirs.content
        # and the anonymous copy was not replaced by either
        assert client.get(url).content == anonymous.content

    def test_a_request_with_a_session_is_neither_served_nor_stored(
        self, client: Client, issue: Any, count_queries: Any
    ) -> None:
        # given the page cached for anonymous visitors
        badge = issue()
        url = paths(badge)["page"][0]
        anonymous = warm(client, badge)["page"]
        # when a browser carrying a session (signed out since, or with messages) asks for it
        carrying = Client()
        carrying.cookies[settings.SESSION_COOKIE_NAME] = "not-a-session"
        carrying.get(url)
        rendered = count_queries(lambda: carrying.get(url))
        # then it is rendered for it (never the shared copy), and marked private
        assert len(rendered) > 0
        assert carrying.get(url)["Cache-Control"] == "private, no-cache"
        # and the shared copy stays what it was
        assert client.get(url)["ETag"] == anonymous["ETag"]


class TestHead:
    def test_every_path_answers_head_as_get_without_a_body(
        self, client: Client, issue: Any
    ) -> None:
        badge = issue()
        org = badge.organization
        urls = {name: value for name, value in paths(badge).items()}
        urls["check"] = (reverse("badges:check", args=[badge.public_id]), {})
        urls["issuer"] = (f"/o/{org.slug}/issuer", {})
        urls["ob2 issuer"] = (reverse("badges:ob2_issuer", args=[org.slug]), {})
        urls["png"] = (reverse("badges:png", args=[badge.public_id]), {})
        for name, (url, headers) in urls.items():
            for cached in (False, True):  # a miss, then (where cached) a hit
                head = client.head(url, **headers)
                get = client.get(url, **headers)
                assert head.status_code == get.status_code == 200, (name, cached)
                assert head.content == b"", name
                assert head["Content-Type"] == get["Content-Type"], name


class TestAcrossOrganizations:
    def test_one_organizations_copy_never_answers_for_another(
        self, client: Client, issue: Any, approve: Any
    ) -> None:
        # given two organizations' status lists and DID documents, cached
        badge = issue()
        other: Organization = OrganizationFactory(slug="other-district")
        theirs = services.badge_issue(application_id=approve(organization=other).pk)
        mine = warm(client, badge)
        # when the other organization's documents are read at the same paths under its slug
        yours = warm(client, theirs)
        # then each is its own organization's
        assert json.loads(mine["did"].content)["id"] != json.loads(yours["did"].content)["id"]
        assert mine["status"]["ETag"] != yours["status"]["ETag"]
        assert mine["page"].content != yours["page"].content
        # and a change in one leaves the other's copies as they were
        services.badge_revoke(badge=badge, reason="Issued in error.", actor=None)
        after = client.get(paths(theirs)["status"][0], HTTP_IF_NONE_MATCH=yours["status"]["ETag"])
        assert after.status_code == 304
