"""The admin: program admins (by role, not ``is_staff``) see and change only their organizations,
and credentials change through versions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from programs.models import (
    AuditEvent,
    Credential,
    CredentialVersion,
    EvidenceRequirement,
    Membership,
    Organization,
    Pathway,
    Program,
    Resource,
    RubricCriterion,
    StaffRole,
    User,
)
from tests.factories import (
    AudienceFactory,
    CategoryFactory,
    FocusAreaFactory,
    MembershipFactory,
    OrganizationFactory,
    PathwayFactory,
    ProgramFactory,
    StaffRoleFactory,
    UserFactory,
    make_credential,
)

pytestmark = pytest.mark.django_db


# --- Helpers -----------------------------------------------------------------------------------


class _FormParser(HTMLParser):
    """Collects what a browser would submit from the admin's main form (``<form id="…_form">``):
    inputs, checked boxes, selected options and text areas."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.data: dict[str, list[str]] = {}
        self._in_form = False
        self._select: tuple[str, bool] | None = None
        self._select_values: list[str] = []
        self._first_option: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def _add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._in_form = a.get("id", "").endswith("_form")
            return
        if not self._in_form or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "reset", "image", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._add(name, a.get("value", "on"))
                return
            self._add(name, a.get("value", ""))
        elif tag == "select" and name:
            self._select = (name, "multiple" in a)
            self._select_values, self._first_option = [], None
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in a:
                self._select_values.append(value)
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "select" and self._select is not None:
            name, multiple = self._select
            values = self._select_values
            if not values and not multiple and self._first_option is not None:
                values = [self._first_option]
            for value in values:
                self._add(name, value)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # browsers drop the one newline Django puts after <textarea>
            self._add(self._textarea, "".join(self._text).removeprefix("\n"))
            self._textarea = None


def form_data(client: Client, url: str) -> dict[str, Any]:
    """GET an admin change form and return its fields as POST data (lists for repeated names)."""
    response = client.get(url)
    assert response.status_code == 200, url
    parser = _FormParser()
    parser.feed(response.content.decode())
    return {k: v if len(v) > 1 else v[0] for k, v in parser.data.items()}


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def body(response: Any) -> str:
    return response.content.decode()


@dataclass
class Tenant:
    org: Organization
    admin: User
    program: Program
    focus_area: Any
    category: Any
    audience: Any
    version: CredentialVersion
    draft: CredentialVersion
    pathway: Pathway
    membership: Membership
    reviewer_role: StaffRole

    @property
    def credential(self) -> Credential:
        return self.version.credential


def make_tenant(prefix: str) -> Tenant:
    """An organization with a program admin and one of everything, every name starting with
    ``prefix`` so a page can be searched for another organization's data."""
    org = OrganizationFactory(name=f"{prefix} Association", short_name=prefix.upper())
    admin = UserFactory(email=f"admin@{prefix.lower()}.example.org", full_name=f"{prefix} Admin")
    StaffRoleFactory(organization=org, user=admin, role=StaffRole.Role.PROGRAM_ADMIN)
    program = ProgramFactory(organization=org, name=f"{prefix} Leadership Program")
    focus_area = FocusAreaFactory(organization=org, name=f"{prefix} Focus Area")
    category = CategoryFactory(organization=org, name=f"{prefix} Category")
    audience = AudienceFactory(organization=org, name=f"{prefix} Audience")
    version = make_credential(
        org,
        title=f"{prefix} Coaching Credential",
        program=program,
        focus_area=focus_area,
        categories=[category],
        audiences=[audience],
    )
    draft = make_credential(org, title=f"{prefix} Draft Credential", program=program, publish=False)
    pathway = PathwayFactory(organization=org, name=f"{prefix} Pathway")
    pathway.credentials.add(version.credential)
    member = UserFactory(email=f"member@{prefix.lower()}.example.org", full_name=f"{prefix} Member")
    membership = MembershipFactory(
        organization=org, user=member, member_until=dt.date(2027, 6, 30), member_number="M-1"
    )
    reviewer = UserFactory(
        email=f"reviewer@{prefix.lower()}.example.org", full_name=f"{prefix} Reviewer"
    )
    reviewer_role = StaffRoleFactory(organization=org, user=reviewer, role=StaffRole.Role.REVIEWER)
    return Tenant(
        org=org,
        admin=admin,
        program=program,
        focus_area=focus_area,
        category=category,
        audience=audience,
        version=version,
        draft=draft,
        pathway=pathway,
        membership=membership,
        reviewer_role=reviewer_role,
    )


@pytest.fixture
def a() -> Tenant:
    return make_tenant("Alpha")


@pytest.fixture
def b() -> Tenant:
    return make_tenant("Bravo")


def changelist_markers(t: Tenant) -> dict[str, str]:
    """For each changelist, a text only that organization's rows show."""
    return {
        "programs/program": t.program.name,
        "programs/focusarea": t.focus_area.name,
        "programs/category": t.category.name,
        "programs/audience": t.audience.name,
        "programs/credential": t.version.title,
        "programs/credentialversion": t.version.title,
        "programs/pathway": t.pathway.name,
        "programs/membership": t.membership.user.full_name,
        "programs/staffrole": t.reviewer_role.user.full_name,
        "programs/auditevent": t.version.title,
        "programs/organization": t.org.name,
    }


