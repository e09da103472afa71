"""State changes of badges: issuing (idempotent), revoking, signing keys and status lists,
pathway certificates, the sweep for lost approvals and expiry reminders.

Idempotency (STYLE 18): ``badge_issue`` locks the application row, returns the badge it already
made, and the one-to-one ``Badge.application`` is the database's last word. A crash anywhere
before commit leaves nothing behind; the task retries or the sweep finds the approval again."""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Model, QuerySet
from django.urls import reverse
from django.utils import timezone

from credentials_site.tenancy import scope_organization_ids
from programs import services as program_services
from programs.models import CredentialVersion, Organization, Pathway, RubricCriterion, User
from submissions import services as submission_services
from submissions.models import Application, EvidenceItem

from . import dataintegrity, documents, keys
from .errors import BadgeError
from .errors import BadgeErrorCode as Code
from .models import (
    STATUS_LIST_SIZE,
    BackpackProfile,
    Badge,
    IssueFailure,
    SigningKey,
    StatusList,
    handle_validator,
)

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=Model)


# --- Signing keys ---------------------------------------------------------------------------


def _create_key(organization: Organization) -> SigningKey:
    _, multibase, encrypted = keys.new_key()
    return SigningKey.objects.create(
        organization=organization,
        key_id=multibase,
        public_key_multibase=multibase,
        private_key_encrypted=encrypted,
        is_active=True,
    )


def signing_key_active(*, organization: Organization) -> SigningKey:
    """The organization's current key, created on first use (concurrency-safe: the partial
    unique constraint lets only one active key exist)."""
    key = SigningKey.objects.filter(organization=organization, is_active=True).first()
    if key is not None:
        return key
    try:
        with transaction.atomic():
            return _create_key(organization)
    except IntegrityError:
        return SigningKey.objects.get(organization=organization, is_active=True)


# Signing key rows by primary key. What signs never changes on a row (a rotation makes a new
# row), so a worker reads a key once; which key is active is still read for every badge (an
# annotation of the issuing statement), so a rotation is seen on the next one.
_KEYS: dict[int, SigningKey] = {}
_KEYS_MAX = 64


def _signing_key(organization: Organization, active_pk: int | None) -> SigningKey:
    """The active key whose primary key the issuing statement read (``None``: there is none
    yet, so it is created)."""
    if active_pk is None:
        return signing_key_active(organization=organization)
    key = _KEYS.get(active_pk)
    if key is None or key.organization_id != organization.pk:
        key = SigningKey.objects.get(pk=active_pk, organization=organization)
        if len(_KEYS) >= _KEYS_MAX:
            _KEYS.clear()
        _KEYS[active_pk] = key
    return key


@transaction.atomic
def signing_key_rotate(*, organization: Organization, actor: User | None) -> SigningKey:
    """Retire the active key (it stays published, so its badges keep verifying) and make a
    new one; the status lists are re-signed with it."""
    now = timezone.now()
    old = list(
        SigningKey.objects.select_for_update().filter(organization=organization, is_active=True)
    )
    SigningKey.objects.filter(pk__in=[k.pk for k in old]).update(is_active=False, retired_at=now)
    key = _create_key(organization)
    program_services.audit_record(
        organization=organization,
        actor=actor,
        action="signing_key.rotated",
        obj=key,
        summary=f"Signing key rotated; new key {key.key_id[:16]}…",
        data={"retired": [k.key_id for k in old]},
    )
    for status_list in StatusList.objects.select_for_update().filter(organization=organization):
        _status_list_sign(status_list, key=key)
    return key


def signing_key_list(*, organization: Organization) -> QuerySet[SigningKey]:
    return SigningKey.objects.filter(organization=organization).order_by(
        "-is_active", "-created_at"
    )


# Decrypted private keys, per signing key row and its stored ciphertext: decrypting (Fernet,
# with a key derived from each of ``BADGE_KEY_SECRETS``) for every badge is wasted work. Only the
# private half is kept: which key is active is still read for every badge, so a rotation (a
# new row, the old one inactive) is seen on the next one.
_PRIVATE_KEYS: dict[tuple[int, str], Any] = {}
_PRIVATE_KEYS_MAX = 64


