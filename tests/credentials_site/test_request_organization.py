"""``request_organization``: the one typed way a view or an API class reads the organization the
tenancy middleware resolved from the URL."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory

from credentials_site.tenancy import request_organization
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_the_organization_of_the_url_is_the_one_a_page_shows() -> None:
    # given two organizations
    mine = OrganizationFactory(name="Riverside Unified")
    OrganizationFactory(name="Hawthorne District")
    # when a visitor opens the first one's catalog
    response = Client().get(f"/o/{mine.slug}/")
    # then the page is that organization's, as the middleware resolved it
    assert response.status_code == 200
    assert "Riverside Unified" in response.content.decode()
    assert response.wsgi_request.organization == mine
    assert request_organization(response.wsgi_request) == mine


def test_a_request_outside_an_organization_url_has_none() -> None:
    # given a request the middleware did not resolve an organization for
    request = RequestFactory().get("/badges/")
    # when code asks for its organization
    # then it fails loudly, naming the address, instead of guessing one
    with pytest.raises(LookupError, match="/badges/"):
        request_organization(request)
