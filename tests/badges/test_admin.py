"""Program admins and badges in the admin panel: issued badges (read-only, revoked with a
reason), signing keys (public halves only, rotated with a button), failed issuing attempts
(retried) and status lists. Always limited to the organizations the user administers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from badges import documents, services
from badges.models import Badge, SigningKey, StatusList
from programs.models import AuditEvent, Organization, StaffRole, User
from submissions.models import Application
from tests.conftest import assert_same_query_count
from tests.factories import OrganizationFactory, StaffRoleFactory, UserFactory
from tests.worker import purge_queue, running_worker, wait_for

pytestmark = pytest.mark.django_db

Approve = Callable[..., Application]
BADGES = "/admin/badges/badge/"
KEYS = "/admin/badges/signingkey/"
ROTATE = "/admin/badges/signingkey/rotate/"
FAILURES = "/admin/badges/issuefailure/"
REASON = "The lesson plan was copied from a published source."
PRIVATE_NOTE = "Found by comparing it with the district handbook, page 12."


def role(org: Organization, kind: str, email: str | None = None) -> User:
    person = UserFactory(email=email) if email else UserFactory()
    return StaffRoleFactory(organization=org, role=kind, user=person).user


def html(response: Any) -> str:
    return response.content.decode()


def revoke_url(badge: Badge) -> str:
    return f"{BADGES}{badge.pk}/revoke/"


def change_url(badge: Badge) -> str:
    return f"{BADGES}{badge.pk}/change/"


def more_badges(like: Badge, n: int) -> list[Badge]:
    """``n`` more badges of the same credential for new educators, written straight to the
    database (the list's size is what matters, not how they were issued)."""
    assert like.version is not None
    taken = Badge.objects.filter(status_list=like.status_list).count()
    made = []
    for i in range(n):
        educator = UserFactory()
        application = Application.objects.create(
            organization_id=like.organization_id,
            educator=educator,
            credential_id=like.version.credential_id,
            version=like.version,
            status=Application.Status.AWARDED,
        )
        made.append(
            Badge.objects.create(
                organization_id=like.organization_id,
                recipient=educator,
                application=application,
                version=like.version,
                name=like.name,
                status_list=like.status_list,
                status_index=10_000 + taken + i,
                signing_key=like.signing_key,
                credential=like.credential,
                salt=like.salt,
            )
        )
    return made


def assert_list_query_count_constant(client: Client, url: str, add: Callable[[int], Any]) -> None:
    """The list at 1 row and at 20 rows costs the same number of queries."""

    def measure() -> CaptureQueriesContext:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return ctx

    add(1)
    measure()
    small = measure()
    add(19)
    large = measure()
    assert_same_query_count(small, large)


@pytest.fixture
def admin_user(org: Organization) -> User:
    return role(org, StaffRole.Role.PROGRAM_ADMIN, "admin@example.org")


@pytest.fixture
def admin_client(client: Client, admin_user: User) -> Client:
    client.force_login(admin_user)
    return client


@pytest.fixture
def badge(approve: Approve) -> Badge:
    """A badge of ``org`` (the riverside organization), issued through the real path."""
    application = approve(title="Formative Assessment")
    return services.badge_issue(application_id=application.pk)


@pytest.fixture
def other_org() -> Organization:
    return OrganizationFactory(name="Bravo District", slug="bravo")


@pytest.fixture
def their_badge(approve: Approve, other_org: Organization) -> Badge:
    application = approve(
        organization=other_org,
        title="Bravo Coaching",
        educator=UserFactory(email="theirs@example.org"),
    )
    return services.badge_issue(application_id=application.pk)


# --- The list and the page of a badge ------------------------------------------------------------


def test_the_admin_index_offers_badges_to_program_admins(admin_client: Client) -> None:
    page = html(admin_client.get("/admin/"))
    for url in (BADGES, KEYS, FAILURES, "/admin/badges/statuslist/"):
        assert f'href="{url}"' in page, url


class TestBadgeList:
    def test_lists_this_organizations_badges_with_their_state(
        self, admin_client: Client, badge: Badge, their_badge: Badge
    ) -> None:
        # given a revoked badge beside the valid one
        revoked = more_badges(badge, 1)[0]
        services.badge_revoke(badge=revoked, reason=REASON, actor=None)
        # when the program admin opens the list
        page = html(admin_client.get(BADGES))
        # then their badges are listed with state and recipient, another organization's not
        assert badge.recipient.email in page
        assert revoked.recipient.email in page
        assert "Formative Assessment" in page
        assert ">Valid<" in page and ">Revoked<" in page
        assert "theirs@example.org" not in page
        assert "Bravo Coaching" not in page

    def test_filters_by_state_and_searches_by_email(
        self, admin_client: Client, badge: Badge
    ) -> None:
        # given one valid and one revoked badge
        revoked = more_badges(badge, 1)[0]
        services.badge_revoke(badge=revoked, reason=REASON, actor=None)
        # when filtering on revoked, and searching by the valid one's e-mail
        only_revoked = html(admin_client.get(BADGES, {"state": "revoked"}))
        found = html(admin_client.get(BADGES, {"q": badge.recipient.email}))
        # then
        assert revoked.recipient.email in only_revoked
        assert badge.recipient.email not in only_revoked
        assert badge.recipient.email in found
        assert revoked.recipient.email not in found

    def test_credential_filter_offers_only_this_organizations_credentials(
        self, admin_client: Client, approve: Approve, badge: Badge, their_badge: Badge
    ) -> None:
        # given badges of two credentials here, and one of another organization's
        second = services.badge_issue(application_id=approve(title="Coaching Cycles").pk)
        assert badge.version and second.version and their_badge.version
        # when the program admin filters by credential
        page = html(admin_client.get(BADGES))
        coaching = html(
            admin_client.get(
                BADGES, {"version__credential__id__exact": second.version.credential_id}
            )
        )
        # then both of theirs are offered, the other organization's is not
        assert "By credential" in page
        assert f"version__credential__id__exact={badge.version.credential_id}" in page
        assert f"version__credential__id__exact={second.version.credential_id}" in page
        assert f"version__credential__id__exact={their_badge.version.credential_id}" not in page
        assert second.recipient.email in coaching
        assert badge.recipient.email not in coaching

    def test_query_count_does_not_grow_with_rows(self, admin_client: Client, badge: Badge) -> None:
        assert_list_query_count_constant(admin_client, BADGES, lambda n: more_badges(badge, n))

    def test_a_badge_page_is_read_only_with_the_signed_credential_and_links(
        self, admin_client: Client, badge: Badge
    ) -> None:
        # when the program admin opens a badge
        page = html(admin_client.get(change_url(badge)))
        # then nothing can be edited, the credential is shown pretty-printed, and the page
        # links to the public verification page and to the revoke page
        assert 'name="_save"' not in page
        assert 'class="badge-credential"' in page
        assert "&quot;OpenBadgeCredential&quot;" in page
        assert "\n  &quot;@context&quot;: [" in page
        assert f'href="/badges/{badge.public_id}/"' in page
        assert revoke_url(badge) in page
        # and it cannot be changed, added or deleted by posting
        assert admin_client.post(change_url(badge), {"name": "Forged"}).status_code == 403
        assert admin_client.get(f"{BADGES}add/").status_code == 403
        assert admin_client.post(f"{BADGES}{badge.pk}/delete/", {"post": "yes"}).status_code in (
            403,
            404,
        )
        badge.refresh_from_db()
        assert badge.name == "Formative Assessment"

    def test_another_organizations_badge_answers_404(
        self, admin_client: Client, badge: Badge, their_badge: Badge
    ) -> None:
        # when org A's admin opens org B's badge, or its revoke page, or posts to it
        responses = [
            admin_client.get(change_url(their_badge)),
            admin_client.get(revoke_url(their_badge)),
            admin_client.post(revoke_url(their_badge), {"reason": REASON}),
            admin_client.get(f"{BADGES}{their_badge.pk}/history/"),
        ]
        # then each is "not found", shows nothing of B's, and changes nothing
        for response in responses:
            assert response.status_code == 404
            assert "theirs@example.org" not in html(response)
        their_badge.refresh_from_db()
        assert their_badge.revoked_at is None


# --- Revoking -----------------------------------------------------------------------------------


class TestRevoke:
    def test_the_reason_is_required_and_nothing_changes_without_it(
        self,
        admin_client: Client,
        badge: Badge,
        django_capture_on_commit_callbacks: Any,
        mailoutbox: list[Any],
    ) -> None:
        # given the revoke page of a valid badge
        form_page = admin_client.get(revoke_url(badge))
        assert form_page.status_code == 200
        assert '<label for="id_reason"' in html(form_page)
        # when the program admin confirms without a reason
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(revoke_url(badge), {"reason": "   "})
        # then the page says why, next to the field, and nothing changed
        assert response.status_code == 200
        page = html(response)
        assert 'id="id_reason_error"' in page
        assert "Give a reason" in page
        assert re.search(r'<textarea[^>]*aria-invalid="true"', page)
        assert re.search(r'<textarea[^>]*aria-describedby="[^"]*id_reason_error', page)
        badge.refresh_from_db()
        assert badge.revoked_at is None
        assert mailoutbox == []
        assert not AuditEvent.objects.filter(action="badge.revoked").exists()

    @pytest.mark.usefixtures("tasks_run_at_once")
    def test_revoking_sets_the_bit_tells_the_educator_and_is_audited(
        self,
        admin_client: Client,
        admin_user: User,
        badge: Badge,
        django_capture_on_commit_callbacks: Any,
        mailoutbox: list[Any],
    ) -> None:
        mailoutbox.clear()
        # when the program admin revokes the badge with a public reason and a private note
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                revoke_url(badge), {"reason": REASON, "private_note": PRIVATE_NOTE}
            )
        # then they are back on the badge's page, which says so
        assert response.status_code == 302
        assert response["Location"] == change_url(badge)
        page = html(admin_client.get(change_url(badge)))
        assert ">Revoked<" in page and REASON in page
        assert revoke_url(badge) not in page
        # and the badge is revoked, by them, with its bit set in the signed status list
        badge.refresh_from_db()
        assert badge.revoked_at is not None
        assert badge.revoked_by == admin_user
        assert badge.revocation_reason == REASON
        status_list = StatusList.objects.get(pk=badge.status_list_id)
        bits = documents.decode_bits(status_list.credential["credentialSubject"]["encodedList"])
        assert documents.bit_is_set(bits, badge.status_index)
        check = services.credential_verify(
            organization=badge.organization, credential=badge.credential
        )
        assert check["status"] == "revoked"
        # and the educator is e-mailed the reason and the note; the public page shows the
        # reason only
        assert [m.to for m in mailoutbox] == [[badge.recipient.email]]
        assert REASON in mailoutbox[0].body and PRIVATE_NOTE in mailoutbox[0].body
        assert badge.revocation_note == PRIVATE_NOTE
        public = html(Client().get(f"/badges/{badge.public_id}/"))
        assert "Revoked" in public and PRIVATE_NOTE not in public
        # and the audit trail records who did it
        event = AuditEvent.objects.get(action="badge.revoked", object_id=str(badge.pk))
        assert event.actor == admin_user
        assert REASON in event.summary

    def test_revoking_twice_changes_nothing(
        self, admin_client: Client, badge: Badge, django_capture_on_commit_callbacks: Any
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            admin_client.post(revoke_url(badge), {"reason": REASON})
        badge.refresh_from_db()
        first = badge.revoked_at
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(revoke_url(badge), {"reason": "Another reason."})
        assert response.status_code == 302
        badge.refresh_from_db()
        assert badge.revoked_at == first
        assert badge.revocation_reason == REASON
        assert AuditEvent.objects.filter(action="badge.revoked").count() == 1

    def test_a_reviewer_cannot_revoke(self, client: Client, reviewer: User, badge: Badge) -> None:
        # given a reviewer of the badge's organization (not a program admin)
        client.force_login(reviewer)
        # when they try the revoke page and post to it
        page = client.get(revoke_url(badge))
        post = client.post(revoke_url(badge), {"reason": REASON})
        # then they are sent to the admin's login, and the badge stands
        for response in (page, post):
            assert response.status_code == 302
            assert response["Location"].startswith("/admin/login/")
        badge.refresh_from_db()
        assert badge.revoked_at is None

    def test_revoking_needs_post_and_csrf(self, admin_user: User, badge: Badge) -> None:
        # given a client that enforces CSRF, as browsers do
        client = Client(enforce_csrf_checks=True)
        client.force_login(admin_user)
        # when a forged form posts without the token
        response = client.post(revoke_url(badge), {"reason": REASON})
        # then it is refused and the badge stands
        assert response.status_code == 403
        assert client.put(revoke_url(badge)).status_code in (403, 405)
        badge.refresh_from_db()
        assert badge.revoked_at is None

    @pytest.mark.usefixtures("tasks_run_at_once")
    def test_revoke_selected_asks_for_one_reason_then_revokes_them_all(
        self,
        admin_client: Client,
        badge: Badge,
        their_badge: Badge,
        django_capture_on_commit_callbacks: Any,
        mailoutbox: list[Any],
    ) -> None:
        second = more_badges(badge, 1)[0]
        mailoutbox.clear()
        chosen = [badge.pk, second.pk, their_badge.pk]  # B's id forged into the selection
        # when the admin picks the action for the selection
        step1 = admin_client.post(
            BADGES, {"action": "revoke_selected", "_selected_action": chosen, "index": 0}
        )
        # then the reason form lists their own two badges only
        assert step1.status_code == 200
        page = html(step1)
        assert badge.recipient.email in page and second.recipient.email in page
        assert "theirs@example.org" not in page
        # when they confirm without a reason, then with one
        blank = admin_client.post(
            BADGES,
            {"action": "revoke_selected", "_selected_action": chosen, "confirm": "yes"},
        )
        assert 'id="id_reason_error"' in html(blank)
        assert not Badge.objects.filter(revoked_at__isnull=False).exists()
        with django_capture_on_commit_callbacks(execute=True):
            done = admin_client.post(
                BADGES,
                {
                    "action": "revoke_selected",
                    "_selected_action": chosen,
                    "confirm": "yes",
                    "reason": REASON,
                },
            )
        # then both are revoked and both educators told; B's badge stands
        assert done.status_code == 302
        assert set(Badge.objects.filter(revoked_at__isnull=False).values_list("pk", flat=True)) == {
            badge.pk,
            second.pk,
        }
        assert sorted(m.to[0] for m in mailoutbox) == sorted(
            [badge.recipient.email, second.recipient.email]
        )
        their_badge.refresh_from_db()
        assert their_badge.revoked_at is None


# --- Signing keys -------------------------------------------------------------------------------


class TestSigningKeys:
    def test_rotating_retires_the_old_key_and_the_did_document_lists_both(
        self,
        admin_client: Client,
        admin_user: User,
        org: Organization,
        badge: Badge,
        client: Client,
    ) -> None:
        old = SigningKey.objects.get(organization=org, is_active=True)
        # given the keys' list, with its button
        listing = html(admin_client.get(KEYS))
        assert ROTATE in listing
        assert f"{old.key_id[:16]}…" in listing
        # when the program admin confirms the rotation
        confirm = admin_client.get(ROTATE)
        assert confirm.status_code == 200
        assert old.key_id in html(confirm)
        response = admin_client.post(ROTATE, {"organization": org.pk})
        # then a new key signs, the old one is retired but still published
        assert response.status_code == 302
        assert response["Location"] == KEYS
        old.refresh_from_db()
        assert not old.is_active and old.retired_at is not None
        new = SigningKey.objects.get(organization=org, is_active=True)
        assert new.pk != old.pk
        did = json.loads(admin_client.get(f"/o/{org.slug}/did.json").content)
        published = {m["publicKeyMultibase"] for m in did["verificationMethod"]}
        assert {old.public_key_multibase, new.public_key_multibase} <= published
        # and badges signed with the old key still verify
        check = services.credential_verify(organization=org, credential=badge.credential)
        assert check["verified"], check
        event = AuditEvent.objects.get(action="signing_key.rotated")
        assert event.actor == admin_user

    def test_private_key_material_never_appears_in_the_admin(
        self, admin_client: Client, org: Organization, badge: Badge
    ) -> None:
        services.signing_key_rotate(organization=org, actor=None)
        keys = list(SigningKey.objects.filter(organization=org))
        status_list = StatusList.objects.get(organization=org)
        pages = [
            KEYS,
            ROTATE,
            "/admin/",
            "/admin/badges/",
            BADGES,
            change_url(badge),
            revoke_url(badge),
            "/admin/badges/statuslist/",
            f"/admin/badges/statuslist/{status_list.pk}/change/",
            *[f"{KEYS}{key.pk}/change/" for key in keys],
            *[f"{KEYS}{key.pk}/history/" for key in keys],
        ]
        for url in pages:
            response = admin_client.get(url)
            assert response.status_code == 200, url
            body = html(response)
            for key in keys:
                assert key.private_key_encrypted not in body, url
                assert key.private_key_encrypted[:24] not in body, url
            assert "private_key_encrypted" not in body, url
        # the public halves are shown
        assert keys[0].public_key_multibase in html(admin_client.get(f"{KEYS}{keys[0].pk}/change/"))

    def test_keys_are_not_added_changed_or_deleted_here(
        self, admin_client: Client, org: Organization, badge: Badge
    ) -> None:
        key = SigningKey.objects.get(organization=org, is_active=True)
        assert admin_client.get(f"{KEYS}add/").status_code == 403
        assert admin_client.post(f"{KEYS}{key.pk}/change/", {"is_active": ""}).status_code == 403
        assert admin_client.post(f"{KEYS}{key.pk}/delete/", {"post": "yes"}).status_code in (
            403,
            404,
        )
        key.refresh_from_db()
        assert key.is_active

    def test_an_admin_of_several_organizations_chooses_which_key_rotates(
        self,
        client: Client,
        admin_user: User,
        org: Organization,
        badge: Badge,
        their_badge: Badge,
        other_org: Organization,
    ) -> None:
        # given someone who administers both organizations
        StaffRoleFactory(organization=other_org, role=StaffRole.Role.OWNER, user=admin_user)
        client.force_login(admin_user)
        theirs = SigningKey.objects.get(organization=other_org, is_active=True)
        mine = SigningKey.objects.get(organization=org, is_active=True)
        # when they open the rotate page, then choose the second organization
        page = html(client.get(ROTATE))
        assert '<select name="organization"' in page
        assert "Bravo District" in page
        client.post(ROTATE, {"organization": other_org.pk})
        # then only that organization's key rotated
        theirs.refresh_from_db()
        mine.refresh_from_db()
        assert not theirs.is_active
        assert mine.is_active

    def test_an_admin_cannot_rotate_another_organizations_key(
        self, admin_client: Client, their_badge: Badge, other_org: Organization
    ) -> None:
        theirs = SigningKey.objects.get(organization=other_org, is_active=True)
        # when org A's admin forges B's id into the form
        response = admin_client.post(ROTATE, {"organization": other_org.pk})
        # then the choice is refused and B's key is untouched; B's keys are not shown either
        assert response.status_code == 200
        assert "errornote" in html(response)
        theirs.refresh_from_db()
        assert theirs.is_active
        assert SigningKey.objects.filter(organization=other_org).count() == 1
        assert theirs.key_id[:16] not in html(admin_client.get(KEYS))
        assert admin_client.get(f"{KEYS}{theirs.pk}/change/").status_code == 404

    def test_a_reviewer_cannot_rotate(
        self, client: Client, reviewer: User, org: Organization, badge: Badge
    ) -> None:
        key = SigningKey.objects.get(organization=org, is_active=True)
        client.force_login(reviewer)
        response = client.post(ROTATE, {"organization": org.pk})
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
        key.refresh_from_db()
        assert key.is_active


# --- Failed issuing attempts and status lists ---------------------------------------------------


class TestIssueFailures:
    def test_failures_are_listed_for_this_organization_only(
        self,
        admin_client: Client,
        approve: Approve,
        org: Organization,
        other_org: Organization,
    ) -> None:
        # given a failed attempt here and one in another organization
        mine = approve(title="Formative Assessment")
        theirs = approve(organization=other_org, educator=UserFactory(email="theirs@example.org"))
        services.issue_failure_record(
            organization=org, application_id=mine.pk, attempt=2, error="OperationalError: ours"
        )
        their_failure = services.issue_failure_record(
            organization=other_org,
            application_id=theirs.pk,
            attempt=1,
            error="OperationalError: theirs",
        )
        # when the program admin opens the failures
        page = html(admin_client.get(FAILURES))
        # then theirs is listed with a link to the application, another organization's not
        assert "OperationalError: ours" in page
        assert mine.educator.email in page
        assert f"/admin/submissions/application/{mine.pk}/change/" in page
        assert "OperationalError: theirs" not in page
        assert admin_client.get(f"{FAILURES}{their_failure.pk}/change/").status_code == 404

    def test_query_count_does_not_grow_with_rows(
        self, admin_client: Client, approve: Approve, org: Organization
    ) -> None:
        application = approve()

        def add(n: int) -> None:
            for i in range(n):
                services.issue_failure_record(
                    organization=org, application_id=application.pk, attempt=i + 1, error="boom"
                )

        assert_list_query_count_constant(admin_client, FAILURES, add)


@pytest.mark.django_db(transaction=True)
def test_retry_now_issues_the_badge_through_the_worker(
    client: Client, org: Organization, reviewer: User
) -> None:
    from tests.badges.test_worker import approve_committed, issued_badge

    # given an approval whose issuing failed and whose message is gone from the broker
    admin = role(org, StaffRole.Role.PROGRAM_ADMIN, "admin@example.org")
    application = approve_committed(org, reviewer)
    purge_queue()
    failure = services.issue_failure_record(
        organization=org, application_id=application.pk, attempt=8, error="Gave up: broker down"
    )
    client.force_login(admin)
    with running_worker(purge=False):
        # when the program admin picks "Retry now" on the failure
        response = client.post(
            FAILURES, {"action": "retry_now", "_selected_action": [failure.pk], "index": 0}
        )
        assert response.status_code == 302
        # then the worker issues the badge and the failure is resolved
        badge = wait_for(lambda: issued_badge(application), what="the retried badge")
    assert badge.application_id == application.pk
    failure.refresh_from_db()
    assert failure.resolved_at is not None


def test_signing_key_list_query_count_does_not_grow(
    admin_client: Client, org: Organization
) -> None:
    def rotate(n: int) -> None:
        for _ in range(n):
            services.signing_key_rotate(organization=org, actor=None)

    assert_list_query_count_constant(admin_client, KEYS, rotate)


def test_status_list_list_query_count_does_not_grow(
    admin_client: Client, org: Organization
) -> None:
    def add(n: int) -> None:
        start = StatusList.objects.filter(organization=org).count() + 1
        for number in range(start, start + n):
            StatusList.objects.create(organization=org, number=number, bits=bytes(16))

    assert_list_query_count_constant(admin_client, "/admin/badges/statuslist/", add)


class TestStatusLists:
    def test_listed_without_their_bits(
        self, admin_client: Client, org: Organization, badge: Badge
    ) -> None:
        status_list = StatusList.objects.get(organization=org)
        page = html(admin_client.get("/admin/badges/statuslist/"))
        assert "131072" in page or "131,072" in page
        detail = html(admin_client.get(f"/admin/badges/statuslist/{status_list.pk}/change/"))
        assert f"/o/{org.slug}/status/{status_list.number}" in detail
        assert status_list.credential["credentialSubject"]["encodedList"] not in detail
        assert 'name="_save"' not in detail


# --- The application's page links to its badge -----------------------------------------------


class TestApplicationBadgeLink:
    def test_an_awarded_application_links_to_its_badge(
        self, admin_client: Client, approve: Approve, badge: Badge
    ) -> None:
        # when the program admin opens the awarded application, and one not issued yet
        awarded = html(
            admin_client.get(f"/admin/submissions/application/{badge.application_id}/change/")
        )
        waiting = approve()
        pending = html(admin_client.get(f"/admin/submissions/application/{waiting.pk}/change/"))
        # then the first links to its badge in the admin, the second says it has none yet
        assert change_url(badge) in awarded
        assert "Not issued" in pending
