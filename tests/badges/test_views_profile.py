"""The opt-in public profile: its settings (/me/badges/profile/) and the page colleagues open
(/u/<handle>/), which lists only public, non-revoked badges, from every organization."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from badges import services
from badges.models import BackpackProfile, Badge
from programs.models import Organization, User
from tests.badges.test_views_backpack import body, earn, logged_in
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

SETTINGS = "/me/badges/profile/"


@pytest.fixture
def educator() -> User:
    return UserFactory(email="ines.ortega@example.org", full_name="Inés Ortega")


@pytest.fixture
def riverside() -> Organization:
    return OrganizationFactory(name="Riverside Unified", slug="riverside")


@pytest.fixture
def gael() -> Organization:
    return OrganizationFactory(name="GAEL", slug="gael")


def save(client: Client, **fields: Any) -> Any:
    data = {"handle": "", "headline": ""} | fields
    return client.post(SETTINGS, data)


# --- Settings ------------------------------------------------------------------------------


class TestSettings:
    def test_requires_login(self) -> None:
        for response in (Client().get(SETTINGS), Client().post(SETTINGS, {"handle": "abc"})):
            assert response.status_code == 302
            assert "/accounts/login/" in response["Location"]
        assert not BackpackProfile.objects.exists()

    def test_shows_labelled_fields(self, educator: User) -> None:
        page = body(logged_in(educator).get(SETTINGS))
        assert "<h1>Your public profile</h1>" in page
        assert '<label for="id_handle">Handle</label>' in page
        assert '<label for="id_headline">Headline' in page
        assert '<label for="id_is_public">Make my profile public</label>' in page
        assert 'id="id_is_public" name="is_public" value="on" aria' in page  # not checked

    def test_the_educator_opts_in(self, educator: User) -> None:
        client = logged_in(educator)
        # when they choose a handle and make the profile public
        response = save(
            client,
            handle="  Ines-Ortega ",
            headline="Grade 4 teacher,   STEM lead",
            is_public="on",
        )
        # then it is saved (the handle in lower case) and the page says where it lives
        assert response.status_code == 302
        profile = BackpackProfile.objects.get(user=educator)
        assert (profile.handle, profile.headline, profile.is_public) == (
            "ines-ortega",
            "Grade 4 teacher, STEM lead",
            True,
        )
        page = body(client.get(response["Location"]))
        assert "Your public profile is saved: /u/ines-ortega/" in page
        assert 'value="ines-ortega"' in page
        assert "checked" in page
        assert client.get("/u/ines-ortega/").status_code == 200

    def test_hiding_the_profile_again(self, educator: User) -> None:
        client = logged_in(educator)
        save(client, handle="ines", is_public="on")
        # when they untick "public"
        response = save(client, handle="ines", headline="")
        # then the page is gone, the handle stays theirs
        assert response.status_code == 302
        assert BackpackProfile.objects.get(user=educator).is_public is False
        assert client.get("/u/ines/").status_code == 404

    @pytest.mark.parametrize(
        ("handle", "message"),
        [
            ("", "Choose a handle"),
            ("ab", "3 to 40 lower-case letters"),
            ("-ines", "3 to 40 lower-case letters"),
            ("ines ortega", "3 to 40 lower-case letters"),
            ("inés", "3 to 40 lower-case letters"),
            ("x" * 41, "3 to 40 lower-case letters"),
        ],
    )
    def test_a_bad_handle_is_explained_and_nothing_is_saved(
        self, educator: User, handle: str, message: str
    ) -> None:
        response = save(logged_in(educator), handle=handle, headline="Teacher", is_public="on")
        assert response.status_code == 400
        page = body(response)
        assert "Nothing was saved" in page
        assert re.search(rf'<p class="field-error" id="id_handle-error">[^<]*{message}', page)
        assert 'aria-invalid="true"' in page
        assert 'value="Teacher"' in page  # what was typed is kept
        assert not BackpackProfile.objects.exists()

    def test_a_taken_handle_is_refused(self, educator: User) -> None:
        # given someone else's handle
        services.profile_save(user=UserFactory(), handle="ines", headline="", is_public=True)
        # when the educator asks for it
        response = save(logged_in(educator), handle="INES", is_public="on")
        # then
        assert response.status_code == 400
        assert "This handle is taken: choose another." in body(response)
        assert not BackpackProfile.objects.filter(user=educator).exists()

    def test_an_overlong_headline_is_refused_with_the_handle_kept(self, educator: User) -> None:
        client = logged_in(educator)
        save(client, handle="ines", headline="Teacher", is_public="on")
        response = save(client, handle="ines-2", headline="x" * 201, is_public="")
        assert response.status_code == 400
        assert "Keep it to 200 characters (this has 201)." in body(response)
        profile = BackpackProfile.objects.get(user=educator)
        assert (profile.handle, profile.headline, profile.is_public) == ("ines", "Teacher", True)


# --- The public page -----------------------------------------------------------------------------


class TestPublicProfile:
    @pytest.mark.scoped
    def test_lists_public_badges_from_every_organization(
        self, educator: User, riverside: Organization, gael: Organization
    ) -> None:
        # given public badges in two organizations, a private one and a revoked one
        with scopes_disabled():
            shown = earn(educator, riverside, title="Formative Assessment")
            also_shown = earn(educator, gael, title="Coaching Conversations")
            private = earn(educator, riverside, title="Private Matter")
            services.badge_visibility_set(badge=private, user=educator, is_public=False)
            revoked = earn(educator, gael, title="Taken Back")
            services.badge_revoke(badge=revoked, reason="Plagiarism.", actor=None)
            services.profile_save(
                user=educator, handle="ines", headline="Grade 4 teacher", is_public=True
            )
        # when a colleague (not signed in) opens the profile
        response = Client().get("/u/ines/")
        # then
        assert response.status_code == 200
        page = body(response)
        assert "<h1>Inés Ortega</h1>" in page
        assert "Grade 4 teacher" in page
        for badge, organization in ((shown, riverside), (also_shown, gael)):
            assert f'<a href="/badges/{badge.public_id}/">{badge.name}</a>' in page
            assert organization.name in page
        assert "Private Matter" not in page
        assert str(private.public_id) not in page
        assert "Taken Back" not in page
        assert str(revoked.public_id) not in page
        assert educator.email not in page
        assert 'Badges <span class="muted">(2)</span>' in page
        # and the private badge's verification page still answers
        with scopes_disabled():
            assert Badge.objects.get(pk=private.pk).is_public is False
        assert Client().get(f"/badges/{private.public_id}.json").status_code == 200

    def test_has_open_graph_tags(self, educator: User, riverside: Organization) -> None:
        badge = earn(educator, riverside, title="Formative Assessment")
        services.profile_save(user=educator, handle="ines", headline="Teacher", is_public=True)
        page = body(Client().get("/u/ines/"))
        assert '<meta property="og:type" content="profile">' in page
        assert '<meta property="og:title" content="Inés Ortega — verified badges">' in page
        assert re.search(r'<meta property="og:url" content="https?://[^"]+/u/ines/">', page)
        image = badge.credential["credentialSubject"]["achievement"]["image"]["id"]
        assert f'<meta property="og:image" content="{image}">' in page
        assert "Formative Assessment" in re.search(r'og:description" content="([^"]*)"', page)[1]

    def test_404_unless_public(self, educator: User, riverside: Organization) -> None:
        earn(educator, riverside)
        services.profile_save(user=educator, handle="ines", headline="", is_public=False)
        assert Client().get("/u/ines/").status_code == 404
        # not even for its owner
        assert logged_in(educator).get("/u/ines/").status_code == 404

    def test_404_for_an_unknown_handle(self) -> None:
        assert Client().get("/u/nobody-here/").status_code == 404

    def test_a_public_profile_without_public_badges(self, educator: User) -> None:
        services.profile_save(user=educator, handle="ines", headline="", is_public=True)
        page = body(Client().get("/u/ines/"))
        assert "No public badges yet." in page


class TestPermanentAddress:
    """/u/id/<public id>/: the ``id`` of the credential subject in badges issued while the
    profile was public."""

    def test_leads_to_the_profile_under_its_current_handle(self, educator: User) -> None:
        services.profile_save(user=educator, handle="ines", headline="", is_public=True)
        response = Client().get(f"/u/id/{educator.public_id}/")
        assert response.status_code == 302
        assert response["Location"] == "/u/ines/"
        services.profile_save(user=educator, handle="ines-ortega", headline="", is_public=True)
        assert Client().get(f"/u/id/{educator.public_id}/", follow=True).redirect_chain == [
            ("/u/ines-ortega/", 302)
        ]

    def test_404_once_the_profile_is_hidden(self, educator: User) -> None:
        services.profile_save(user=educator, handle="ines", headline="", is_public=False)
        assert Client().get(f"/u/id/{educator.public_id}/").status_code == 404
        assert logged_in(educator).get(f"/u/id/{educator.public_id}/").status_code == 404

    def test_404_for_someone_without_a_profile(self, educator: User) -> None:
        assert Client().get(f"/u/id/{educator.public_id}/").status_code == 404
        assert Client().get("/u/id/not-a-uuid/").status_code == 404
