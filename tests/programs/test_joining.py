"""Becoming a member without an admin typing it in: asking to join from a members-only
credential (approved or declined in bulk in the admin, e-mailed either way), and membership by
verified e-mail domain (the demo district's staff)."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from django.core.management import call_command
from django.test import Client

from credentials_site.exceptions import ApplicationError
from programs import services
from programs.models import (
    AuditEvent,
    CredentialVersion,
    MemberEmailDomain,
    Membership,
    MembershipRequest,
    Organization,
    User,
)
from submissions import services as submission_services
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    StaffRoleFactory,
    UserFactory,
    make_credential,
)

pytestmark = pytest.mark.django_db

REQUESTS = "/admin/programs/membershiprequest/"


def members_only(org: Organization) -> CredentialVersion:
    return make_credential(org, members_only=True, non_member_fee=None)


def page_of(version: CredentialVersion) -> str:
    return version.credential.get_absolute_url()


def decide(client: Client, action: str, *requests: MembershipRequest) -> Any:
    return client.post(
        REQUESTS, {"action": action, "_selected_action": [str(r.pk) for r in requests]}
    )


# --- Asking to join ---------------------------------------------------------------------------


class TestAskToJoin:
    def test_a_non_member_asks_from_the_credential_page_and_sees_it_waiting(self) -> None:
        # given a signed-in non-member on a members-only credential
        org = OrganizationFactory(short_name="GAEL")
        version = members_only(org)
        educator = UserFactory()
        client = Client()
        client.force_login(educator)
        page = client.get(page_of(version)).content.decode()
        assert "Ask to join GAEL" in page
        # when they ask, with their member number, school and a note
        response = client.post(
            f"/o/{org.slug}/join/",
            {
                "credential": version.credential.slug,
                "member_number": "GAEL-9",
                "school": "Oak Middle",
                "note": "Joined in May.",
            },
        )
        # then the request waits, and the credential page says so
        assert response.status_code == 302 and response["Location"] == page_of(version)
        request = MembershipRequest.objects.get(organization=org, user=educator)
        assert (request.status, request.member_number, request.school, request.note) == (
            "pending",
            "GAEL-9",
            "Oak Middle",
            "Joined in May.",
        )
        page = client.get(page_of(version)).content.decode()
        assert f"Requested on {request.created_at:%-d %B %Y}, waiting for GAEL" in page
        assert "Ask to join GAEL" not in page
        assert AuditEvent.objects.filter(action="membership_request.submitted").count() == 1

    def test_a_second_request_while_one_waits_is_refused(self) -> None:
        org = OrganizationFactory()
        educator = UserFactory()
        services.membership_request_submit(organization=org, user=educator)
        with pytest.raises(ApplicationError, match="already waiting"):
            services.membership_request_submit(organization=org, user=educator, note="again")
        assert MembershipRequest.objects.filter(user=educator).count() == 1

    def test_a_current_member_cannot_ask(self) -> None:
        org = OrganizationFactory()
        member = MembershipFactory(organization=org)
        with pytest.raises(ApplicationError, match="already"):
            services.membership_request_submit(organization=org, user=member.user)
        assert not MembershipRequest.objects.exists()

    def test_too_long_a_note_is_a_form_error_and_sends_nothing(self) -> None:
        org = OrganizationFactory()
        client = Client()
        client.force_login(UserFactory())
        response = client.post(f"/o/{org.slug}/join/", {"note": "x" * 1001})
        assert response.status_code == 200
        assert "Nothing was sent" in response.content.decode()
        assert not MembershipRequest.objects.exists()

    def test_asking_needs_signing_in(self) -> None:
        org = OrganizationFactory()
        response = Client().post(f"/o/{org.slug}/join/", {"note": "hi"})
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        assert not MembershipRequest.objects.exists()


class TestDecidingRequests:
    def _waiting(self, org: Organization, n: int) -> list[MembershipRequest]:
        version = members_only(org)
        return [
            services.membership_request_submit(
                organization=org,
                user=UserFactory(),
                member_number=f"M-{i}",
                school="Elm",
                credential=version.credential,
            )
            for i in range(n)
        ]

    def test_an_admin_approves_in_bulk_and_each_person_is_emailed(
        self, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
    ) -> None:
        # given two waiting requests and a program admin
        org = OrganizationFactory(short_name="GAEL")
        first, second = self._waiting(org, 2)
        admin = StaffRoleFactory(organization=org, role="program_admin").user
        client = Client()
        client.force_login(admin)
        assert first.user.email in client.get(REQUESTS).content.decode()
        # when they approve both
        with django_capture_on_commit_callbacks(execute=True):
            response = decide(client, "approve", first, second)
        # then both are active members (from their request), and each got an e-mail
        assert response.status_code == 302
        for request in (first, second):
            request.refresh_from_db()
            assert request.status == "approved" and request.decided_by == admin
            membership = Membership.objects.get(organization=org, user=request.user)
            assert membership.is_current() and membership.source == "request"
            assert membership.member_number == request.member_number
        assert sorted(m.to[0] for m in mailoutbox) == sorted([first.user.email, second.user.email])
        assert all(m.subject == "You are now a GAEL member" for m in mailoutbox)
        assert AuditEvent.objects.filter(action="membership_request.approved").count() == 2

    def test_declining_emails_the_person_and_makes_no_member(
        self, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
    ) -> None:
        org = OrganizationFactory()
        (request,) = self._waiting(org, 1)
        client = Client()
        client.force_login(StaffRoleFactory(organization=org, role="program_admin").user)
        with django_capture_on_commit_callbacks(execute=True):
            decide(client, "decline", request)
        request.refresh_from_db()
        assert request.status == "declined"
        assert not Membership.objects.filter(user=request.user).exists()
        assert [m.to for m in mailoutbox] == [[request.user.email]]
        assert "did not approve" in mailoutbox[0].body
        # and they may ask again
        services.membership_request_submit(organization=org, user=request.user)

    def test_a_decided_request_is_not_decided_again(
        self, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
    ) -> None:
        org = OrganizationFactory()
        (request,) = self._waiting(org, 1)
        admin = StaffRoleFactory(organization=org, role="program_admin").user
        with django_capture_on_commit_callbacks(execute=True):
            services.membership_request_decide(
                membership_request=request, approve=False, actor=admin
            )
            with pytest.raises(ApplicationError, match="already declined"):
                services.membership_request_decide(
                    membership_request=request, approve=True, actor=admin
                )
        assert len(mailoutbox) == 1
        assert not Membership.objects.filter(user=request.user).exists()

    def test_another_organizations_admin_neither_sees_nor_decides_them(self) -> None:
        # given a request to A and an admin of B
        a, b = OrganizationFactory(), OrganizationFactory()
        (request,) = self._waiting(a, 1)
        admin_b = StaffRoleFactory(organization=b, role="program_admin").user
        client = Client()
        client.force_login(admin_b)
        # then B's admin does not see it, cannot open it, and approving it does nothing
        assert request.user.email not in client.get(REQUESTS).content.decode()
        assert client.get(f"{REQUESTS}{request.pk}/change/").status_code == 404
        decide(client, "approve", request)
        request.refresh_from_db()
        assert request.status == "pending"
        with pytest.raises(ApplicationError):
            services.membership_request_decide(
                membership_request=request, approve=True, actor=admin_b
            )
        assert not Membership.objects.filter(user=request.user).exists()


# --- Membership by verified e-mail domain ------------------------------------------------------


def staff_domain(org: Organization, domain: str = "riverside.k12.ca.us") -> None:
    services.member_email_domain_add(organization=org, domain=domain, actor=None)


class TestMembershipByDomain:
    def test_a_verified_address_at_a_listed_domain_is_a_member_on_first_visit(self) -> None:
        # given a district that lists its domain, and a teacher with a verified address there
        org = OrganizationFactory()
        staff_domain(org)
        version = make_credential(org, member_fee=0, non_member_fee=Decimal("49.00"))
        teacher = UserFactory(email="teacher@riverside.k12.ca.us")
        client = Client()
        client.force_login(teacher)
        # when they open a credential, then they are a member and it is free for them
        page = client.get(page_of(version)).content.decode()
        membership = Membership.objects.get(organization=org, user=teacher)
        assert membership.source == "domain" and membership.is_current()
        assert "Free for you as a" in page and "49.00" not in page.split("apply-fee")[1][:200]
        event = AuditEvent.objects.get(action="membership.created", object_id=str(membership.pk))
        assert event.data["source"] == "domain"

    def test_an_unverified_address_at_the_domain_does_not_join(self) -> None:
        # given the same domain, and someone whose address there is not verified
        org = OrganizationFactory()
        staff_domain(org)
        version = members_only(org)
        someone = User.objects.create_user("someone@riverside.k12.ca.us", "pw-12345678")
        EmailAddress.objects.create(user=someone, email=someone.email, verified=False, primary=True)
        # when they visit and apply, then they are no member and are refused
        client = Client()
        client.force_login(someone)
        client.get(page_of(version))
        with pytest.raises(ApplicationError, match="members only"):
            submission_services.application_apply(credential=version.credential, educator=someone)
        assert not Membership.objects.filter(user=someone).exists()

    def test_a_subdomain_or_lookalike_does_not_join(self) -> None:
        org = OrganizationFactory()
        staff_domain(org)
        for address in ("a@evil.riverside.k12.ca.us", "b@riverside.k12.ca.us.evil.org"):
            user = UserFactory(email=address)
            assert services.membership_join_by_domain(organization=org, user=user) is None
        assert not Membership.objects.filter(organization=org).exists()

    def test_confirming_an_address_makes_the_membership(self) -> None:
        # given a new account whose address at the domain is not yet confirmed
        org = OrganizationFactory()
        staff_domain(org)
        other = OrganizationFactory()  # lists nothing
        user = User.objects.create_user("new@riverside.k12.ca.us", "pw-12345678")
        address = EmailAddress.objects.create(
            user=user, email=user.email, verified=False, primary=True
        )
        assert services.membership_join_by_domain_everywhere(user=user) == []
        # when they follow the link of the confirmation e-mail and confirm
        key = EmailConfirmationHMAC(address).key
        response = Client().post(f"/accounts/confirm-email/{key}/")
        assert response.status_code == 302
        address.refresh_from_db()
        assert address.verified
        # then they are a member of the district, and of nobody else
        assert list(Membership.objects.filter(user=user).values_list("organization", "source")) == [
            (org.pk, "domain")
        ]
        assert not Membership.objects.filter(organization=other).exists()

    def test_an_existing_membership_is_left_as_the_admin_set_it(self) -> None:
        org = OrganizationFactory()
        staff_domain(org)
        teacher = UserFactory(email="t@riverside.k12.ca.us")
        lapsed = MembershipFactory(organization=org, user=teacher, status="lapsed")
        assert services.membership_join_by_domain(organization=org, user=teacher) == lapsed
        lapsed.refresh_from_db()
        assert lapsed.status == "lapsed"

    def test_a_domain_that_is_not_one_is_refused_with_its_field(self) -> None:
        org = OrganizationFactory()
        for value in ("someone@riverside.org", "not a domain", "localhost"):
            with pytest.raises(ApplicationError) as refused:
                staff_domain(org, value)
            assert "domain" in refused.value.fields
        assert not MemberEmailDomain.objects.exists()

    def test_the_demo_districts_educator_is_staff_and_pays_nothing(self) -> None:
        # given the demo
        call_command("load_demo", stdout=io.StringIO())
        riverside = Organization.objects.get(slug="riverside-usd")
        educator = User.objects.get(email="educator@riverside.demo")
        # then their verified district address makes them a member, from the domain
        membership = Membership.objects.get(organization=riverside, user=educator)
        assert membership.source == "domain" and membership.is_current()
        # and the credential that costs others 49 USD is free for them
        version = CredentialVersion.objects.get(
            organization=riverside, state="published", non_member_fee=Decimal("49.00")
        )
        application = submission_services.application_apply(
            credential=version.credential, educator=educator
        )
        assert application.fee_amount == Decimal("0") and application.was_member
