"""Tenancy of URLs that name one object by its opaque id instead of an organization (a badge's
``/badges/<id>/...``): the middleware finds the object's organization and enters its scope, so
the pages read the badge as the scoped managers allow and never enter a scope themselves. And
the one reading of the current scope that hand-written checks use (``scope_allows``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django_scopes import ScopeError, scope, scopes_disabled

from badges import services
from badges.models import Badge, StatusList
from badges.services.status import _status_take
from credentials_site.tenancy import scope_allows
from tests.badges.conftest import approve, org, reviewer  # noqa: F401 (fixtures)
from tests.factories import OrganizationFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.scoped]

BADGE_URLS = ("verify", "json", "check", "png", "svg", "png_ob2", "ob2_assertion")


@pytest.fixture
def badge(approve: Any) -> Badge:  # noqa: F811
    with scopes_disabled():
        return services.badge_issue(application_id=approve().pk)


class TestBadgeUrls:
    def test_every_page_of_a_badge_opens_in_its_organizations_scope(
        self, client: Client, badge: Badge
    ) -> None:
        # when anyone opens the badge's page, credential, check, images and OB 2.0 assertion,
        # with tenant scopes enforced (no test-wide opt-out)
        responses = {
            name: client.get(reverse(f"badges:{name}", args=[badge.public_id]))
            for name in BADGE_URLS
        }
        # then each answers, in the scope of the badge's organization
        assert {name: r.status_code for name, r in responses.items()} == dict.fromkeys(
            BADGE_URLS, 200
        )
        for response in responses.values():
            assert response.wsgi_request.organization == badge.organization  # type: ignore[attr-defined]

    def test_a_badge_that_does_not_exist_is_404_on_every_url(self, client: Client) -> None:
        # given an id that no organization's badge has
        missing = "00000000-0000-4000-8000-000000000000"
        # when / then
        for name in BADGE_URLS:
            assert client.get(reverse(f"badges:{name}", args=[missing])).status_code == 404

    def test_the_earner_hides_a_badge_in_its_organizations_scope(
        self, client: Client, badge: Badge
    ) -> None:
        # given the earner, signed in
        client.force_login(badge.recipient)
        # when they make it private
        response = client.post(
            reverse("badges:visibility", args=[badge.public_id]), {"visibility": "private"}
        )
        # then it is private
        assert response.status_code == 302
        with scopes_disabled():
            assert Badge.objects.get(pk=badge.pk).is_public is False

    def test_someone_elses_badge_is_404_and_unchanged(self, client: Client, badge: Badge) -> None:
        # given another educator, signed in
        client.force_login(UserFactory())
        # when they try to hide the badge
        response = client.post(
            reverse("badges:visibility", args=[badge.public_id]), {"visibility": "private"}
        )
        # then it does not exist for them, and nothing changed
        assert response.status_code == 404
        with scopes_disabled():
            assert Badge.objects.get(pk=badge.pk).is_public is True


class TestScopeAllows:
    def test_it_answers_as_the_scoped_managers_would(self) -> None:
        # outside any organization scope it fails closed
        with pytest.raises(ScopeError):
            scope_allows(7)
        # one organization's scope admits it alone; the admin's list scope, each in the list
        with scope(organization=7):
            assert scope_allows(7) and not scope_allows(8)
        with scope(organization=[3, 4]):
            assert scope_allows(3) and scope_allows(4) and not scope_allows(7)
        # every organization: an explicit, named bypass
        with scope(organization=None):
            assert scope_allows(7)
        with scopes_disabled():
            assert scope_allows(7)


class TestHandWrittenStatements:
    def test_a_status_bit_is_taken_only_in_its_organizations_scope(self, badge: Badge) -> None:
        # given the organization's list, and another organization
        with scopes_disabled():
            organization = badge.organization
            other = OrganizationFactory()
            before = StatusList.objects.get(organization=organization).next_index
        # when another organization's scope asks for a bit of this one's list, it gets none
        with scope(organization=other.pk):
            assert _status_take(organization) is None
        # and outside any scope the statement fails closed
        with pytest.raises(ScopeError):
            _status_take(organization)
        # then in its own scope the next bit is taken
        with scope(organization=organization.pk):
            taken = _status_take(organization)
        assert taken is not None and taken[1] == before
        with scopes_disabled():
            assert StatusList.objects.get(organization=organization).next_index == before + 1
