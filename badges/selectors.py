"""Reads of badges. Badge pages live at ``/badges/<public id>/`` (no organization in the URL):
a badge is found by its opaque id across organizations, and the caller then works inside that
badge's organization scope."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import Http404
from django_scopes import scopes_disabled

from programs.models import Organization, User

from .models import BackpackProfile, Badge, SigningKey


def badge_get_by_public_id(*, public_id: uuid.UUID | str) -> Badge:
    """Any organization's badge by its opaque id (404 when there is none)."""
    with scopes_disabled():
        badge = (
            Badge.objects.select_related(
                "organization", "recipient", "version__credential", "pathway", "status_list"
            )
            .filter(public_id=public_id)
            .first()
        )
    if badge is None:
        raise Http404("No such badge.")
    return badge


def badge_list_for_recipient(*, user: User) -> QuerySet[Badge]:
    """Every badge of ``user`` from every organization (their backpack), newest first."""
    with scopes_disabled():
        return (
            Badge.objects.filter(recipient=user)
            .select_related("organization", "version__credential", "pathway")
            .order_by("-issued_at")
        )


def badge_list_public_for_profile(*, profile: BackpackProfile) -> QuerySet[Badge]:
    with scopes_disabled():
        return badge_list_for_recipient(user=profile.user).filter(
            is_public=True, revoked_at__isnull=True
        )


def badge_list(*, organization: Organization) -> QuerySet[Badge]:
    return (
        Badge.objects.filter(organization=organization)
        .select_related("recipient", "version__credential", "pathway")
        .order_by("-issued_at")
    )


def signing_key_public_list(*, organization: Organization) -> list[tuple[str, str]]:
    """``(key_id, publicKeyMultibase)`` of every key the organization ever had, newest first."""
    return list(
        SigningKey.objects.filter(organization=organization)
        .order_by("-is_active", "-created_at")
        .values_list("key_id", "public_key_multibase")
    )


def profile_get_public(*, handle: str) -> BackpackProfile:
    profile = (
        BackpackProfile.objects.select_related("user").filter(handle=handle, is_public=True).first()
    )
    if profile is None:
        raise Http404("No such profile.")
    return profile