# --- 1. Access and changelists -----------------------------------------------------------------


class TestAccess:
    def test_program_admin_without_is_staff_sees_only_their_rows(
        self, client: Client, a: Tenant, b: Tenant
    ) -> None:
        # given a program admin of A who is not is_staff
        assert not a.admin.is_staff
        client.force_login(a.admin)
        # when they open the index and every changelist
        index = client.get("/admin/")
        pages = {path: client.get(f"/admin/{path}/") for path in changelist_markers(a)}
        # then they see A's rows and nothing of B's
        assert index.status_code == 200
        assert "Bravo" not in body(index)
        for path, response in pages.items():
            assert response.status_code == 200, path
            assert changelist_markers(a)[path] in body(response), path
            assert "Bravo" not in body(response), path

    def test_index_lists_the_tenant_models_but_not_users(self, client: Client, a: Tenant) -> None:
        # given
        client.force_login(a.admin)
        # when
        html = body(client.get("/admin/"))
        # then
        for label in ("Credentials", "Credential versions", "Pathways", "Memberships"):
            assert label in html
        assert "/admin/programs/user/" not in html

    def test_educator_without_a_role_is_sent_to_the_login(self, client: Client, a: Tenant) -> None:
        # given an educator who is only a member
        client.force_login(a.membership.user)
        # when
        responses = [client.get("/admin/"), client.get("/admin/programs/credential/")]
        # then
        for response in responses:
            assert response.status_code == 302
            assert response["Location"].startswith("/admin/login/")

    def test_reviewer_is_not_an_admin(self, client: Client, a: Tenant) -> None:
        # given
        client.force_login(a.reviewer_role.user)
        # when
        response = client.get("/admin/")
        # then
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")

    def test_superuser_sees_both_organizations(self, client: Client, a: Tenant, b: Tenant) -> None:
        # given
        root = UserFactory(is_superuser=True, is_staff=True)
        client.force_login(root)
        # when
        pages = {path: body(client.get(f"/admin/{path}/")) for path in changelist_markers(a)}
        # then
        for path, html in pages.items():
            assert changelist_markers(a)[path] in html, path
            assert changelist_markers(b)[path] in html, path
        assert client.get("/admin/programs/user/").status_code == 200


# --- 2. Another organization's objects ---------------------------------------------------------


class TestOtherOrganizationsObjects:
    def test_change_pages_of_b_are_not_shown_to_admin_a(
        self, client: Client, a: Tenant, b: Tenant
    ) -> None:
        # given
        client.force_login(a.admin)
        urls = [
            f"/admin/programs/program/{b.program.pk}/change/",
            f"/admin/programs/focusarea/{b.focus_area.pk}/change/",
            f"/admin/programs/category/{b.category.pk}/change/",
            f"/admin/programs/audience/{b.audience.pk}/change/",
            f"/admin/programs/credential/{b.credential.pk}/change/",
            f"/admin/programs/credentialversion/{b.version.pk}/change/",
            f"/admin/programs/credentialversion/{b.draft.pk}/change/",
            f"/admin/programs/pathway/{b.pathway.pk}/change/",
            f"/admin/programs/membership/{b.membership.pk}/change/",
            f"/admin/programs/staffrole/{b.reviewer_role.pk}/change/",
            f"/admin/programs/organization/{b.org.pk}/change/",
            f"/admin/programs/focusarea/{b.focus_area.pk}/history/",
            f"/admin/programs/focusarea/{b.focus_area.pk}/delete/",
        ]
        requirement = b.version.requirements.first()
        criterion = b.version.criteria.first()
        urls += [
            f"/admin/programs/evidencerequirement/{requirement.pk}/change/",
            f"/admin/programs/rubriccriterion/{criterion.pk}/change/",
        ]
        # when
        responses = {url: client.get(url) for url in urls}
        # then each answers 404, as every page of another organization's object does, and
        # shows nothing of B's
        for url, response in responses.items():
            assert response.status_code == 404, url
            assert "Bravo" not in body(response), url

    def test_posting_to_b_changes_nothing(self, client: Client, a: Tenant, b: Tenant) -> None:
        # given
        client.force_login(a.admin)
        # when
        client.post(
            f"/admin/programs/focusarea/{b.focus_area.pk}/change/",
            {"name": "Hijacked", "slug": "hijacked", "position": 0},
        )
        client.post(f"/admin/programs/focusarea/{b.focus_area.pk}/delete/", {"post": "yes"})
        # then
        b.focus_area.refresh_from_db()
        assert b.focus_area.name == "Bravo Focus Area"

    def test_view_on_site_does_not_reveal_b(self, client: Client, a: Tenant, b: Tenant) -> None:
        # given
        from django.contrib.contenttypes.models import ContentType

        client.force_login(a.admin)
        content_type = ContentType.objects.get_for_model(Credential)
        # when
        theirs = client.get(f"/admin/r/{content_type.pk}/{b.draft.credential.pk}/")
        ours = client.get(f"/admin/r/{content_type.pk}/{a.credential.pk}/")
        # then
        assert theirs.status_code == 404
        assert b.draft.credential.slug not in theirs.get("Location", "")
        assert ours.status_code == 302
        assert a.credential.slug in ours["Location"]

    def test_bulk_actions_cannot_reach_b(self, client: Client, a: Tenant, b: Tenant) -> None:
        # given
        client.force_login(a.admin)
        # when
        client.post(
            "/admin/programs/credential/",
            {"action": "retire", "_selected_action": [b.credential.pk]},
        )
        # then
        b.credential.refresh_from_db()
        assert b.credential.status == Credential.Status.PUBLISHED


