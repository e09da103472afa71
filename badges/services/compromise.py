"""A leaked signing key: marking it compromised, and re-signing the badges it signed.

Marking (``signing_key_compromise``, one transaction) does, in order: a new key is made and
becomes active when the compromised key was the active one (an organization is never left
without one); the compromised key leaves the DID document (``selectors.signing_key_public_list``
publishes no compromised key), so nothing signed with it verifies any more, anywhere; the status
lists signed with it are re-signed with the active key; and a ``KeyCompromise`` row records the
job and its count. On commit the ``badges.key_compromise_resign`` task re-signs, a batch at a
time, every badge the key signed that is still valid (not revoked, not expired), under the same
credential id, and the educator of each is e-mailed.

Idempotency (STYLE 18): the job is one row per key (one-to-one); a batch locks the job row, then
the badges it re-signs, and a badge is due only while its ``signing_key`` is the compromised key,
which the same transaction changes. So a crash or a retry in the middle of a batch rolls the
whole batch back (nothing lost, nothing counted), a badge re-signed is never picked again, and
two deliveries of the same batch run one after the other, the second finding nothing. Beat
restarts a job whose message was lost, and one whose key signed a badge while it was being
marked (``key_compromises_unfinished``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from credentials_site import public_cache
from programs import services as program_services
from programs.models import Organization, User

from .. import canon_templates, selectors
from ..errors import BadgeError
from ..errors import BadgeErrorCode as Code
from ..models import Badge, KeyCompromise, SigningKey, StatusList
from .mail import RESIGNED, mail_many_on_commit
from .signing import _create_key, _sign, _status_list_sign, signing_key_active

State = KeyCompromise.State


def _to_resign(organization: Organization, key: SigningKey | int) -> QuerySet[Badge]:
    """The badges ``key`` signed that are still valid (the admin's "valid" filter)."""
    return selectors.badge_list_filtered(organization=organization, state="valid").filter(
        signing_key=key
    )


def signing_key_resign_count(*, key: SigningKey) -> int:
    """How many badges marking ``key`` compromised would re-sign (for the confirmation page)."""
    return _to_resign(key.organization, key).count()


def signing_key_compromise(*, key: SigningKey, actor: User | None) -> KeyCompromise:
    """Mark ``key`` compromised: unpublish it, make a new active key if it was the active one,
    re-sign the status lists it signed, and queue the re-signing of its valid badges.

    Marking a key twice is refused (``already_compromised``) and changes nothing."""
    organization = key.organization
    with transaction.atomic():
        # every key of the organization, locked: a rotation or another marking waits
        list(
            SigningKey.objects.select_for_update()
            .filter(organization=organization)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        key = SigningKey.objects.get(pk=key.pk, organization=organization)
        if key.compromised_at is not None:
            when = timezone.localtime(key.compromised_at).strftime("%Y-%m-%d %H:%M")
            raise BadgeError(
                _("Key %(key)s… was already marked compromised on %(when)s; nothing changed.")
                % {"key": key.key_id[:16], "when": when},
                code=Code.ALREADY_COMPROMISED,
            )
        now = timezone.now()
        key.is_active = False
        key.retired_at = key.retired_at or now
        key.compromised_at = now
        key.save(update_fields=["is_active", "retired_at", "compromised_at", "updated_at"])
        # the key leaves the DID document; nothing it signed verifies (public pages, on commit)
        public_cache.changed(organizations=[organization.slug])
        replacement = SigningKey.objects.filter(organization=organization, is_active=True).first()
        made = replacement is None
        if replacement is None:
            replacement = _create_key(organization)
        status_lists = _status_lists_resign(organization, key=key, replacement=replacement)
        total = _to_resign(organization, key).count()
        compromise = KeyCompromise.objects.create(
            organization=organization,
            key=key,
            replacement=replacement,
            marked_by=actor,
            total=total,
            status_lists_resigned=status_lists,
        )
        program_services.audit_record(
            organization=organization,
            actor=actor,
            action="signing_key.compromised",
            obj=key,
            summary=f"Signing key {key.key_id[:16]}… marked compromised; {total} badge(s) to "
            f"re-sign with key {replacement.key_id[:16]}…",
            data={
                "key": key.key_id,
                "replacement": replacement.key_id,
                "new_key": made,
                "badges": total,
                "status_lists": status_lists,
            },
        )
        organization_id, compromise_id = organization.pk, compromise.pk
        # a broker that is down is logged (robust): beat restarts the job
        transaction.on_commit(lambda: _queue(organization_id, compromise_id), robust=True)
    return compromise


def _status_lists_resign(
    organization: Organization, *, key: SigningKey, replacement: SigningKey
) -> int:
    """Re-sign, with ``replacement``, the organization's lists that ``key`` signed (and those
    signed before lists recorded their key); how many."""
    resigned = 0
    lists = (
        StatusList.objects.select_for_update(of=("self",))
        .select_related("organization")
        .filter(organization=organization)
        .order_by("pk")
    )
    for status_list in lists:
        if status_list.signing_key_id in (None, key.pk):
            _status_list_sign(status_list, key=replacement)
            resigned += 1
    return resigned


def _queue(organization_id: int, compromise_id: int) -> None:
    from .. import tasks

    tasks.key_compromise_resign.delay(organization_id=organization_id, compromise_id=compromise_id)


def _resign(
    credential: dict[str, Any],
    *,
    organization: Organization,
    key: SigningKey,
    created: dt.datetime | None = None,
) -> dict[str, Any]:
    """The same credential (same id, same content) with a new proof by ``key`` instead of its
    old one. Canonicalized from the template of its shape (``canon_templates``: a batch
    re-signs many badges of a version; the same N-Quads)."""
    unsigned = {name: value for name, value in credential.items() if name != "proof"}
    return _sign(
        unsigned,
        organization=organization,
        key=key,
        created=created,
        canonicalize=canon_templates.canonize,
    )


def key_compromise_resign(*, compromise_id: int, batch_size: int) -> KeyCompromise:
    """Re-sign the next ``batch_size`` still-valid badges of the compromised key with the
    active key, e-mail their educators, and count them; the job is done when none is left."""
    with transaction.atomic():
        compromise = (
            KeyCompromise.objects.select_for_update(of=("self",))
            .select_related("organization", "key")
            .get(pk=compromise_id)
        )
        organization = compromise.organization
        # the active key, locked: a rotation or marking waits for this batch, and this batch
        # for them (it then signs with the key they made)
        key = (
            SigningKey.objects.select_for_update()
            .filter(organization=organization, is_active=True)
            .first()
        ) or signing_key_active(organization=organization)
        due = _to_resign(organization, compromise.key_id)
        pks = list(due.order_by("pk").values_list("pk", flat=True)[:batch_size])
        badges = Badge.objects.select_for_update().filter(pk__in=pks, signing_key=compromise.key)
        now = timezone.now()
        created = now.replace(microsecond=0)  # one proof time: options canonicalized once
        changed = [badge for badge in badges.order_by("pk") if badge.state == "valid"]
        for badge in changed:  # (one revoked or expired since it was listed is left)
            badge.credential = _resign(
                badge.credential, organization=organization, key=key, created=created
            )
            badge.signing_key = key
            badge.updated_at = now
        # one UPDATE for the batch, one message for its e-mails
        Badge.objects.bulk_update(changed, ["credential", "signing_key", "updated_at"])
        mail_many_on_commit(changed, RESIGNED)
        public_cache.changed(badges=[badge.public_id for badge in changed])
        resigned = len(changed)
        remaining = due.count()
        finishing = remaining == 0 and compromise.state != State.DONE
        compromise.done += resigned
        compromise.total = compromise.done + remaining
        compromise.started_at = compromise.started_at or now
        compromise.state = State.DONE if remaining == 0 else State.RUNNING
        compromise.last_error = ""
        if finishing:
            compromise.finished_at = now
            program_services.audit_record(
                organization=organization,
                actor=None,
                action="signing_key.resigned",
                obj=compromise.key,
                summary=f"Re-signed {compromise.done} badge(s) of compromised key "
                f"{compromise.key.key_id[:16]}…",
                data={"key": compromise.key.key_id, "badges": compromise.done},
            )
        compromise.save(
            update_fields=[
                "done",
                "total",
                "started_at",
                "finished_at",
                "state",
                "last_error",
                "updated_at",
            ]
        )
    return compromise


def key_compromise_failure_record(*, compromise_id: int, error: str) -> None:
    """What went wrong in the last batch, for the admin page (the task retries)."""
    KeyCompromise.objects.filter(pk=compromise_id).update(last_error=error[:4000])


def key_compromises_unfinished(
    *, organization: Organization, older_than: dt.timedelta = dt.timedelta(minutes=5)
) -> list[int]:
    """Jobs for beat to restart: not done and idle for ``older_than`` (a lost message, retries
    used up), or done while their key still signs a valid badge (issued with it while it was
    being marked)."""
    signed = _to_resign(organization, OuterRef("key"))  # type: ignore[arg-type]
    stalled = ~Q(state=State.DONE) & Q(updated_at__lte=timezone.now() - older_than)
    reopened = Q(state=State.DONE) & Exists(signed)
    return list(
        KeyCompromise.objects.filter(organization=organization)
        .filter(stalled | reopened)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
