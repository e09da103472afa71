"""Single sign-on in a real browser: Riverside's program admin connects the district's OpenID
Connect provider in the admin; a teacher with no account signs in with it from the catalog,
through the real provider (tests/sso_idp, its own process), and comes back signed in, with an
account made from what the provider said and the district membership its domain gives; then
finds where to add a personal e-mail address so the account outlives the school one."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from programs.models import Membership, SignOnProvider, User
from tests.e2e.conftest import Journey
from tests.sso_idp.fixtures import PASSWORD, person
from tests.sso_idp.launch import IdentityProvider

TEACHER = "maya.chen@riverside-usd.example.org"


def test_a_teacher_signs_in_with_the_districts_provider(
    demo: None, journey: Journey, identity_provider: IdentityProvider
) -> None:
    # given Riverside's program admin, who adds the district's provider in the admin
    admin = journey.new_page()
    journey.login(admin, "admin@riverside.demo")
    admin.goto("/admin/programs/signonprovider/add/")
    admin.get_by_label("Protocol").select_option("oidc")
    admin.get_by_label("Name").fill("Riverside Google Workspace")
    admin.get_by_label("Issuer or discovery URL").fill(identity_provider.oidc_issuer)
    admin.get_by_label("Client id").fill(identity_provider.client_id)
    admin.get_by_label("Client secret").fill(identity_provider.client_secret)
    admin.get_by_label("Make members on sign-in").select_option("domain")
    admin.get_by_label("Membership domains").fill("riverside-usd.example.org")
    journey.step(admin, "admin adds the provider")
    admin.locator("input[name='_continue']").click()
    expect(admin.locator(".errornote")).to_have_count(0)
    expect(admin.get_by_text("yes (encrypted)")).to_be_visible()
    expect(admin.get_by_text("/accounts/oidc/oidc-riverside-usd/login/callback/")).to_be_visible()
    journey.step(admin, "provider saved")
    assert identity_provider.client_secret not in admin.content()
    assert SignOnProvider.objects.get().organization.slug == "riverside-usd"

    # when a teacher the provider knows, with no account here, opens the catalog
    identity_provider.set_people({TEACHER: person(TEACHER, name="Maya Chen")})
    page = journey.new_page()
    page.goto("/o/riverside-usd/")
    button = page.get_by_role("button", name="Sign in with Riverside Google Workspace")
    expect(button).to_be_visible()
    journey.step(page, "catalog with sign in")
    # and signs in with the district's provider (its own page, on another port)
    button.click()
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
    assert page.url.startswith(identity_provider.url)
    page.get_by_label("Username").fill(TEACHER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # then she is back on the catalog, signed in, a district member
    expect(page).to_have_url(re.compile(r"/o/riverside-usd/$"))
    expect(page.get_by_text(TEACHER)).to_be_visible()
    expect(page.get_by_text("Riverside USD Member")).to_be_visible()
    journey.step(page, "signed in as a member")
    maya = User.objects.get(email=TEACHER)
    assert maya.full_name == "Maya Chen"
    assert Membership.objects.filter(user=maya, organization__slug="riverside-usd").exists()

    # and My badges tells her how to keep her account when she leaves the district
    page.goto("/me/badges/")
    page.get_by_role("link", name="Add a personal e-mail address").click()
    expect(page).to_have_url(re.compile(r"/accounts/email/$"))
    expect(page.locator("main")).to_contain_text(f"{TEACHER} Verified Primary")
    journey.step(page, "her e-mail addresses")