def _private_key(key: SigningKey) -> Any:
    cache_key = (key.pk, key.private_key_encrypted)
    private = _PRIVATE_KEYS.get(cache_key)
    if private is None:
        private = keys.decrypt_private_key(key.private_key_encrypted)
        if key.pk is not None:
            if len(_PRIVATE_KEYS) >= _PRIVATE_KEYS_MAX:
                _PRIVATE_KEYS.clear()
            _PRIVATE_KEYS[cache_key] = private
    return private


def _sign(
    document: dict[str, Any],
    *,
    organization: Organization,
    key: SigningKey,
    timing: dataintegrity.Timing | None = None,
) -> dict[str, Any]:
    return dataintegrity.sign(
        document,
        private_key=_private_key(key),
        verification_method=documents.verification_method_id(organization, key.key_id),
        created=documents.iso(timezone.now()),
        timing=timing,
    )


# --- Status lists ---------------------------------------------------------------------------


def status_list_url(status_list: StatusList) -> str:
    return documents.site_url(
        reverse("badges:status_list", args=[status_list.organization.slug, status_list.number])
    )


def _status_list_sign(status_list: StatusList, *, key: SigningKey | None = None) -> None:
    organization = status_list.organization
    key = key or signing_key_active(organization=organization)
    now = timezone.now()
    document = documents.status_list_credential(
        organization=organization,
        url=status_list_url(status_list),
        bits=bytes(status_list.bits),
        valid_from=now,
    )
    status_list.credential = _sign(document, organization=organization, key=key)
    status_list.signed_at = now
    status_list.save(update_fields=["credential", "signed_at", "updated_at"])


# One statement takes the next bit of the organization's newest list and holds the row's lock
# to commit (a rolled-back issue gives its bit back). The tenant scope is in the statement.
_STATUS_TAKE_SQL = """
    UPDATE badges_statuslist
       SET next_index = next_index + 1, updated_at = %(now)s
     WHERE id = (SELECT id FROM badges_statuslist
                  WHERE organization_id = %(organization)s AND purpose = 'revocation'
                  ORDER BY number DESC LIMIT 1)
       AND organization_id = %(organization)s
       AND next_index < size
 RETURNING id, number, next_index - 1
"""


def _status_take(organization: Organization) -> tuple[StatusList, int] | None:
    """The next free bit of the newest list, or ``None`` when there is no list or it is
    full."""
    with connection.cursor() as cursor:
        cursor.execute(_STATUS_TAKE_SQL, {"now": timezone.now(), "organization": organization.pk})
        row = cursor.fetchone()
    if row is None:
        return None
    pk, number, index = row
    status_list = StatusList(pk=pk, organization=organization, number=number)
    status_list._state.adding = False
    return status_list, index


