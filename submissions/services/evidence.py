"""Evidence files: slot → upload straight to storage → confirm (a server-side copy of the
checked bytes to a final key), privacy choices and removal."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from credentials_site.exceptions import ApplicationError
from programs.models import (
    EvidenceRequirement,
    User,
)

from .. import sniff, storage
from ..errors import SubmissionErrorCode as Code
from ..models import Application, EvidenceItem, Submission
from ._common import (
    GRACE,
    _event,
    _human,
    _locked,
    _require_editable,
    _require_kind,
)

logger = logging.getLogger(__name__)


# --- Files: slot → upload to storage → confirm ---------------------------------------------------


@dataclass(frozen=True)
class UploadSlot:
    item: EvidenceItem
    method: str  # "POST" (presigned POST) or "MULTIPART"
    url: str = ""
    fields: dict[str, str] | None = None
    upload_id: str = ""
    key: str = ""
    part_size: int = storage.PART_SIZE


def _declared_kind_ok(requirement: EvidenceRequirement, content_type: str) -> bool:
    """A first, cheap check of what the browser declares; the bytes decide at confirm."""
    accepted = set(requirement.accepted_file_kinds)
    content_type = content_type.lower()
    for kind, prefixes in sniff.DECLARED_OK_PREFIX.items():
        if kind in accepted and content_type.startswith(prefixes):
            return True
    kinds = {sniff.KIND_BY_MIME.get(content_type)} | sniff.EXTRA_KINDS.get(content_type, set())
    return bool(kinds & accepted)


def holds_a_place(item: EvidenceItem, *, now: dt.datetime) -> bool:
    """Whether a file counts against the number its step takes: a ready one, or an upload whose
    slot is still open. One that never arrived (storage refused it, or the page was left
    mid-upload) stops counting when its slot expires; the educator may remove it at once."""
    if item.status == EvidenceItem.Status.READY:
        return True
    return item.status == EvidenceItem.Status.PENDING and (
        item.slot_expires_at is None or item.slot_expires_at > now
    )


def _open_file_items(application: Application, requirement: EvidenceRequirement) -> int:
    now = timezone.now()
    items = EvidenceItem.objects.filter(
        application=application,
        requirement=requirement,
        kind=EvidenceItem.Kind.FILE,
        status__in=[EvidenceItem.Status.PENDING, EvidenceItem.Status.READY],
    ).only("status", "slot_expires_at")
    return sum(1 for item in items if holds_a_place(item, now=now))


@transaction.atomic
def evidence_upload_slot(
    *,
    application: Application,
    requirement: EvidenceRequirement,
    filename: str,
    size: int,
    content_type: str,
    actor: User,
) -> UploadSlot:
    """Check the declared name, size and type against the requirement, and return where the
    browser sends the bytes: a presigned POST, or a multipart upload for large files."""
    application = _locked(application)
    _require_editable(application)
    _require_kind(requirement, EvidenceRequirement.Kind.FILE, application)
    name = sniff.display_name(filename)
    limit = requirement.max_file_size_mb * 1024 * 1024
    accepted_words = sniff.describe_kinds(requirement.accepted_file_kinds)
    if size <= 0:
        raise ApplicationError(
            _("“%(name)s” is empty (0 bytes).") % {"name": name},
            code=Code.EMPTY_FILE,
            fields={"size": [_("Empty file.")]},
        )
    if size > limit:
        raise ApplicationError(
            _("“%(name)s” is %(size)s; “%(title)s” accepts files up to %(limit)s.")
            % {
                "name": name,
                "size": _human(size),
                "title": requirement.title,
                "limit": requirement.max_size_display(),
            },
            code=Code.TOO_LARGE,
            fields={"size": [_("At most %(limit)s.") % {"limit": requirement.max_size_display()}]},
        )
    if not _declared_kind_ok(requirement, content_type):
        raise ApplicationError(
            _("“%(title)s” accepts %(kinds)s; “%(name)s” (%(type)s) is not one of them.")
            % {
                "title": requirement.title,
                "kinds": accepted_words,
                "name": name,
                "type": content_type or _("unknown type"),
            },
            code=Code.TYPE_NOT_ACCEPTED,
            fields={"type": [_("Accepted: %(kinds)s.") % {"kinds": accepted_words}]},
        )
    if _open_file_items(application, requirement) >= requirement.max_files:
        raise ApplicationError(
            ngettext(
                "“%(title)s” takes at most %(count)s file. Remove one to add another.",
                "“%(title)s” takes at most %(count)s files. Remove one to add another.",
                requirement.max_files,
            )
            % {"title": requirement.title, "count": requirement.max_files},
            code=Code.TOO_MANY_FILES,
        )
    key = storage.new_key(
        organization_id=application.organization_id, application_public_id=application.public_id
    )
    multipart = size > storage.MULTIPART_THRESHOLD
    # A POST must arrive before its signature expires; a multipart upload may be resumed for a
    # day, with each part's URL signed for minutes as the uploader goes.
    seconds = storage.MULTIPART_SLOT_SECONDS if multipart else storage.slot_seconds()
    item = EvidenceItem.objects.create(
        organization_id=application.organization_id,
        application=application,
        requirement=requirement,
        kind=EvidenceItem.Kind.FILE,
        status=EvidenceItem.Status.PENDING,
        attempt_added=application.attempt,
        storage_key=key,
        slot_key=key,
        display_name=name,
        declared_size=size,
        declared_type=content_type[:120],
        slot_expires_at=timezone.now() + dt.timedelta(seconds=seconds),
    )
    if multipart:
        item.upload_id = storage.multipart_create(key=key, content_type=content_type)
        item.save(update_fields=["upload_id", "updated_at"])
        return UploadSlot(
            item=item,
            method="MULTIPART",
            upload_id=item.upload_id,
            key=key,
            part_size=storage.PART_SIZE,
        )
    post = storage.presigned_post(key=key, content_type=content_type, max_size=size)
    return UploadSlot(item=item, method="POST", url=post["url"], fields=post["fields"], key=key)


def _pending_item(item: EvidenceItem, *, actor: User) -> EvidenceItem:
    item = (
        EvidenceItem.objects.select_for_update(of=("self",))
        .select_related("application")
        .get(pk=item.pk)
    )
    _require_editable(item.application)
    if item.status != EvidenceItem.Status.PENDING:
        raise ApplicationError(_("This upload is already finished."), code=Code.INVALID)
    if item.slot_expires_at and item.slot_expires_at + GRACE < timezone.now():
        raise ApplicationError(
            _("This upload slot has expired. Choose the file again to restart the upload."),
            code=Code.SLOT_EXPIRED,
        )
    return item


@transaction.atomic
def evidence_multipart_sign(*, item: EvidenceItem, part_number: int, actor: User) -> str:
    item = _pending_item(item, actor=actor)
    max_parts = min(storage.MAX_PARTS, (item.declared_size or 0) // (5 * 1024 * 1024) + 1)
    if not item.upload_id or not 1 <= part_number <= max_parts:
        raise ApplicationError(_("That part does not belong to this upload."), code=Code.INVALID)
    return storage.multipart_sign_part(
        key=item.storage_key, upload_id=item.upload_id, part_number=part_number
    )


def evidence_multipart_parts(*, item: EvidenceItem, actor: User) -> list[dict[str, Any]]:
    """Parts already in storage, so an interrupted upload resumes where it stopped."""
    with transaction.atomic():
        item = _pending_item(item, actor=actor)
    if not item.upload_id:
        raise ApplicationError(_("This upload is not a multipart upload."), code=Code.INVALID)
    return storage.multipart_list_parts(key=item.storage_key, upload_id=item.upload_id)


@transaction.atomic
def evidence_multipart_complete(
    *, item: EvidenceItem, parts: list[dict[str, Any]], actor: User
) -> EvidenceItem:
    item = _pending_item(item, actor=actor)
    if not item.upload_id:
        raise ApplicationError(_("This upload is not a multipart upload."), code=Code.INVALID)
    try:
        clean = sorted(((int(p["PartNumber"]), str(p["ETag"])) for p in parts), key=lambda p: p[0])
    except (KeyError, TypeError, ValueError):
        raise ApplicationError(
            _("The list of uploaded parts is not valid."), code=Code.INVALID
        ) from None
    if not clean:
        raise ApplicationError(_("No parts were uploaded."), code=Code.NOT_UPLOADED)
    try:
        storage.multipart_complete(
            key=item.storage_key,
            upload_id=item.upload_id,
            parts=[{"PartNumber": number, "ETag": etag} for number, etag in clean],
        )
    except ClientError:
        raise ApplicationError(
            _("The uploaded parts do not fit together. Choose the file again."),
            code=Code.NOT_UPLOADED,
        ) from None
    item.upload_id = ""
    item.save(update_fields=["upload_id", "updated_at"])
    return item


def evidence_upload_confirm(*, item: EvidenceItem, actor: User) -> EvidenceItem:
    """Accept a file as a copy that nobody but the app can write. The slot the browser uploaded
    to stays writable while its signature lives, so its bytes are copied inside storage to a
    final key, pinned to the ETag just read (a file changed in between is refused, and nothing
    changes), and the checks — real size (HEAD), type from the first bytes (a ranged GET) — run on
    that copy. Every later read (the educator's, reviewers', the public badge page's) is of the
    copy, so it is exactly the bytes that were checked; the slot is deleted. A file that fails
    is deleted and the reason recorded for the educator."""
    with transaction.atomic():
        item = _pending_item(item, actor=actor)
        requirement = EvidenceRequirement.objects.get(pk=item.requirement_id)
        if item.upload_id:
            raise ApplicationError(_("The upload has not finished yet."), code=Code.NOT_UPLOADED)
        slot = item.slot_key or item.storage_key
        stored = storage.head(key=slot)
        if stored is None:
            raise _nothing_arrived(item)
        item.size, item.etag = stored.size, stored.etag
        reason = _size_problem(item, requirement, stored.size)
        if reason is None:
            final = _copy_and_sniff(item, slot=slot, stored=stored)
            found = final.sniffed
            item.storage_key, item.etag, item.content_type = final.key, final.etag, found.mime
            reason = sniff.rejection_message(list(requirement.accepted_file_kinds), found)
            accepted = [k for k in requirement.accepted_file_kinds if k in found.kinds]
            item.file_kind = accepted[0] if accepted and reason is None else ""
        if reason is None:
            item.status = EvidenceItem.Status.READY
            item.slot_expires_at = None
        else:
            item.status = EvidenceItem.Status.REJECTED
            item.rejection_reason = reason[:300]
        item.save()
        _event(
            item.application,
            actor=actor,
            kind="file_added" if reason is None else "file_rejected",
            message=(
                f"Added “{item.display_name}” to “{requirement.title}”"
                if reason is None
                else f"Rejected “{item.display_name}”: {reason}"
            ),
        )
    if reason is not None:
        _purge(item)
        raise ApplicationError(reason, code=Code.REJECTED, fields={"file": [reason]})
    _delete_quietly(slot)  # spent; if this fails, the orphan sweep deletes it
    return item


def _nothing_arrived(item: EvidenceItem) -> ApplicationError:
    if not item.upload_id and item.slot_expires_at and item.slot_expires_at < timezone.now():
        message = _(
            "The upload link expired before the file arrived. Choose the file again to "
            "restart the upload."
        )
        return ApplicationError(message, code=Code.SLOT_EXPIRED, fields={"file": [message]})
    message = _("Nothing has arrived in storage for this upload yet.")
    return ApplicationError(message, code=Code.NOT_UPLOADED, fields={"file": [message]})


def _size_problem(item: EvidenceItem, requirement: EvidenceRequirement, size: int) -> str | None:
    if item.declared_size and size < item.declared_size:
        return _("Only %(size)s of “%(name)s” (%(declared)s) arrived. Upload it again.") % {
            "size": _human(size),
            "name": item.display_name,
            "declared": _human(item.declared_size),
        }
    if item.declared_size and size > item.declared_size:
        return _("“%(name)s” is %(size)s, but %(declared)s was announced. Upload it again.") % {
            "name": item.display_name,
            "size": _human(size),
            "declared": _human(item.declared_size),
        }
    if size > requirement.max_file_size_mb * 1024 * 1024:
        return _("“%(name)s” is %(size)s; this requirement accepts files up to %(limit)s.") % {
            "name": item.display_name,
            "size": _human(size),
            "limit": requirement.max_size_display(),
        }
    return None


@dataclass(frozen=True)
class _Final:
    key: str
    etag: str
    sniffed: sniff.Sniffed


def _copy_to_final(
    item: EvidenceItem, *, source: str, etag: str, size: int
) -> tuple[str, storage.StoredObject]:
    """Copy ``source`` (only if it is still the object with ``etag``) to a new final key under
    the item's application. Raises ``storage.ObjectChanged``, leaving no copy."""
    key = storage.new_key(
        organization_id=item.organization_id,
        application_public_id=item.application.public_id,
        final=True,
    )
    return key, storage.copy_pinned(source=source, etag=etag, size=size, target=key)


def _copy_and_sniff(item: EvidenceItem, *, slot: str, stored: storage.StoredObject) -> _Final:
    """The slot's object (exactly the one ``stored`` describes) copied to its final key, and
    what the copy's first bytes are. Refused, leaving nothing behind, if the slot changed since
    it was read."""
    key = ""
    try:
        key, copied = _copy_to_final(item, source=slot, etag=stored.etag, size=stored.size)
        head = (
            storage.read_head(key=key, length=sniff.SNIFF_BYTES, etag=copied.etag)
            if copied.size
            else b""
        )
    except storage.ObjectChanged:
        if key:
            _delete_quietly(key)
        message = _(
            "The file in storage changed while it was being checked. Wait until the upload "
            "has finished, then try again."
        )
        fields = {"file": [message]}
        raise ApplicationError(message, code=Code.NOT_UPLOADED, fields=fields) from None
    return _Final(key=key, etag=copied.etag, sniffed=sniff.sniff(head))


@transaction.atomic
def evidence_item_privacy(
    *,
    item: EvidenceItem,
    students_identifiable: bool,
    consent_on_file: bool | None,
    visibility: str,
    actor: User,
) -> EvidenceItem:
    item = (
        EvidenceItem.objects.select_for_update(of=("self",))
        .select_related("application")
        .get(pk=item.pk)
    )
    _require_editable(item.application)
    if item.kind != EvidenceItem.Kind.FILE or item.status not in (
        EvidenceItem.Status.PENDING,
        EvidenceItem.Status.READY,
    ):
        raise ApplicationError(
            _("Privacy choices apply to files you have uploaded."), code=Code.INVALID
        )
    if visibility not in EvidenceItem.Visibility.values:
        raise ApplicationError(
            _("Choose who may see this file."),
            code=Code.INVALID,
            fields={"visibility": [_("Choose an option.")]},
        )
    if (
        students_identifiable
        and not consent_on_file
        and visibility == EvidenceItem.Visibility.PUBLIC
    ):
        raise ApplicationError(
            _("A file that shows identifiable students without consent on file cannot be public."),
            code=Code.INVALID,
            fields={"visibility": [_("Reviewers only, unless consent is on file.")]},
        )
    item.students_identifiable = students_identifiable
    item.consent_on_file = consent_on_file if students_identifiable else None
    item.visibility = visibility
    item.save(
        update_fields=["students_identifiable", "consent_on_file", "visibility", "updated_at"]
    )
    return item


@transaction.atomic
def evidence_item_remove(*, item: EvidenceItem, actor: User) -> EvidenceItem:
    item = (
        EvidenceItem.objects.select_for_update(of=("self",))
        .select_related("application")
        .get(pk=item.pk)
    )
    _require_editable(item.application)
    if item.status == EvidenceItem.Status.REMOVED:
        return item
    item.status = EvidenceItem.Status.REMOVED
    item.save(update_fields=["status", "updated_at"])
    _event(item.application, actor=actor, kind="item_removed", message=f"Removed “{item}”")
    # A file sent with an earlier attempt stays in storage: it is part of that attempt's record.
    if item.storage_key and not Submission.objects.filter(items=item).exists():
        transaction.on_commit(lambda: _purge_quietly(item.pk))
    return item


def _purge(item: EvidenceItem) -> None:
    """Delete an item's objects, its copy and its upload slot (and abort its multipart upload);
    the sweep retries failures."""
    slot = item.slot_key or item.storage_key
    if item.upload_id:
        storage.multipart_abort(key=slot, upload_id=item.upload_id)
    for key in dict.fromkeys(key for key in (item.storage_key, slot) if key):
        storage.delete(key=key)
    EvidenceItem.objects.filter(pk=item.pk).update(
        purged_at=timezone.now(), upload_id="", updated_at=timezone.now()
    )


def _delete_quietly(key: str) -> None:
    try:
        storage.delete(key=key)
    except Exception:  # the orphan sweep will retry
        logger.warning("could not delete %s now; the orphan sweep will", key, exc_info=True)


def _purge_quietly(item_pk: int) -> None:
    try:
        _purge(EvidenceItem.objects.get(pk=item_pk))
    except Exception:  # the periodic sweep will retry
        logger.warning(
            "could not purge evidence item %s now; the sweep will", item_pk, exc_info=True
        )
