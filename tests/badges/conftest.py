"""Fixtures for badges: applications approved through the real review services."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from celery.exceptions import Retry

from credentials_site.celery import app
from programs.models import Organization, StaffRole, User
from reviews import services as review_services
from submissions import services as submission_services
from submissions.models import Application
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    StaffRoleFactory,
    UserFactory,
    make_credential,
)
from tests.lti_platform import lms  # noqa: F401 (the simulated LMS, for the LTI tests)
from tests.reviews.conftest import decide, submit_attempt

ROOT = Path(__file__).resolve().parents[2]
VECTORS = Path(__file__).resolve().parent / "vectors"


@pytest.fixture
def tasks_run_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """``.delay()`` runs the task in the calling thread, as a worker would on receiving it (the
    e-mails, queued as ``badges.badge_mail`` tasks on commit)."""
    monkeypatch.setattr(app.conf, "task_always_eager", True)


def retries_of(task: Any, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The delays (seconds) of the retries ``task`` asks for."""
    delays: list[float] = []
    original = task.retry

    def retry(*args: Any, **kwargs: Any) -> Retry:
        try:
            return original(*args, **kwargs)  # raises Retry (or the error, past the limit)
        except Retry as scheduled:
            delays.append(float(scheduled.when or 0))
            raise

    monkeypatch.setattr(task, "retry", retry)
    return delays


@pytest.fixture
def org() -> Organization:
    return OrganizationFactory(short_name="RUSD", slug="riverside")


@pytest.fixture
def reviewer(org: Organization) -> User:
    return StaffRoleFactory(
        organization=org, role=StaffRole.Role.REVIEWER, user=UserFactory(email="rev@example.org")
    ).user


@pytest.fixture
def approve(
    org: Organization, reviewer: User, django_capture_on_commit_callbacks: Any
) -> Callable[..., Application]:
    """Submit an attempt for a new educator and approve it through the review services. The
    on-commit callbacks (the issuing task among them) are captured, not run."""

    def run(*, organization: Organization | None = None, **version_fields: Any) -> Application:
        organization = organization or org
        educator = version_fields.pop("educator", None) or UserFactory()
        version_fields.setdefault("non_member_fee", 0)
        version = make_credential(organization, **version_fields)
        MembershipFactory(organization=organization, user=educator, member_until=None)
        application = submission_services.application_apply(
            credential=version.credential, educator=educator
        )
        submit_attempt(application, educator)
        role_holder = reviewer
        if organization != org:
            role_holder = StaffRoleFactory(
                organization=organization, role=StaffRole.Role.REVIEWER
            ).user
        with django_capture_on_commit_callbacks(execute=False):
            claim = review_services.review_claim_next(
                organization=organization, reviewer=role_holder
            )
            decide(claim, role_holder, "approve")
        application.refresh_from_db()
        assert application.status == Application.Status.APPROVED
        return application

    return run


@cache
def _schema() -> dict[str, Any]:
    return json.loads(
        (ROOT / "badges" / "schema" / "ob_v3p0_achievementcredential_schema.json").read_text()
    )


def assert_valid_ob3(credential: dict[str, Any]) -> None:
    """The official OB 3.0 JSON schema, plus what it does not check (SOURCES.md §4)."""
    validator = jsonschema.Draft201909Validator(_schema())
    errors = sorted(validator.iter_errors(credential), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
    subject = credential["credentialSubject"]
    assert subject.get("id") or subject.get("identifier")
    assert isinstance(credential["proof"], list)
