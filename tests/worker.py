"""A real Celery worker for tests: the project's app consuming the devstack's Redis.

It runs in a thread of the test process, so it talks to pytest-django's test database (same
settings, its own connection). Tests that use it must commit what the worker should see:
``pytest.mark.django_db(transaction=True)``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from celery.contrib.testing.worker import start_worker

from credentials_site.celery import app

T = TypeVar("T")


def purge_queue() -> int:
    """Drop every message waiting on the broker (left by earlier tests whose rows are gone)."""
    return int(app.control.purge() or 0)


@contextlib.contextmanager
def running_worker(*, purge: bool = True) -> Iterator[Any]:
    """Start a real worker (solo pool) on the configured broker; stop it on exit.

    ``purge`` first drops stale messages, so the worker only runs what the test queues."""
    if purge:
        purge_queue()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker


def wait_for(
    probe: Callable[[], T | None], *, timeout: float = 30.0, interval: float = 0.1, what: str = ""
) -> T:
    """Call ``probe`` until it returns something truthy (the worker's work became visible)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or probe}")
        time.sleep(interval)
