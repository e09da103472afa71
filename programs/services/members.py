"""Members: the one rule that makes a person a member of an organization from a row of data (a
roster file's line, the member API's body), whatever brings the row.

``member_row_clean`` turns raw values into a ``MemberRow`` (or says, per field, what is wrong);
``member_upsert_many`` applies rows in bulk (a few statements per call, none per row) and
``member_upsert`` is the same for one row. Each returns what happened to each row: ``created``
(a new membership, with a new account if the address had none), ``updated`` or ``unchanged``.
Applying the same rows again changes nothing.

The rule:
- The account is found by e-mail address in any case; a new one is made without a password,
  and its owner is e-mailed an invitation to set one (after commit).
- The roster owns the membership's columns it supplies (``MemberRow.supplied``): a supplied
  blank clears; a field not supplied is kept.
- A person's name is their own: a row's name fills in an account that has none, never replaces
  one. Likewise school and district fill in a new account's profile.
- A row makes the membership active, or lapsed when its expiry has passed. ``source`` is how the
  membership came to be, set when it is made.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from credentials_site.mail import mail_build

from ..models import AuditEvent, Membership, MembershipSource, Organization, User
from .bulk import bulk_insert, bulk_update
from .profile_fields import profile_fields_parse
from .schools import school_links_sync
from .webhook_events import memberships_changed

Outcome = Literal["created", "updated", "unchanged"]

# The fields of a row, in the order a roster lists them.
ROW_FIELDS = (
    "email",
    "given_name",
    "family_name",
    "school",
    "district",
    "position",
    "member_number",
    "starts_on",
    "expires_on",
    # the optional profile questions (Organization.profile_fields), read by profile_fields
    "years_experience",
    "school_level",
    "title_i",
)
FIELD_LABELS = {
    "email": _("E-mail"),
    "given_name": _("Given name"),
    "family_name": _("Family name"),
    "school": _("School"),
    "district": _("District"),
    "position": _("Role / position"),
    "member_number": _("Member number"),
    "starts_on": _("Membership start"),
    "expires_on": _("Membership expiry"),
    "years_experience": _("Years of experience"),
    "school_level": _("School level"),
    "title_i": _("Title I school"),
}
_MAX_LENGTH = {
    "given_name": 100,
    "family_name": 100,
    "school": 200,
    "district": 200,
    "position": 200,
    "member_number": 40,
}
# Membership column of each row field the membership keeps.
_MEMBERSHIP_COLUMN = {
    "school": "school",
    "district": "district",
    "position": "position",
    "member_number": "member_number",
    "starts_on": "member_since",
    "expires_on": "member_until",
    "years_experience": "years_experience",
    "school_level": "school_level",
    "title_i": "title_i",
}
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")
DATE_HINT = _("a date as YYYY-MM-DD (or MM/DD/YYYY)")


@dataclass(frozen=True)
class MemberRow:
    """A validated row. ``supplied`` names the fields the source carries: the others are kept
    as they are (a roster without a school column leaves schools alone)."""

    email: str
    given_name: str = ""
    family_name: str = ""
    school: str = ""
    district: str = ""
    position: str = ""
    member_number: str = ""
    starts_on: dt.date | None = None
    expires_on: dt.date | None = None
    years_experience: int | None = None
    school_level: str = ""
    title_i: bool | None = None
    supplied: frozenset[str] = field(default=frozenset(ROW_FIELDS))

    @property
    def full_name(self) -> str:
        return " ".join(f"{self.given_name} {self.family_name}".split())


def cell_text(value: Any) -> str:
    """A cell as one line of text (a spreadsheet's whole number without its ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a spreadsheet's number 1042 arrives as 1042.0
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    return " ".join(str(value).split())


def _date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = cell_text(value)
    if not text:
        return None
    if len(text) == 10 and text[4] == "-":
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(text)  # the usual case, fast
    for date_format in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, date_format).date()  # noqa: DTZ007 (a date)
        except ValueError:
            continue
    raise ValueError(
        gettext("“%(text)s” is not %(hint)s.") % {"text": text[:40], "hint": DATE_HINT}
    )


_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+$")