# --- 3. Choices of foreign keys and many-to-many fields ----------------------------------------


class TestChoices:
    def test_version_form_offers_only_own_focus_areas_categories_audiences(
        self, client: Client, a: Tenant, b: Tenant
    ) -> None:
        # given
        client.force_login(a.admin)
        # when
        html = body(client.get(f"/admin/programs/credentialversion/{a.draft.pk}/change/"))
        # then
        for name in (a.focus_area.name, a.category.name, a.audience.name):
            assert name in html
        assert "Bravo" not in html

    def test_pathway_form_offers_only_own_credentials(
        self, client: Client, a: Tenant, b: Tenant
    ) -> None:
        # given
        client.force_login(a.admin)
        # when
        html = body(client.get("/admin/programs/pathway/add/"))
        # then
        assert a.version.title in html
        assert "Bravo" not in html

    def test_staff_role_form_offers_only_own_programs(
        self, client: Client, a: Tenant, b: Tenant
    ) -> None:
        # given
        client.force_login(a.admin)
        # when
        html = body(client.get("/admin/programs/staffrole/add/"))
        # then
        assert a.program.name in html
        assert "Bravo" not in html

    def test_credential_add_form_offers_only_own_programs(
        self, client: Client, a: Tenant, b: Tenant
    ) -> None:
        # given
        client.force_login(a.admin)
        # when
        html = body(client.get("/admin/programs/credential/add/"))
        # then
        assert a.program.name in html
        assert "Bravo" not in html

    def test_forged_link_to_b_focus_area_is_refused(
        self, client: Client, a: Tenant, b: Tenant
    ) -> None:
        # given A's draft and a POST naming B's focus area and category by pk
        client.force_login(a.admin)
        url = f"/admin/programs/credentialversion/{a.draft.pk}/change/"
        data = form_data(client, url)
        data.update(
            title="Forged", focus_area=str(b.focus_area.pk), categories=[str(b.category.pk)]
        )
        # when
        response = client.post(url, data)
        # then the form answers with errors and nothing changes
        assert response.status_code == 200
        assert "Select a valid choice" in body(response)
        a.draft.refresh_from_db()
        assert a.draft.title == "Alpha Draft Credential"
        assert a.draft.focus_area_id is None
        assert list(a.draft.categories.all()) == []

    def test_own_focus_area_is_accepted(self, client: Client, a: Tenant, b: Tenant) -> None:
        # given
        client.force_login(a.admin)
        url = f"/admin/programs/credentialversion/{a.draft.pk}/change/"
        data = form_data(client, url)
        data.update(
            focus_area=str(a.focus_area.pk),
            categories=[str(a.category.pk)],
            audiences=[str(a.audience.pk)],
        )
        # when
        response = client.post(url, data)
        # then
        assert response.status_code == 302, body(response)
        a.draft.refresh_from_db()
        assert a.draft.focus_area == a.focus_area
        assert list(a.draft.categories.all()) == [a.category]

    def test_forged_pathway_credential_and_staff_role_program_are_refused(
        self, client: Client, a: Tenant, b: Tenant
    ) -> None:
        # given
        client.force_login(a.admin)
        # when
        pathway = client.post(
            "/admin/programs/pathway/add/",
            {
                "name": "Forged pathway",
                "slug": "forged",
                "certificate_name": "Forged",
                "credentials": [str(b.credential.pk)],
                "is_published": "on",
            },
        )
        role = client.post(
            "/admin/programs/staffrole/add/",
            {
                "user_email": "new.reviewer@example.org",
                "role": "reviewer",
                "programs": [b.program.pk],
            },
        )
        # then
        assert pathway.status_code == 200 and "Select a valid choice" in body(pathway)
        assert role.status_code == 200 and "Select a valid choice" in body(role)
        assert not Pathway.objects.filter(slug="forged").exists()
        assert not User.objects.filter(email="new.reviewer@example.org").exists()

    def test_admin_of_two_organizations_cannot_cross_link(
        self, client: Client, a: Tenant, b: Tenant
    ) -> None:
        # given someone who administers both A and B
        StaffRoleFactory(organization=b.org, user=a.admin, role=StaffRole.Role.PROGRAM_ADMIN)
        client.force_login(a.admin)
        url = f"/admin/programs/credentialversion/{a.draft.pk}/change/"
        data = form_data(client, url)
        data.update(focus_area=str(b.focus_area.pk), categories=[str(b.category.pk)])
        # when
        response = client.post(url, data)
        # then
        assert response.status_code == 200
        assert "This belongs to another organization" in body(response)
        a.draft.refresh_from_db()
        assert a.draft.focus_area_id is None


