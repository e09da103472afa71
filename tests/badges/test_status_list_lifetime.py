"""Status lists go stale safely: each signed list says how long it is valid (``validFrom`` /
``validUntil``, ``BADGE_STATUS_LIST_VALID_DAYS``) and when to fetch it again (``ttl``, the
HTTP cache time); it is served with a Cache-Control that never outlives it; beat re-signs a list
with less than half its validity left; and a list that lapsed anyway is re-signed when it is
read, so a lapsed list is never served. A verifier holding a lapsed copy rejects it."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from badges import dataintegrity, documents, services, tasks
from badges.models import Badge, SigningKey, StatusList
from badges.services import signing
from programs.models import Organization, StaffRole
from submissions.models import Application
from tests.badges.test_independent_verifier import documents_for, verify_independently
from tests.factories import OrganizationFactory, StaffRoleFactory
from tests.worker import running_worker, wait_for

pytestmark = pytest.mark.django_db

Approve = Callable[..., Application]
DAY = dt.timedelta(days=1)


def list_url(org: Organization, number: int = 1) -> str:
    return f"/o/{org.slug}/status/{number}"


def signed_at(status_list: StatusList, moment: dt.datetime) -> StatusList:
    """Sign the list as if it were ``moment`` (as beat or a revocation did then)."""
    with mock.patch.object(timezone, "now", return_value=moment), transaction.atomic():
        locked = (
            StatusList.objects.select_for_update(of=("self",))
            .select_related("organization")
            .get(pk=status_list.pk)
        )
        signing._status_list_sign(locked)
    return StatusList.objects.get(pk=status_list.pk)


def max_age(response: Any) -> int:
    match = re.fullmatch(r"public, max-age=(\d+)", response["Cache-Control"])
    assert match, response["Cache-Control"]
    return int(match.group(1))


def verifies(org: Organization, credential: dict[str, Any]) -> bool:
    keys = {
        documents.verification_method_id(org, key.key_id): key.public_key_multibase
        for key in SigningKey.objects.filter(organization=org, compromised_at__isnull=True)
    }

    def resolve(method: str) -> Any:
        multibase = keys.get(method)
        return dataintegrity.public_key_from_multibase(multibase) if multibase else None

    return dataintegrity.verify(credential, resolve_key=resolve).verified


def parse(moment: str) -> dt.datetime:
    return dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))


@pytest.fixture
def badge(approve: Approve) -> Badge:
    return services.badge_issue(application_id=approve().pk)


@pytest.fixture
def status_list(badge: Badge) -> StatusList:
    return StatusList.objects.get(pk=badge.status_list_id)


class TestTheSignedList:
    def test_it_says_how_long_it_is_valid_and_when_to_fetch_it_again_all_signed(
        self, org: Organization, status_list: StatusList, settings: Any
    ) -> None:
        # given a list signed when a badge was issued
        credential = status_list.credential
        # then it is valid from its signing for BADGE_STATUS_LIST_VALID_DAYS, as recorded
        valid_from, valid_until = parse(credential["validFrom"]), parse(credential["validUntil"])
        assert valid_until - valid_from == dt.timedelta(days=settings.BADGE_STATUS_LIST_VALID_DAYS)
        assert (valid_from, valid_until) == (status_list.signed_at, status_list.valid_until)
        assert abs(timezone.now() - valid_from) < dt.timedelta(minutes=1)
        # and its ttl (milliseconds) is the time it is cached for
        assert credential["credentialSubject"]["ttl"] == settings.BADGE_STATUS_CACHE_SECONDS * 1000
        # and the dates and ttl are signed: the list verifies, and fails once one is moved
        assert verifies(org, credential)
        for path, value in (
            (("validUntil",), documents.iso(valid_until + 365 * DAY)),
            (("credentialSubject", "ttl"), 10**12),
        ):
            tampered = copy.deepcopy(credential)
            target = tampered
            for name in path[:-1]:
                target = target[name]
            target[path[-1]] = value
            assert not verifies(org, tampered), path

    def test_it_is_cached_no_longer_than_the_ttl_nor_than_it_stays_valid(
        self, org: Organization, status_list: StatusList, client: Client, settings: Any
    ) -> None:
        # given a freshly signed list: cached for the configured time
        assert max_age(client.get(list_url(org))) == settings.BADGE_STATUS_CACHE_SECONDS
        # given a list that lapses in 100 seconds (beat did not come)
        validity = dt.timedelta(days=settings.BADGE_STATUS_LIST_VALID_DAYS)
        signed_at(status_list, timezone.now() - validity + dt.timedelta(seconds=100))
        # when it is served, then caches keep it no longer than it stays valid
        response = client.get(list_url(org))
        assert json.loads(response.content) == StatusList.objects.get(pk=status_list.pk).credential
        assert 90 <= max_age(response) <= 100
        # given a cache time longer than the validity itself
        settings.BADGE_STATUS_CACHE_SECONDS = 30 * 24 * 3600
        status_list = signed_at(status_list, timezone.now())
        response = client.get(list_url(org))
        # then the ttl and the cache are cut to what is left of the validity
        assert status_list.credential["credentialSubject"]["ttl"] == validity.total_seconds() * 1000
        assert validity.total_seconds() - 60 <= max_age(response) <= validity.total_seconds()

    def test_the_did_document_is_cached_as_briefly_as_the_lists(
        self, org: Organization, badge: Badge, client: Client, settings: Any
    ) -> None:
        settings.BADGE_STATUS_CACHE_SECONDS = 120
        assert max_age(client.get(f"/o/{org.slug}/did.json")) == 120


class TestALapsedList:
    def test_it_is_re_signed_when_read_and_never_served_stale(
        self, org: Organization, badge: Badge, status_list: StatusList, client: Client
    ) -> None:
        # given a list whose validity ended a day ago (beat stopped for a week)
        lapsed = signed_at(status_list, timezone.now() - 8 * DAY)
        assert lapsed.valid_until is not None and lapsed.valid_until < timezone.now()
        # when anyone reads it: the public URL
        served = json.loads(client.get(list_url(org)).content)
        # then they get it re-signed now, valid again, with the same bits
        assert parse(served["validUntil"]) > timezone.now() + 6 * DAY
        assert verifies(org, served)
        stored = StatusList.objects.get(pk=status_list.pk)
        assert stored.credential == served and stored.valid_until > timezone.now()
        assert (
            served["credentialSubject"]["encodedList"]
            == lapsed.credential["credentialSubject"]["encodedList"]
        )
        # and the same through the API, and for our own verification of the badge
        signed_at(status_list, timezone.now() - 8 * DAY)
        api = json.loads(client.get(f"/api/v1/orgs/{org.slug}/status/1").content)
        assert parse(api["validUntil"]) > timezone.now()
        signed_at(status_list, timezone.now() - 8 * DAY)
        check = services.credential_verify(organization=org, credential=badge.credential)
        assert check["verified"], check
        assert StatusList.objects.get(pk=status_list.pk).valid_until > timezone.now()

    def test_a_list_signed_before_lists_had_a_validity_is_re_signed_when_read(
        self, org: Organization, status_list: StatusList, client: Client
    ) -> None:
        # given a list as signed before this change (no validUntil, no key recorded)
        legacy = {k: v for k, v in status_list.credential.items() if k != "validUntil"}
        StatusList.objects.filter(pk=status_list.pk).update(
            credential=legacy, valid_until=None, signing_key=None
        )
        # when it is read, then it is served with a validity
        served = json.loads(client.get(list_url(org)).content)
        assert "validUntil" in served and verifies(org, served)

    def test_a_list_signed_with_a_compromised_key_is_re_signed_when_read(
        self, org: Organization, status_list: StatusList, client: Client
    ) -> None:
        # given a list that a revocation racing the marking signed with the compromised key
        leaked = SigningKey.objects.get(organization=org, is_active=True)
        as_signed = (status_list.credential, status_list.valid_until)
        services.signing_key_compromise(key=leaked, actor=None)
        StatusList.objects.filter(pk=status_list.pk).update(
            credential=as_signed[0], valid_until=as_signed[1], signing_key=leaked
        )
        # when it is read, then it is served signed with the active key
        served = json.loads(client.get(list_url(org)).content)
        new = SigningKey.objects.get(organization=org, is_active=True)
        assert served["proof"][0]["verificationMethod"].endswith(f"#{new.key_id}")
        assert verifies(org, served)


class TestBeat:
    def test_beat_re_signs_the_lists_with_less_than_half_their_validity_left(
        self, approve: Approve, settings: Any, tasks_run_at_once: None
    ) -> None:
        # given two organizations' lists: one signed four days ago (three of seven left), the
        # other yesterday
        settings.BADGE_STATUS_LIST_VALID_DAYS = 7
        other = OrganizationFactory(slug="bravo")
        near = StatusList.objects.get(
            pk=services.badge_issue(application_id=approve().pk).status_list_id
        )
        fresh = StatusList.objects.get(
            pk=services.badge_issue(application_id=approve(organization=other).pk).status_list_id
        )
        near = signed_at(near, timezone.now() - 4 * DAY)
        fresh = signed_at(fresh, timezone.now() - DAY)
        # when beat's task runs (each organization's part at once, as a worker would)
        assert tasks.status_lists_renew_all.delay().get() >= 2
        # then the list near its end is re-signed for another seven days; the other is not
        renewed = StatusList.objects.get(pk=near.pk)
        assert renewed.valid_until is not None and renewed.signed_at is not None
        assert renewed.valid_until > timezone.now() + 6 * DAY
        assert renewed.credential != near.credential
        assert parse(renewed.credential["validUntil"]) == renewed.valid_until
        assert StatusList.objects.get(pk=fresh.pk).credential == fresh.credential
        # and running it again changes nothing
        again = tasks.status_lists_renew.delay(organization_id=renewed.organization_id).get()
        assert again == 0


@pytest.mark.django_db(transaction=True)
def test_a_worker_re_signs_a_list_near_its_end(approve: Approve, org: Organization) -> None:
    # given a list with a day of its seven left
    badge = services.badge_issue(application_id=approve().pk)
    near = signed_at(StatusList.objects.get(pk=badge.status_list_id), timezone.now() - 6 * DAY)
    with running_worker():
        # when beat's task runs on a real worker
        tasks.status_lists_renew_all.delay().get(timeout=30)
        # then the worker re-signs it
        renewed = wait_for(
            lambda: StatusList.objects.filter(
                pk=near.pk, valid_until__gt=timezone.now() + 6 * DAY
            ).first(),
            what="the worker to re-sign the list",
        )
    assert verifies(org, renewed.credential)


class TestDigitalBazaar:
    def test_it_accepts_a_badge_whose_list_carries_a_validity_and_ttl(
        self, badge: Badge, client: Client, tmp_path: Path
    ) -> None:
        # given the documents we serve for a badge, its list with validUntil and ttl
        served = documents_for(client, badge.credential)
        status_url = badge.credential["credentialStatus"]["statusListCredential"]
        assert {"validFrom", "validUntil"} <= set(served[status_url])
        assert served[status_url]["credentialSubject"]["ttl"] > 0
        # when Digital Bazaar's verifier checks the badge, then it is valid
        result = verify_independently(badge.credential, served, tmp_path)
        assert result["verified"] is True, result

    def test_it_refuses_a_lapsed_copy_of_the_list_and_accepts_the_one_we_serve(
        self, badge: Badge, status_list: StatusList, client: Client, tmp_path: Path
    ) -> None:
        # given a verifier still holding the list as signed eight days ago (lapsed)
        status_url = badge.credential["credentialStatus"]["statusListCredential"]
        held = documents_for(client, badge.credential)
        held[status_url] = signed_at(status_list, timezone.now() - 8 * DAY).credential
        # when it checks the badge with that copy
        result = verify_independently(badge.credential, held, tmp_path)
        # then it cannot vouch for the badge's status: the list is past its validUntil
        assert result["verified"] is False and result["status"] == "invalid", result
        assert result["signature"] is True
        assert any("validUntil" in error for error in result["errors"]), result
        # and once it fetches the list again, the badge is valid
        fresh = documents_for(client, badge.credential)
        assert parse(fresh[status_url]["validUntil"]) > timezone.now()
        assert verify_independently(badge.credential, fresh, tmp_path)["verified"] is True


def test_program_admins_see_each_lists_validity_and_key(
    org: Organization, status_list: StatusList, client: Client
) -> None:
    # given a program admin of the organization
    admin = StaffRoleFactory(organization=org, role=StaffRole.Role.PROGRAM_ADMIN).user
    client.force_login(admin)
    key = SigningKey.objects.get(organization=org, is_active=True)
    # when they open the status lists and the list's page
    listing = client.get("/admin/badges/statuslist/").content.decode()
    page = client.get(f"/admin/badges/statuslist/{status_list.pk}/change/").content.decode()
    # then both say until when the list is valid and which key signed it
    for body in (listing, page):
        assert "Valid until" in body
        assert f"{key.key_id[:16]}… (active)" in body
