"""The educator's e-mails about a badge: issued (with the links to share it), revoked (with the
reason), about to expire (once, 30 days before). Each is a ``badges.badge_mail`` task queued on
commit; here tasks run at once (eager), and the messages land in the locmem outbox."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.test import override_settings
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from badges import documents, services, tasks
from badges.errors import BadgeError
from badges.models import Badge
from submissions.models import Application
from tests.badges.conftest import retries_of
from tests.factories import OrganizationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tasks_run_at_once")]


DAY = dt.timedelta(days=1)
Approve = Callable[..., Application]


def issued(approve: Approve, capture: Any, **fields: Any) -> Badge:
    """A badge issued for a fresh approval, with the issuing's on-commit effects run."""
    application = approve(**fields)
    with capture(execute=True):
        badge = services.badge_issue(application_id=application.pk)
    return badge


def expiring_in(badge: Badge, delta: dt.timedelta) -> Badge:
    """Move the badge's expiry (as if time had passed since it was issued)."""
    Badge.objects.filter(pk=badge.pk).update(valid_until=timezone.now() + delta)
    return Badge.objects.get(pk=badge.pk)


class BrokenBackend(BaseEmailBackend):
    """An SMTP server that is down (like Django's SMTP backend, quiet when told to be)."""

    def send_messages(self, email_messages: Any) -> int:
        if self.fail_silently:
            return 0
        raise ConnectionRefusedError("SMTP server unreachable")


class TestIssuedMail:
    def test_the_educator_gets_the_verification_and_backpack_links(
        self, approve: Approve, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
    ) -> None:
        # given an approved application
        application = approve(title="Formative Assessment")
        # when its badge is issued and the transaction commits
        with django_capture_on_commit_callbacks(execute=True):
            badge = services.badge_issue(application_id=application.pk)
        # then the educator, and only they, receive one e-mail with the links to share it
        assert len(mailoutbox) == 1
        message = mailoutbox[0]
        assert message.to == [application.educator.email]
        assert "Formative Assessment" in message.subject
        assert services.badge_url(badge) in message.body
        assert f"/badges/{badge.public_id}/" in message.body
        assert documents.site_url("/me/badges/") in message.body
        assert application.organization.name in message.body
        # and in an HTML part, branded with the organization's name and colour
        [(html, mimetype)] = message.alternatives
        assert mimetype == "text/html"
        assert application.organization.name in html
        assert application.organization.brand_colour in html
        assert services.badge_url(badge) in html
        assert not message.subject.startswith("[")

    def test_nothing_is_sent_before_the_commit_or_for_a_second_issue(
        self, approve: Approve, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
    ) -> None:
        # given an issued badge, its e-mail sent
        application = approve()
        with django_capture_on_commit_callbacks(execute=False) as pending:
            services.badge_issue(application_id=application.pk)
        # then nothing left before the commit
        assert mailoutbox == []
        for callback in pending:
            callback()
        assert len(mailoutbox) == 1
        # when the issuing runs again (a duplicate delivery)
        with django_capture_on_commit_callbacks(execute=True):
            services.badge_issue(application_id=application.pk)
        # then no second e-mail
        assert len(mailoutbox) == 1

    def test_a_credential_with_an_expiry_says_until_when(
        self, approve: Approve, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
    ) -> None:
        badge = issued(
            approve, django_capture_on_commit_callbacks, expiry_policy="months", expiry_months=24
        )
        assert badge.valid_until is not None
        assert f"Valid until {badge.valid_until.date().isoformat()}" in mailoutbox[0].body

    @pytest.mark.scoped
    def test_it_is_sent_even_when_the_commit_happens_outside_a_tenant_scope(
        self, approve: Approve, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
    ) -> None:
        # given an approval, and the issuing done inside the organization's scope
        with scopes_disabled():
            application = approve()
        # when the on-commit callbacks run after that scope was left
        with (
            django_capture_on_commit_callbacks(execute=True),
            scope(organization=application.organization_id),
        ):
            services.badge_issue(application_id=application.pk)
        # then the e-mail went out all the same
        assert [m.to for m in mailoutbox] == [[application.educator.email]]