# --- 4. The organization ----------------------------------------------------------------------


def organization_post(client: Client, org: Organization, **changes: str) -> Any:
    url = f"/admin/programs/organization/{org.pk}/change/"
    data = form_data(client, url)
    data.update(changes)
    return client.post(url, data)


class TestOrganization:
    def test_owner_changes_name_and_brand_colour(self, client: Client, a: Tenant) -> None:
        # given
        owner = UserFactory()
        StaffRoleFactory(organization=a.org, user=owner, role=StaffRole.Role.OWNER)
        client.force_login(owner)
        # when
        response = organization_post(
            client, a.org, name="Alpha Educators", brand_colour="#0b5394", tagline="Grow."
        )
        # then
        assert response.status_code == 302, body(response)
        a.org.refresh_from_db()
        assert (a.org.name, a.org.brand_colour, a.org.tagline) == (
            "Alpha Educators",
            "#0b5394",
            "Grow.",
        )

    def test_owner_cannot_change_slug_or_activity(self, client: Client, a: Tenant) -> None:
        # given
        owner = UserFactory()
        StaffRoleFactory(organization=a.org, user=owner, role=StaffRole.Role.OWNER)
        client.force_login(owner)
        slug = a.org.slug
        # when
        organization_post(client, a.org, slug="taken-over", is_active="")
        # then
        a.org.refresh_from_db()
        assert a.org.slug == slug and a.org.is_active

    def test_bad_brand_colour_is_refused(self, client: Client, a: Tenant) -> None:
        # given
        owner = UserFactory()
        StaffRoleFactory(organization=a.org, user=owner, role=StaffRole.Role.OWNER)
        client.force_login(owner)
        # when
        response = organization_post(client, a.org, name="Renamed", brand_colour="blue")
        # then
        assert response.status_code == 200
        assert "Enter a colour as #RRGGBB" in body(response)
        a.org.refresh_from_db()
        assert a.org.name == "Alpha Association" and a.org.brand_colour == "#1f4e79"

    def test_program_admin_sees_organization_read_only(self, client: Client, a: Tenant) -> None:
        # given
        client.force_login(a.admin)
        url = f"/admin/programs/organization/{a.org.pk}/change/"
        # when
        page = client.get(url)
        posted = client.post(url, {"name": "Renamed", "brand_colour": "#000000"})
        # then
        assert page.status_code == 200
        assert "Alpha Association" in body(page)
        assert 'name="name"' not in body(page)
        assert posted.status_code == 403
        a.org.refresh_from_db()
        assert a.org.name == "Alpha Association"

    def test_owner_of_a_cannot_change_b(self, client: Client, a: Tenant, b: Tenant) -> None:
        # given
        owner = UserFactory()
        StaffRoleFactory(organization=a.org, user=owner, role=StaffRole.Role.OWNER)
        client.force_login(owner)
        # when
        response = client.post(
            f"/admin/programs/organization/{b.org.pk}/change/",
            {"name": "Taken", "brand_colour": "#000000", "currency": "USD"},
        )
        # then
        assert response.status_code in (302, 404)
        b.org.refresh_from_db()
        assert b.org.name == "Bravo Association"

    def test_only_superusers_add_organizations(self, client: Client, a: Tenant) -> None:
        # given
        owner = UserFactory()
        StaffRoleFactory(organization=a.org, user=owner, role=StaffRole.Role.OWNER)
        client.force_login(owner)
        # when
        response = client.get("/admin/programs/organization/add/")
        # then
        assert response.status_code == 403


# --- 6. Versioning -----------------------------------------------------------------------------


def run_action(client: Client, model: str, action: str, *pks: int) -> Any:
    return client.post(
        f"/admin/programs/{model}/",
        {"action": action, "_selected_action": [str(pk) for pk in pks]},
        follow=True,
    )


