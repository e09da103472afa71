"""Pathway certificates: issued once, the same way as a badge, when an educator's badges complete
a published pathway."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _

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
    badge for, and whose certificate is due (``_certificate_due``)."""
    held: dict[int, datetime] = {}
    for credential_id, issued_at in Badge.objects.filter(
        organization=organization,
        recipient=user,
        kind=Badge.Kind.CREDENTIAL,
        revoked_at__isnull=True,
    ).values_list("version__credential_id", "issued_at"):
        held[credential_id] = max(issued_at, held.get(credential_id, issued_at))
    if not held:
        return []
    certificates = _certificates_of(organization=organization, user=user)
    pathways = (
        Pathway.objects.filter(organization=organization, is_published=True)
        .annotate(size=Count("credentials"))
        .filter(size__gt=0)
        .prefetch_related("credentials")
    )
    return [
        p
        for p in pathways
        if _certificate_due([c.pk for c in p.credentials.all()], held, certificates.get(p.pk))
    ]


def _certificates_of(*, organization: Organization, user: User) -> dict[int, list[Badge]]:
    """The user's certificates (valid and revoked) by pathway."""
    out: dict[int, list[Badge]] = {}
    for certificate in Badge.objects.filter(
        organization=organization, recipient=user, pathway__isnull=False
    ).only("pk", "pathway_id", "revoked_at"):
        assert certificate.pathway_id is not None  # noqa: S101 - filtered above
        out.setdefault(certificate.pathway_id, []).append(certificate)
    return out


def _certificate_due(
    required: list[int], held: dict[int, datetime], certificates: list[Badge] | None
) -> bool:
    """The one rule of when a pathway's certificate is issued: the educator holds a valid badge
    for every credential of the pathway (``held``: credential id → when the newest valid badge
    of it was issued), has no valid certificate of it, and, when an earlier certificate was
    revoked, earned one of those badges after that revocation. A certificate revoked because a
    badge it required was revoked comes back once the educator re-earns that badge; one that a
    program admin revoked while its badges stay valid does not come back by itself."""
    if not required or any(c not in held for c in required):
        return False
    certificates = certificates or []
    if any(c.revoked_at is None for c in certificates):
        return False
    last_revoked = max((c.revoked_at for c in certificates if c.revoked_at), default=None)
    return last_revoked is None or max(held[c] for c in required) > last_revoked


def pathway_badge_issue(*, pathway: Pathway, user: User) -> Badge:
    """Issue the pathway's certificate to ``user`` (idempotent: one per pathway and person)."""
    with transaction.atomic():
        # serialises per person (revoking a badge takes the same lock: revocation.py)
        User.objects.select_for_update().filter(pk=user.pk).first()
        existing = Badge.objects.filter(
            pathway=pathway, recipient=user, revoked_at__isnull=True
        ).first()
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
        held = {b.version.credential_id: b.issued_at for b in component_badges if b.version}
        required = list(pathway.credentials.order_by("position", "pk"))
        if not required or any(c.pk not in by_credential for c in required):
            raise BadgeError(_("The pathway is not complete yet."), code=Code.PATHWAY_INCOMPLETE)
        revoked = list(
            Badge.objects.filter(pathway=pathway, recipient=user).only("pk", "revoked_at")
        )
        if not _certificate_due([c.pk for c in required], held, revoked):
            raise BadgeError(
                _("This pathway's certificate was revoked; no badge of it was earned since."),
                code=Code.PATHWAY_INCOMPLETE,
            )
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
