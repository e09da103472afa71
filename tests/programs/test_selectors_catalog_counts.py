"""The catalog's focus-area counts, kept in the cache under the organization's catalog stamp:
every change that changes a count shows at once."""

from __future__ import annotations

import pytest

from credentials_site.tenancy import tenant_scope
from programs import selectors, services
from programs.models import Organization
from tests.factories import FocusAreaFactory, OrganizationFactory, credential_of, make_credential

pytestmark = pytest.mark.django_db


def counts(organization: Organization) -> dict[str, int]:
    with tenant_scope(organization):
        areas = selectors.focus_area_list_for_catalog(organization=organization)
        exact = {
            a.name: a.published_count for a in selectors.focus_area_list(organization=organization)
        }
    shown = {area.name: area.published_count for area in areas}
    assert shown == exact  # the cached counts are the selector's own
    return shown


class TestFocusAreaCounts:
    def test_publish_and_retire_show_at_once(self) -> None:
        # given
        org = OrganizationFactory()
        coaching = FocusAreaFactory(organization=org, name="Coaching", position=1)
        FocusAreaFactory(organization=org, name="Literacy", position=2)
        first = make_credential(org, focus_area=coaching)
        assert counts(org) == {"Coaching": 1, "Literacy": 0}
        # when another is published
        second = make_credential(org, focus_area=coaching)
        # then
        assert counts(org) == {"Coaching": 2, "Literacy": 0}
        # when one is retired
        with tenant_scope(org):
            services.credential_retire(credential=credential_of(first), actor=None)
        assert counts(org) == {"Coaching": 1, "Literacy": 0}
        # when a draft is added (a published credential cannot be deleted: its version is
        # protected by published_credential_has_version)
        make_credential(org, focus_area=coaching, publish=False)
        assert counts(org) == {"Coaching": 1, "Literacy": 0}
        with tenant_scope(org):
            services.credential_retire(credential=credential_of(second), actor=None)
        assert counts(org) == {"Coaching": 0, "Literacy": 0}

    def test_a_new_version_in_another_area_moves_the_count(self) -> None:
        org = OrganizationFactory()
        coaching = FocusAreaFactory(organization=org, name="Coaching", position=1)
        literacy = FocusAreaFactory(organization=org, name="Literacy", position=2)
        version = make_credential(org, focus_area=coaching)
        assert counts(org) == {"Coaching": 1, "Literacy": 0}
        with tenant_scope(org):
            draft = services.credential_version_create_draft(
                credential=credential_of(version), actor=None
            )
            draft.focus_area = literacy
            draft.save(update_fields=["focus_area"])
            services.credential_version_publish(version=draft, actor=None)
        assert counts(org) == {"Coaching": 0, "Literacy": 1}

    def test_renamed_area_shows_its_new_name(self) -> None:
        org = OrganizationFactory()
        area = FocusAreaFactory(organization=org, name="Coaching")
        make_credential(org, focus_area=area)
        assert counts(org) == {"Coaching": 1}
        area.name = "Instructional coaching"
        area.save(update_fields=["name"])
        assert counts(org) == {"Instructional coaching": 1}

    def test_other_organizations_are_not_counted(self) -> None:
        org, other = OrganizationFactory(), OrganizationFactory()
        FocusAreaFactory(organization=org, name="Coaching")
        theirs = FocusAreaFactory(organization=other, name="Coaching")
        make_credential(other, focus_area=theirs)
        assert counts(org) == {"Coaching": 0}

    def test_one_statement_when_cached(self, count_queries) -> None:
        org = OrganizationFactory()
        area = FocusAreaFactory(organization=org)
        for _ in range(3):
            make_credential(org, focus_area=area)
        counts(org)
        with tenant_scope(org):
            captured = count_queries(
                lambda: selectors.focus_area_list_for_catalog(organization=org)
            )
        assert len(captured) == 1
