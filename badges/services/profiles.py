"""The educator's opt-in public profile (``/u/<handle>/``)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from programs.models import User

from ..errors import BadgeError
from ..errors import BadgeErrorCode as Code
from ..models import (
    BackpackProfile,
    handle_validator,
)

HANDLE_TAKEN = gettext_lazy("This handle is taken: choose another.")
HEADLINE_MAX = 200  # BackpackProfile.headline


def profile_save(*, user: User, handle: str, headline: str, is_public: bool) -> BackpackProfile:
    """Create or update the educator's public profile (``/u/<handle>/``). Every problem is
    reported at once, per field, and nothing is saved while any remains."""
    handle = (handle or "").strip().lower()
    headline = " ".join((headline or "").split())
    fields: dict[str, list[str]] = {}
    if not handle:
        fields["handle"] = [_("Choose a handle: it is the address of your profile, /u/<handle>/.")]
    else:
        try:
            handle_validator(handle)
        except ValidationError as error:
            fields["handle"] = [str(message) for message in error.messages]
    if len(headline) > HEADLINE_MAX:
        fields["headline"] = [
            _("Keep it to %(max)s characters (this has %(length)s).")
            % {"max": HEADLINE_MAX, "length": len(headline)}
        ]
    with transaction.atomic():
        profile = BackpackProfile.objects.select_for_update().filter(user=user).first()
        taken = BackpackProfile.objects.filter(handle=handle).exclude(user=user).exists()
        if "handle" not in fields and taken:
            fields["handle"] = [str(HANDLE_TAKEN)]
        if fields:
            raise BadgeError(
                _("Nothing was saved: check the fields marked."), code=Code.INVALID, fields=fields
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
                str(HANDLE_TAKEN), code=Code.INVALID, fields={"handle": [str(HANDLE_TAKEN)]}
            ) from error
    return profile
