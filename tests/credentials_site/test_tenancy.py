from __future__ import annotations

import pytest
from django_scopes import ScopeError, scope

from programs.models import Credential, FocusArea
from tests.factories import FocusAreaFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.mark.scoped
def test_unscoped_query_of_a_tenant_model_raises() -> None:
    with pytest.raises(ScopeError):
        list(FocusArea.objects.all())
    with pytest.raises(ScopeError):
        Credential.objects.filter(slug="x").exists()


@pytest.mark.scoped
def test_scope_limits_queries_to_the_organization() -> None:
    from django_scopes import scopes_disabled

    with scopes_disabled():
        org, other = OrganizationFactory(), OrganizationFactory()
        mine = FocusAreaFactory(organization=org)
        FocusAreaFactory(organization=other)
    with scope(organization=org.pk):
        assert list(FocusArea.objects.all()) == [mine]


@pytest.mark.scoped
def test_hand_written_statements_filter_on_the_organizations_the_scoped_managers_would() -> None:
    from django_scopes import scopes_disabled

    from credentials_site.tenancy import scope_organization_ids

    # outside any scope a hand-written statement fails closed, as a scoped manager does
    with pytest.raises(ScopeError):
        scope_organization_ids()
    with scope(organization=7):
        assert scope_organization_ids() == [7]
    with scope(organization=[3, 4]):  # the admin's scope: the organizations one administers
        assert scope_organization_ids() == [3, 4]
    with scope(organization=None):
        assert scope_organization_ids() is None
    with scopes_disabled():
        assert scope_organization_ids() is None
