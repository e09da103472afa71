"""Revoking a badge (its status bit, the educator told), the pathway certificates that required
it, and the educator's public/private choice.

A revocation carries two texts: the **public reason**, shown to anyone who checks the badge
(verification page, Open Badges 2.0 assertion, API), and an optional **private note**, which only
the educator (in the e-mail) and the organization's admins (audit trail, admin) see.

Pathway certificates follow their parts: revoking a badge that a valid certificate of the same
educator requires revokes that certificate too, in the same transaction (one commit: never a
moment where the status list says the badge is revoked and the certificate valid), each with its
own public reason, status bit, audit event and e-mail, unless the admin explicitly keeps them
(``keep_certificates``). Revoking a certificate leaves its badges alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credentials_site import public_cache
from programs import services as program_services
from programs.models import Pathway, User

from .. import documents
from ..directory.index import directory_entries_refresh_on_commit
from ..errors import BadgeError
from ..errors import BadgeErrorCode as Code
from ..models import (
    Badge,
    StatusList,
)
from .mail import REVOKED, mail_on_commit
from .signing import _status_list_sign

REASON_MAX = 500
NOTE_MAX = 2000
REASON_REQUIRED = gettext_lazy("Give a reason: it is shown to anyone who checks this badge.")


def certificate_reason(badge: Badge) -> str:
    """The public reason of a certificate revoked because ``badge`` was (kept as it is written,
    in English: it is shown in the Open Badges 2.0 assertion and the API)."""
    return f"A badge this certificate requires, “{badge.name}”, was revoked."


@dataclass
class Revocation:
    """What one ``badge_revoke`` did: the badge, the certificates revoked with it, and those
    that required it but were kept valid at the admin's request."""

    badge: Badge
    certificates: list[Badge] = field(default_factory=list)
    kept: list[Badge] = field(default_factory=list)


def certificates_requiring(*, badges: Iterable[Badge]) -> dict[int, list[Badge]]:
    """For each of ``badges`` (by key), the recipient's valid pathway certificates that require
    it: their pathway includes the badge's credential, and no other valid badge of the recipient
    stands for that credential. Nothing for a certificate (revoking one leaves its badges alone)
    or a revoked badge. Four queries, whatever the number of badges; the certificates come with
    their recipient and pathway."""
    components = [
        b
        for b in badges
        if b.kind == Badge.Kind.CREDENTIAL and b.version_id is not None and not b.is_revoked
    ]
    if not components:
        return {}
    credential_of: dict[int, int] = dict(
        Badge.objects.filter(pk__in=[b.pk for b in components]).values_list(
            "pk", "version__credential_id"
        )
    )
    recipients = {b.recipient_id for b in components}
    credentials = set(credential_of.values())
    valid = Counter(
        Badge.objects.filter(
            recipient_id__in=recipients,
            kind=Badge.Kind.CREDENTIAL,
            revoked_at__isnull=True,
            version__credential_id__in=credentials,
        ).values_list("organization_id", "recipient_id", "version__credential_id")
    )
    certificates = list(
        Badge.objects.filter(
            recipient_id__in=recipients,
            kind=Badge.Kind.PATHWAY,
            revoked_at__isnull=True,
            pathway_id__in=Pathway.credentials.through.objects.filter(
                credential_id__in=credentials
            ).values("pathway_id"),
        )
        .defer("credential")
        .select_related("recipient", "pathway")
        .order_by("issued_at", "pk")
    )
    if not certificates:
        return {}
    requires = set(
        Pathway.credentials.through.objects.filter(
            pathway_id__in={c.pathway_id for c in certificates}, credential_id__in=credentials
        ).values_list("pathway_id", "credential_id")
    )
    out: dict[int, list[Badge]] = {}
    for badge in components:
        credential_id = credential_of[badge.pk]
        if valid[(badge.organization_id, badge.recipient_id, credential_id)] > 1:
            continue  # another valid badge of the same credential still stands for it
        dependent = [
            c
            for c in certificates
            if c.recipient_id == badge.recipient_id
            and c.organization_id == badge.organization_id
            and (c.pathway_id, credential_id) in requires
        ]
        if dependent:
            out[badge.pk] = dependent
    return out


def _texts(reason: str, private_note: str) -> tuple[str, str]:
    """The two texts, stripped and checked (a clear error naming the field, nothing changed)."""
    reason = (reason or "").strip()
    private_note = (private_note or "").strip()
    problems: dict[str, list[str]] = {}
    if not reason:
        problems["reason"] = [str(REASON_REQUIRED)]
    elif len(reason) > REASON_MAX:
        problems["reason"] = [
            _("Keep the public reason to %(max)s characters.") % {"max": REASON_MAX}
        ]
    if len(private_note) > NOTE_MAX:
        problems["private_note"] = [
            _("Keep the private note to %(max)s characters.") % {"max": NOTE_MAX}
        ]
    if problems:
        code = Code.REASON_REQUIRED if reason == "" else Code.INVALID
        message = next(iter(problems.values()))[0]
        raise BadgeError(message, code=code, fields=problems)
    return reason, private_note


