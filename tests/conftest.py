from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery.contrib.testing.worker import TestWorkController
from celery.signals import task_postrun
from django.conf import settings
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django_scopes import scope

from credentials_site.db.rls import app_role, as_app, as_owner
from credentials_site.tenancy import cross_organization

TESTS_BYPASS = "tests set up data across organizations"


@task_postrun.connect(weak=False)
def _worker_threads_close_their_connections(task: Any = None, **_: Any) -> None:
    """A real worker started by a test runs in a thread and keeps its database connection
    between tasks (CELERY_DB_REUSE_MAX); the thread ends with it open, and the test database
    could not be dropped at the end of the run. Not for eager tasks (they run in their caller's
    connection and transaction) nor in the main thread."""
    if threading.current_thread() is threading.main_thread():
        return
    if task is not None and getattr(getattr(task, "request", None), "is_eager", False):
        return
    connections.close_all()


def _ensure_started_within_a_minute(self: TestWorkController) -> None:
    """Celery's test worker waits for ever for its thread to be ready, even when that thread
    died starting: a test then hangs the whole run. Here it fails, saying so."""
    if not self._on_started.wait(60):
        raise RuntimeError("the test's Celery worker did not start within 60 s (see its log)")


TestWorkController.ensure_started = _ensure_started_within_a_minute  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None,
) -> Iterator[None]:
    """The test database is created, migrated and dropped by the owner role, as production's
    migrate runs (``DATABASE_OWNER_URL``); the tests run as the app role (below)."""
    with as_owner():
        yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """The tests, the live server and the workers they start connect as the app role, held to
    row-level security, as the web, worker and beat do. It may also TRUNCATE, which Django uses
    to empty the tables after a test that commits (never granted in production: TRUNCATE
    ignores row-level security)."""
    if "owner" in settings.DATABASE_LOGINS and app_role():
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            role = connection.ops.quote_name(app_role())
            cursor.execute(f"GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO {role}")
    with as_app():
        yield


@pytest.fixture(autouse=True)
def _tenant_scopes_disabled(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests set up data across organizations, so they opt out of both walls explicitly: the
    named bypass ``cross_organization(TESTS_BYPASS)``.

    Requests still run scoped: the middleware enters the organization's scope (or, for a URL
    of no organization, none), which re-enables both walls inside. A test that needs the
    scoped managers' fail-closed behaviour marks itself ``scoped`` (the database still admits
    its set-up; tests/credentials_site/test_rls.py sets the database tenant itself).
    """
    with cross_organization(TESTS_BYPASS):
        if request.node.get_closest_marker("scoped"):
            with scope():
                yield
        else:
            yield


@pytest.fixture(autouse=True)
def _site_language() -> Iterator[None]:
    """Each test starts in the site's language: a request in Spanish leaves Spanish active in
    the thread that served it (Django does not switch back), which would otherwise carry over
    to the next test's e-mails and services."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "scoped: run without the test-wide scopes_disabled()")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under ``make test`` (two processes, ``--dist loadgroup``) the browser journeys run one
    after another in one process: two Chromiums and live servers at once on two cores only
    make both slow."""
    for item in items:
        if "e2e" in item.path.parts:
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(scope="session", autouse=True)
def _evidence_bucket_of_this_process() -> None:
    """Each test process of ``make test`` has its own evidence bucket (settings: XDIST_WORKER);
    devstack created only the shared one."""
    if getattr(settings, "XDIST_WORKER", ""):
        from submissions import storage

        storage.ensure_bucket(cors_origins=settings.EVIDENCE_CORS_ORIGINS)


@pytest.fixture
def fake_stripe(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Stripe's HTTP API answered by the fake of tests/submissions/stripe_fake.py (the live
    server of the journeys is a thread of this process: its stripe calls reach it too)."""
    import stripe

    from tests.submissions.stripe_fake import FakeStripeHTTP

    fake = FakeStripeHTTP()
    monkeypatch.setattr(stripe, "default_http_client", fake)
    yield fake


@pytest.fixture
def count_queries() -> Callable[[Callable[[], Any]], CaptureQueriesContext]:
    """Run a callable and return the captured queries (``len(result)`` is the count)."""

    def run(func: Callable[[], Any]) -> CaptureQueriesContext:
        with CaptureQueriesContext(connection) as ctx:
            func()
        return ctx

    return run


def assert_same_query_count(small: CaptureQueriesContext, large: CaptureQueriesContext) -> None:
    """The count must not grow with the number of rows; on a mismatch, show both query lists."""
    if len(small) != len(large):

        def dump(ctx: CaptureQueriesContext) -> str:
            return "\n".join(f"  {i + 1}. {q['sql']}" for i, q in enumerate(ctx.captured_queries))

        pytest.fail(
            f"query count grows with rows: {len(small)} → {len(large)}\n"
            f"small:\n{dump(small)}\nlarge:\n{dump(large)}"
        )


@pytest.fixture(autouse=True)
def _public_cache_of_this_test(settings: Any) -> None:
    """Each test starts with an empty shared cache of public pages (its own key namespace in
    the run's Redis: the data a previous test cached pages of is gone with its transaction)."""
    settings.PUBLIC_CACHE_PREFIX = f"pc-test-{uuid.uuid4().hex}"


@pytest.fixture
def forget_public_pages(settings: Any) -> Callable[[], None]:
    """For a test that changes data behind the services' back (factories, ``update()``): the
    shared cache of public pages is not told by them, so the test empties it itself."""

    def run() -> None:
        settings.PUBLIC_CACHE_PREFIX = f"pc-test-{uuid.uuid4().hex}"

    return run
