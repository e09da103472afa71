"""The monthly summary e-mail of the program dashboard (issue 20): off unless the organization
asks for it; last month's headline numbers and the dashboard's link to its owners and program
admins, as text and HTML; each admin's e-mail at most once per month, through retries and
second runs, with the real worker too."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from badges import services as badge_services
from badges import tasks
from badges.insights import summary
from badges.insights.aggregates import InsightSummaryMail
from badges.models import Badge
from programs.models import Organization, StaffRole, User
from tests.badges.conftest import retries_of
from tests.badges.test_insights import apply, attempt, educator
from tests.factories import OrganizationFactory, StaffRoleFactory, UserFactory, make_credential
from tests.worker import running_worker, wait_for

LAST_MONTH = summary.month_before(timezone.localdate())


def days_ago(day_of_last_month: int) -> int:
    """How many days ago that day of last month was."""
    return (timezone.localdate() - LAST_MONTH.replace(day=day_of_last_month)).days


def last_month_dataset(org: Organization) -> dict[str, User]:
    """Last month: two applications, one submitted on the 12th and approved on the 13th (within
    its 5-day target), its badge issued on the 14th; and one older application (not counted)."""
    reviewer = StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER).user
    version = make_credential(org, title="Formative Assessment", non_member_fee=0)
    approved = apply(org, version, educator(org, "North"), ago=days_ago(10))
    attempt(
        approved,
        1,
        reviewer=reviewer,
        decision="approve",
        score=1,
        submitted_ago=days_ago(12),
        decided_ago=days_ago(13),
    )
    apply(org, version, educator(org, "South"), ago=days_ago(11))
    apply(org, version, educator(org, "South"), ago=days_ago(1) + 40)
    badge = badge_services.badge_issue(application_id=approved.pk)
    Badge.objects.filter(pk=badge.pk).update(
        issued_at=timezone.now() - dt.timedelta(days=days_ago(14))
    )
    return {
        "owner": StaffRoleFactory(organization=org, role=StaffRole.Role.OWNER).user,
        "admin": StaffRoleFactory(organization=org, role=StaffRole.Role.PROGRAM_ADMIN).user,
        "analyst": StaffRoleFactory(organization=org, role=StaffRole.Role.ANALYST).user,
        "reviewer": reviewer,
    }


@pytest.fixture
def asking() -> Organization:
    return OrganizationFactory(
        slug="summary-org", name="Riverside USD", insights_monthly_email=True
    )


@pytest.mark.django_db
class TestTheSummary:
    def test_is_off_unless_the_organization_asks(self, mailoutbox: list[Any]) -> None:
        org = OrganizationFactory()
        last_month_dataset(org)
        assert org.insights_monthly_email is False
        assert summary.summary_send(organization=org, month=LAST_MONTH) == 0
        assert mailoutbox == []

    def test_tells_the_admins_last_months_numbers_with_the_dashboards_link(
        self, asking: Organization, mailoutbox: list[Any]
    ) -> None:
        # given last month's activity, an owner, a program admin, an analyst and a reviewer
        people = last_month_dataset(asking)
        # when the summary of last month is sent
        sent = summary.summary_send(organization=asking, month=LAST_MONTH)
        # then the owner and the program admin get it, no one else
        assert sent == 2
        assert sorted(m.to[0] for m in mailoutbox) == sorted(
            [people["owner"].email, people["admin"].email]
        )
        message = mailoutbox[0]
        assert message.subject == f"Riverside USD: your program in {LAST_MONTH:%B %Y}"
        text = message.body
        assert "Applications made: 2 (1 of them have sent evidence)" in text
        assert "Attempts decided: 1, 100.0 % within their target" in text
        assert "Badges issued: 1; revoked: 0" in text
        end = summary.month_last_day(LAST_MONTH)
        link = f"/o/summary-org/insights/?date_from={LAST_MONTH}&date_to={end}"
        assert link in text
        ((html, kind),) = message.alternatives
        assert kind == "text/html"
        assert "Open the program dashboard" in html and link.replace("&", "&amp;") in html

    def test_a_second_run_sends_nothing(self, asking: Organization, mailoutbox: list[Any]) -> None:
        last_month_dataset(asking)
        assert summary.summary_send(organization=asking, month=LAST_MONTH) == 2
        assert summary.summary_send(organization=asking, month=LAST_MONTH) == 0
        assert len(mailoutbox) == 2
        assert InsightSummaryMail.objects.filter(organization=asking).count() == 2

    def test_a_retry_after_a_mail_server_error_sends_only_what_was_not_sent(
        self,
        asking: Organization,
        mailoutbox: list[Any],
        monkeypatch: pytest.MonkeyPatch,
        tasks_run_at_once: None,
    ) -> None:
        # given a mail server that fails on the second e-mail, once
        people = last_month_dataset(asking)
        real_send = summary.mail_send
        calls: list[str] = []

        def flaky_send(**kwargs: Any) -> int:
            calls.append(kwargs["to"][0])
            if len(calls) == 2:
                raise ConnectionRefusedError("SMTP server unreachable")
            return real_send(**kwargs)

        monkeypatch.setattr(summary, "mail_send", flaky_send)
        delays = retries_of(tasks.insights_summary_mail, monkeypatch)
        # when the task runs (and retries)
        tasks.insights_summary_mail.delay(organization_id=asking.pk)
        # then it retried once, and each admin has exactly one e-mail
        assert len(delays) == 1
        assert sorted(m.to[0] for m in mailoutbox) == sorted(
            [people["owner"].email, people["admin"].email]
        )
        assert len(calls) == 3

    def test_another_organizations_admins_get_nothing_of_it(
        self, asking: Organization, mailoutbox: list[Any]
    ) -> None:
        last_month_dataset(asking)
        other = OrganizationFactory(insights_monthly_email=True)
        outsider = StaffRoleFactory(organization=other, role=StaffRole.Role.OWNER).user
        summary.summary_send(organization=asking, month=LAST_MONTH)
        assert outsider.email not in {m.to[0] for m in mailoutbox}
        assert summary.summary_send(organization=other, month=LAST_MONTH) == 1
        other_mail = mailoutbox[-1]
        assert other_mail.to == [outsider.email]
        assert "Applications made: 0" in other_mail.body


def test_beat_schedules_it_on_the_first_of_the_month() -> None:
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["badges-insights-summary-mail"]
    assert entry["task"] == "badges.insights_summary_mail_all"
    schedule = entry["schedule"]
    assert schedule.day_of_month == {1}  # type: ignore[attr-defined]


@pytest.fixture
def celery_worker() -> Iterator[None]:
    with running_worker():
        yield


@pytest.mark.django_db(transaction=True)
@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def test_the_worker_sends_each_admin_one_summary_however_often_beat_runs(
    celery_worker: None,
) -> None:
    # given two organizations, one asking for the summary, committed
    asking = OrganizationFactory(slug="worker-summary", insights_monthly_email=True)
    people = last_month_dataset(asking)
    quiet = OrganizationFactory(slug="worker-quiet")
    StaffRoleFactory(organization=quiet, role=StaffRole.Role.OWNER, user=UserFactory())
    mail.outbox = []
    # when beat's task runs twice
    tasks.insights_summary_mail_all.delay()
    wait_for(lambda: len(mail.outbox) >= 2 or None, what="the summaries")
    tasks.insights_summary_mail_all.delay()
    wait_for(
        lambda: InsightSummaryMail.objects.filter(organization=asking).count() == 2 or None,
        what="the records",
    )
    # then the two admins of the asking organization each have one e-mail, and nobody else
    done = tasks.insights_summary_mail.delay(organization_id=asking.pk)
    assert done.get(timeout=30) == 0
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [people["owner"].email, people["admin"].email]
    )
