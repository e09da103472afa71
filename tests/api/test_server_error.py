"""A failure of ours under /api/ answers the API's JSON error (a client cannot parse a page);
elsewhere a person reads the site's error page. Neither says what failed."""

from __future__ import annotations

import pytest
from django.test import Client

from .test_errors import assert_json_error

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api.urls_failing")]


def test_api_failure_is_json_500_without_details() -> None:
    response = Client(raise_request_exception=False).get("/api/v1/failing/")
    body = assert_json_error(response, 500, "server_error")
    assert body["fields"] == {}
    assert "a bug of ours" not in response.content.decode()


def test_page_failure_is_the_site_page() -> None:
    response = Client(raise_request_exception=False).get("/failing/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert "a bug of ours" not in response.content.decode()
