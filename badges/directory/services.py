"""The educator's directory profile: listed or not, to whom, with a headline."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from programs.models import User

from ..errors import BadgeError
from ..errors import BadgeErrorCode as Code
from ..models import DirectoryProfile
from .index import directory_entries_refresh

HEADLINE_MAX = 160  # DirectoryProfile.headline


def directory_profile_save(*, user: User, visibility: str, headline: str) -> DirectoryProfile:
    """Create or update the educator's directory profile and their search entries in every
    organization. Every problem is reported at once, per field, and nothing is saved while any
    remains. Listing needs a name: the directory shows people by name."""
    headline = " ".join((headline or "").split())
    fields: dict[str, list[str]] = {}
    if visibility not in DirectoryProfile.Visibility.values:
        fields["visibility"] = [_("Choose who may find you: not listed, members, or anyone.")]
    if len(headline) > HEADLINE_MAX:
        fields["headline"] = [
            _("Keep it to %(max)s characters (this has %(length)s).")
            % {"max": HEADLINE_MAX, "length": len(headline)}
        ]
    if visibility != DirectoryProfile.Visibility.HIDDEN and user.needs_badge_name:
        fields["visibility"] = [_("Add your name first: the directory lists people by name.")]
    if fields:
        raise BadgeError(
            _("Nothing was saved: check the fields marked."), code=Code.INVALID, fields=fields
        )
    with transaction.atomic():
        profile, _created = DirectoryProfile.objects.select_for_update().get_or_create(user=user)
        profile.visibility = visibility
        profile.headline = headline
        profile.save(update_fields=["visibility", "headline", "updated_at"])
        directory_entries_refresh(user_ids=[user.pk])
    return profile
