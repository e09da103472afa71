"""A leaked signing key: a program admin marks it compromised. A new key is made first when it
was the active one, the key leaves the DID document at once (nothing it signed verifies any
more, with us or with Digital Bazaar's verifier), its status lists are re-signed, and a worker
re-signs, in batches and exactly once, every still-valid badge it signed, under the same
credential id, e-mailing each educator."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from badges import dataintegrity, documents, services, tasks
from badges.errors import BadgeError, BadgeErrorCode
from badges.models import Badge, KeyCompromise, SigningKey, StatusList
from badges.services import compromise as compromise_module
from credentials_site import public_cache
from programs.models import AuditEvent, Organization, StaffRole, User
from submissions.models import Application
from tests.badges.conftest import assert_valid_ob3, retries_of
from tests.badges.test_admin import assert_list_query_count_constant
from tests.badges.test_independent_verifier import (
    did_web_path,
    documents_for,
    verify_independently,
)
from tests.factories import OrganizationFactory, StaffRoleFactory, UserFactory
from tests.worker import running_worker, wait_for

pytestmark = pytest.mark.django_db

Approve = Callable[..., Application]
KEYS = "/admin/badges/signingkey/"
RESIGNED_SUBJECT = "was re-signed: download it again"


def compromise_url(key: SigningKey) -> str:
    return f"{KEYS}{key.pk}/compromise/"


def key_url(key: SigningKey) -> str:
    return f"{KEYS}{key.pk}/change/"


def issue(approve: Approve, n: int, *, organization: Organization | None = None) -> list[Badge]:
    """``n`` badges issued through the real path, each to a new educator."""
    return [
        services.badge_issue(application_id=approve(organization=organization).pk) for _ in range(n)
    ]


def active_key(org: Organization) -> SigningKey:
    return SigningKey.objects.get(organization=org, is_active=True)


def served_did(client: Client, org: Organization) -> dict[str, Any]:
    response = client.get(did_web_path(documents.issuer_did(org)))
    assert response.status_code == 200
    document: dict[str, Any] = json.loads(response.content)
    return document


def published(client: Client, org: Organization) -> list[str]:
    """The key ids the served DID document lists under assertionMethod."""
    return [method.rsplit("#", 1)[1] for method in served_did(client, org)["assertionMethod"]]


def proof_key(credential: dict[str, Any]) -> str:
    [proof] = credential["proof"]
    return str(proof["verificationMethod"].rsplit("#", 1)[1])


def unsigned(credential: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in credential.items() if name != "proof"}


def run_job(compromise: KeyCompromise, *, batch_size: int = 100) -> KeyCompromise:
    """The job's batches, one after another (as the task chains them), until it is done."""
    for _ in range(100):
        compromise = services.key_compromise_resign(
            compromise_id=compromise.pk, batch_size=batch_size
        )
        if compromise.state == KeyCompromise.State.DONE:
            return compromise
    raise AssertionError("the job never finished")


def snapshot(org: Organization) -> dict[str, Any]:
    """What marking a key compromised could change."""
    return {
        "keys": sorted(
            SigningKey.objects.filter(organization=org).values_list(
                "pk", "is_active", "retired_at", "compromised_at"
            )
        ),
        "compromises": sorted(
            KeyCompromise.objects.filter(organization=org).values_list("pk", "total", "state")
        ),
        "badges": sorted(
            (b.pk, b.signing_key_id, json.dumps(b.credential))
            for b in Badge.objects.filter(organization=org)
        ),
        "lists": sorted(
            (s.pk, json.dumps(s.credential)) for s in StatusList.objects.filter(organization=org)
        ),
        "audit": AuditEvent.objects.filter(organization=org).count(),
    }


@pytest.fixture
def admin_user(org: Organization) -> User:
    return StaffRoleFactory(
        organization=org,
        role=StaffRole.Role.PROGRAM_ADMIN,
        user=UserFactory(email="admin@example.org"),
    ).user


@pytest.fixture
def admin_client(client: Client, admin_user: User) -> Client:
    client.force_login(admin_user)
    return client


