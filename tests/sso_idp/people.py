"""Who exists at the test identity provider: the JSON file ``IDP_USERS_FILE``, read at each
sign-in ({username: {"password", "email", "email_verified", "name", "given_name",
"family_name", "groups"}})."""

from __future__ import annotations

import json
import os
from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.contrib.auth.models import User
from oauth2_provider.oauth2_validators import OAuth2Validator


def people() -> dict[str, dict[str, Any]]:
    with open(os.environ["IDP_USERS_FILE"]) as file:
        return dict(json.load(file))


def person(username: str) -> dict[str, Any]:
    return people().get(username, {})


class PeopleFileBackend(BaseBackend):
    def authenticate(self, request: Any, username: str = "", password: str = "", **_: Any) -> Any:
        known = person(username)
        if not known or known.get("password") != password:
            return None
        user, _ = User.objects.get_or_create(username=username)
        return user

    def get_user(self, user_id: int) -> Any:
        return User.objects.filter(pk=user_id).first()


class ClaimsValidator(OAuth2Validator):
    """The ID token and userinfo say what the people file says."""

    oidc_claim_scope = None  # every claim, whatever the scopes (a test provider)

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        known = person(request.user.username)
        claims = {
            key: known[key]
            for key in ("email", "email_verified", "name", "given_name", "family_name", "groups")
            if key in known
        }
        return claims
