"""The optional profile fields an organization may ask its members for (years of experience,
school level, Title I school): one rule to read a value, whoever supplies it (the educator's
profile page, a roster row), and the service that saves a member's own answers.

The answers are used grouped, never per person, by the equity views (badges.insights).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from credentials_site.tenancy import cross_organization, tenant_scope

from ..models import Membership, User
from ..models_roster import ProfileField, SchoolLevel
from .audit import audit_record

MY_MEMBERSHIPS = "an educator's own memberships, for the questions their organizations ask"

MAX_YEARS = 60
_YES = {"yes", "y", "true", "1", "title i", "x"}
_NO = {"no", "n", "false", "0"}
_LEVELS = {
    **{value: value for value in SchoolLevel.values},
    **{str(label).casefold(): value for value, label in SchoolLevel.choices},
    "k-12": SchoolLevel.K12,
    "k12": SchoolLevel.K12,
    "elementary school": SchoolLevel.ELEMENTARY,
    "middle school": SchoolLevel.MIDDLE,
    "high school": SchoolLevel.HIGH,
}
LEVEL_HINT = "elementary, middle, high, K-12 or other"


def _text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return " ".join(str(raw).split())


def years_experience_parse(raw: Any) -> int | None:
    """Whole years, 0 to 60; empty: not answered. ValueError with a message otherwise."""
    text = _text(raw)
    if not text:
        return None
    if not text.isdigit() or int(text) > MAX_YEARS:
        raise ValueError(
            gettext("Give the years of experience as a whole number from 0 to %(max)s.")
            % {"max": MAX_YEARS}
        )
    return int(text)


def school_level_parse(raw: Any) -> str:
    text = _text(raw).casefold()
    if not text:
        return ""
    if text not in _LEVELS:
        raise ValueError(
            gettext("“%(text)s” is not a school level: %(hint)s.")
            % {"text": _text(raw)[:40], "hint": LEVEL_HINT}
        )
    return str(_LEVELS[text])


def title_i_parse(raw: Any) -> bool | None:
    if isinstance(raw, bool):
        return raw
    text = _text(raw).casefold()
    if not text:
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(gettext("Answer yes or no (or leave it empty) for a Title I school."))


PARSERS = {
    ProfileField.YEARS_EXPERIENCE: years_experience_parse,
    ProfileField.SCHOOL_LEVEL: school_level_parse,
    ProfileField.TITLE_I: title_i_parse,
}


def profile_fields_parse(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The answers in ``values`` (keyed by ``ProfileField`` names), read by the one rule each:
    (cleaned values, a message per wrong field)."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, parse in PARSERS.items():
        if name in values:
            try:
                cleaned[name] = parse(values[name])
            except ValueError as error:
                errors[name] = str(error)
    return cleaned, errors


@dataclass(frozen=True)
class AskedMembership:
    """A membership whose organization asks questions, with the questions it asks."""

    membership: Membership
    fields: tuple[str, ...]


def membership_list_asking(*, user: User) -> list[AskedMembership]:
    """The person's own memberships (not cancelled) in organizations that ask optional profile
    fields, by organization name: one query, across organizations (their own data)."""
    if not user.is_authenticated:
        return []
    with cross_organization(MY_MEMBERSHIPS):
        memberships = list(
            Membership.objects.filter(user=user, organization__is_active=True)
            .exclude(status=Membership.Status.CANCELLED)
            .exclude(organization__profile_fields=[])
            .select_related("organization")
            .order_by("organization__name")
        )
    return [
        AskedMembership(
            m, tuple(f for f in ProfileField.values if f in m.organization.profile_fields)
        )
        for m in memberships
    ]


def membership_profile_save(
    *, membership: Membership, actor: User, values: dict[str, Any]
) -> list[str]:
    """Save a member's own answers to the questions their organization asks (others are
    ignored); returns the fields changed. ``values`` are already parsed."""
    organization = membership.organization
    asked = [f for f in ProfileField.values if f in organization.profile_fields and f in values]
    with tenant_scope(organization), transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk, user=actor)
        changed = [f for f in asked if getattr(locked, f) != values[f]]
        if not changed:
            return []
        for name in changed:
            setattr(locked, name, values[name])
        locked.save(update_fields=changed)
        audit_record(
            organization=organization,
            actor=actor,
            action="membership.profile_answered",
            obj=locked,
            summary=f"{actor.email} updated their profile answers",
            data={"fields": changed},  # which, not the answers: they are for grouped views only
        )
    return changed
