from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled


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