def badge_revoke(
    *,
    badge: Badge,
    reason: str,
    actor: User | None,
    private_note: str = "",
    keep_certificates: bool = False,
) -> Revocation:
    """Revoke ``badge`` with a public ``reason`` and an optional ``private_note``: set its bit in
    the status list and re-sign the list, audit it, e-mail the educator; and the same for every
    valid pathway certificate that requires it, unless ``keep_certificates``."""
    reason, private_note = _texts(reason, private_note)
    with transaction.atomic():
        # the recipient's row first: issuing a pathway certificate takes the same lock, so a
        # certificate is never issued from a badge being revoked (and missed by the cascade)
        User.objects.select_for_update().filter(pk=badge.recipient_id).first()
        badge = (
            Badge.objects.select_for_update(of=("self",))
            .select_related("organization", "version")
            .get(pk=badge.pk)
        )
        if badge.revoked_at is not None:
            raise BadgeError(
                _("“%(name)s” is already revoked; nothing changed.") % {"name": badge.name},
                code=Code.ALREADY_REVOKED,
            )
        # stable under the recipient's lock: certificates are issued and revoked under it
        required_by = certificates_requiring(badges=[badge]).get(badge.pk, [])
        dependent = list(
            Badge.objects.select_for_update()
            .filter(pk__in=[c.pk for c in required_by], revoked_at__isnull=True)
            .order_by("issued_at", "pk")
        )
        certificates = [] if keep_certificates else dependent
        _bits_set([badge, *certificates])
        # every public path of these badges, at once (on commit); the status list's own
        # document is forgotten by its re-signing
        public_cache.changed(badges=[b.public_id for b in (badge, *certificates)])
        now = timezone.now()
        _record(badge, now=now, reason=reason, private_note=private_note, actor=actor)
        audit_data: dict[str, Any] = {"public_reason": reason, "private_note": private_note}
        if dependent:
            audit_data["certificates_" + ("kept_valid" if keep_certificates else "revoked")] = [
                str(c.public_id) for c in dependent
            ]
        program_services.audit_record(
            organization=badge.organization,
            actor=actor,
            action="badge.revoked",
            obj=badge,
            summary=f"Badge “{badge.name}” revoked: {reason}"
            + (
                f" — kept valid: {', '.join(f'“{c.name}”' for c in dependent)}"
                if keep_certificates and dependent
                else ""
            )
            + (f" — private note: {private_note}" if private_note else ""),
            data=audit_data,
        )
        mail_on_commit(badge, REVOKED)
        directory_entries_refresh_on_commit(user_ids=[badge.recipient_id])
        for certificate in certificates:
            certificate.organization = badge.organization
            public = certificate_reason(badge)
            _record(certificate, now=now, reason=public, private_note="", actor=actor)
            program_services.audit_record(
                organization=badge.organization,
                actor=actor,
                action="badge.revoked",
                obj=certificate,
                summary=f"Pathway certificate “{certificate.name}” revoked with “{badge.name}”, "
                f"which it requires: {public}",
                data={"public_reason": public, "because_of": str(badge.public_id)},
            )
            mail_on_commit(certificate, REVOKED)
    return Revocation(
        badge=badge, certificates=certificates, kept=dependent if keep_certificates else []
    )


def _bits_set(badges: list[Badge]) -> None:
    """Set the badges' bits, each status list locked (in key order) and re-signed once."""
    by_list: dict[int, list[int]] = {}
    for badge in badges:
        by_list.setdefault(badge.status_list_id, []).append(badge.status_index)
    organization = badges[0].organization
    for status_list in StatusList.objects.select_for_update().filter(pk__in=by_list).order_by("pk"):
        status_list.organization = organization
        bits = bytes(status_list.bits)
        for index in by_list[status_list.pk]:
            bits = documents.with_bit(bits, index, True)
        status_list.bits = bits
        status_list.save(update_fields=["bits", "updated_at"])
        _status_list_sign(status_list)


def _record(
    badge: Badge, *, now: datetime, reason: str, private_note: str, actor: User | None
) -> None:
    badge.revoked_at = now
    badge.revocation_reason = reason
    badge.revocation_note = private_note
    badge.revoked_by = actor
    badge.save(
        update_fields=[
            "revoked_at",
            "revocation_reason",
            "revocation_note",
            "revoked_by",
            "updated_at",
        ]
    )


@transaction.atomic
def badge_visibility_set(*, badge: Badge, user: User, is_public: bool) -> Badge:
    badge = Badge.objects.select_for_update().get(pk=badge.pk)
    if badge.recipient_id != user.pk:
        raise BadgeError(
            _("Only the badge's earner can change who sees it."), code=Code.NOT_ALLOWED
        )
    badge.is_public = is_public
    badge.save(update_fields=["is_public", "updated_at"])
    public_cache.changed(badges=[badge.public_id])
    # the directory searches public badges only: a badge made private leaves it at once
    directory_entries_refresh_on_commit(user_ids=[badge.recipient_id])
    return badge