class TestVersioning:
    def test_add_form_creates_a_credential_with_a_draft_version_one(
        self, client: Client, a: Tenant
    ) -> None:
        # given
        client.force_login(a.admin)
        # when
        response = client.post(
            "/admin/programs/credential/add/",
            {
                "program": a.program.pk,
                "slug": "data-literacy",
                "title": "Data Literacy",
                "summary": "Use data to plan.",
                "competency": "The educator uses student data.",
            },
        )
        # then
        assert response.status_code == 302, body(response)
        credential = Credential.objects.get(organization=a.org, slug="data-literacy")
        version = credential.versions.get()
        assert (version.number, version.state, version.title) == (1, "draft", "Data Literacy")
        assert version.organization_id == a.org.pk
        assert credential.status == Credential.Status.DRAFT
        assert credential.current_version is None
        # the new draft opens in the builder
        assert response["Location"] == f"/admin/programs/credentialversion/{version.pk}/builder/"
        assert "Data Literacy" not in body(client.get(f"/o/{a.org.slug}/"))
        assert AuditEvent.objects.filter(action="credential.created", actor=a.admin).exists()

    def test_add_form_refuses_a_taken_slug(self, client: Client, a: Tenant) -> None:
        # given
        client.force_login(a.admin)
        # when
        response = client.post(
            "/admin/programs/credential/add/",
            {
                "program": a.program.pk,
                "slug": a.credential.slug,
                "title": "Duplicate",
                "summary": "S.",
                "competency": "C.",
            },
        )
        # then
        assert response.status_code == 200
        assert "already" in body(response)
        assert Credential.objects.filter(organization=a.org).count() == 2

    def test_slug_taken_in_another_organization_is_fine(
        self, client: Client, a: Tenant, b: Tenant
    ) -> None:
        # given
        client.force_login(a.admin)
        # when
        response = client.post(
            "/admin/programs/focusarea/add/",
            {"name": "Same slug", "slug": b.focus_area.slug, "position": 0},
        )
        again = client.post(
            "/admin/programs/focusarea/add/",
            {"name": "Same slug again", "slug": b.focus_area.slug, "position": 0},
        )
        # then
        assert response.status_code == 302, body(response)
        assert again.status_code == 200 and "already exists" in body(again)

    def test_published_version_is_read_only(self, client: Client, a: Tenant) -> None:
        # given
        client.force_login(a.admin)
        url = f"/admin/programs/credentialversion/{a.version.pk}/change/"
        # when
        page = client.get(url)
        posted = client.post(url, {"title": "Changed in place", "summary": "x", "competency": "y"})
        # then
        assert page.status_code == 200
        assert 'name="title"' not in body(page)
        assert "Edit as a new version" in body(page)
        assert posted.status_code == 403
        a.version.refresh_from_db()
        assert a.version.title == "Alpha Coaching Credential"

    def test_edit_publish_supersede(self, client: Client, a: Tenant) -> None:
        # given a published credential
        client.force_login(a.admin)
        credential = a.credential
        # when the admin edits it as a new version
        response = run_action(client, "credential", "edit_as_new_version", credential.pk)
        # then a draft v2 copies the requirements, criteria and levels
        assert response.status_code == 200
        draft = CredentialVersion.objects.get(credential=credential, number=2)
        assert draft.state == CredentialVersion.State.DRAFT
        assert [r.title for r in draft.requirements.all()] == ["Lesson plan", "Reflection"]
        assert draft.criteria.get().levels.count() == 2
        assert any("draft version 2" in m for m in messages_of(response))

        # when the draft's title is changed and it is published
        url = f"/admin/programs/credentialversion/{draft.pk}/change/"
        data = form_data(client, url)
        data["title"] = "Alpha Coaching Credential, revised"
        assert client.post(url, data).status_code == 302
        response = run_action(client, "credentialversion", "publish", draft.pk)

        # then v2 is current, v1 superseded and still readable
        assert any("version 2 is now in the catalog" in m for m in messages_of(response))
        credential.refresh_from_db()
        a.version.refresh_from_db()
        draft.refresh_from_db()
        assert credential.current_version == draft
        assert draft.state == CredentialVersion.State.PUBLISHED
        assert a.version.state == CredentialVersion.State.SUPERSEDED
        old = client.get(f"/o/{a.org.slug}/credentials/{credential.slug}/v1/")
        assert old.status_code == 200
        assert "<h1>Alpha Coaching Credential</h1>" in body(old)
        current = body(client.get(f"/o/{a.org.slug}/credentials/{credential.slug}/"))
        assert "<h1>Alpha Coaching Credential, revised</h1>" in current

    def test_publishing_an_incomplete_draft_shows_an_error(self, client: Client, a: Tenant) -> None:
        # given a draft without requirements
        client.force_login(a.admin)
        a.draft.requirements.all().delete()
        # when
        response = run_action(client, "credentialversion", "publish", a.draft.pk)
        # then
        errors = [m for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
        assert errors and "Add at least one evidence requirement" in str(errors[0])
        a.draft.refresh_from_db()
        assert a.draft.state == CredentialVersion.State.DRAFT
        assert Credential.objects.get(pk=a.draft.credential_id).status == "draft"

    def test_publishing_a_published_version_is_an_error(self, client: Client, a: Tenant) -> None:
        # given
        client.force_login(a.admin)
        # when
        response = run_action(client, "credentialversion", "publish", a.version.pk)
        # then
        assert any("already published" in m for m in messages_of(response))

    def test_retire_hides_the_credential_from_the_catalog(self, client: Client, a: Tenant) -> None:
        # given
        client.force_login(a.admin)
        assert a.version.title in body(client.get(f"/o/{a.org.slug}/"))
        # when
        response = run_action(client, "credential", "retire", a.credential.pk)
        # then
        assert any("retired" in m for m in messages_of(response))
        assert a.version.title not in body(client.get(f"/o/{a.org.slug}/"))
        again = run_action(client, "credential", "retire", a.credential.pk)
        assert any("already retired" in m for m in messages_of(again))

    def test_buttons_publish_and_edit_as_new_version(self, client: Client, a: Tenant) -> None:
        # given
        client.force_login(a.admin)
        credential_url = f"/admin/programs/credential/{a.credential.pk}/change/"
        assert "Edit as a new version" in body(client.get(credential_url))
        # when the admin presses "Edit as a new version"
        response = client.post(f"/admin/programs/credential/{a.credential.pk}/new-version/")
        # then they land on the new draft
        draft = CredentialVersion.objects.get(credential=a.credential, number=2)
        assert response.status_code == 302
        assert response["Location"] == f"/admin/programs/credentialversion/{draft.pk}/builder/"
        draft_page = body(client.get(response["Location"]))
        assert "Publish…" in draft_page
        # when they press "Publish this version"
        response = client.post(f"/admin/programs/credentialversion/{draft.pk}/publish/")
        # then
        draft.refresh_from_db()
        assert draft.state == CredentialVersion.State.PUBLISHED
        assert response.status_code == 302

    def test_buttons_are_post_only_and_scoped(self, client: Client, a: Tenant, b: Tenant) -> None:
        # given
        client.force_login(a.admin)
        # when
        get = client.get(f"/admin/programs/credential/{a.credential.pk}/new-version/")
        theirs = client.post(f"/admin/programs/credential/{b.credential.pk}/new-version/")
        publish_theirs = client.post(f"/admin/programs/credentialversion/{b.draft.pk}/publish/")
        # then
        assert get.status_code == 405
        assert theirs.status_code == 404 and publish_theirs.status_code == 404
        assert CredentialVersion.objects.filter(credential=b.credential).count() == 1
        b.draft.refresh_from_db()
        assert b.draft.state == CredentialVersion.State.DRAFT

    def test_buttons_need_csrf(self, a: Tenant) -> None:
        # given a client that enforces CSRF
        client = Client(enforce_csrf_checks=True)
        client.force_login(a.admin)
        # when
        response = client.post(f"/admin/programs/credentialversion/{a.draft.pk}/publish/")
        # then
        assert response.status_code == 403
        a.draft.refresh_from_db()
        assert a.draft.state == CredentialVersion.State.DRAFT


# --- 7. People by e-mail ----------------------------------------------------------------------


class TestPeopleByEmail:
    def test_membership_for_a_new_email_creates_the_account(
        self, client: Client, a: Tenant
    ) -> None:
        # given
        client.force_login(a.admin)
        # when
        response = client.post(
            "/admin/programs/membership/add/",
            {
                "user_email": " New.Teacher@Example.org ",
                "status": "active",
                "member_number": "M-2",
                "member_until": "2027-06-30",
            },
        )
        # then
        assert response.status_code == 302, body(response)
        user = User.objects.get(email="new.teacher@example.org")
        membership = Membership.objects.get(user=user)
        assert membership.organization == a.org
        assert not user.has_usable_password()

    def test_membership_for_an_existing_user_links_it(self, client: Client, a: Tenant) -> None:
        # given
        teacher = UserFactory(email="teacher@example.org")
        client.force_login(a.admin)
        # when
        response = client.post(
            "/admin/programs/membership/add/",
            {"user_email": "TEACHER@example.org", "status": "active"},
        )
        # then
        assert response.status_code == 302, body(response)
        assert Membership.objects.get(user=teacher).organization == a.org
        assert User.objects.filter(email__iexact="teacher@example.org").count() == 1

    def test_second_membership_for_the_same_person_is_a_form_error(
        self, client: Client, a: Tenant
    ) -> None:
        # given
        client.force_login(a.admin)
        # when
        response = client.post(
            "/admin/programs/membership/add/",
            {"user_email": a.membership.user.email, "status": "active"},
        )
        # then
        assert response.status_code == 200
        assert "already" in body(response)
        assert Membership.objects.filter(organization=a.org).count() == 1

    def test_membership_change_form_shows_the_email(self, client: Client, a: Tenant) -> None:
        # given
        client.force_login(a.admin)
        url = f"/admin/programs/membership/{a.membership.pk}/change/"
        # when
        data = form_data(client, url)
        data["member_until"] = "2028-06-30"
        response = client.post(url, data)
        # then
        assert data["user_email"] == "member@alpha.example.org"
        assert response.status_code == 302, body(response)
        a.membership.refresh_from_db()
        assert a.membership.member_until == dt.date(2028, 6, 30)

    def test_staff_role_for_an_existing_user(self, client: Client, a: Tenant) -> None:
        # given
        teacher = UserFactory(email="coach@example.org")
        client.force_login(a.admin)
        # when
        response = client.post(
            "/admin/programs/staffrole/add/",
            {"user_email": "coach@example.org", "role": "reviewer", "programs": [a.program.pk]},
        )
        # then
        assert response.status_code == 302, body(response)
        role = StaffRole.objects.get(user=teacher)
        assert role.organization == a.org and list(role.programs.all()) == [a.program]

    def test_changelist_shows_the_membership(self, client: Client, a: Tenant) -> None:
        # given
        client.force_login(a.admin)
        # when
        html = body(client.get("/admin/programs/membership/"))
        # then
        assert "ALPHA Member until 2027-06-30" in html


# --- 8. Inlines --------------------------------------------------------------------------------


class TestInlines:
    def test_new_inline_rows_take_the_versions_organization(
        self, client: Client, a: Tenant, b: Tenant
    ) -> None:
        # given the change form of A's draft, with one new row in each inline
        client.force_login(a.admin)
        url = f"/admin/programs/credentialversion/{a.draft.pk}/change/"
        data = form_data(client, url)
        rows = {
            "requirements": {
                "position": "3",
                "title": "Student work samples",
                "kind": "file",
                "instructions": "Upload three samples.",
                "required": "on",
                "accepted_file_kinds": ["document", "image"],
                "max_file_size_mb": "100",
                "max_files": "3",
            },
            "criteria": {"position": "2", "title": "Samples show growth", "passing_score": "2"},
            "resources": {
                "position": "1",
                "kind": "link",
                "title": "Reading",
                "url": "https://example.org/r",
            },
        }
        for prefix, row in rows.items():
            index = int(data[f"{prefix}-TOTAL_FORMS"])
            for field, value in row.items():
                data[f"{prefix}-{index}-{field}"] = value
            data[f"{prefix}-{index}-version"] = str(a.draft.pk)
            data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
        # when
        response = client.post(url, data)
        # then
        assert response.status_code == 302, body(response)
        requirement = EvidenceRequirement.objects.get(title="Student work samples")
        criterion = RubricCriterion.objects.get(title="Samples show growth")
        resource = Resource.objects.get(title="Reading")
        for row in (requirement, criterion, resource):
            assert row.organization_id == a.draft.organization_id
            assert row.version_id == a.draft.pk
        assert requirement.accepted_file_kinds == ["document", "image"]

    def test_inline_requirement_choice_is_limited_to_the_version(
        self, client: Client, a: Tenant, b: Tenant
    ) -> None:
        # given
        client.force_login(a.admin)
        url = f"/admin/programs/credentialversion/{a.draft.pk}/change/"
        other = a.version.requirements.get(position=1)
        data = form_data(client, url)
        data["criteria-0-requirement"] = str(other.pk)
        # when
        response = client.post(url, data)
        # then
        assert response.status_code == 200
        assert "Select a valid choice" in body(response)

    def test_published_version_inlines_are_read_only(self, client: Client, a: Tenant) -> None:
        # given
        client.force_login(a.admin)
        # when
        html = body(client.get(f"/admin/programs/credentialversion/{a.version.pk}/change/"))
        # then
        assert "Lesson plan" in html
        assert 'name="requirements-0-title"' not in html

    def test_rubric_levels_of_a_draft_criterion(self, client: Client, a: Tenant) -> None:
        # given
        client.force_login(a.admin)
        criterion = a.draft.criteria.get()
        url = f"/admin/programs/rubriccriterion/{criterion.pk}/change/"
        data = form_data(client, url)
        index = int(data["levels-TOTAL_FORMS"])
        data.update(
            {
                f"levels-{index}-score": "2",
                f"levels-{index}-label": "Exceeds",
                f"levels-{index}-descriptor": "Beyond.",
                f"levels-{index}-criterion": str(criterion.pk),
                "levels-TOTAL_FORMS": str(index + 1),
            }
        )
        # when
        response = client.post(url, data)
        # then
        assert response.status_code == 302, body(response)
        level = criterion.levels.get(score=2)
        assert level.organization_id == a.org.pk


# --- Logging in, roles and frozen content ------------------------------------------------------

PASSWORD = "correct horse battery staple"


class TestAdminLogin:
    def test_program_admin_logs_in_on_the_admin_login(self, client: Client, a: Tenant) -> None:
        # given a program admin who is not is_staff, with a confirmed e-mail address
        # when
        response = client.post(
            "/admin/login/?next=/admin/", {"username": a.admin.email, "password": PASSWORD}
        )
        # then
        assert response.status_code == 302 and response["Location"] == "/admin/"
        assert client.get("/admin/").status_code == 200

    def test_educator_cannot_log_in_on_the_admin_login(self, client: Client, a: Tenant) -> None:
        # when
        response = client.post(
            "/admin/login/", {"username": a.membership.user.email, "password": PASSWORD}
        )
        # then
        assert response.status_code == 200
        assert "administers an organization" in body(response)
        assert client.get("/admin/").status_code == 302

    def test_unconfirmed_email_must_be_confirmed_first(self, client: Client, a: Tenant) -> None:
        # given
        from allauth.account.models import EmailAddress

        EmailAddress.objects.filter(user=a.admin).update(verified=False)
        # when
        response = client.post("/admin/login/", {"username": a.admin.email, "password": PASSWORD})
        # then
        assert response.status_code == 200
        assert "Confirm your e-mail address first" in body(response)


class TestOwnerRole:
    def test_program_admin_cannot_make_an_owner(self, client: Client, a: Tenant) -> None:
        # given
        client.force_login(a.admin)
        # when
        response = client.post(
            "/admin/programs/staffrole/add/", {"user_email": a.admin.email, "role": "owner"}
        )
        # then
        assert response.status_code == 200
        assert "Only an owner of the organization" in body(response)
        assert not StaffRole.objects.filter(role=StaffRole.Role.OWNER).exists()

    def test_program_admin_cannot_change_or_remove_an_owner(
        self, client: Client, a: Tenant
    ) -> None:
        # given
        owner_role = StaffRoleFactory(organization=a.org, role=StaffRole.Role.OWNER)
        client.force_login(a.admin)
        url = f"/admin/programs/staffrole/{owner_role.pk}/"
        # when
        changed = client.post(url + "change/", {"user_email": a.admin.email, "role": "owner"})
        deleted = client.post(url + "delete/", {"post": "yes"})
        # then
        assert changed.status_code == 403 and deleted.status_code == 403
        owner_role.refresh_from_db()
        assert owner_role.user != a.admin

    def test_owner_makes_another_owner(self, client: Client, a: Tenant) -> None:
        # given
        owner = UserFactory()
        StaffRoleFactory(organization=a.org, user=owner, role=StaffRole.Role.OWNER)
        client.force_login(owner)
        # when
        response = client.post(
            "/admin/programs/staffrole/add/", {"user_email": a.admin.email, "role": "owner"}
        )
        # then
        assert response.status_code == 302, body(response)
        assert StaffRole.objects.filter(user=a.admin, role=StaffRole.Role.OWNER).exists()

    def test_superuser_adds_a_role_in_a_chosen_organization(
        self, client: Client, a: Tenant, b: Tenant
    ) -> None:
        # given
        client.force_login(UserFactory(is_superuser=True, is_staff=True))
        # when
        mixed = client.post(
            "/admin/programs/staffrole/add/",
            {
                "organization": b.org.pk,
                "user_email": "x@example.org",
                "role": "reviewer",
                "programs": [a.program.pk],
            },
        )
        ok = client.post(
            "/admin/programs/staffrole/add/",
            {
                "organization": b.org.pk,
                "user_email": "x@example.org",
                "role": "reviewer",
                "programs": [b.program.pk],
            },
        )
        # then
        assert mixed.status_code == 200 and "This belongs to another organization" in body(mixed)
        assert ok.status_code == 302, body(ok)
        assert StaffRole.objects.get(user__email="x@example.org").organization == b.org


class TestFrozenContent:
    def test_parts_of_a_published_version_cannot_be_deleted_or_changed(
        self, client: Client, a: Tenant
    ) -> None:
        # given
        client.force_login(a.admin)
        requirement = a.version.requirements.get(position=1)
        criterion = a.version.criteria.get()
        # when
        responses = [
            client.post(
                f"/admin/programs/evidencerequirement/{requirement.pk}/delete/", {"post": "yes"}
            ),
            client.post(f"/admin/programs/rubriccriterion/{criterion.pk}/delete/", {"post": "yes"}),
            client.post(
                f"/admin/programs/rubriccriterion/{criterion.pk}/change/",
                {"title": "Changed", "position": 1, "passing_score": 1},
            ),
            client.get("/admin/programs/evidencerequirement/add/"),
        ]
        # then
        assert [r.status_code for r in responses] == [403, 403, 403, 403]
        assert a.version.requirements.count() == 2
        criterion.refresh_from_db()
        assert criterion.title == "Plan aligns with the method"

    def test_a_published_credential_cannot_be_deleted(self, client: Client, a: Tenant) -> None:
        # given
        client.force_login(a.admin)
        # when
        client.post(f"/admin/programs/credential/{a.credential.pk}/delete/", {"post": "yes"})
        # then
        assert Credential.objects.filter(pk=a.credential.pk).exists()

    def test_a_criterion_scores_only_its_own_versions_requirements(
        self, client: Client, a: Tenant
    ) -> None:
        # given the criterion of A's draft, and a requirement of another version
        client.force_login(a.admin)
        criterion = a.draft.criteria.get()
        url = f"/admin/programs/rubriccriterion/{criterion.pk}/change/"
        data = form_data(client, url)
        data["requirement"] = str(a.version.requirements.get(position=1).pk)
        # when
        response = client.post(url, data)
        # then
        assert response.status_code == 200 and "Select a valid choice" in body(response)

    def test_checklist_escapes_requirement_titles(self, client: Client, a: Tenant) -> None:
        # given a requirement title with markup and a problem naming it
        client.force_login(a.admin)
        a.draft.requirements.filter(kind="file").update(
            title="<script>alert(1)</script>", accepted_file_kinds=[]
        )
        # when
        html = body(client.get(f"/admin/programs/credentialversion/{a.draft.pk}/change/"))
        # then
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    def test_publish_button_on_an_incomplete_draft_explains_why(
        self, client: Client, a: Tenant
    ) -> None:
        # given
        client.force_login(a.admin)
        a.draft.criteria.all().delete()
        url = f"/admin/programs/credentialversion/{a.draft.pk}/"
        # when
        response = client.post(url + "publish/", follow=True)
        # then
        assert response.redirect_chain[-1][0] == url + "change/"
        assert any("Add at least one rubric criterion" in m for m in messages_of(response))
        a.draft.refresh_from_db()
        assert a.draft.state == CredentialVersion.State.DRAFT

    def test_list_editable_cannot_reach_b(self, client: Client, a: Tenant, b: Tenant) -> None:
        # given a forged changelist POST naming B's focus area
        client.force_login(a.admin)
        # when
        client.post(
            "/admin/programs/focusarea/",
            {
                "form-TOTAL_FORMS": "1",
                "form-INITIAL_FORMS": "1",
                "form-0-id": str(b.focus_area.pk),
                "form-0-position": "99",
                "_save": "Save",
            },
        )
        # then
        b.focus_area.refresh_from_db()
        assert b.focus_area.position == 0
