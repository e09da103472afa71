"""Schools inside an organization (docs/decisions/0029): the roster's school makes the school and
puts the member in it, a move moves them, a link made by hand stays; a school leader leads their
schools only, and another school — of the organization or any other — answers 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404

from credentials_site.exceptions import ApplicationError
from programs import selectors, services
from programs.models import Membership, Organization, School, SchoolMembership, StaffRole, User
from programs.services.members import member_row_clean, member_upsert_many
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def rows(*specs: dict[str, Any]) -> list[Any]:
    cleaned = []
    for spec in specs:
        row, errors = member_row_clean(spec)
        assert not errors, errors
        cleaned.append(row)
    return cleaned


def placed(organization: Organization) -> list[tuple[str, str, str, str]]:
    """Who is in which school of the organization, and how."""
    return sorted(
        SchoolMembership.objects.filter(organization=organization).values_list(
            "membership__user__email", "school__name", "school__district", "source"
        )
    )


@pytest.fixture
def org() -> Organization:
    return OrganizationFactory(slug="riverside")


def test_a_roster_makes_the_schools_it_names_once_in_any_case(org: Organization) -> None:
    member_upsert_many(
        organization=org,
        rows=rows(
            {"email": "ana@r.example", "school": "Lincoln Elementary", "district": "Riverside"},
            {"email": "ben@r.example", "school": " lincoln elementary ", "district": "RIVERSIDE"},
            {"email": "cy@r.example", "school": "Lincoln Elementary", "district": "Eastside"},
            {"email": "dee@r.example"},
        ),
        actor=None,
    )
    assert sorted(School.objects.filter(organization=org).values_list("name", "district")) == [
        ("Lincoln Elementary", "Eastside"),
        ("Lincoln Elementary", "Riverside"),
    ]
    assert placed(org) == [
        ("ana@r.example", "Lincoln Elementary", "Riverside", "roster"),
        ("ben@r.example", "Lincoln Elementary", "Riverside", "roster"),
        ("cy@r.example", "Lincoln Elementary", "Eastside", "roster"),
    ]


def test_a_move_on_the_roster_moves_the_member_but_keeps_a_link_made_by_hand(
    org: Organization,
) -> None:
    member_upsert_many(
        organization=org,
        rows=rows({"email": "ana@r.example", "school": "Lincoln", "district": "R"}),
        actor=None,
    )
    membership = Membership.objects.get(organization=org, user__email="ana@r.example")
    coach_school = School.objects.create(organization=org, name="Adams Middle", district="R")
    services.school_member_add(school=coach_school, membership=membership, actor=None)

    member_upsert_many(
        organization=org,
        rows=rows({"email": "ana@r.example", "school": "Roosevelt High", "district": "R"}),
        actor=None,
    )
    assert placed(org) == [
        ("ana@r.example", "Adams Middle", "R", "admin"),
        ("ana@r.example", "Roosevelt High", "R", "roster"),
    ]


def test_schools_of_another_organization_are_never_reused_or_joined(org: Organization) -> None:
    other = OrganizationFactory(slug="eastside")
    theirs = School.objects.create(organization=other, name="Lincoln", district="R")
    member_upsert_many(
        organization=org,
        rows=rows({"email": "ana@r.example", "school": "Lincoln", "district": "R"}),
        actor=None,
    )
    ours = School.objects.get(organization=org)
    assert ours.pk != theirs.pk
    assert placed(other) == []
    membership = Membership.objects.get(organization=org)
    with pytest.raises(ApplicationError) as refused:
        services.school_member_add(school=theirs, membership=membership, actor=None)
    assert "school" in refused.value.fields
    assert placed(org) == [("ana@r.example", "Lincoln", "R", "roster")]


class TestSchoolLeader:
    @pytest.fixture
    def schools(self, org: Organization) -> tuple[School, School]:
        return (
            School.objects.create(organization=org, name="Lincoln Elementary"),
            School.objects.create(organization=org, name="Roosevelt High"),
        )

    def test_a_leader_leads_their_schools_only(
        self, org: Organization, schools: tuple[School, School]
    ) -> None:
        lincoln, roosevelt = schools
        principal = UserFactory(email="principal@r.example")
        role = services.staff_role_grant(
            organization=org,
            user=principal,
            role=StaffRole.Role.SCHOOL_LEADER,
            actor=None,
            schools=[lincoln],
            title="Principal",
        )
        assert role.title == "Principal"
        assert list(selectors.school_list_led_by(organization=org, user=principal)) == [lincoln]
        assert (
            selectors.school_get_led_by(organization=org, user=principal, pk=lincoln.pk) == lincoln
        )
        with pytest.raises(Http404):
            selectors.school_get_led_by(organization=org, user=principal, pk=roosevelt.pk)

        other = OrganizationFactory(slug="eastside")
        elsewhere = School.objects.create(organization=other, name="Lincoln Elementary")
        with pytest.raises(Http404):
            selectors.school_get_led_by(organization=other, user=principal, pk=elsewhere.pk)
        with pytest.raises(Http404):
            selectors.school_get_led_by(organization=org, user=principal, pk=elsewhere.pk)

    def test_a_leader_needs_a_school_of_this_organization(
        self, org: Organization, schools: tuple[School, School]
    ) -> None:
        principal: User = UserFactory(email="principal@r.example")
        with pytest.raises(ApplicationError) as refused:
            services.staff_role_grant(
                organization=org, user=principal, role=StaffRole.Role.SCHOOL_LEADER, actor=None
            )
        assert "schools" in refused.value.fields
        elsewhere = School.objects.create(organization=OrganizationFactory(), name="Other")
        with pytest.raises(ApplicationError) as refused:
            services.staff_role_grant(
                organization=org,
                user=principal,
                role=StaffRole.Role.SCHOOL_LEADER,
                actor=None,
                schools=[elsewhere],
            )
        assert "schools" in refused.value.fields
        assert not StaffRole.objects.filter(user=principal).exists()

    def test_school_members_lists_the_school_only(
        self, org: Organization, schools: tuple[School, School]
    ) -> None:
        lincoln, roosevelt = schools
        ana = MembershipFactory(organization=org, user=UserFactory(email="ana@r.example"))
        ben = MembershipFactory(organization=org, user=UserFactory(email="ben@r.example"))
        services.school_member_add(school=lincoln, membership=ana, actor=None)
        services.school_member_add(school=roosevelt, membership=ben, actor=None)
        assert list(selectors.school_members(school=lincoln)) == [ana]
