"""Equity views (issue 20): small-cell suppression, the breakdowns, gaps in words, the page and
its CSV downloads."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from badges import services as badge_services
from badges.insights.equity import (
    Breakdown,
    Dimension,
    EquityFilters,
    Measures,
    breakdown_build,
    equity_breakdowns,
)
from badges.insights.gaps import gap_sentence, gap_sentences, ratio_words
from badges.insights.suppression import Hidden, Suppression, suppress_groups, suppress_table
from badges.models import Badge
from programs.models import Membership, Organization, Program, StaffRole, User
from programs.models_roster import ProfileField
from programs.services.members import member_row_clean, member_upsert_many
from submissions import services as submission_services
from submissions.models import Application
from tests.conftest import assert_same_query_count
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    StaffRoleFactory,
    UserFactory,
    credential_of,
    make_credential,
)
from tests.programs.test_admin import form_data

pytestmark = pytest.mark.django_db

# --- Suppression ------------------------------------------------------------------------------


def recover(counts: list[list[int]], result: Suppression, *, rows: bool, columns: bool) -> dict:
    """What an attacker works out from the published table: every line with a published total
    and exactly one unknown cell gives that cell; repeated until nothing new (the peeling
    attack on a table with margins). Returns {(row, column): value}."""
    n_rows, n_cols = len(counts), len(counts[0])
    known = {
        (r, c): counts[r][c]
        for r in range(n_rows)
        for c in range(n_cols)
        if (r, c) not in result.cells
    }
    lines = []
    if columns:
        lines += [
            ([(r, c) for r in range(n_rows)], sum(counts[r][c] for r in range(n_rows)))
            for c in range(n_cols)
            if c not in result.column_totals
        ]
    if rows:
        lines += [
            ([(r, c) for c in range(n_cols)], sum(counts[r]))
            for r in range(n_rows)
            if r not in result.row_totals
        ]
    found: dict = {}
    progress = True
    while progress:
        progress = False
        for members, total in lines:
            unknown = [k for k in members if k not in known]
            if len(unknown) == 1:
                key = unknown[0]
                known[key] = total - sum(known[k] for k in members if k != key)
                found[key] = known[key]
                progress = True
    return found


def assert_protected(counts: list[list[int]], result: Suppression, threshold: int = 10) -> None:
    small = {
        (r, c)
        for r, row in enumerate(counts)
        for c, value in enumerate(row)
        if 0 < value < threshold
    }
    assert small <= set(result.cells), "every small cell is hidden"
    assert all(result.cells[k] is Hidden.SMALL for k in small)
    # the hidden cells of a line with a published total are none, or two or more holding at
    # least the threshold between them (the total minus the rest reveals no small number)
    n_rows, n_cols = len(counts), len(counts[0])
    for c in range(n_cols):
        if c in result.column_totals:
            continue
        hidden = [counts[r][c] for r in range(n_rows) if (r, c) in result.cells and counts[r][c]]
        assert not hidden or (len(hidden) >= 2 and sum(hidden) >= threshold), (c, hidden)


class TestSuppression:
    def test_nothing_small_nothing_hidden(self) -> None:
        # given / when
        result = suppress_groups([12, 30, 10])
        # then
        assert result.cells == {}
        assert not result.column_totals

    def test_one_small_group_hides_the_next_smallest_too(self) -> None:
        # given: a school of 7 beside schools of 12, 25 and 40, published with the total (84)
        sizes = [25, 7, 40, 12]
        # when
        result = suppress_groups(sizes)
        # then: the 7 reads "fewer than 10", the 12 is hidden with it (84 - 25 - 40 = 19)
        assert result.cells == {(1, 0): Hidden.SMALL, (3, 0): Hidden.COMPLEMENT}
        assert recover([[s] for s in sizes], result, rows=False, columns=True) == {}

    def test_small_cells_that_add_up_to_a_small_number_take_a_third(self) -> None:
        # given: 3 and 4 hidden still leave "total minus the rest" = 7
        result = suppress_groups([3, 4, 30, 50])
        # then
        assert set(result.cells) == {(0, 0), (1, 0), (2, 0)}
        assert result.cells[(2, 0)] is Hidden.COMPLEMENT

    def test_a_single_small_group_hides_the_total(self) -> None:
        result = suppress_groups([7])
        assert result.cells == {(0, 0): Hidden.SMALL}
        assert result.column_totals == frozenset({0})

    def test_all_groups_small_together_under_the_threshold_hide_the_total(self) -> None:
        result = suppress_groups([2, 3])
        assert set(result.cells) == {(0, 0), (1, 0)}
        assert result.column_totals == frozenset({0})

    def test_zero_is_not_small(self) -> None:
        assert suppress_groups([0, 15, 20]).cells == {}

    def test_whole_rows(self) -> None:
        # given: a group of 7 people who made 30 applications, beside groups of 15 and 50
        result = suppress_table([[7, 30], [15, 3], [50, 80]], whole_rows=True)
        # then: both its cells go, and the cells that protect them, row by row
        assert {r for r, _ in result.cells} == {0, 1}
        assert result.cells[(0, 0)] is Hidden.SMALL
        assert result.cells[(1, 1)] is Hidden.SMALL

    def test_cross_tab_with_both_margins(self) -> None:
        # given: schools by member status, published with row and column totals
        counts = [[7, 20, 15], [30, 40, 12], [25, 18, 33]]
        # when
        result = suppress_table(counts, row_totals=True, column_totals=True)
        # then: no cell comes back from the margins, and no line leaves the 7 alone
        assert_protected(counts, result)
        assert recover(counts, result, rows=True, columns=True) == {}
        assert len([k for k in result.cells if k[0] == 0]) >= 2

    def test_random_tables_never_reveal_a_small_cell(self) -> None:
        # given: many tables of mixed small and large cells (fixed seed: the same every run)
        rng = random.Random(20)
        for _ in range(300):
            n_rows, n_cols = rng.randint(1, 6), rng.randint(1, 5)
            counts = [
                [rng.choice([0, 1, 4, 7, 9, 10, 12, 30, 80]) for _ in range(n_cols)]
                for _ in range(n_rows)
            ]
            # when
            result = suppress_table(counts, row_totals=True, column_totals=True)
            # then
            assert_protected(counts, result)
            found = recover(counts, result, rows=True, columns=True)
            assert not any(0 < counts[r][c] < 10 for r, c in found), (counts, found)

    def test_bad_tables_are_refused(self) -> None:
        with pytest.raises(ValueError, match="threshold"):
            suppress_groups([5], threshold=0)
        with pytest.raises(ValueError, match="same number of columns"):
            suppress_table([[1, 2], [3]])
        with pytest.raises(ValueError, match="negative"):
            suppress_table([[-1]])


# --- Gaps in words ---------------------------------------------------------------------------


def _title_i_breakdown(group: Measures, rest: Measures, threshold: int = 10) -> Breakdown:
    total = group.plus(rest)
    return breakdown_build(
        dimension=Dimension.TITLE_I,
        groups=[("yes", group), ("no", rest)],
        total=total,
        threshold=threshold,
    )


class TestGaps:
    def test_half_the_rate_and_the_same_pass_rate(self) -> None:
        # given: Title I educators make 0.5 applications each, the others 1; both pass 80 %
        breakdown = _title_i_breakdown(
            Measures(people=20, applications=10, final_decided=10, final_passed=8),
            Measures(people=40, applications=40, final_decided=20, final_passed=16),
        )
        # when
        sentences = gap_sentences(breakdown)
        # then
        assert sentences[0] == (
            "Educators at Title I schools apply at half the rate and pass at the same rate."
        )
        assert sentences[1] == (
            "Educators at schools outside Title I apply at twice the rate and pass at the same "
            "rate."
        )

    def test_no_material_difference_no_sentence(self) -> None:
        breakdown = _title_i_breakdown(
            Measures(people=20, applications=20, final_decided=10, final_passed=8),
            Measures(people=40, applications=42, final_decided=20, final_passed=17),
        )
        assert gap_sentences(breakdown) == []

    def test_a_pass_rate_gap(self) -> None:
        breakdown = _title_i_breakdown(
            Measures(people=20, applications=20, final_decided=10, final_passed=5),
            Measures(people=40, applications=40, final_decided=20, final_passed=18),
        )
        assert gap_sentences(breakdown)[0] == (
            "Educators at Title I schools apply at the same rate and pass at a lower rate."
        )

    def test_no_sentence_about_a_hidden_group_or_too_small_a_rest(self) -> None:
        # given: the Title I group is 7 people
        breakdown = _title_i_breakdown(
            Measures(people=7, applications=1), Measures(people=40, applications=40)
        )
        # then: neither it nor its complement is described
        assert breakdown.rows[0].hidden is Hidden.SMALL
        assert breakdown.rows[1].hidden is Hidden.COMPLEMENT
        assert gap_sentences(breakdown) == []
        assert (
            gap_sentence(Dimension.TITLE_I, breakdown.rows[1], breakdown.total.measures, 10) is None
        )

    def test_ratio_words(self) -> None:
        assert ratio_words(0.5) == "half the rate"
        assert ratio_words(1.1) == "the same rate"
        assert ratio_words(0.78) == "78% of the rate"
        assert ratio_words(2.04) == "twice the rate"
        assert ratio_words(5.5) == "5.5 times the rate"


# --- The breakdowns, the page and the CSV -----------------------------------------------------


@pytest.fixture
def district() -> Organization:
    return OrganizationFactory(slug="lakeside", short_name="LUSD")


def admin_of(organization: Organization, role: str = StaffRole.Role.PROGRAM_ADMIN) -> User:
    return StaffRoleFactory(organization=organization, role=role).user


def school_of(
    organization: Organization, school: str, people: int, *, apply_to: Any = None, **fields: Any
) -> list[User]:
    """``people`` members at ``school`` (through the factories), each applying to ``apply_to``
    (a credential) through the service when given."""
    members = []
    for _ in range(people):
        membership = MembershipFactory(
            organization=organization, school=school, district="Lake District", **fields
        )
        if apply_to is not None:
            submission_services.application_apply(credential=apply_to, educator=membership.user)
        members.append(membership.user)
    return members


def page(client: Client, organization: Organization, query: str = "") -> Any:
    url = reverse("insights_equity:equity", kwargs={"org_slug": organization.slug})
    return client.get(url + query)


def csv_of(client: Client, organization: Organization, dimension: str, query: str = "") -> list:
    url = reverse(
        "insights_equity:equity_csv",
        kwargs={"org_slug": organization.slug, "dimension": dimension},
    )
    response = client.get(url + query)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


class TestSevenEducators:
    """The issue's bar: a school with 7 educators is revealed neither by its cell nor by its
    complement, on the page or in the CSV."""

    @pytest.fixture
    def seven(self, district: Organization) -> Organization:
        credential = credential_of(make_credential(district, non_member_fee=0))
        school_of(district, "Small Creek Elementary", 7, apply_to=credential)
        school_of(district, "Hillview Middle", 12, apply_to=credential)
        school_of(district, "Lakeside High", 25)
        return district

    def test_the_page(self, client: Client, seven: Organization) -> None:
        # given
        client.force_login(admin_of(seven))
        # when
        response = page(client, seven, "?dimension=school")
        # then
        assert response.status_code == 200
        html = response.content.decode()
        (breakdown, sentences) = response.context["tables"][0]
        rows = {row.label: row for row in breakdown.rows}
        small, complement = rows["Small Creek Elementary"], rows["Hillview Middle"]
        assert [c.text for c in small.cells][:2] == ["fewer than 10", "not shown"]
        assert all(c.number is None for c in small.cells)
        assert all(c.text == "not shown" for c in complement.cells)
        assert [c.text for c in rows["Lakeside High"].cells][:2] == ["25", "0"]
        assert breakdown.total.cells[0].text == "44"  # 44 - 25 = 19: the 7 and the 12 together
        assert not any("Small Creek" in s or "Hillview" in s for s in sentences)
        assert sentences == ["Educators at Lakeside High have made no applications."]
        assert "fewer than 10" in html and "not shown" in html
        assert "Small Creek Elementary" in html
        assert ">7<" not in html and ">12<" not in html

    def test_the_csv(self, client: Client, seven: Organization) -> None:
        # given
        client.force_login(admin_of(seven, StaffRole.Role.OWNER))
        # when
        rows = csv_of(client, seven, "school")
        # then: the CSV says what the page says, and the shown numbers leave two unknowns
        assert rows[0][:3] == ["school", "People", "Applications"]
        by_label = {row[0]: row[1:] for row in rows[1:]}
        assert by_label["Small Creek Elementary"][0] == "fewer than 10"
        assert by_label["Hillview Middle"][0] == "not shown"
        assert by_label["All educators"][0] == "44"
        shown = [
            int(r[0])
            for label, r in by_label.items()
            if r[0].isdigit() and label != "All educators"
        ]
        assert 44 - sum(shown) == 19
        assert "7" not in [cell for row in rows for cell in row]


class TestBreakdowns:
    def test_a_large_group_with_few_applications_is_shown(self) -> None:
        # given: 40 educators who made 3 applications, 3 of them decided, beside 60 others
        breakdown = _title_i_breakdown(
            Measures(people=40, applications=3, final_decided=3, final_passed=1),
            Measures(people=60, applications=30, final_decided=20, final_passed=15),
        )
        # then: the gap is there to see; only the rate over 3 decisions is withheld
        cells = [c.text for c in breakdown.rows[0].cells]
        assert cells[:3] == ["40", "3", "0.07"]
        assert cells[5] == "fewer than 10 to compare"
        assert [c.text for c in breakdown.rows[1].cells][5] == "75%"
        assert gap_sentences(breakdown)[0] == (
            "Educators at Title I schools apply at 15% of the rate."
        )

    def test_measures_through_real_reviews(
        self, org: Organization, approve: Callable[..., Application]
    ) -> None:
        # given: one educator approved on the first attempt, one member who never applied
        application = approve()
        badge = badge_services.badge_issue(application_id=application.pk)
        Badge.objects.filter(pk=badge.pk).update(
            issued_at=application.created_at + dt.timedelta(days=5)
        )
        Membership.objects.filter(organization=org, user=application.educator).update(
            school="North", years_experience=4
        )
        MembershipFactory(organization=org, school="North", years_experience=12)
        org.profile_fields = [ProfileField.YEARS_EXPERIENCE]
        org.save()
        # when
        breakdowns = {b.dimension: b for b in equity_breakdowns(organization=org)}
        # then
        total = breakdowns[Dimension.SCHOOL].total.measures
        assert (total.people, total.applications, total.submitted) == (2, 1, 1)
        assert (total.first_decided, total.first_passed) == (1, 1)
        assert (total.final_decided, total.final_passed) == (1, 1)
        assert (total.badges, total.median_days) == (1, pytest.approx(5))
        experience = {r.value: r.measures.people for r in breakdowns[Dimension.EXPERIENCE].rows}
        assert experience == {"3-5": 1, "11-20": 1}
        assert Dimension.TITLE_I not in breakdowns  # not asked for by this organization

    def test_member_status_and_filters(self, district: Organization) -> None:
        # given: members, a lapsed member and a non-member who applied (to another program)
        first = credential_of(make_credential(district, non_member_fee=0))
        other = credential_of(make_credential(district, non_member_fee=0))
        school_of(district, "A", 3, apply_to=first)
        school_of(district, "A", 2, status=Membership.Status.LAPSED)
        outsider = UserFactory()
        submission_services.application_apply(credential=other, educator=outsider)
        # when
        status = equity_breakdowns(
            organization=district, filters=EquityFilters(dimension=Dimension.MEMBER_STATUS)
        )[0]
        only_first = equity_breakdowns(
            organization=district,
            filters=EquityFilters(dimension=Dimension.MEMBER_STATUS, credential=first.slug),
        )[0]
        later = equity_breakdowns(
            organization=district,
            filters=EquityFilters(
                dimension=Dimension.MEMBER_STATUS,
                program=Program.objects.get(pk=first.program_id).slug,
                start=timezone.localdate() + dt.timedelta(days=1),
            ),
        )[0]
        # then
        assert (later.total.measures.people, later.total.measures.applications) == (5, 0)
        people = {r.value: r.measures.people for r in status.rows}
        assert people == {"member": 3, "non_member": 1, "lapsed": 2}
        assert status.total.measures.applications == 4
        assert only_first.total.measures.applications == 3
        assert {r.value for r in only_first.rows} == {"member", "lapsed"}

    def test_constant_queries_at_2_and_20_schools(
        self, client: Client, district: Organization, count_queries: Any
    ) -> None:
        # given
        credential = credential_of(make_credential(district, non_member_fee=0))
        client.force_login(admin_of(district))
        for n in range(2):
            school_of(district, f"School {n}", 1, apply_to=credential)
        client.get("/")  # the header's facts about the visitor, kept from now on (decision 0024)
        small = count_queries(lambda: page(client, district))
        for n in range(2, 20):
            school_of(district, f"School {n}", 1, apply_to=credential)
        # when
        large = count_queries(lambda: page(client, district))
        # then
        assert_same_query_count(small, large)
        assert len(page(client, district).context["tables"][0][0].rows) == 20


class TestPageAccess:
    def test_roles(self, client: Client, district: Organization) -> None:
        # given
        reviewer = StaffRoleFactory(organization=district, role=StaffRole.Role.REVIEWER).user
        member = MembershipFactory(organization=district).user
        # then: anonymous people are asked to log in; reviewers and members learn nothing
        assert page(client, district).status_code == 302
        for person in (reviewer, member):
            client.force_login(person)
            assert page(client, district).status_code == 404
        for role in StaffRole.ADMIN_ROLES:
            client.force_login(admin_of(district, role))
            assert page(client, district).status_code == 200

    def test_another_organization_answers_404(self, client: Client, district: Organization) -> None:
        # given: a program admin of another organization
        other = OrganizationFactory(slug="elsewhere")
        client.force_login(admin_of(other))
        # when / then
        assert page(client, district).status_code == 404
        url = reverse(
            "insights_equity:equity_csv", kwargs={"org_slug": district.slug, "dimension": "school"}
        )
        assert client.get(url).status_code == 404
        assert page(client, other).status_code == 200

    def test_another_organizations_people_are_not_counted(
        self, client: Client, district: Organization
    ) -> None:
        # given: both organizations have members; the other's also apply to its credential
        other = OrganizationFactory(slug="elsewhere")
        school_of(district, "Ours", 10)
        theirs = credential_of(make_credential(other, non_member_fee=0))
        school_of(other, "Theirs", 15, apply_to=theirs)
        client.force_login(admin_of(district))
        # when
        response = page(client, district, "?dimension=school")
        # then
        breakdown = response.context["tables"][0][0]
        assert [row.label for row in breakdown.rows] == ["Ours"]
        assert (breakdown.total.measures.people, breakdown.total.measures.applications) == (10, 0)
        assert "Theirs" not in response.content.decode()

    def test_bad_filters_are_named(self, client: Client, district: Organization) -> None:
        client.force_login(admin_of(district))
        response = page(client, district, "?start=2026-05-01&end=2026-04-01&credential=nope")
        assert response.status_code == 400
        html = response.content.decode()
        assert "The end date is before the start date." in html
        assert "Select a valid choice" in html
        assert response.context["tables"] == []

    def test_a_field_not_asked_for_has_no_csv(self, client: Client, district: Organization) -> None:
        client.force_login(admin_of(district))
        url = reverse(
            "insights_equity:equity_csv", kwargs={"org_slug": district.slug, "dimension": "title_i"}
        )
        assert client.get(url).status_code == 404

    def test_csv_cells_cannot_run_as_formulas(self, client: Client, district: Organization) -> None:
        # given: a school whose name a spreadsheet would run
        school_of(district, '=HYPERLINK("http://evil.example")', 10)
        client.force_login(admin_of(district))
        # when
        rows = csv_of(client, district, "school")
        # then
        assert rows[1][0] == '\'=HYPERLINK("http://evil.example")'
        assert rows[1][1] == "10"


# --- The questions an organization asks, on the educator's profile ----------------------------


class TestProfileAnswers:
    def test_the_member_answers_what_their_organization_asks(
        self, client: Client, district: Organization
    ) -> None:
        # given: the district asks for years of experience and Title I; another org asks nothing
        district.profile_fields = [ProfileField.YEARS_EXPERIENCE, ProfileField.TITLE_I]
        district.save()
        membership = MembershipFactory(organization=district)
        MembershipFactory(organization=OrganizationFactory(slug="quiet"), user=membership.user)
        client.force_login(membership.user)
        url = reverse("submissions:profile")
        # when
        shown = client.get(url).content.decode()
        response = client.post(
            url,
            {
                "full_name": "Ada Teacher",
                "lakeside-years_experience": "7",
                "lakeside-title_i": "yes",
                "lakeside-school_level": "high",  # not asked: ignored
            },
        )
        # then
        assert "Asked by Organization" in shown or f"Asked by {district.name}" in shown
        assert "lakeside-years_experience" in shown and "lakeside-school_level" not in shown
        assert "quiet-" not in shown
        assert response.status_code == 302
        membership.refresh_from_db()
        assert (membership.years_experience, membership.title_i) == (7, True)
        assert membership.school_level == ""

    def test_a_wrong_answer_saves_nothing(self, client: Client, district: Organization) -> None:
        district.profile_fields = [ProfileField.YEARS_EXPERIENCE]
        district.save()
        membership = MembershipFactory(organization=district)
        client.force_login(membership.user)
        response = client.post(
            reverse("submissions:profile"),
            {"full_name": "Changed Name", "lakeside-years_experience": "61"},
        )
        assert response.status_code == 400
        assert "whole number from 0 to 60" in response.content.decode()
        membership.refresh_from_db()
        membership.user.refresh_from_db()
        assert membership.years_experience is None
        assert membership.user.full_name != "Changed Name"


class TestRosterAndSettings:
    def test_a_roster_row_carries_the_answers(self, district: Organization) -> None:
        # given: a spreadsheet's row (numbers come as floats) and a row with a wrong answer
        row, errors = member_row_clean(
            {
                "email": "ada@example.org",
                "years_experience": 12.0,
                "school_level": "Middle School",
                "title_i": "Y",
            }
        )
        _, wrong = member_row_clean({"email": "bo@example.org", "title_i": "maybe"})
        # when
        assert row is not None and not errors
        member_upsert_many(organization=district, rows=[row], actor=None)
        # then
        membership = Membership.objects.get(organization=district, user__email="ada@example.org")
        assert (membership.years_experience, membership.school_level, membership.title_i) == (
            12,
            "middle",
            True,
        )
        assert wrong == {"title_i": "Answer yes or no (or leave it empty) for a Title I school."}

    def test_a_row_without_the_columns_keeps_the_answers(self, district: Organization) -> None:
        membership = MembershipFactory(organization=district, years_experience=9)
        row, _ = member_row_clean({"email": membership.user.email, "school": "North"})
        assert row is not None
        member_upsert_many(organization=district, rows=[row], actor=None)
        membership.refresh_from_db()
        assert (membership.school, membership.years_experience) == ("North", 9)

    def test_the_owner_chooses_the_questions_and_the_threshold(
        self, client: Client, district: Organization
    ) -> None:
        # given
        client.force_login(admin_of(district, StaffRole.Role.OWNER))
        url = f"/admin/programs/organization/{district.pk}/change/"
        data = form_data(client, url)
        # when: a threshold under 5 is refused, then a good one saved
        refused = client.post(url, {**data, "suppression_threshold": "3"})
        saved = client.post(
            url,
            {**data, "suppression_threshold": "15", "profile_fields": ["title_i", "school_level"]},
        )
        # then
        assert refused.status_code == 200
        assert "greater than or equal to 5" in refused.content.decode()
        assert saved.status_code == 302
        district.refresh_from_db()
        assert sorted(district.profile_fields) == ["school_level", "title_i"]
        assert district.suppression_threshold == 15
