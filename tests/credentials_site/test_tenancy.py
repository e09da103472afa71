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