def _status_allocate(organization: Organization) -> tuple[StatusList, int]:
    """The next free bit of the organization's newest list (a new list when it is full)."""
    taken = _status_take(organization)
    if taken is not None:
        return taken
    newest = (
        StatusList.objects.filter(organization=organization, purpose="revocation")
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    number = (newest or 0) + 1
    try:
        with transaction.atomic():
            status_list = StatusList.objects.create(
                organization=organization,
                number=number,
                size=STATUS_LIST_SIZE,
                bits=bytes(STATUS_LIST_SIZE // 8),
            )
            status_list.organization = organization
            _status_list_sign(status_list)
    except IntegrityError:
        pass  # another worker made it first
    taken = _status_take(organization)
    if taken is None:  # filled by others between the two statements: rare, try again
        return _status_allocate(organization)
    return taken


def status_list_get(*, organization: Organization, number: int) -> StatusList:
    return StatusList.objects.select_related("organization").get(
        organization=organization, purpose="revocation", number=number
    )


# --- Issuing --------------------------------------------------------------------------------


def _valid_until(version: CredentialVersion, issued_at: dt.datetime) -> dt.datetime | None:
    if version.expiry_policy != CredentialVersion.ExpiryPolicy.MONTHS or not version.expiry_months:
        return None
    months = issued_at.month - 1 + version.expiry_months
    year, month = issued_at.year + months // 12, months % 12 + 1
    day = min(issued_at.day, 28)
    return issued_at.replace(year=year, month=month, day=day)


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


def _evidence(application: Application, badge_public_id: Any) -> list[dict[str, Any]]:
    """Evidence entries, only for items the educator marked public."""
    items = (
        EvidenceItem.objects.filter(
            application=application,
            visibility=EvidenceItem.Visibility.PUBLIC,
            status=EvidenceItem.Status.READY,
        )
        .select_related("requirement")
        .only(
            "kind",
            "text",
            "url",
            "public_id",
            "display_name",
            "content_type",
            "requirement__title",
        )
        .order_by("requirement__position", "created_at")
    )
    out: list[dict[str, Any]] = []
    for item in items:
        entry: dict[str, Any] = {"type": ["Evidence"], "name": item.requirement.title}
        if item.kind == EvidenceItem.Kind.TEXT:
            entry["narrative"] = item.text
        elif item.kind == EvidenceItem.Kind.LINK:
            entry["id"] = item.url
        else:
            entry["id"] = documents.site_url(
                reverse("badges:evidence", args=[badge_public_id, item.public_id])
            )
            entry["description"] = item.display_name
            if item.content_type:
                entry["genre"] = item.content_type
        out.append(entry)
    return out


def _scores(feedback: Any) -> dict[int, int]:
    """Criterion id → score, from a decided attempt's ``feedback`` rows."""
    scores: dict[int, int] = {}
    for row in feedback or []:
        try:
            scores[int(row["criterion_id"])] = int(row["score"])
        except (KeyError, TypeError, ValueError):
            continue
    return scores


@dataclass
class _IssueRead:
    """What issuing reads about an application, under its row lock, in one statement."""

    application: Application  # id, organization, status, attempt, educator, version, credential
    educator: User  # id, email, full name, public id
    profile_is_public: bool
    version_stamp: dt.datetime  # the version's and the organization's ``updated_at``: the
    organization_stamp: dt.datetime  # key of the worker's copy of the two (_version_parts)
    badge_pk: int | None  # the badge it already has
    decided_feedback: Any  # the rubric scores of the decided attempt
    active_key_pk: int | None
    has_open_failure: bool  # a failure of an earlier try is still open
    in_pathway: bool  # a published pathway of the organization contains the credential


# Written by hand: at ~15 ms an issue, the ORM took ~3 ms to build and compile this statement
# with its sub-queries, and PostgreSQL ~1.3 ms to plan the seven-table join of select_related
# (benchmarks/issue.py). The organization filter is the tenant scope (scope_organization_ids).
_ISSUE_READ_SQL = """
    SELECT a.id, a.organization_id, a.status, a.attempt, a.educator_id, a.version_id,
           a.credential_id,
           u.email, u.full_name, u.public_id, coalesce(p.is_public, false),
           v.updated_at, o.updated_at,
           (SELECT b.id FROM badges_badge b WHERE b.application_id = a.id),
           (SELECT s.feedback FROM submissions_submission s
             WHERE s.application_id = a.id AND s.number = a.attempt),
           (SELECT k.id FROM badges_signingkey k
             WHERE k.organization_id = a.organization_id AND k.is_active),
           EXISTS (SELECT FROM badges_issuefailure f
                    WHERE f.application_id = a.id AND f.resolved_at IS NULL),
           EXISTS (SELECT FROM programs_pathway_credentials pc
                     JOIN programs_pathway pw ON pw.id = pc.pathway_id
                    WHERE pw.organization_id = a.organization_id AND pw.is_published
                      AND pc.credential_id = a.credential_id)
      FROM submissions_application a
      JOIN programs_user u ON u.id = a.educator_id
      JOIN programs_credentialversion v ON v.id = a.version_id
      JOIN programs_organization o ON o.id = a.organization_id
      LEFT JOIN badges_backpackprofile p ON p.user_id = a.educator_id
     WHERE a.id = %(application)s
       AND (%(unscoped)s OR a.organization_id = ANY(%(organizations)s))
       FOR UPDATE OF a
"""
_APPLICATION_FIELDS = [
    "id",
    "organization_id",
    "status",
    "attempt",
    "educator_id",
    "version_id",
    "credential_id",
]
_EDUCATOR_FIELDS = ["email", "full_name", "public_id"]


def _from_row(model: type[M], values: dict[str, Any]) -> M:
    """A model instance of some of its columns (``attname`` → value) read by hand-written SQL;
    the others are deferred, as with ``only()``."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db("default", names, [values[name] for name in names])


def _application_for_issue(application_id: int) -> _IssueRead:
    """The application under its row lock, with everything issuing reads about it; an
    application outside the tenant scope does not exist (Application.DoesNotExist)."""
    organizations = scope_organization_ids()
    with connection.cursor() as cursor:
        cursor.execute(
            _ISSUE_READ_SQL,
            {
                "application": application_id,
                "unscoped": organizations is None,
                "organizations": organizations or [],
            },
        )
        row = cursor.fetchone()
    if row is None:
        raise Application.DoesNotExist(f"No application {application_id} in this scope.")
    n = len(_APPLICATION_FIELDS)
    application = _from_row(Application, dict(zip(_APPLICATION_FIELDS, row[:n], strict=True)))
    educator = _from_row(
        User, {"id": row[4], **dict(zip(_EDUCATOR_FIELDS, row[n : n + 3], strict=True))}
    )
    application.educator = educator
    feedback = row[n + 7]
    return _IssueRead(
        application=application,
        educator=educator,
        profile_is_public=row[n + 3],
        version_stamp=row[n + 4],
        organization_stamp=row[n + 5],
        badge_pk=row[n + 6],
        decided_feedback=json.loads(feedback) if isinstance(feedback, str) else feedback,
        active_key_pk=row[n + 8],
        has_open_failure=row[n + 9],
        in_pathway=row[n + 10],
    )


def _subject_id(educator: User, *, profile_is_public: bool) -> str | None:
    """The educator's stable id, where they have one: the permanent address of the public
    profile they opted into (``/u/id/<public id>/``, which follows handle changes)."""
    if not profile_is_public:
        return None
    return documents.site_url(reverse("badges:profile_permanent", args=[educator.public_id]))


def badge_issue(*, application_id: int, timing: dataintegrity.Timing | None = None) -> Badge:
    """Issue the badge of an approved application, or return the one it already has."""
    with transaction.atomic():
        read = _application_for_issue(application_id)
        application, educator = read.application, read.educator
        if read.badge_pk is not None:  # issued already: only then is the badge read
            return Badge.objects.get(pk=read.badge_pk)
        if application.status not in (Application.Status.APPROVED, Application.Status.AWARDED):
            raise BadgeError(
                f"The application is {application.get_status_display().lower()}; only an "
                "approved application gets a badge.",
                code=Code.NOT_APPROVED,
            )
        parts = _version_parts(
            application.version_id,
            stamps=(read.version_stamp, application.organization_id, read.organization_stamp),
        )
        version, organization, criteria = parts.version, parts.organization, parts.criteria
        achievement = json.loads(parts.achievement_json)  # the badge's own copy
        key = _signing_key(organization, read.active_key_pk)
        status_list, index = _status_allocate(organization)
        badge = Badge(
            organization=organization,
            recipient=educator,
            application=application,
            version=version,
            name=version.title,
            status_list=status_list,
            status_index=index,
            signing_key=key,
            salt=secrets.token_hex(16),
        )
        badge.valid_until = _valid_until(version, badge.issued_at)
        document = documents.open_badge_credential(
            credential_id=badge_url(badge),
            organization=organization,
            achievement=achievement,
            identity=educator.email.lower(),
            salt=badge.salt,
            subject_id=_subject_id(educator, profile_is_public=read.profile_is_public),
            valid_from=badge.issued_at,
            valid_until=badge.valid_until,
            status_list_url=status_list_url(status_list),
            status_index=index,
            result=documents.results(
                version, criteria=criteria, scores=_scores(read.decided_feedback)
            ),
            evidence=_evidence(application, badge.public_id),
        )
        badge.credential = _sign(document, organization=organization, key=key, timing=timing)
        badge.save()
        # under the lock taken above: no second lock, no savepoint
        submission_services.application_mark_awarded(application=application, locked=True)
        if read.has_open_failure:
            IssueFailure.objects.filter(application=application, resolved_at__isnull=True).update(
                resolved_at=timezone.now()
            )
        program_services.audit_record(
            organization=organization,
            actor=None,
            action="badge.issued",
            obj=badge,
            summary=f"Badge “{badge.name}” issued to {educator.email}",
        )
        badge_pk = badge.pk
        transaction.on_commit(lambda: _notify_issued(badge_pk, badge=badge))
        if read.in_pathway:  # a badge outside every pathway completes none: no task
            transaction.on_commit(lambda: _queue_pathway_check(organization.pk, educator.pk))
    return badge


@dataclass(frozen=True)
class _VersionParts:
    version: CredentialVersion  # with its credential, focus area and organization
    organization: Organization
    criteria: list[RubricCriterion]  # levels prefetched
    achievement_json: str  # the Achievement document; each badge decodes its own copy


# A published credential version never changes (editing one makes a new version), so a worker
# keeps it, its rubric and its Achievement instead of reading and building them for every
# badge. The key holds the version's and the organization's ``updated_at``: an edited issuer
# profile gets a new entry. Draft versions are never kept.
_VERSION_PARTS: dict[tuple[Any, ...], _VersionParts] = {}
_VERSION_PARTS_MAX = 256


def _version_parts(version_id: int, *, stamps: tuple[Any, ...]) -> _VersionParts:
    """``stamps``: the version's ``updated_at``, the organization's id and ``updated_at``, as
    the issuing statement read them."""
    key = (version_id, *stamps)
    parts = _VERSION_PARTS.get(key)
    if parts is not None:
        return parts
    version = CredentialVersion.objects.select_related(
        "credential", "focus_area", "organization"
    ).get(pk=version_id)
    criteria = list(
        RubricCriterion.objects.filter(version=version)
        .prefetch_related("levels")
        .order_by("position", "pk")
    )
    achievement = documents.achievement(
        version, criteria=criteria, image_url=achievement_image_url(version)
    )
    parts = _VersionParts(
        version=version,
        organization=version.organization,
        criteria=criteria,
        achievement_json=json.dumps(achievement),
    )
    if not version.is_editable:
        if len(_VERSION_PARTS) >= _VERSION_PARTS_MAX:
            _VERSION_PARTS.clear()
        _VERSION_PARTS[key] = parts
    return parts


def _queue_pathway_check(organization_id: int, user_id: int) -> None:
    from . import tasks

    tasks.pathways_check.delay(organization_id=organization_id, user_id=user_id)


def issue_failure_record(
    *,
    organization: Organization,
    error: str,
    attempt: int,
    application_id: int | None = None,
    pathway: Pathway | None = None,
    recipient: User | None = None,
) -> IssueFailure:
    return IssueFailure.objects.create(
        organization=organization,
        application_id=application_id,
        pathway=pathway,
        recipient=recipient,
        attempt=attempt,
        error=error[:4000],
    )


# --- Pathways -------------------------------------------------------------------------------


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
        badge_pk = badge.pk
        transaction.on_commit(lambda: _notify_issued(badge_pk, badge=badge))
    return badge


def pathways_check(*, organization: Organization, user: User) -> list[Badge]:
    return [
        pathway_badge_issue(pathway=pathway, user=user)
        for pathway in pathways_completed(organization=organization, user=user)
    ]


# --- Revocation -----------------------------------------------------------------------------


def badge_revoke(*, badge: Badge, reason: str, actor: User | None) -> Badge:
    """Revoke: set the badge's bit in the status list and re-sign the list; tell the educator."""
    reason = (reason or "").strip()
    if not reason:
        raise BadgeError(
            "Give a reason: the educator is told why.",
            code=Code.REASON_REQUIRED,
            fields={"reason": ["Give a reason: the educator is told why."]},
        )
    with transaction.atomic():
        badge = Badge.objects.select_for_update().select_related("organization").get(pk=badge.pk)
        if badge.revoked_at is not None:
            raise BadgeError("This badge is already revoked.", code=Code.ALREADY_REVOKED)
        status_list = StatusList.objects.select_for_update().get(pk=badge.status_list_id)
        status_list.organization = badge.organization
        status_list.bits = documents.with_bit(bytes(status_list.bits), badge.status_index, True)
        status_list.save(update_fields=["bits", "updated_at"])
        _status_list_sign(status_list)
        badge.revoked_at = timezone.now()
        badge.revocation_reason = reason[:500]
        badge.revoked_by = actor
        badge.save(update_fields=["revoked_at", "revocation_reason", "revoked_by", "updated_at"])
        program_services.audit_record(
            organization=badge.organization,
            actor=actor,
            action="badge.revoked",
            obj=badge,
            summary=f"Badge “{badge.name}” revoked: {reason}",
        )
        badge_pk = badge.pk
        transaction.on_commit(lambda: _notify_revoked(badge_pk))
    return badge


@transaction.atomic
def badge_visibility_set(*, badge: Badge, user: User, is_public: bool) -> Badge:
    badge = Badge.objects.select_for_update().get(pk=badge.pk)
    if badge.recipient_id != user.pk:
        raise BadgeError("Only the badge's earner can change who sees it.", code=Code.NOT_ALLOWED)
    badge.is_public = is_public
    badge.save(update_fields=["is_public", "updated_at"])
    return badge


# --- Verification -------------------------------------------------------------------------


def _resolve_key_for(organization: Organization) -> dataintegrity.KeyResolver:
    published = {
        documents.verification_method_id(organization, k.key_id): k.public_key_multibase
        for k in SigningKey.objects.filter(organization=organization)
    }

    def resolve(method: str) -> Any:
        multibase = published.get(method)
        return dataintegrity.public_key_from_multibase(multibase) if multibase else None

    return resolve


def credential_verify(
    *, organization: Organization, credential: dict[str, Any], now: dt.datetime | None = None
) -> dict[str, Any]:
    """Re-check a credential issued by ``organization``: signature against the published keys,
    the status bit in the signed status list, validity dates. Returns
    ``{"verified", "status", "checks": [{"check", "ok", "message"}]}``."""
    now = now or timezone.now()
    checks: list[dict[str, Any]] = []
    result = dataintegrity.verify(credential, resolve_key=_resolve_key_for(organization))
    checks.append(
        {
            "check": "signature",
            "ok": result.verified,
            "message": "Signed by the issuer's published key."
            if result.verified
            else "; ".join(result.errors),
        }
    )
    status = "valid"
    entry = credential.get("credentialStatus") or {}
    url = entry.get("statusListCredential", "")
    prefix = documents.site_url(f"/o/{organization.slug}/status/")
    revoked = False
    if url.startswith(prefix) and url[len(prefix) :].isdigit():
        try:
            status_list = status_list_get(organization=organization, number=int(url[len(prefix) :]))
            list_ok = dataintegrity.verify(
                status_list.credential, resolve_key=_resolve_key_for(organization)
            ).verified
            bits = documents.decode_bits(status_list.credential["credentialSubject"]["encodedList"])
            revoked = documents.bit_is_set(bits, int(entry.get("statusListIndex", -1)))
            checks.append(
                {
                    "check": "status",
                    "ok": list_ok and not revoked,
                    "message": "Revoked by the issuer."
                    if revoked
                    else ("Not revoked." if list_ok else "The status list's signature is invalid."),
                }
            )
        except (StatusList.DoesNotExist, KeyError, ValueError, IndexError):
            checks.append({"check": "status", "ok": False, "message": "Status list not found."})
    else:
        checks.append({"check": "status", "ok": False, "message": "Unknown status list."})
    valid_until = str(credential.get("validUntil") or "")
    expired = bool(valid_until) and valid_until <= documents.iso(now)
    checks.append(
        {
            "check": "expiry",
            "ok": not expired,
            "message": f"Expired on {valid_until[:10]}."
            if expired
            else "Within its validity dates.",
        }
    )
    if revoked:
        status = "revoked"
    elif expired:
        status = "expired"
    elif not all(c["ok"] for c in checks):
        status = "invalid"
    return {"verified": status == "valid", "status": status, "checks": checks}


# --- Sweeps and reminders -------------------------------------------------------------------


def approvals_without_badge(
    *, organization: Organization, older_than: dt.timedelta = dt.timedelta(minutes=2)
) -> list[int]:
    """Approved applications whose badge was never issued (a dropped message, a crash)."""
    return list(
        Application.objects.filter(
            organization=organization,
            status=Application.Status.APPROVED,
            badge__isnull=True,
            updated_at__lte=timezone.now() - older_than,
        ).values_list("pk", flat=True)
    )


def pathway_candidates(*, organization: Organization) -> list[int]:
    """Holders of at least one credential badge in pathways' credentials (for the sweep)."""
    return list(
        Badge.objects.filter(
            organization=organization,
            kind=Badge.Kind.CREDENTIAL,
            revoked_at__isnull=True,
            version__credential__pathways__is_published=True,
        )
        .values_list("recipient_id", flat=True)
        .distinct()
    )


def badges_remind_expiring(*, organization: Organization) -> int:
    """E-mail educators whose badges expire within the notice period (once per badge)."""
    now = timezone.now()
    soon = now + dt.timedelta(days=settings.BADGE_EXPIRY_NOTICE_DAYS)
    sent = 0
    due = {
        "revoked_at__isnull": True,
        "expiry_notified_at__isnull": True,
        "valid_until__gt": now,
        "valid_until__lte": soon,
    }
    candidates = list(
        Badge.objects.filter(organization=organization, **due).values_list("pk", flat=True)
    )
    for pk in candidates:
        with transaction.atomic():
            # checked again under the lock: another run may have reminded it, or a program
            # admin revoked it, since the candidates were read
            badge = Badge.objects.select_for_update().filter(pk=pk, **due).first()
            if badge is None:
                continue
            badge.expiry_notified_at = now
            badge.save(update_fields=["expiry_notified_at", "updated_at"])
            transaction.on_commit(partial(_notify_expiring, pk))
            sent += 1
    return sent


# --- E-mail ----------------------------------------------------------------------------------


def _badge_for_mail(pk: int) -> Badge:
    """The badge an e-mail is about. E-mails run after commit, wherever that happens, so the
    badge is read by its primary key outside any tenant scope."""
    from django_scopes import scopes_disabled

    with scopes_disabled():
        return Badge.objects.select_related("recipient", "organization").get(pk=pk)


def _mail_recipient(badge: Badge, *, subject: str, message: str, what: str) -> None:
    """A mail server that is down is logged, never raised into the request or task that
    committed."""
    try:
        send_mail(
            subject=subject,
            message=message,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[badge.recipient.email],
        )
    except Exception:
        logger.exception("Could not e-mail badge %s %s to its recipient", badge.pk, what)


def _notify_issued(pk: int, *, badge: Badge | None = None) -> None:
    """After commit. ``badge``: the committed row as its issuing service built it (recipient
    and organization loaded), so it is not read again."""
    if badge is None:
        badge = _badge_for_mail(pk)
    name = " ".join(badge.name.split())  # a line break in a subject is refused
    mine = documents.site_url(reverse("badges:backpack"))
    until = (
        f"Valid until {timezone.localdate(badge.valid_until).isoformat()}.\n"
        if badge.valid_until
        else ""
    )
    _mail_recipient(
        badge,
        subject=f"Your badge: {name}",
        message=(
            f"Congratulations! {badge.organization.name} awarded you the badge “{name}”.\n"
            f"{until}\n"
            f"Its public verification page (share it with anyone): {badge_url(badge)}\n"
            f"Add it to LinkedIn, copy an e-mail signature or download it: {mine}\n"
        ),
        what="issued",
    )


def _notify_revoked(pk: int) -> None:
    """After commit."""
    badge = _badge_for_mail(pk)
    name = " ".join(badge.name.split())
    organization = badge.organization
    contact = organization.contact_email or organization.issuer_email
    questions = f"Questions? Contact {contact}.\n" if contact else ""
    _mail_recipient(
        badge,
        subject=f"Your badge “{name}” was revoked",
        message=(
            f"{organization.name} revoked your badge “{name}”.\n\n"
            f"Reason: {badge.revocation_reason}\n\n"
            "Its verification page and every verifier now report it as revoked: "
            f"{badge_url(badge)}\n"
            f"{questions}"
        ),
        what="revoked",
    )


def _notify_expiring(pk: int) -> None:
    """After commit; not for a badge revoked in the meantime."""
    badge = _badge_for_mail(pk)
    if badge.is_revoked or badge.valid_until is None:
        return
    name = " ".join(badge.name.split())
    until = timezone.localdate(badge.valid_until).isoformat()
    _mail_recipient(
        badge,
        subject=f"Your badge “{name}” expires on {until}",
        message=(
            f"Your badge “{name}” from {badge.organization.name} expires on {until}.\n"
            f"See it: {badge_url(badge)}\n"
            "To keep the credential current, apply again from the organization's catalog.\n"
        ),
        what="expiring",
    )


# --- The public profile ---------------------------------------------------------------------

HANDLE_TAKEN = "This handle is taken: choose another."
HEADLINE_MAX = 200  # BackpackProfile.headline


def profile_save(*, user: User, handle: str, headline: str, is_public: bool) -> BackpackProfile:
    """Create or update the educator's public profile (``/u/<handle>/``). Every problem is
    reported at once, per field, and nothing is saved while any remains."""
    handle = (handle or "").strip().lower()
    headline = " ".join((headline or "").split())
    fields: dict[str, list[str]] = {}
    if not handle:
        fields["handle"] = ["Choose a handle: it is the address of your profile, /u/<handle>/."]
    else:
        try:
            handle_validator(handle)
        except ValidationError as error:
            fields["handle"] = [str(message) for message in error.messages]
    if len(headline) > HEADLINE_MAX:
        fields["headline"] = [f"Keep it to {HEADLINE_MAX} characters (this has {len(headline)})."]
    with transaction.atomic():
        profile = BackpackProfile.objects.select_for_update().filter(user=user).first()
        taken = BackpackProfile.objects.filter(handle=handle).exclude(user=user).exists()
        if "handle" not in fields and taken:
            fields["handle"] = [HANDLE_TAKEN]
        if fields:
            raise BadgeError(
                "Nothing was saved: check the fields marked.", code=Code.INVALID, fields=fields
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
                HANDLE_TAKEN, code=Code.INVALID, fields={"handle": [HANDLE_TAKEN]}
            ) from error
    return profile


__all__ = [
    "approvals_without_badge",
    "badge_issue",
    "badge_revoke",
    "badge_visibility_set",
    "badges_remind_expiring",
    "credential_verify",
    "issue_failure_record",
    "pathway_badge_issue",
    "pathways_check",
    "profile_save",
    "signing_key_active",
    "signing_key_rotate",
    "status_list_get",
]