class TestRevokedMail:
    def test_the_educator_is_told_the_reason(
        self, approve: Approve, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
    ) -> None:
        # given an issued badge
        badge = issued(approve, django_capture_on_commit_callbacks)
        mailoutbox.clear()
        # when a program admin revokes it
        with django_capture_on_commit_callbacks(execute=True):
            services.badge_revoke(
                badge=badge, reason="The lesson plan was not the educator's own.", actor=None
            )
        # then the educator is e-mailed the reason and whom to ask
        assert len(mailoutbox) == 1
        message = mailoutbox[0]
        assert message.to == [badge.recipient.email]
        assert "revoked" in message.subject
        assert badge.name in message.subject
        assert "Reason: The lesson plan was not the educator's own." in message.body
        assert "programs@example.org" in message.body

    def test_a_refused_revocation_sends_nothing(
        self, approve: Approve, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
    ) -> None:
        badge = issued(approve, django_capture_on_commit_callbacks)
        mailoutbox.clear()
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(BadgeError):
            services.badge_revoke(badge=badge, reason="  ", actor=None)
        assert mailoutbox == []

    def test_a_mail_server_that_is_down_is_retried_and_does_not_undo_the_revocation(
        self,
        approve: Approve,
        django_capture_on_commit_callbacks: Any,
        caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # given an issued badge, and an SMTP server that refuses connections
        badge = issued(approve, django_capture_on_commit_callbacks)
        delays = retries_of(tasks.badge_mail, monkeypatch)
        # when the badge is revoked
        with (
            override_settings(EMAIL_BACKEND=f"{__name__}.BrokenBackend"),
            caplog.at_level(logging.ERROR, logger="badges.tasks"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            services.badge_revoke(badge=badge, reason="Plagiarised evidence.", actor=None)
        # then the revocation stands, the e-mail was retried with growing delays up to the
        # limit, and giving up is logged for the operators
        badge.refresh_from_db()
        assert badge.is_revoked
        assert len(delays) == tasks.badge_mail.max_retries
        assert all(delay >= 0 for delay in delays) and max(delays) > 30
        assert any(
            "Gave up" in r.getMessage() and "revoked" in r.getMessage() for r in caplog.records
        )

    def test_a_broker_that_is_down_when_the_revocation_commits_does_not_undo_it(
        self,
        approve: Approve,
        django_capture_on_commit_callbacks: Any,
        caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        badge = issued(approve, django_capture_on_commit_callbacks)

        def broker_down(**kwargs: Any) -> None:
            raise ConnectionError("Redis is unreachable")

        monkeypatch.setattr(tasks.badge_mail, "delay", broker_down)
        # when the e-mail cannot even be queued after the revocation commits
        with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
            services.badge_revoke(badge=badge, reason="Plagiarised evidence.", actor=None)
        # then the revocation stands and the failure is logged
        badge.refresh_from_db()
        assert badge.is_revoked
        assert any("Redis is unreachable" in str(r.exc_info) for r in caplog.records if r.exc_info)

    def test_a_mail_server_back_before_the_retry_delivers_it(
        self,
        approve: Approve,
        django_capture_on_commit_callbacks: Any,
        mailoutbox: list[Any],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        badge = issued(approve, django_capture_on_commit_callbacks)
        mailoutbox.clear()
        delays = retries_of(tasks.badge_mail, monkeypatch)
        # the first attempt fails, the retry finds the server back
        attempts: list[int] = []
        real_send = services.mail.mail_send

        def flaky_send(**kwargs: Any) -> int:
            attempts.append(1)
            if len(attempts) == 1:
                raise ConnectionRefusedError("SMTP server unreachable")
            return real_send(**kwargs)

        monkeypatch.setattr(services.mail, "mail_send", flaky_send)
        with django_capture_on_commit_callbacks(execute=True):
            services.badge_revoke(badge=badge, reason="Plagiarised evidence.", actor=None)
        assert len(delays) == 1
        assert [m.subject for m in mailoutbox] == [f"Your badge “{badge.name}” was revoked"]

    def test_a_badge_gone_before_its_mail_is_not_retried(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        delays = retries_of(tasks.badge_mail, monkeypatch)
        org = OrganizationFactory()
        result = tasks.badge_mail.delay(organization_id=org.pk, badge_id=987654, kind="issued")
        assert result.get() is False
        assert delays == []

    def test_an_unknown_kind_of_mail_is_not_retried(
        self,
        approve: Approve,
        django_capture_on_commit_callbacks: Any,
        mailoutbox: list[Any],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        badge = issued(approve, django_capture_on_commit_callbacks)
        mailoutbox.clear()
        delays = retries_of(tasks.badge_mail, monkeypatch)
        result = tasks.badge_mail.delay(
            organization_id=badge.organization_id, badge_id=badge.pk, kind="renewed"
        )
        assert result.get() is False
        assert delays == [] and mailoutbox == []


class TestExpiryReminder:
    def test_sent_once_thirty_days_before_the_expiry(
        self, approve: Approve, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
    ) -> None:
        # given a badge expiring in 20 days, one in 40 days, and one expired yesterday
        soon = issued(
            approve, django_capture_on_commit_callbacks, expiry_policy="months", expiry_months=12
        )
        later = issued(
            approve, django_capture_on_commit_callbacks, expiry_policy="months", expiry_months=12
        )
        gone = issued(
            approve, django_capture_on_commit_callbacks, expiry_policy="months", expiry_months=12
        )
        soon = expiring_in(soon, 20 * DAY)
        expiring_in(later, 40 * DAY)
        expiring_in(gone, -DAY)
        mailoutbox.clear()
        # when beat's reminder runs
        with django_capture_on_commit_callbacks(execute=True):
            sent = services.badges_remind_expiring(organization=soon.organization)
        # then only the badge within 30 days of its expiry is reminded
        assert sent == 1
        assert len(mailoutbox) == 1
        message = mailoutbox[0]
        assert message.to == [soon.recipient.email]
        assert soon.valid_until is not None
        until = soon.valid_until.date().isoformat()
        assert until in message.subject
        assert services.badge_url(soon) in message.body
        # when it runs again the next day
        with django_capture_on_commit_callbacks(execute=True):
            again = services.badges_remind_expiring(organization=soon.organization)
        # then nobody is reminded twice
        assert again == 0
        assert len(mailoutbox) == 1
        soon.refresh_from_db()
        assert soon.expiry_notified_at is not None

    def test_the_40_day_badge_is_reminded_once_it_enters_the_window(
        self, approve: Approve, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
    ) -> None:
        badge = issued(
            approve, django_capture_on_commit_callbacks, expiry_policy="months", expiry_months=12
        )
        expiring_in(badge, 40 * DAY)
        mailoutbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            assert services.badges_remind_expiring(organization=badge.organization) == 0
        # ten days later it expires in thirty days
        expiring_in(badge, 30 * DAY - dt.timedelta(minutes=1))
        with django_capture_on_commit_callbacks(execute=True):
            assert services.badges_remind_expiring(organization=badge.organization) == 1
        assert len(mailoutbox) == 1

    def test_a_revoked_badge_is_not_reminded(
        self, approve: Approve, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
    ) -> None:
        # given a revoked badge that would expire in 10 days
        badge = issued(
            approve, django_capture_on_commit_callbacks, expiry_policy="months", expiry_months=12
        )
        with django_capture_on_commit_callbacks(execute=True):
            services.badge_revoke(badge=badge, reason="Not the educator's own work.", actor=None)
        expiring_in(badge, 10 * DAY)
        mailoutbox.clear()
        # when the reminder runs
        with django_capture_on_commit_callbacks(execute=True):
            sent = services.badges_remind_expiring(organization=badge.organization)
        # then it is not reminded
        assert sent == 0
        assert mailoutbox == []

    def test_badges_without_expiry_and_other_organizations_are_left_alone(
        self, approve: Approve, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
    ) -> None:
        # given a badge with no expiry here, and an expiring badge of another organization
        forever = issued(approve, django_capture_on_commit_callbacks)
        other = OrganizationFactory()
        theirs = issued(
            approve,
            django_capture_on_commit_callbacks,
            organization=other,
            expiry_policy="months",
            expiry_months=12,
        )
        expiring_in(theirs, 5 * DAY)
        mailoutbox.clear()
        # when this organization's reminder runs
        with django_capture_on_commit_callbacks(execute=True):
            sent = services.badges_remind_expiring(organization=forever.organization)
        # then nothing is sent; the other organization's badge waits for its own run
        assert sent == 0
        assert mailoutbox == []
        theirs.refresh_from_db()
        assert theirs.expiry_notified_at is None
