"""Your profile (/me/profile/): full name, school and district, which reviewers' conflicts of
interest match against; linked from My learning and from the reviewer's conflicts page."""

from __future__ import annotations

import pytest
from django.test import Client

from programs.models import StaffRole, User
from reviews.models import ConflictOfInterest
from tests.factories import OrganizationFactory, StaffRoleFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/me/profile/"


def body(response) -> str:
    return response.content.decode()


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def profile_of(user: User) -> tuple[str, str, str]:
    user.refresh_from_db()
    return user.full_name, user.school, user.district


class TestProfile:
    def test_requires_login(self) -> None:
        client = Client()
        for response in (client.get(URL), client.post(URL, {"full_name": "Someone"})):
            assert response.status_code == 302
            assert "/accounts/login/" in response["Location"]

    def test_shows_the_current_values_with_labelled_fields(self) -> None:
        user = UserFactory(full_name="Ada Park", school="Hawthorne Elementary", district="")
        page = body(logged_in(user).get(URL))
        assert "<h1>Your profile</h1>" in page
        assert '<label for="id_full_name">Full name</label>' in page
        assert '<label for="id_school">School</label>' in page
        assert '<label for="id_district">District</label>' in page
        assert 'id="id_full_name" name="full_name" value="Ada Park"' in page
        assert 'id="id_school" name="school" value="Hawthorne Elementary"' in page
        assert 'id="id_district" name="district" value=""' in page
        assert "keep you away from colleagues' submissions" in page

    def test_saves_name_school_and_district(self) -> None:
        # given a person with an empty profile, and someone else
        user = UserFactory(full_name="", school="", district="")
        other = UserFactory(full_name="Bo Other", school="Elsewhere High", district="North")
        client = logged_in(user)
        # when they save their profile (with stray spaces)
        response = client.post(
            URL,
            {
                "full_name": "  Ada   Park ",
                "school": "Hawthorne  Elementary",
                "district": " Riverside Unified",
            },
        )
        # then it is saved, tidied, and they are told so
        assert response.status_code == 302 and response["Location"] == URL
        assert profile_of(user) == ("Ada Park", "Hawthorne Elementary", "Riverside Unified")
        page = body(client.get(URL))
        assert "Your profile is saved." in page
        assert 'value="Hawthorne Elementary"' in page
        # and only their own profile changed
        assert profile_of(other) == ("Bo Other", "Elsewhere High", "North")
        # and every field may be cleared again
        client.post(URL, {"full_name": "", "school": "", "district": ""})
        assert profile_of(user) == ("", "", "")

    def test_a_name_too_long_gets_a_field_error_and_changes_nothing(self) -> None:
        user = UserFactory(full_name="Ada Park", school="Hawthorne Elementary", district="North")
        client = logged_in(user)
        # when a 201-character name is sent with a new school
        response = client.post(
            URL, {"full_name": "x" * 201, "school": "Lincoln Middle", "district": "North"}
        )
        page = body(response)
        # then the name's field says why, beside it, and nothing is saved
        assert response.status_code == 400
        assert (
            '<p class="field-error" id="id_full_name-error">Keep it to 200 characters '
            "(this has 201).</p>"
        ) in page
        assert 'aria-describedby="id_full_name-hint id_full_name-error" aria-invalid="true"' in page
        assert '<a href="#id_full_name">' in page
        assert 'id="id_school-error"' not in page
        # what was typed is kept for a retry
        assert 'value="Lincoln Middle"' in page
        assert profile_of(user) == ("Ada Park", "Hawthorne Elementary", "North")

    def test_only_get_and_post(self) -> None:
        assert logged_in(UserFactory()).put(URL).status_code == 405


class TestLinks:
    def test_my_learning_links_to_the_profile(self) -> None:
        page = body(logged_in(UserFactory()).get("/me/"))
        assert f'href="{URL}"' in page

    def test_the_reviewers_conflicts_page_links_to_it_and_uses_what_it_saves(self) -> None:
        # given a reviewer with no school on their profile
        org = OrganizationFactory()
        reviewer = StaffRoleFactory(
            organization=org, role=StaffRole.Role.REVIEWER, user=UserFactory(school="")
        ).user
        client = logged_in(reviewer)
        conflicts = f"/o/{org.slug}/review/conflicts/"
        page = body(client.get(conflicts))
        assert "Your school and district are used to keep you away from colleagues'" in page
        assert f'<a href="{URL}">Edit your profile</a>' in page
        assert client.post(conflicts, {"kind": "school"}).status_code == 400
        # when they set their school in the profile
        client.post(URL, {"full_name": "", "school": "Hawthorne Elementary", "district": ""})
        # then the conflicts page shows it and a school conflict can be declared
        assert "school “Hawthorne Elementary”" in body(client.get(conflicts))
        assert client.post(conflicts, {"kind": "school"}).status_code == 302
        assert ConflictOfInterest.objects.filter(reviewer=reviewer, kind="school").exists()
