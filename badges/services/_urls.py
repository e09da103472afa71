"""The public addresses that credentials and e-mails name."""

from __future__ import annotations

from django.urls import reverse

from programs.models import CredentialVersion, Pathway

from .. import documents
from ..models import (
    Badge,
    StatusList,
)


def status_list_url(status_list: StatusList) -> str:
    return documents.site_url(
        reverse("badges:status_list", args=[status_list.organization.slug, status_list.number])
    )


def achievement_image_url(version: CredentialVersion) -> str:
    return documents.site_url(
        reverse(
            "badges:achievement_image",
            args=[version.organization.slug, version.credential.slug, version.number],
        )
    )


def pathway_image_url(pathway: Pathway) -> str:
    return documents.site_url(
        reverse("badges:pathway_image", args=[pathway.organization.slug, pathway.slug])
    )


def badge_url(badge: Badge) -> str:
    return documents.site_url(reverse("badges:verify", args=[badge.public_id]))
