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


@pytest.mark.scoped
def test_a_scoped_statement_reads_only_the_scopes_organizations() -> None:
    from django.db import connection
    from django_scopes import scopes_disabled

    from credentials_site.tenancy import scoped_sql

    with scopes_disabled():
        org, other = OrganizationFactory(), OrganizationFactory()
        mine = FocusAreaFactory(organization=org)
        theirs = FocusAreaFactory(organization=other)
    statement = "SELECT f.id FROM programs_focusarea f WHERE {tenant} ORDER BY f.id"

    def read() -> list[int]:
        sql, params = scoped_sql(statement, tenant="f.organization_id")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [row[0] for row in cursor.fetchall()]

    # outside any scope it fails closed, as the scoped managers do
    with pytest.raises(ScopeError):
        read()
    # in an organization's scope only its rows; in the admin's list scope, those organizations'
    with scope(organization=org.pk):
        assert read() == [mine.pk]
    with scope(organization=[org.pk, other.pk]):
        assert read() == [mine.pk, theirs.pk]
    # an explicit, named bypass reads everything
    with scopes_disabled():
        assert read() == [mine.pk, theirs.pk]
    # a statement without its placeholder is a mistake, not an unfiltered read
    with scope(organization=org.pk), pytest.raises(ValueError, match=r"no \{tenant\}"):
        scoped_sql("SELECT 1", tenant="f.organization_id")
