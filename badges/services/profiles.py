"""The educator's opt-in public profile (``/u/<handle>/``)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from programs.models import User

from ..errors import BadgeError
from ..errors import BadgeErrorCode as Code
from ..models import (
    BackpackProfile,
    handle_validator,
)

HANDLE_TAKEN = "This handle is taken: choose another."
HEADLINE_MAX = 200  # BackpackProfile.headline


def profile_save(*, user: User, handle: str, headline: str, is_public: bool) -> BackpackProfile:
    """Create or update the educator's public profile (``/u/<handle>/``). Every problem is
    reported at once, per field, and nothing is saved while any remains."""
    handle = (handle or "").strip().lower()
    headline = " ".join((headline or "").split())
    fields: dict[str, list[str]] = {}
    if not handle:
        fields["handle"] = ["Choose a handle: it is the address of your profile, /u/<handle>/."]
    else:
        try:
            handle_validator(handle)
        except ValidationError as error:
            fields["handle"] = [str(message) for message in error.messages]
    if len(headline) > HEADLINE_MAX:
        fields["headline"] = [f"Keep it to {HEADLINE_MAX} characters (this has {len(headline)})."]
    with transaction.atomic():
        profile = BackpackProfile.objects.select_for_update().filter(user=user).first()
        taken = BackpackProfile.objects.filter(handle=handle).exclude(user=user).exists()
        if "handle" not in fields and taken:
            fields["handle"] = [HANDLE_TAKEN]
        if fields:
            raise BadgeError(
                "Nothing was saved: check the fields marked.", code=Code.INVALID, fields=fields
            )
        if profile is None:
            profile = BackpackProfile(user=user)
        profile.handle = handle
        profile.headline = headline
        profile.is_public = is_public
        try:
            with transaction.atomic():
                profile.save()
        except IntegrityError as error:  # someone took the handle a moment ago
            raise BadgeError(
                HANDLE_TAKEN, code=Code.INVALID, fields={"handle": [HANDLE_TAKEN]}
            ) from error
    return profile
