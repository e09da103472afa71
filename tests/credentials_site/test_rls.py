"""The second wall between organizations: PostgreSQL row-level security on every tenant table,
under a database role that cannot switch it off (issue 16; docs/decisions/0010).

Proved with the first wall (the scoped managers) switched off: raw SQL through the app's own
connection sees only the rows of the organization the code path is in."""

from __future__ import annotations

import ast
import importlib
import io
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import ProgrammingError, connection, transaction
from django.test import RequestFactory, override_settings
from django_scopes import scopes_disabled

from badges import selectors as badge_selectors
from badges.insights.aggregates import BadgeEngagement, InsightSummaryMail, insights_rebuild
from badges.management.commands import demo_badges
from badges.models import (
    AwardRecord,
    Badge,
    BulkAward,
    IssueFailure,
    KeyCompromise,
    RecognitionDigest,
    SigningKey,
    WalletExchange,
)
from credentials_site.db.rls import (
    POLICY_NAME,
    app_role,
    app_role_problems,
    secure_tenant_tables,
    tenant_tables,
)
from credentials_site.tenancy import cross_organization, tenant_scope
from programs import selectors as program_selectors
from programs.models import (
    Community,
    CommunityInvitation,
    CommunityMember,
    CommunityPost,
    CommunityResource,
    EvidenceRequirement,
    FocusArea,
    LtiGradeLink,
    LtiIdentity,
    LtiPlatform,
    MemberEmailDomain,
    MembershipRequest,
    Organization,
    OrganizationToken,
    RosterApplyReport,
    RosterImport,
    School,
    SignOnProvider,
    StaffRole,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from programs.models import WebhookEvent as OutgoingWebhookEvent
from programs.models_schools import GoalRecommendation, SchoolAssignment, SchoolGoal
from reviews import access
from reviews.models import (
    Assignment,
    CalibrationAttempt,
    CalibrationExemplar,
    ConflictOfInterest,
)
from submissions import dashboard
from submissions import selectors as submission_selectors
from submissions.models import (
    PaymentEntry,
    PaymentSettings,
    QuizResponse,
    SeatBatch,
    SeatCode,
    Submission,
    WebhookEvent,
)
from tests.factories import FocusAreaFactory, MembershipFactory, OrganizationFactory, PathwayFactory
from tests.worker import database_url

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
APPS = ("credentials_site", "programs", "submissions", "reviews", "badges")


def rows_by_organization(table: str) -> dict[int, int]:
    """What raw SQL through the app's connection sees of ``table``: rows per organization."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT organization_id, count(*) FROM {connection.ops.quote_name(table)} GROUP BY 1"  # noqa: S608
        )
        return dict(cursor.fetchall())


@pytest.fixture
def no_tenant() -> Iterator[None]:
    """A code path in no organization, as a request to /me/… or a beat task starts: the
    scoped managers are on and the database admits no tenant row."""
    with tenant_scope([]):
        yield


# --- Every tenant table --------------------------------------------------------------------------


class TestEveryTenantTable:
    def test_each_is_forced_under_the_tenant_policy(self) -> None:
        # given the tenant tables, derived from the models (a new model is one of them)
        tables = tenant_tables()
        assert {"programs_membership", "submissions_application", "badges_badge"} <= set(tables)
        # then each has row-level security enabled and forced, with the policy on reads and
        # writes
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT t.name, c.relrowsecurity, c.relforcerowsecurity, p.polcmd, "
                "p.polqual IS NOT NULL, p.polwithcheck IS NOT NULL "
                "FROM unnest(%s::text[]) AS t(name) "
                "LEFT JOIN pg_class c ON c.oid = to_regclass(t.name) "
                "LEFT JOIN pg_policy p ON p.polrelid = c.oid AND p.polname = %s",
                [tables, POLICY_NAME],
            )
            state = {name: rest for name, *rest in cursor.fetchall()}
        unsecured = {name: s for name, s in state.items() if s != [True, True, "*", True, True]}
        assert unsecured == {}, f"tenant tables without forced RLS and {POLICY_NAME}: {unsecured}"

    def test_the_app_role_cannot_change_them(self) -> None:
        # when what migrate runs as the owner runs as the app (as after a test empties tables)
        # then it changes nothing: the app owns no table
        assert secure_tenant_tables(connection) == []

    def test_every_table_with_an_organization_column_is_a_tenant_table(self) -> None:
        # given every table of the database with an organization_id column
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT table_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND column_name = 'organization_id'"
            )
            in_the_database = {name for (name,) in cursor.fetchall()}
        # then the models name each of them (none was made behind their back)
        assert in_the_database == set(tenant_tables())


# --- The app's role ------------------------------------------------------------------------------


class TestTheAppRole:
    def test_is_neither_superuser_nor_bypassrls_nor_an_owner(self) -> None:
        # given the app's connection (the tests connect as the app role, as web and workers do)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles "
                "WHERE rolname = current_user"
            )
            user, superuser, bypass = cursor.fetchone()
            cursor.execute(
                "SELECT count(*) FROM pg_class c "
                "WHERE c.oid = ANY(%s::regclass[]) AND pg_has_role(current_user, c.relowner, "
                "'MEMBER')",
                [tenant_tables()],
            )
            owned = cursor.fetchone()[0]
        # then it is the configured app role, and nothing lets it past row-level security
        assert user == app_role() == settings.DATABASE_LOGINS["app"]["USER"]
        assert user != settings.DATABASE_LOGINS["owner"]["USER"]
        assert (superuser, bypass) == (False, False)
        assert owned == 0
        assert app_role_problems(connection) == []

    @pytest.mark.parametrize(
        "statement",
        [
            "ALTER TABLE badges_badge DISABLE ROW LEVEL SECURITY",
            "ALTER TABLE badges_badge NO FORCE ROW LEVEL SECURITY",
            f"DROP POLICY {POLICY_NAME} ON badges_badge",
            "CREATE POLICY everything ON badges_badge USING (true)",
            "SET ROLE {owner}",
            "SET SESSION AUTHORIZATION {owner}",
            "ALTER ROLE CURRENT_USER BYPASSRLS",
            f"ALTER POLICY {POLICY_NAME} ON badges_badge USING (true)",
        ],
    )
    def test_cannot_switch_row_level_security_off_nor_become_the_owner(
        self, statement: str
    ) -> None:
        # when the app's connection tries
        owner = connection.ops.quote_name(settings.DATABASE_LOGINS["owner"]["USER"])
        with pytest.raises(ProgrammingError) as refused, transaction.atomic():
            connection.cursor().execute(statement.format(owner=owner))
        # then the server refuses it
        assert "must be owner" in str(refused.value) or "permission denied" in str(refused.value)

    def test_the_check_names_an_app_role_that_would_ignore_row_level_security(self) -> None:
        # given the app configured to log in as the server's superuser
        logins = {**settings.DATABASE_LOGINS, "app": {"USER": "postgres"}}
        with override_settings(DATABASE_LOGINS=logins):
            problems = app_role_problems(connection)
        # then the check (an error in production, run by migrate) says so
        assert (
            "The app's database role 'postgres' is a superuser: it ignores row-level security."
            in problems
        )

    @pytest.mark.parametrize("with_owner", [False, True])
    def test_production_migrates_only_when_the_app_cannot_pass_the_wall(
        self, with_owner: bool
    ) -> None:
        # given production settings for this database: the app's login alone, or with the owner's
        env = {
            **{k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}},
            "DJANGO_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "tessera.example.org",
            "SITE_URL": "https://tessera.example.org",
            "BADGE_KEY_SECRETS": secrets.token_urlsafe(48),
            "DATABASE_URL": database_url(settings.DATABASE_LOGINS["app"]),
        }
        if with_owner:
            env["DATABASE_OWNER_URL"] = database_url(settings.DATABASE_LOGINS["owner"])
        # when the checks that migrate runs first are run
        result = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "check", "--database", "default"],
            env=env,
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
            check=False,
        )
        # then one role doing everything is refused, saying why; two roles pass
        if with_owner:
            assert result.returncode == 0, result.stdout + result.stderr
            assert "no issues" in result.stdout
        else:
            assert result.returncode != 0
            assert "credentials_site.E001" in result.stderr
            assert "DATABASE_OWNER_URL is not set" in result.stderr


# --- Only the current organization's rows ------------------------------------------------------


@pytest.fixture
def two_organizations(monkeypatch: pytest.MonkeyPatch) -> tuple[Organization, Organization]:
    """GAEL and Riverside with a row in every tenant table: the demo data, one badge issued in
    each through the real services (both to the GAEL educator, whose backpack then spans both),
    and a few rows made directly for the tables the demo leaves empty."""
    call_command("load_demo", stdout=io.StringIO())
    call_command("demo_badges", "--sync", stdout=io.StringIO())
    for name, value in {
        "ORGANIZATION": "riverside-usd",
        "CREDENTIAL": "formative-assessment-in-practice",
        "REVIEWER": "admin@riverside.demo",
    }.items():
        monkeypatch.setattr(demo_badges, name, value)
    call_command("demo_badges", "--sync", stdout=io.StringIO())
    gael = Organization.objects.get(slug="gael")
    riverside = Organization.objects.get(slug="riverside-usd")
    educator = User.objects.get(email="educator@gael.demo")
    for organization in (gael, riverside):
        reviewer = StaffRole.objects.filter(organization=organization).first().user
        submission = Submission.objects.filter(organization=organization).first()
        QuizResponse.objects.create(
            organization=organization,
            application=submission.application,
            requirement=EvidenceRequirement.objects.filter(organization=organization).first(),
        )
        exemplar = CalibrationExemplar.objects.create(
            organization=organization,
            submission=submission,
            title="Exemplar",
            agreed_decision="approve",
        )
        CalibrationAttempt.objects.create(
            organization=organization, exemplar=exemplar, reviewer=reviewer, decision="approve"
        )
        ConflictOfInterest.objects.create(
            organization=organization, reviewer=reviewer, kind="person", person=educator
        )
        Assignment.objects.create(
            organization=organization, submission=submission, reviewer=reviewer
        )
        key = SigningKey.objects.get(organization=organization)
        KeyCompromise.objects.create(organization=organization, key=key, replacement=key)
        WalletExchange.objects.create(
            organization=organization,
            badge=Badge.objects.filter(organization=organization).first(),
            user=educator,
            expires_at="2099-01-01T00:00:00Z",
        )
        IssueFailure.objects.create(organization=organization, error="A test failure.")
        roster_import = RosterImport.objects.create(
            organization=organization,
            file_name="roster.csv",
            file_kind="csv",
            file_data=b"email\n",
            headers=["email"],
        )
        RosterApplyReport.objects.create(
            organization=organization,
            roster_import=roster_import,
            file_name="roster.csv",
            report="row,email\n",
        )
        OrganizationToken.objects.create(
            organization=organization,
            name="CRM",
            scopes=["members:read"],
            key_prefix="tsr_x",
            key_hash=f"hash-{organization.pk}",
        )
        MembershipRequest.objects.create(organization=organization, user=educator)
        MemberEmailDomain.objects.create(
            organization=organization, domain=f"{organization.slug}.org"
        )
        SignOnProvider.objects.create(
            organization=organization, protocol="saml", name="IdP", idp_entity_id="https://idp"
        )
        platform = LtiPlatform.objects.create(
            organization=organization,
            name="LMS",
            issuer="https://lms.example",
            client_id="tessera",
            auth_login_url="https://lms.example/auth",
            auth_token_url="https://lms.example/token",
            key_set_url="https://lms.example/jwks",
        )
        LtiIdentity.objects.create(
            organization=organization, platform=platform, subject="s1", user=educator
        )
        LtiGradeLink.objects.create(
            organization=organization,
            platform=platform,
            user=educator,
            credential=submission.application.credential,
            subject="s1",
            resource_link_id="r1",
        )
        PaymentSettings.objects.create(organization=organization)
        PaymentEntry.objects.create(
            organization=organization,
            application=submission.application,
            kind="payment",
            amount=10,
            currency="USD",
            provider_id=f"pi_{organization.pk}",
        )
        seats = SeatBatch.objects.create(
            organization=organization, size=1, expires_at="2099-01-01T00:00:00Z"
        )
        SeatCode.objects.create(organization=organization, batch=seats)
        WebhookEvent.objects.create(
            organization=organization, event_id="evt_1", type="customer.created", outcome="ignored"
        )
        endpoint = WebhookEndpoint.objects.create(
            organization=organization,
            url="https://hooks.example.org/t",
            events=["badge.issued"],
            secret_encrypted="x",
            secret_prefix="whsec_x",
        )
        outgoing = OutgoingWebhookEvent.objects.create(
            organization=organization, type="badge.issued", data={}
        )
        delivery = WebhookDelivery.objects.create(
            organization=organization,
            endpoint=endpoint,
            event=outgoing,
            next_attempt_at="2099-01-01T00:00:00Z",
            give_up_after="2099-01-04T00:00:00Z",
        )
        WebhookAttempt.objects.create(
            organization=organization,
            delivery=delivery,
            number=1,
            started_at="2099-01-01T00:00:00Z",
            duration_ms=5,
            status_code=500,
        )
        award = BulkAward.objects.create(
            organization=organization, file_name="awards.csv", file_data=b"email\n"
        )
        AwardRecord.objects.create(
            organization=organization,
            award=award,
            credential=submission.application.credential,
            email=educator.email,
            application=submission.application,
            awarded_on="2020-01-01",
            row=2,
        )
        school = School.objects.create(
            organization=organization, name=f"{organization.slug} School"
        )
        goal = SchoolGoal.objects.create(organization=organization, school=school, title="Literacy")
        GoalRecommendation.objects.create(
            organization=organization, goal=goal, credential=submission.application.credential
        )
        SchoolAssignment.objects.create(
            organization=organization,
            school=school,
            credential=submission.application.credential,
            membership=MembershipFactory(organization=organization),
        )
        community = Community.objects.create(organization=organization, name="PLC", goal="g")
        CommunityMember.objects.create(
            organization=organization, community=community, user=educator
        )
        CommunityInvitation.objects.create(
            organization=organization, community=community, user=reviewer
        )
        CommunityPost.objects.create(
            organization=organization, community=community, author=educator, body="Hello"
        )
        CommunityResource.objects.create(
            organization=organization,
            community=community,
            added_by=educator,
            title="Link",
            url="https://example.org",
        )
        BadgeEngagement.objects.create(  # a badge's views and shares, for program insight
            organization=organization,
            badge=Badge.objects.filter(organization=organization).first(),
            day="2026-12-01",
            views=1,
        )
        insights_rebuild(organization=organization)  # the program insight's fact tables
        InsightSummaryMail.objects.create(
            organization=organization, month="2026-11-01", user=reviewer
        )
        RecognitionDigest.objects.create(
            organization=organization, leader=reviewer, week_start="2026-12-07"
        )
    MembershipFactory(organization=riverside, user=educator)
    PathwayFactory(organization=gael)
    return gael, riverside


class TestOnlyTheCurrentOrganizationsRows:
    def test_raw_sql_sees_only_the_organization_of_the_code_path(
        self, two_organizations: tuple[Organization, Organization]
    ) -> None:
        # given rows of two organizations in every tenant table
        gael, riverside = two_organizations
        everything = {table: rows_by_organization(table) for table in tenant_tables()}
        assert [table for table, rows in everything.items() if not rows] == []
        in_both = [table for table, rows in everything.items() if len(rows) == 2]
        assert len(in_both) >= len(everything) - 2, everything

        for organization in (gael, riverside):
            # when the code path is in one organization, with the scoped managers off
            with tenant_scope(organization), scopes_disabled():
                seen = {table: rows_by_organization(table) for table in tenant_tables()}
                badges = Badge.objects.count()
            # then every table shows that organization's rows and no other's
            expected = {
                table: {organization.pk: rows[organization.pk]} if organization.pk in rows else {}
                for table, rows in everything.items()
            }
            assert seen == expected
            assert badges == everything["badges_badge"][organization.pk]

        # and in no organization, nothing; in the admin's list of both, both
        with tenant_scope([]), scopes_disabled():
            nothing: dict[str, dict[int, int]] = {table: {} for table in everything}
            assert {t: rows_by_organization(t) for t in tenant_tables()} == nothing
        with tenant_scope([gael.pk, riverside.pk]), scopes_disabled():
            assert {t: rows_by_organization(t) for t in tenant_tables()} == everything

    def test_another_organizations_row_cannot_be_written(self) -> None:
        # given a focus area in each of two organizations
        mine, theirs = OrganizationFactory(), OrganizationFactory()
        my_area = FocusAreaFactory(organization=mine, name="Mine")
        their_area = FocusAreaFactory(organization=theirs, name="Theirs")

        with tenant_scope(mine), scopes_disabled():
            # when the code path in one organization writes a row of the other
            with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
                FocusArea.objects.create(organization=theirs, name="Planted", slug="planted")
            # or moves its own row there
            with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
                FocusArea.objects.filter(pk=my_area.pk).update(organization=theirs)
            # or changes or deletes the other's row
            changed = FocusArea.objects.filter(pk=their_area.pk).update(name="Changed")
            deleted, _ = FocusArea.objects.filter(pk=their_area.pk).delete()

        # then nothing of the other organization changed
        assert (changed, deleted) == (0, 0)
        assert list(FocusArea.objects.filter(organization=theirs).values_list("name")) == [
            ("Theirs",)
        ]
        assert FocusArea.objects.get(pk=my_area.pk).organization == mine


# --- The named bypasses --------------------------------------------------------------------------

# Every read meant to cross organizations, by the reason it gives and the apps that use it. A
# new one is a new door in the second wall: add it here after review (and to decision 0010).
NAMED_BYPASSES = {
    "a badge's organization, found by the badge's opaque id": {"badges"},
    "a wallet exchange's organization, found by its unguessable id": {"badges"},
    "an educator's own badges, from every organization": {"badges"},
    "an educator's own applications, from every organization": {"submissions"},
    "a user's staff roles, looked up by user across organizations": {"programs"},
    "the public catalogs' credential counts": {"programs"},
    "a platform sweep of every organization's evidence in storage": {"submissions"},
    "the demo data, in several organizations": {"programs"},
    "an organization's sign-in providers, for its sign-in pages and allauth": {"programs"},
    "migrations": {"credentials_site"},
    "an organization's API token, found by its hash": {"programs"},
    "organizations that admit members by a verified e-mail's domain": {"programs"},
    "an educator's own memberships, for the questions their organizations ask": {"programs"},
    "public credentials of every organization, for a school's goals": {"programs"},
    "an educator's own school recommendations and assignments, from every organization": {
        "programs"
    },
    "the application status of a school's assigned staff, in every organization": {"submissions"},
    "the directory's search entries of the people it lists, from every organization": {"badges"},
    "an educator's public badges, for the directory and the recognition pages": {"badges"},
}


def bypasses_in_the_code() -> dict[str, set[str]]:
    """Every ``cross_organization(<reason>)`` in the apps, the reason evaluated in its module."""
    found: dict[str, set[str]] = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            calls = [
                node
                for node in ast.walk(tree)
                if isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "cross_organization"
            ]
            if not calls:
                continue
            module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
            for call in calls:
                expression = ast.Expression(call.args[0])
                reason = eval(compile(expression, str(path), "eval"), vars(module))  # noqa: S307
                found.setdefault(reason, set()).add(app)
    return found


class TestTheNamedBypasses:
    def test_every_bypass_is_one_of_the_reviewed_reasons(self) -> None:
        assert bypasses_in_the_code() == NAMED_BYPASSES

    def test_each_named_read_crosses_organizations_from_a_path_in_none(
        self, two_organizations: tuple[Organization, Organization], no_tenant: None
    ) -> None:
        # given the GAEL educator's badges and applications in two organizations, read from a
        # code path in no organization (their backpack, My learning)
        gael, riverside = two_organizations
        both = {gael.pk, riverside.pk}
        educator = User.objects.get(email="educator@gael.demo")
        with scopes_disabled():  # the first wall off: the database still admits nothing
            assert Badge.objects.count() == 0
            assert rows_by_organization("submissions_application") == {}

        # then each named read sees the rows it is meant to, in both organizations
        badges = badge_selectors.badge_list_for_recipient(user=educator)
        assert {b.organization_id for b in badges} == both
        riverside_badge = next(b for b in badges if b.organization_id == riverside.pk)
        assert (
            badge_selectors.access_badge_by_public_id(
                actor=educator, public_id=riverside_badge.public_id
            )
            == riverside_badge
        )
        assert (
            badge_selectors.badge_organization_get(public_id=riverside_badge.public_id) == riverside
        )
        assert {
            p.pathway.organization_id
            for p in badge_selectors.pathway_progress_for_user(user=educator)
        } <= both
        applications = submission_selectors.application_list_for_educator(user=educator)
        assert {a.organization_id for a in applications} == both
        states = submission_selectors.evidence_state_for_applications(applications=applications)
        assert all(state.requirements for state in states.values())
        dashboard.pathway_progress(user=educator)
        counts = {o.slug: o.published_count for o in program_selectors.organization_list_public()}
        assert counts["gael"] > 0 and counts["riverside-usd"] > 0
        admin = User.objects.get(email="admin@riverside.demo")
        assert program_selectors.organization_ids_administered_by(user=admin) == [riverside.pk]
        assert program_selectors.organization_ids_owned_by(user=admin) == [riverside.pk]
        request = RequestFactory().get("/")
        request.user = User.objects.get(email="reviewer@gael.demo")
        assert access.reviewing_organizations(request=request) == [gael]

    def test_a_bypass_gives_a_reason(self) -> None:
        with pytest.raises(ValueError, match="says why"), cross_organization(" "):
            pass


# --- The setting follows transactions ------------------------------------------------------------


def rows_seen_after_a_rollback() -> tuple[int, set[int]]:
    """Focus areas in two organizations; in one's scope (scoped managers off), an atomic block
    reads (the organization is sent inside it) and rolls back: the organizations the next
    statement sees. Inside a test's transaction the block is a savepoint, in a transactional
    test the transaction itself."""
    mine, theirs = OrganizationFactory(), OrganizationFactory()
    FocusAreaFactory(organization=mine)
    FocusAreaFactory(organization=theirs)
    with tenant_scope(mine), scopes_disabled():
        with pytest.raises(RuntimeError), transaction.atomic():
            assert set(rows_by_organization("programs_focusarea")) == {mine.pk}
            raise RuntimeError
        return mine.pk, set(rows_by_organization("programs_focusarea"))


class TestTheSettingFollowsTransactions:
    """A rollback undoes a set_config made inside it: the backend sends the value again."""

    def test_after_a_savepoint_rolled_back(self) -> None:
        mine, seen = rows_seen_after_a_rollback()
        assert seen == {mine}

    @pytest.mark.django_db(transaction=True)
    def test_after_a_transaction_rolled_back(self) -> None:
        mine, seen = rows_seen_after_a_rollback()
        assert seen == {mine}
