"""People rules as services: accounts named by an admin, staff roles granted, changed and taken
away (only an owner makes or unmakes an owner), each audited; every refusal changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from credentials_site.exceptions import ApplicationError
from programs import services
from programs.errors import ProgramErrorCode as Code
from programs.models import AuditEvent, Organization, Program, StaffRole, User
from tests.factories import OrganizationFactory, ProgramFactory, StaffRoleFactory, UserFactory

pytestmark = pytest.mark.django_db

Role = StaffRole.Role


def state() -> dict[str, Any]:
    """Everything a people service could change, as plain values."""
    return {
        "users": sorted(User.objects.values_list("pk", "email", "password")),
        "roles": sorted(
            (
                role.pk,
                role.organization_id,
                role.user_id,
                role.role,
                sorted(role.programs.values_list("pk", flat=True)),
                sorted(role.credentials.values_list("pk", flat=True)),
            )
            for role in StaffRole.objects.all()
        ),
        "audit": sorted(AuditEvent.objects.values_list("pk", "action")),
    }


def refused(code: str, func: Callable[[], Any]) -> ApplicationError:
    """Run ``func``; it must raise ApplicationError(code) and change nothing."""
    before = state()
    with pytest.raises(ApplicationError) as error:
        func()
    assert error.value.code == code, error.value.message
    assert state() == before
    return error.value


def person_with(org: Organization, role: str) -> User:
    return StaffRoleFactory(organization=org, role=role).user


def audited(org: Organization, action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(organization=org, action=action).order_by("pk"))


@pytest.fixture
def org() -> Organization:
    return OrganizationFactory()


@pytest.fixture
def admin(org: Organization) -> User:
    return person_with(org, Role.PROGRAM_ADMIN)


@pytest.fixture
def owner(org: Organization) -> User:
    return person_with(org, Role.OWNER)


class TestUserGetOrInvite:
    def test_an_existing_account_is_found_in_any_case(self, org: Organization, admin: User) -> None:
        # given
        teacher = UserFactory(email="teacher@example.org")
        before = state()
        # when
        found = services.user_get_or_invite(
            email=" Teacher@Example.ORG ", organization=org, actor=admin
        )
        # then
        assert found == teacher
        assert state() == before

    def test_a_new_address_gets_an_account_without_a_password_and_an_audit_event(
        self, org: Organization, admin: User
    ) -> None:
        # when
        user = services.user_get_or_invite(
            email="New.Coach@Example.org", organization=org, actor=admin
        )
        # then
        assert user.email == "new.coach@example.org"
        assert not user.has_usable_password()
        (event,) = audited(org, "user.invited")
        assert event.actor == admin and event.object_id == str(user.pk)
        assert "new.coach@example.org" in event.summary

    def test_what_is_not_an_address_is_refused_naming_the_field(
        self, org: Organization, admin: User
    ) -> None:
        error = refused(
            Code.INVALID_EMAIL,
            lambda: services.user_get_or_invite(
                email="not-an-address", organization=org, actor=admin
            ),
        )
        assert error.fields == {"email": ["“not-an-address” is not an e-mail address."]}


class TestGrant:
    def test_a_program_admin_makes_a_reviewer_limited_to_a_program(
        self, org: Organization, admin: User
    ) -> None:
        # given
        program = ProgramFactory(organization=org)
        coach = UserFactory()
        # when
        role = services.staff_role_grant(
            organization=org, user=coach, role=Role.REVIEWER, programs=[program], actor=admin
        )
        # then
        role = StaffRole.objects.get(pk=role.pk)
        assert (role.organization, role.user, role.role) == (org, coach, Role.REVIEWER)
        assert list(role.programs.all()) == [program]
        (event,) = audited(org, "staff_role.granted")
        assert event.actor == admin
        assert event.data == {
            "user": coach.email,
            "role": "reviewer",
            "programs": [program.pk],
            "credentials": [],
        }

    def test_only_an_owner_makes_an_owner(
        self, org: Organization, admin: User, owner: User
    ) -> None:
        # given
        coach = UserFactory()
        # when a program admin tries, then nothing changes
        error = refused(
            Code.NOT_ALLOWED,
            lambda: services.staff_role_grant(
                organization=org, user=coach, role=Role.OWNER, actor=admin
            ),
        )
        assert error.fields == {"role": [services.OWNER_ONLY_GIVES]}
        # when an owner does, it is done
        services.staff_role_grant(organization=org, user=coach, role=Role.OWNER, actor=owner)
        assert StaffRole.objects.filter(organization=org, user=coach, role=Role.OWNER).exists()

    def test_an_owner_of_another_organization_cannot_make_an_owner_here(
        self, org: Organization
    ) -> None:
        # given someone who owns another organization and is only a program admin here
        elsewhere = person_with(OrganizationFactory(), Role.OWNER)
        StaffRoleFactory(organization=org, user=elsewhere, role=Role.PROGRAM_ADMIN)
        coach = UserFactory()
        # when / then
        refused(
            Code.NOT_ALLOWED,
            lambda: services.staff_role_grant(
                organization=org, user=coach, role=Role.OWNER, actor=elsewhere
            ),
        )

    def test_someone_who_does_not_administer_the_organization_is_refused(
        self, org: Organization
    ) -> None:
        # given an admin of another organization, and a reviewer here
        outsider = person_with(OrganizationFactory(), Role.PROGRAM_ADMIN)
        reviewer = person_with(org, Role.REVIEWER)
        coach = UserFactory()
        # when / then
        for actor in (outsider, reviewer):
            refused(
                Code.NOT_ALLOWED,
                lambda actor=actor: services.staff_role_grant(
                    organization=org, user=coach, role=Role.REVIEWER, actor=actor
                ),
            )

    def test_another_organizations_program_is_refused_naming_the_field(
        self, org: Organization, admin: User
    ) -> None:
        # given
        theirs = ProgramFactory(organization=OrganizationFactory())
        coach = UserFactory()
        # when / then
        error = refused(
            Code.WRONG_ORGANIZATION,
            lambda: services.staff_role_grant(
                organization=org, user=coach, role=Role.REVIEWER, programs=[theirs], actor=admin
            ),
        )
        assert list(error.fields) == ["programs"]

    def test_the_same_role_twice_is_refused(self, org: Organization, admin: User) -> None:
        # given
        reviewer = person_with(org, Role.REVIEWER)
        # when / then
        error = refused(
            Code.ALREADY_GRANTED,
            lambda: services.staff_role_grant(
                organization=org, user=reviewer, role=Role.REVIEWER, actor=admin
            ),
        )
        assert error.message == f"{reviewer.email} is already reviewer here."

    def test_a_role_that_does_not_exist_is_refused(self, org: Organization, admin: User) -> None:
        coach = UserFactory()
        refused(
            Code.INVALID,
            lambda: services.staff_role_grant(
                organization=org, user=coach, role="emperor", actor=admin
            ),
        )


class TestChange:
    def test_a_reviewers_limits_change_and_the_change_is_audited(
        self, org: Organization, admin: User
    ) -> None:
        # given
        first, second = ProgramFactory(organization=org), ProgramFactory(organization=org)
        role = StaffRoleFactory(organization=org, role=Role.REVIEWER)
        role.programs.set([first])
        # when
        services.staff_role_change(
            staff_role=role,
            user=role.user,
            role=Role.SENIOR_REVIEWER,
            programs=[second],
            actor=admin,
        )
        # then
        role.refresh_from_db()
        assert role.role == Role.SENIOR_REVIEWER
        assert list(role.programs.all()) == [second]
        (event,) = audited(org, "staff_role.changed")
        assert event.data["before"]["programs"] == [first.pk]
        assert event.data["after"] == {
            "user": role.user.email,
            "role": "senior_reviewer",
            "programs": [second.pk],
            "credentials": [],
        }

    def test_a_program_admin_cannot_change_an_owners_role_nor_make_one(
        self, org: Organization, admin: User, owner: User
    ) -> None:
        # given
        owner_role = StaffRole.objects.get(user=owner)
        reviewer_role = StaffRoleFactory(organization=org, role=Role.REVIEWER)
        # when / then
        error = refused(
            Code.NOT_ALLOWED,
            lambda: services.staff_role_change(
                staff_role=owner_role, user=owner, role=Role.REVIEWER, actor=admin
            ),
        )
        assert error.fields == {"role": [services.OWNER_ONLY_TAKES]}
        refused(
            Code.NOT_ALLOWED,
            lambda: services.staff_role_change(
                staff_role=reviewer_role, user=reviewer_role.user, role=Role.OWNER, actor=admin
            ),
        )

    def test_a_change_into_a_role_the_person_already_holds_is_refused(
        self, org: Organization, admin: User
    ) -> None:
        # given a person who is both reviewer and senior reviewer
        reviewer_role = StaffRoleFactory(organization=org, role=Role.REVIEWER)
        StaffRoleFactory(organization=org, user=reviewer_role.user, role=Role.SENIOR_REVIEWER)
        # when / then
        refused(
            Code.ALREADY_GRANTED,
            lambda: services.staff_role_change(
                staff_role=reviewer_role,
                user=reviewer_role.user,
                role=Role.SENIOR_REVIEWER,
                actor=admin,
            ),
        )


class TestRevoke:
    def test_a_program_admin_takes_a_reviewer_role_away_and_it_is_audited(
        self, org: Organization, admin: User
    ) -> None:
        # given
        program = ProgramFactory(organization=org)
        role = StaffRoleFactory(organization=org, role=Role.REVIEWER)
        role.programs.set([program])
        # when
        services.staff_role_revoke(staff_role=role, actor=admin)
        # then
        assert not StaffRole.objects.filter(pk=role.pk).exists()
        (event,) = audited(org, "staff_role.revoked")
        assert event.actor == admin and event.object_id == str(role.pk)
        assert event.data["programs"] == [program.pk]
        assert event.summary == f"{role.user.email} is no longer reviewer"

    def test_only_an_owner_takes_an_owners_role_away(
        self, org: Organization, admin: User, owner: User
    ) -> None:
        # given a second owner
        other_owner = StaffRoleFactory(organization=org, role=Role.OWNER)
        # when a program admin tries, then nothing changes
        refused(
            Code.NOT_ALLOWED,
            lambda: services.staff_role_revoke(staff_role=other_owner, actor=admin),
        )
        # when an owner does, it is done
        services.staff_role_revoke(staff_role=other_owner, actor=owner)
        assert not StaffRole.objects.filter(pk=other_owner.pk).exists()

    def test_an_admin_of_another_organization_is_refused(self, org: Organization) -> None:
        # given
        role = StaffRoleFactory(organization=org, role=Role.REVIEWER)
        outsider = person_with(OrganizationFactory(), Role.OWNER)
        # when / then
        refused(
            Code.NOT_ALLOWED, lambda: services.staff_role_revoke(staff_role=role, actor=outsider)
        )


class TestTheAdminUsesTheServices:
    """The admin pages' people changes are the services' (the admin tests cover the forms)."""

    def test_granting_changing_and_removing_in_the_admin_is_audited(
        self, client: Client, org: Organization, admin: User
    ) -> None:
        # given
        program: Program = ProgramFactory(organization=org)
        client.force_login(admin)
        # when a new person is made a reviewer, then limited, then removed
        added = client.post(
            "/admin/programs/staffrole/add/",
            {"user_email": "New.Reviewer@example.org", "role": "reviewer"},
        )
        role = StaffRole.objects.get(user__email="new.reviewer@example.org")
        changed = client.post(
            f"/admin/programs/staffrole/{role.pk}/change/",
            {
                "user_email": "new.reviewer@example.org",
                "role": "reviewer",
                "programs": [program.pk],
            },
        )
        removed = client.post(f"/admin/programs/staffrole/{role.pk}/delete/", {"post": "yes"})
        # then
        assert [r.status_code for r in (added, changed, removed)] == [302, 302, 302]
        actions = [e.action for e in AuditEvent.objects.filter(organization=org).order_by("pk")]
        assert actions == [
            "user.invited",
            "staff_role.granted",
            "staff_role.changed",
            "staff_role.revoked",
        ]
        assert not StaffRole.objects.filter(pk=role.pk).exists()
        # and the audit trail page lists them
        trail = client.get("/admin/programs/auditevent/").content.decode()
        assert "new.reviewer@example.org is no longer reviewer" in trail

    def test_a_new_member_by_email_gets_an_account_through_the_service(
        self, client: Client, org: Organization, admin: User
    ) -> None:
        # given
        client.force_login(admin)
        # when
        response = client.post(
            "/admin/programs/membership/add/",
            {"user_email": "member@example.org", "status": "active"},
        )
        # then
        assert response.status_code == 302
        (event,) = audited(org, "user.invited")
        assert event.actor == admin
        assert event.object_id == str(User.objects.get(email="member@example.org").pk)

    def test_bulk_removal_of_an_owner_by_a_program_admin_is_refused(
        self, client: Client, org: Organization, admin: User, owner: User
    ) -> None:
        # given
        reviewer_role = StaffRoleFactory(organization=org, role=Role.REVIEWER)
        owner_role = StaffRole.objects.get(user=owner)
        client.force_login(admin)
        before = state()
        # when the changelist's "delete selected" names the owner's role too
        response = client.post(
            "/admin/programs/staffrole/",
            {
                "action": "delete_selected",
                "_selected_action": [reviewer_role.pk, owner_role.pk],
                "post": "yes",
            },
        )
        # then
        assert response.status_code == 403
        assert state() == before