def member_row_clean(values: Mapping[str, Any]) -> tuple[MemberRow | None, dict[str, str]]:
    """A row from raw values (text, or a spreadsheet's numbers and dates) keyed by the names of
    ``ROW_FIELDS``; the keys present are the fields supplied. Returns the row, or None and a
    message per field that is wrong."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    email = cell_text(values.get("email")).lower()
    if not email:
        errors["email"] = gettext("An e-mail address is required.")
    else:
        try:
            if len(email) > 254 or not _EMAIL_SHAPE.match(email):
                raise ValidationError("")
            validate_email(email)
        except ValidationError:
            errors["email"] = gettext("“%(email)s” is not an e-mail address.") % {
                "email": email[:60]
            }
    for name, limit in _MAX_LENGTH.items():
        if name in values:
            text = cell_text(values[name])
            if len(text) > limit:
                errors[name] = gettext("Keep it to %(limit)s characters (this has %(length)s).") % {
                    "limit": limit,
                    "length": len(text),
                }
            cleaned[name] = text
    for name in ("starts_on", "expires_on"):
        if name in values:
            try:
                cleaned[name] = _date(values[name])
            except ValueError as error:
                errors[name] = str(error)
    answers, answer_errors = profile_fields_parse(dict(values))
    cleaned.update(answers)
    errors.update(answer_errors)
    starts, expires = cleaned.get("starts_on"), cleaned.get("expires_on")
    if starts and expires and expires < starts and "expires_on" not in errors:
        errors["expires_on"] = gettext("The expiry %(date)s is before the start.") % {
            "date": expires.isoformat()
        }
    if errors:
        return None, errors
    supplied = frozenset(name for name in ROW_FIELDS if name in values) | {"email"}
    return MemberRow(email=email, supplied=supplied, **cleaned), {}


@dataclass
class UpsertResult:
    outcomes: list[Outcome]
    invited_user_ids: list[int] = field(default_factory=list)
    # per row, what an update changes: column → [before, after] (empty for the other outcomes)
    changes: list[dict[str, list[Any]]] = field(default_factory=list)


def _membership_values(row: MemberRow) -> dict[str, Any]:
    return {
        column: getattr(row, name)
        for name, column in _MEMBERSHIP_COLUMN.items()
        if name in row.supplied
    }


def _status(member_until: dt.date | None, today: dt.date) -> str:
    if member_until is not None and member_until < today:
        return str(Membership.Status.LAPSED)
    return str(Membership.Status.ACTIVE)


@dataclass
class _Account:
    pk: int
    email: str
    full_name: str


def _users_by_email(emails: Sequence[str]) -> dict[str, _Account]:
    """Accounts of these (lower-case) addresses, found in any case: one statement, the
    addresses as one array (``upper(email)`` is indexed)."""
    table = connection.ops.quote_name(User._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, email, full_name FROM {table} WHERE upper(email) = ANY(%s)",  # noqa: S608
            [[email.upper() for email in emails]],
        )
        return {email.lower(): _Account(pk, email, name) for pk, email, name in cursor.fetchall()}


def _users_create(rows: Sequence[MemberRow]) -> list[_Account]:
    """New accounts, without a usable password (as ``user_get_or_invite`` makes them: the
    address is confirmed when they first sign in)."""
    unusable = make_password(None)
    made = bulk_insert(
        User,
        [
            {
                "email": row.email,
                "full_name": row.full_name[:200],
                "school": row.school,
                "district": row.district,
                "password": unusable,
            }
            for row in rows
        ],
        returning=("id", "email", "full_name"),
    )
    return [_Account(pk, email, name) for pk, email, name in made]


def member_upsert_many(
    *,
    organization: Organization,
    rows: Sequence[MemberRow],
    actor: User | None,
    source: str = MembershipSource.ADMIN,
    dry_run: bool = False,
    today: dt.date | None = None,
    audit: bool = True,
    place_in_schools: bool = True,
) -> UpsertResult:
    """Apply rows (distinct e-mail addresses) in one transaction: what happened to each, in
    order. ``dry_run`` says what would happen and writes nothing. ``audit`` writes an audit
    entry per membership made or changed; a caller that records the whole batch itself (the
    roster: one entry per apply, linking its report of every row) passes False.
    ``place_in_schools`` puts the members in the schools their rows name (``school_links_sync``);
    a caller that writes many batches (the roster) passes False and places them all once, at
    the end."""
    emails = [row.email for row in rows]
    if len(set(emails)) != len(emails):
        raise ValueError("Each e-mail address may appear once in one call.")
    if not rows:
        return UpsertResult(outcomes=[])
    today = today or timezone.localdate()
    if dry_run:
        return _upsert(organization, rows, actor, source, today, dry_run=True, audit=False)
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _upsert(
                    organization,
                    rows,
                    actor,
                    source,
                    today,
                    dry_run=False,
                    audit=audit,
                    place_in_schools=place_in_schools,
                )
        except IntegrityError:  # someone else made one of these accounts or memberships meanwhile
            if attempt:
                raise
    raise AssertionError("unreachable")


_MEMBERSHIP_READ = ("pk", "user_id", "status", *_MEMBERSHIP_COLUMN.values())


def _upsert(
    organization: Organization,
    rows: Sequence[MemberRow],
    actor: User | None,
    source: str,
    today: dt.date,
    *,
    dry_run: bool,
    audit: bool,
    place_in_schools: bool = True,
) -> UpsertResult:
    users = _users_by_email([row.email for row in rows])
    missing = [row for row in rows if row.email not in users]
    invited: list[int] = []
    if missing and not dry_run:
        for made in _users_create(missing):
            users[made.email.lower()] = made
            invited.append(made.pk)
    # the accounts as one array parameter (``user_id__in`` costs Django a parameter per id)
    found = Membership.objects.filter(
        RawSQL(  # noqa: S611 - the table named by the model, the ids a parameter
            f"{connection.ops.quote_name(Membership._meta.db_table)}.user_id = ANY(%s)",
            ([u.pk for u in users.values()],),
            output_field=BooleanField(),
        ),
        organization=organization,
    )
    if not dry_run:
        found = found.select_for_update(of=("self",))
    memberships = {m["user_id"]: m for m in found.values(*_MEMBERSHIP_READ)}

    outcomes: list[Outcome] = []
    row_changes: list[dict[str, list[Any]]] = []
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    changed_columns: set[str] = set()
    renamed: list[dict[str, Any]] = []
    events: list[tuple[str, str, int | None, dict[str, Any]]] = []  # action, email, pk, data
    for row in rows:
        account = users.get(row.email)
        values = _membership_values(row)
        membership = memberships.get(account.pk) if account is not None else None
        if membership is None:
            outcomes.append("created")
            row_changes.append({})
            if account is not None:  # None only in a dry run: the account would be made
                values["status"] = _status(values.get("member_until"), today)
                new.append(
                    {
                        **values,
                        "organization_id": organization.pk,
                        "user_id": account.pk,
                        "source": source,
                    }
                )
                events.append(("membership.created", account.email, None, values))
            continue
        assert account is not None  # noqa: S101 - a membership was found by its account
        values["status"] = _status(values.get("member_until", membership["member_until"]), today)
        changes = {
            column: [membership[column], value]
            for column, value in values.items()
            if membership[column] != value
        }
        if "given_name" in row.supplied and row.full_name and not account.full_name:
            changes["full_name"] = ["", row.full_name[:200]]
            renamed.append({"pk": account.pk, "full_name": row.full_name[:200]})
        row_changes.append(changes)
        if not changes:
            outcomes.append("unchanged")
            continue
        outcomes.append("updated")
        columns = set(changes) - {"full_name"}
        if columns:
            changed.append({**membership, **values})
            changed_columns.update(columns)
        events.append(("membership.updated", account.email, membership["pk"], changes))
    if dry_run:
        return UpsertResult(outcomes=outcomes, changes=row_changes)
    inserted = dict(bulk_insert(Membership, new, returning=("user_id", "id") if audit else ()))
    if changed:
        bulk_update(Membership, changed, sorted(changed_columns))
    # the schools the rows name (docs/decisions/0029): of new members naming one, and of those
    # whose school or district changed
    placed = [m["user_id"] for m in new if m.get("school")]
    if changed_columns & {"school", "district"}:
        placed += [m["user_id"] for m in changed]
    if placed and place_in_schools:
        school_links_sync(organization=organization, user_ids=placed)
    if renamed:
        bulk_update(User, renamed, ["full_name"])
    if events:
        _webhooks(organization, source, events)
    if events and audit:
        _audit(organization, actor, source, events, inserted, users)
    if invited:
        _invitations_on_commit(organization, invited)
    return UpsertResult(outcomes=outcomes, invited_user_ids=invited, changes=row_changes)


def _audit(
    organization: Organization,
    actor: User | None,
    source: str,
    events: list[tuple[str, str, int | None, dict[str, Any]]],
    inserted: dict[int, int],
    users: dict[str, _Account],
) -> None:
    """An audit entry per membership made or changed (``events``: action, address, membership
    or None for a new one, the values)."""
    by_user = {a.pk: a for a in users.values()}
    email_pk = {by_user[user_id].email: pk for user_id, pk in inserted.items()}
    label = MembershipSource(source).label.lower()
    bulk_insert(
        AuditEvent,
        [
            {
                "organization_id": organization.pk,
                "actor_id": actor.pk if actor is not None else None,
                "action": action,
                "object_type": "Membership",
                "object_id": str(pk if pk is not None else email_pk[email]),
                "summary": f"{email} {_VERBS[action]} ({label})"[:300],
                "data": {
                    "email": email,
                    "source": source,
                    "values": _json_values(data),
                },
            }
            for action, email, pk, data in events
        ],
    )


def _webhooks(
    organization: Organization,
    source: str,
    events: list[tuple[str, str, int | None, dict[str, Any]]],
) -> None:
    """A ``membership.changed`` webhook event per membership made or changed (every path: the
    admin, the API, a roster, a domain, single sign-on, an approved request)."""
    memberships_changed(
        organization.pk,
        [
            (action.removeprefix("membership."), email, source, _json_values(data))
            for action, email, _pk, data in events
        ],
    )


def _json_values(data: dict[str, Any]) -> dict[str, Any]:
    return {k: [_json(x) for x in v] if isinstance(v, list) else _json(v) for k, v in data.items()}


_VERBS = {"membership.created": "made a member", "membership.updated": "membership changed"}


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _invitations_on_commit(organization: Organization, user_ids: list[int]) -> None:
    from ..tasks import member_invitations_send

    organization_id = organization.pk
    transaction.on_commit(
        lambda: member_invitations_send.delay(organization_id=organization_id, user_ids=user_ids)
    )


def member_invitations_send(*, organization: Organization, user_ids: Sequence[int]) -> int:
    """E-mail each new account made for this organization's members an invitation to set a
    password (a password-reset link: it is how an account without one gets one). Accounts that
    have a password by now are skipped. Returns how many were sent."""
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    messages = []
    for user in User.objects.filter(pk__in=user_ids, is_active=True).order_by("pk"):
        if user.has_usable_password():
            continue
        path = reverse(
            "account_reset_password_from_key",
            kwargs={
                "uidb36": user_pk_to_url_str(user),
                "key": default_token_generator.make_token(user),
            },
        )
        messages.append(
            mail_build(
                template="member_invitation",
                subject=gettext("You are a member of %(organization)s on Tessera")
                % {"organization": organization.name},
                to=[user.email],
                context={"user": user, "set_password_url": f"{settings.SITE_URL}{path}"},
                organization=organization,
            )
        )
    if messages:
        get_connection().send_messages(messages)
    return len(messages)


def member_upsert(
    *,
    organization: Organization,
    row: MemberRow,
    actor: User | None,
    source: str = MembershipSource.ADMIN,
) -> Outcome:
    """Make or update one membership from a validated row: ``created``, ``updated`` or
    ``unchanged`` (the rule of ``member_upsert_many``, for one row)."""
    result = member_upsert_many(organization=organization, rows=[row], actor=actor, source=source)
    return result.outcomes[0]


__all__ = [
    "DATE_HINT",
    "FIELD_LABELS",
    "ROW_FIELDS",
    "MemberRow",
    "Outcome",
    "UpsertResult",
    "cell_text",
    "member_invitations_send",
    "member_row_clean",
    "member_upsert",
    "member_upsert_many",
]
