"""Pathway certificates: issued once, the same way as a badge, when an educator's badges complete
a published pathway."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.db.models import Count

from programs import services as program_services
from programs.models import Organization, Pathway, User

from .. import documents
from ..errors import BadgeError
from ..errors import BadgeErrorCode as Code
from ..models import (
    Badge,
)
from ._urls import badge_url, pathway_image_url, status_list_url
from .mail import ISSUED, mail_on_commit
from .signing import _sign, signing_key_active
from .status import _status_allocate


def pathways_completed(*, organization: Organization, user: User) -> list[Pathway]:
    """Published pathways of the organization whose every credential ``user`` holds a valid
    badge for, and whose certificate they do not have yet."""
    held = set(
        Badge.objects.filter(
            organization=organization,
            recipient=user,
            kind=Badge.Kind.CREDENTIAL,
            revoked_at__isnull=True,
        ).values_list("version__credential_id", flat=True)
    )
    if not held:
        return []
    pathways = (
        Pathway.objects.filter(organization=organization, is_published=True)
        .annotate(size=Count("credentials"))
        .filter(size__gt=0)
        .exclude(
            pk__in=Badge.objects.filter(recipient=user, pathway__isnull=False).values("pathway")
        )
        .prefetch_related("credentials")
    )
    return [p for p in pathways if {c.pk for c in p.credentials.all()} <= held]


def pathway_badge_issue(*, pathway: Pathway, user: User) -> Badge:
    """Issue the pathway's certificate to ``user`` (idempotent: one per pathway and person)."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # serialises per person
        existing = Badge.objects.filter(pathway=pathway, recipient=user).first()
        if existing is not None:
            return existing
        organization = pathway.organization
        component_badges = list(
            Badge.objects.filter(
                organization=organization,
                recipient=user,
                kind=Badge.Kind.CREDENTIAL,
                revoked_at__isnull=True,
                version__credential__in=pathway.credentials.all(),
            )
            .select_related("version__credential", "version__organization")
            .order_by("issued_at")
        )
        by_credential = {b.version.credential_id: b.version for b in component_badges if b.version}
        required = list(pathway.credentials.order_by("position", "pk"))
        if not required or any(c.pk not in by_credential for c in required):
            raise BadgeError("The pathway is not complete yet.", code=Code.PATHWAY_INCOMPLETE)
        components = [by_credential[c.pk] for c in required]
        key = signing_key_active(organization=organization)
        status_list, index = _status_allocate(organization)
        status_list.organization = organization
        badge = Badge(
            organization=organization,
            kind=Badge.Kind.PATHWAY,
            recipient=user,
            pathway=pathway,
            name=pathway.certificate_name or pathway.name,
            status_list=status_list,
            status_index=index,
            signing_key=key,
            salt=secrets.token_hex(16),
        )
        document = documents.open_badge_credential(
            credential_id=badge_url(badge),
            organization=organization,
            achievement=documents.pathway_achievement(
                pathway, components=components, image_url=pathway_image_url(pathway)
            ),
            identity=user.email.lower(),
            name=user.name_for_badges,
            salt=badge.salt,
            valid_from=badge.issued_at,
            valid_until=None,
            status_list_url=status_list_url(status_list),
            status_index=index,
        )
        badge.credential = _sign(document, organization=organization, key=key)
        badge.save()
        program_services.audit_record(
            organization=organization,
            actor=None,
            action="badge.issued",
            obj=badge,
            summary=f"Pathway certificate “{badge.name}” issued to {user.email}",
        )
        mail_on_commit(badge, ISSUED)
    return badge


def pathways_check(*, organization: Organization, user: User) -> list[Badge]:
    return [
        pathway_badge_issue(pathway=pathway, user=user)
        for pathway in pathways_completed(organization=organization, user=user)
    ]