class TestMarkingCompromised:
    def test_the_only_key_is_replaced_first_and_leaves_the_did_document_at_once(
        self,
        approve: Approve,
        org: Organization,
        client: Client,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        # given a badge signed with the organization's only key
        [badge] = issue(approve, 1)
        leaked = active_key(org)
        assert published(client, org) == [leaked.key_id]
        # when a program admin marks it compromised
        actor = UserFactory()
        with django_capture_on_commit_callbacks(execute=False) as queued:
            compromise = services.signing_key_compromise(key=leaked, actor=actor)
        # then a new key was made and signs from now on: never an organization without one
        new = active_key(org)
        assert new.pk != leaked.pk
        leaked.refresh_from_db()
        assert leaked.compromised_at is not None and leaked.retired_at is not None
        assert not leaked.is_active and leaked.state == "compromised"
        # and the served DID document no longer lists the compromised key
        assert published(client, org) == [new.key_id]
        # so the badge as it was signed no longer verifies with our own verifier
        check = services.credential_verify(organization=org, credential=badge.credential)
        assert check["verified"] is False
        assert check["status"] == "invalid"
        assert [c["ok"] for c in check["checks"] if c["check"] == "signature"] == [False]
        # and the status list it signed is already re-signed with the new key, and verifies
        status_list = StatusList.objects.get(pk=badge.status_list_id)
        assert status_list.signing_key_id == new.pk
        assert proof_key(status_list.credential) == new.key_id
        # and the job is recorded, queued for the worker, and audited
        assert (compromise.total, compromise.done, compromise.state) == (1, 0, "queued")
        assert compromise.replacement_id == new.pk and compromise.status_lists_resigned == 1
        assert len([c for c in queued if not public_cache.is_forgetting(c)]) == 1
        event = AuditEvent.objects.get(action="signing_key.compromised")
        assert event.actor == actor
        assert event.data["new_key"] is True and event.data["badges"] == 1

    def test_a_retired_key_is_unpublished_and_other_retired_keys_stay(
        self, approve: Approve, org: Organization, client: Client
    ) -> None:
        # given a badge signed with key A, then two rotations (B retired, C active)
        [badge] = issue(approve, 1)
        first = active_key(org)
        second = services.signing_key_rotate(organization=org, actor=None)
        third = services.signing_key_rotate(organization=org, actor=None)
        lists_before = snapshot(org)["lists"]
        # when the oldest, retired key A is marked compromised
        compromise = services.signing_key_compromise(key=first, actor=None)
        # then no new key is made: C keeps signing, and is the replacement
        assert active_key(org).pk == third.pk
        assert compromise.replacement_id == third.pk
        # and only A left the DID document: the retired (not compromised) B stays published
        assert published(client, org) == [third.key_id, second.key_id]
        # and the status lists, signed with C since the rotation, are left as they were
        assert compromise.status_lists_resigned == 0
        assert snapshot(org)["lists"] == lists_before
        # and A's badge is due for re-signing
        assert compromise.total == 1
        assert Badge.objects.get(pk=badge.pk).signing_key_id == first.pk

    def test_marking_a_key_twice_is_refused_and_changes_nothing(
        self, approve: Approve, org: Organization
    ) -> None:
        # given a key already marked compromised
        issue(approve, 2)
        leaked = active_key(org)
        services.signing_key_compromise(key=leaked, actor=None)
        before = snapshot(org)
        # when it is marked again
        with pytest.raises(BadgeError) as refused:
            services.signing_key_compromise(key=leaked, actor=None)
        # then a clear refusal, and nothing changed (no third key, no second job)
        assert refused.value.code == BadgeErrorCode.ALREADY_COMPROMISED
        assert "already marked compromised" in refused.value.message
        assert "nothing changed" in refused.value.message
        assert snapshot(org) == before


class TestResigning:
    def test_only_still_valid_badges_are_re_signed_in_batches_under_the_same_id(
        self,
        approve: Approve,
        org: Organization,
        client: Client,
        django_capture_on_commit_callbacks: Any,
        mailoutbox: list[Any],
        tasks_run_at_once: None,
    ) -> None:
        # given five valid badges, one revoked and one expired, all signed with one key
        valid = issue(approve, 5)
        revoked, expired = issue(approve, 2)
        services.badge_revoke(badge=revoked, reason="Copied evidence.", actor=None)
        Badge.objects.filter(pk=expired.pk).update(
            valid_until=timezone.now() - dt.timedelta(days=1)
        )
        leaked = active_key(org)
        old = {b.pk: copy.deepcopy(b.credential) for b in [*valid, revoked, expired]}
        compromise = services.signing_key_compromise(key=leaked, actor=None)
        new = active_key(org)
        assert compromise.total == 5
        mailoutbox.clear()
        # when the job runs, two badges a batch
        progress = []
        while compromise.state != KeyCompromise.State.DONE:
            with django_capture_on_commit_callbacks(execute=True):
                compromise = services.key_compromise_resign(
                    compromise_id=compromise.pk, batch_size=2
                )
            progress.append((compromise.done, compromise.total, compromise.state))
        # then it went 2, 4, 5 of 5, and finished
        assert progress == [(2, 5, "running"), (4, 5, "running"), (5, 5, "done")]
        assert compromise.started_at is not None and compromise.finished_at is not None
        # and each valid badge is signed with the new key, under the same id, its content
        # unchanged but for the proof; schema-valid and verified
        for badge in valid:
            badge.refresh_from_db()
            assert badge.signing_key_id == new.pk
            assert unsigned(badge.credential) == unsigned(old[badge.pk])
            assert badge.credential["id"] == old[badge.pk]["id"] == services.badge_url(badge)
            assert proof_key(badge.credential) == new.key_id
            assert list(badge.credential) == list(old[badge.pk])  # key order as signed
            assert_valid_ob3(badge.credential)
            check = services.credential_verify(organization=org, credential=badge.credential)
            assert check["verified"], check
            # while the old copy fails
            old_check = services.credential_verify(organization=org, credential=old[badge.pk])
            assert old_check["verified"] is False
        # and the revoked and expired badges are left as they were
        for badge in (revoked, expired):
            badge.refresh_from_db()
            assert badge.signing_key_id == leaked.pk
            assert badge.credential == old[badge.pk]
        # and each educator of a re-signed badge got one e-mail
        assert sorted(m.to[0] for m in mailoutbox) == sorted(b.recipient.email for b in valid)
        message = mailoutbox[0]
        assert RESIGNED_SUBJECT in message.subject
        assert "no longer verify" in message.body and "/me/badges/" in message.body
        # and the job's end is audited
        event = AuditEvent.objects.get(action="signing_key.resigned")
        assert event.data == {"key": leaked.key_id, "badges": 5}

    def test_a_crash_in_a_batch_loses_nothing_and_re_signs_nothing_twice(
        self,
        approve: Approve,
        org: Organization,
        monkeypatch: pytest.MonkeyPatch,
        django_capture_on_commit_callbacks: Any,
        mailoutbox: list[Any],
        tasks_run_at_once: None,
    ) -> None:
        # given a compromised key with four valid badges, the first batch of two done
        badges = issue(approve, 4)
        compromise = services.signing_key_compromise(key=active_key(org), actor=None)
        leaked = compromise.key
        mailoutbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            compromise = services.key_compromise_resign(compromise_id=compromise.pk, batch_size=2)
        assert compromise.done == 2
        # when the second batch crashes after signing one of its two badges
        real_sign = compromise_module._sign
        calls: list[int] = []

        def crash_on_second(*args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            if len(calls) == 2:
                raise RuntimeError("worker lost")
            return real_sign(*args, **kwargs)

        monkeypatch.setattr(compromise_module, "_sign", crash_on_second)
        with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
            services.key_compromise_resign(compromise_id=compromise.pk, batch_size=2)
        # then the whole batch rolled back: still two done, two left on the old key, no e-mail
        compromise.refresh_from_db()
        assert (compromise.done, compromise.state) == (2, "running")
        assert Badge.objects.filter(pk__in=[b.pk for b in badges], signing_key=leaked).count() == 2
        assert len(mailoutbox) == 2
        # when the job is retried, and then run again once done
        monkeypatch.setattr(compromise_module, "_sign", real_sign)
        with django_capture_on_commit_callbacks(execute=True):
            compromise = run_job(compromise, batch_size=2)
        after = {b.pk: b.credential for b in Badge.objects.filter(organization=org)}
        with django_capture_on_commit_callbacks(execute=True):
            again = services.key_compromise_resign(compromise_id=compromise.pk, batch_size=2)
        # then every badge was re-signed exactly once (one e-mail each) and the second run
        # changed nothing
        assert (compromise.done, compromise.total, compromise.state) == (4, 4, "done")
        assert (again.done, again.total, again.state) == (4, 4, "done")
        assert {b.pk: b.credential for b in Badge.objects.filter(organization=org)} == after
        assert sorted(m.to[0] for m in mailoutbox) == sorted(b.recipient.email for b in badges)
        assert AuditEvent.objects.filter(action="signing_key.resigned").count() == 1

    def test_beat_finishes_a_badge_signed_with_the_key_while_it_was_marked(
        self, approve: Approve, org: Organization, tasks_run_at_once: None
    ) -> None:
        # given a finished job, and a badge that an issue racing the marking signed with the
        # compromised key after the job had looked
        badges = issue(approve, 2)
        old = copy.deepcopy(badges[0].credential)
        compromise = run_job(services.signing_key_compromise(key=active_key(org), actor=None))
        Badge.objects.filter(pk=badges[0].pk).update(signing_key=compromise.key, credential=old)
        # when beat looks for unfinished jobs (the task chain runs at once here)
        assert services.key_compromises_unfinished(organization=org) == [compromise.pk]
        assert tasks.key_compromises_resume_all.delay().get() >= 1
        # then the badge is re-signed too, and counted
        compromise.refresh_from_db()
        assert (compromise.done, compromise.total, compromise.state) == (3, 3, "done")
        assert Badge.objects.get(pk=badges[0].pk).signing_key_id == compromise.replacement_id
        assert services.key_compromises_unfinished(organization=org) == []

    def test_beat_restarts_a_stalled_job_but_not_a_running_one(
        self, approve: Approve, org: Organization
    ) -> None:
        # given a job whose message was lost (queued, untouched for ten minutes)
        issue(approve, 1)
        compromise = services.signing_key_compromise(key=active_key(org), actor=None)
        assert services.key_compromises_unfinished(organization=org) == []  # just queued
        KeyCompromise.objects.filter(pk=compromise.pk).update(
            updated_at=timezone.now() - dt.timedelta(minutes=10)
        )
        # then beat restarts it
        assert services.key_compromises_unfinished(organization=org) == [compromise.pk]

    def test_the_e_mail_is_retried_while_the_mail_server_is_down(
        self,
        approve: Approve,
        org: Organization,
        monkeypatch: pytest.MonkeyPatch,
        django_capture_on_commit_callbacks: Any,
        mailoutbox: list[Any],
        tasks_run_at_once: None,
    ) -> None:
        # given a compromised key with one valid badge, and a mail server that fails once
        [badge] = issue(approve, 1)
        compromise = services.signing_key_compromise(key=active_key(org), actor=None)
        mailoutbox.clear()
        # (a batch's e-mails are one message: badges.badge_mail_many)
        delays = retries_of(tasks.badge_mail_many, monkeypatch)
        real_send = services.mail.mail_send
        attempts: list[int] = []

        def flaky_send(**kwargs: Any) -> int:
            attempts.append(1)
            if len(attempts) == 1:
                raise ConnectionRefusedError("SMTP server unreachable")
            return int(real_send(**kwargs))

        monkeypatch.setattr(services.mail, "mail_send", flaky_send)
        # when the badge is re-signed
        with django_capture_on_commit_callbacks(execute=True):
            run_job(compromise)
        # then the e-mail was retried and arrived
        assert len(delays) == 1
        assert [m.to for m in mailoutbox] == [[badge.recipient.email]]
        assert RESIGNED_SUBJECT in mailoutbox[0].subject


class TestAdminPages:
    def test_the_confirmation_page_says_what_will_happen(
        self, approve: Approve, org: Organization, admin_client: Client
    ) -> None:
        # given three valid badges signed with the active key, and one revoked
        badges = issue(approve, 4)
        services.badge_revoke(badge=badges[0], reason="Copied evidence.", actor=None)
        key = active_key(org)
        before = snapshot(org)
        # when the program admin opens the key's page and its "Mark compromised" button
        page = admin_client.get(key_url(key)).content.decode()
        assert compromise_url(key) in page and "Mark compromised" in page
        response = admin_client.get(compromise_url(key))
        # then the page says what happens, and to how many badges, and nothing happened yet
        assert response.status_code == 200
        body = " ".join(response.content.decode().split())
        assert key.key_id in body
        assert "a new key is made for" in body
        assert "leaves the organization's" in body
        assert "nothing signed with it verifies any more" in body
        assert "<strong>3 badges</strong>" in body
        assert 'value="Yes, mark this key compromised and re-sign 3 badges"' in body
        assert snapshot(org) == before

    def test_marking_from_the_admin_shows_the_progress_on_the_keys_page(
        self,
        approve: Approve,
        org: Organization,
        admin_client: Client,
        admin_user: User,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        # given two valid badges signed with the active key
        issue(approve, 2)
        key = active_key(org)
        # when the program admin confirms (the worker not run yet)
        with django_capture_on_commit_callbacks(execute=False):
            response = admin_client.post(compromise_url(key), follow=True)
        # then they are back on the key's page, told what happened, with the job's progress
        assert response.redirect_chain == [(key_url(key), 302)]
        body = response.content.decode()
        assert "is marked compromised and no longer published" in body
        assert "Queued: 0 of 2 badges" in body
        assert "Mark compromised" not in body
        compromise = KeyCompromise.objects.get(key=key)
        assert compromise.marked_by == admin_user
        assert AuditEvent.objects.get(action="signing_key.compromised").actor == admin_user
        # and as the worker goes, the page follows: 1 of 2, then done
        services.key_compromise_resign(compromise_id=compromise.pk, batch_size=1)
        assert "Re-signing: 1 of 2 badges" in admin_client.get(key_url(key)).content.decode()
        run_job(compromise)
        page = admin_client.get(key_url(key)).content.decode()
        assert "Done: 2 of 2 badges re-signed" in page
        listing = admin_client.get(KEYS).content.decode()
        assert "Compromised (no longer published; Done: 2 of 2 badges re-signed)" in listing
        assert "Active (signs new badges)" in listing

    def test_an_already_compromised_key_is_not_marked_again(
        self, approve: Approve, org: Organization, admin_client: Client
    ) -> None:
        # given a key already marked compromised
        issue(approve, 1)
        key = active_key(org)
        services.signing_key_compromise(key=key, actor=None)
        before = snapshot(org)
        # when the admin opens or posts its compromise page again (an old tab)
        for method in (admin_client.get, admin_client.post):
            response = method(compromise_url(key), follow=True)
            # then they are told, on the key's page, and nothing changed
            assert response.redirect_chain == [(key_url(key), 302)]
            assert "was already marked compromised on" in response.content.decode()
            assert "nothing changed" in response.content.decode()
        assert snapshot(org) == before

    def test_another_organizations_key_answers_404_and_changes_nothing(
        self, approve: Approve, org: Organization, admin_client: Client
    ) -> None:
        # given another organization's key
        other = OrganizationFactory(name="Bravo District", slug="bravo")
        issue(approve, 1, organization=other)
        theirs = active_key(other)
        before = snapshot(other)
        # when our program admin tries its pages
        for response in (
            admin_client.get(key_url(theirs)),
            admin_client.get(compromise_url(theirs)),
            admin_client.post(compromise_url(theirs)),
        ):
            # then each answers 404, and nothing changed
            assert response.status_code == 404
        assert snapshot(other) == before

    def test_the_keys_list_costs_the_same_queries_at_1_and_20_keys(
        self, org: Organization, admin_client: Client
    ) -> None:
        def add(n: int) -> None:
            for _ in range(n):
                key = services.signing_key_active(organization=org)
                services.signing_key_compromise(key=key, actor=None)

        assert_list_query_count_constant(admin_client, KEYS, add)


# --- Through a real worker ----------------------------------------------------------------------


def resigned_mail() -> list[Any]:
    return [m for m in mail.outbox if RESIGNED_SUBJECT in m.subject]


@pytest.mark.django_db(transaction=True)
def test_a_worker_re_signs_a_compromised_keys_badges_that_every_verifier_then_accepts(
    approve: Approve,
    org: Organization,
    admin_user: User,
    client: Client,
    settings: Any,
    tmp_path: Path,
) -> None:
    # given three valid badges and a revoked one, signed with the organization's only key
    settings.BADGE_RESIGN_BATCH_SIZE = 2
    valid = issue(approve, 3)
    [revoked] = issue(approve, 1)
    services.badge_revoke(badge=revoked, reason="Copied evidence.", actor=None)
    leaked = active_key(org)
    old = {b.pk: copy.deepcopy(b.credential) for b in valid}
    client.force_login(admin_user)
    with running_worker():
        mail.outbox.clear()
        # when the program admin marks the key compromised in the admin
        assert client.post(compromise_url(leaked)).status_code == 302
        # then the worker re-signs the three valid badges, two a batch, and the job is done
        compromise = wait_for(
            lambda: KeyCompromise.objects.filter(key=leaked, state="done").first(),
            what="the worker to finish re-signing",
        )
        assert (compromise.done, compromise.total) == (3, 3)
        assert compromise.started_at and compromise.finished_at
        # and each educator is e-mailed, once
        wait_for(lambda: len(resigned_mail()) == 3, what="the three e-mails")
        # when the job is delivered again (a retry, a duplicate message)
        before = {b.pk: (b.credential, b.updated_at) for b in Badge.objects.filter(pk__in=old)}
        kwargs = {"organization_id": org.pk, "compromise_id": compromise.pk}
        assert tasks.key_compromise_resign.delay(**kwargs).get(timeout=30) == 3
        # (anything it queued runs before this, on the one worker)
        tasks.status_lists_renew.delay(organization_id=org.pk).get(timeout=30)
    # then nothing changed, and nobody was e-mailed twice
    assert {b.pk: (b.credential, b.updated_at) for b in Badge.objects.filter(pk__in=old)} == before
    assert sorted(m.to[0] for m in resigned_mail()) == sorted(b.recipient.email for b in valid)
    compromise.refresh_from_db()
    assert (compromise.done, compromise.total, compromise.state) == (3, 3, "done")
    # and the page of the key says so
    page = client.get(key_url(leaked)).content.decode()
    assert "Done: 3 of 3 badges re-signed" in page
    assert AuditEvent.objects.filter(action="signing_key.resigned").count() == 1
    # and the DID document we serve no longer lists the compromised key
    new = active_key(org)
    assert published(client, org) == [new.key_id]
    # and every re-signed badge is schema-valid and verifies, with our verifier and Digital
    # Bazaar's, while its old copy fails both
    for badge in Badge.objects.filter(pk__in=old).select_related("recipient"):
        assert badge.signing_key_id == new.pk
        assert unsigned(badge.credential) == unsigned(old[badge.pk])
        assert_valid_ob3(badge.credential)
        ours = services.credential_verify(organization=org, credential=badge.credential)
        assert ours["verified"], ours
        theirs = verify_independently(
            badge.credential, documents_for(client, badge.credential), tmp_path
        )
        assert theirs["verified"] is True, theirs
        old_copy = old[badge.pk]
        assert (
            services.credential_verify(organization=org, credential=old_copy)["verified"] is False
        )
        rejected = verify_independently(old_copy, documents_for(client, old_copy), tmp_path)
        assert rejected["signature"] is False and rejected["verified"] is False, rejected
    # and the revoked badge was left alone (still revoked for every verifier)
    revoked.refresh_from_db()
    assert revoked.signing_key_id == leaked.pk
    # and the status list is signed with the new key and verifies
    status_list = StatusList.objects.get(organization=org)
    assert proof_key(status_list.credential) == new.key_id
    resolved = dataintegrity.public_key_from_multibase(new.public_key_multibase)
    assert dataintegrity.verify(status_list.credential, resolve_key=lambda _: resolved).verified
