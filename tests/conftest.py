from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery.signals import task_postrun
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled


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


@pytest.fixture(autouse=True)
def _tenant_scopes_disabled(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests set up data across organizations, so they opt out of tenant scopes explicitly.

    Requests still run scoped: the middleware enters the organization's scope, which re-enables
    the check inside. A test that needs the fail-closed behaviour marks itself ``scoped``.
    """
    if request.node.get_closest_marker("scoped"):
        yield
        return
    with scopes_disabled():
        yield


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "scoped: run without the test-wide scopes_disabled()")


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
