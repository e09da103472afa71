"""People: accounts named by an admin, staff roles (who reviews, runs programs, owns the
organization), and memberships.

The rule of who may give or take a role is ``staff_role_refusal``: program admins manage
reviewers and program admins; only an owner of the organization (or a platform operator) makes
or unmakes an owner. The admin's form and permissions ask it; the services enforce it under
their lock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from credentials_site.exceptions import ApplicationError

from .. import selectors
from ..errors import ProgramErrorCode
from ..models import Credential, Membership, Organization, Program, School, StaffRole, User
from .audit import audit_record

# the English messages; gettext() gives them in the request's language
CROSS_ORGANIZATION = gettext_noop(
    "This belongs to another organization: choose one of this organization's own."
)


@transaction.atomic
def user_get_or_invite(*, email: str, organization: Organization, actor: User | None) -> User:
    """The account of this e-mail address (in any case), or a new one without a password: its
    owner sets one with "Forgot password?". A new account is audited in the organization whose
    admin named it."""
    address = email.strip().lower()
    try:
        validate_email(address)
    except ValidationError:
        message = gettext("“%(email)s” is not an e-mail address.") % {"email": email}
        raise ApplicationError(
            message, code=ProgramErrorCode.INVALID_EMAIL, fields={"email": [message]}
        ) from None
    user = User.objects.filter(email__iexact=address).first()
    if user is not None:
        return user
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=address, password=None)
    except IntegrityError:  # made by someone else meanwhile
        return User.objects.get(email__iexact=address)
    audit_record(
        organization=organization,
        actor=actor,
        action="user.invited",
        obj=user,
        summary=f"Account for {address} created",
    )
    return user


OWNER_ONLY_GIVES = gettext_noop("Only an owner of the organization can make someone an owner.")
OWNER_ONLY_TAKES = gettext_noop(
    "Only an owner of the organization can change or take away an owner's role."
)


def staff_role_refusal(
    *, actor: User | None, organization_id: int, role: str, taking_away: bool = False
) -> ApplicationError | None:
    """Why ``actor`` may not give (or, ``taking_away``, change or take away) ``role`` in the
    organization, or None when they may. Program admins manage reviewers and program admins;
    only an owner of the organization, or a platform operator, makes or unmakes an owner.
    ``actor=None`` is the platform itself (a command, the demo data). The admin's forms and
    permissions ask this; the services below enforce it."""
    if actor is None or role != StaffRole.Role.OWNER:
        return None
    if organization_id in selectors.organization_ids_owned_by(user=actor):
        return None
    message = gettext(OWNER_ONLY_TAKES if taking_away else OWNER_ONLY_GIVES)
    return ApplicationError(message, code=ProgramErrorCode.NOT_ALLOWED, fields={"role": [message]})


def _staff_role_check(
    *,
    actor: User | None,
    organization: Organization,
    user: User,
    role: str,
    programs: Iterable[Program],
    credentials: Iterable[Credential],
    schools: Iterable[School] = (),
    staff_role_id: int | None = None,
) -> None:
    """What every grant and change checks: the actor administers the organization, the owner
    rule, the limits are the organization's own, and the person holds no such role yet."""
    _refuse_unless_administers(actor, organization)
    refusal = staff_role_refusal(actor=actor, organization_id=organization.pk, role=role)
    if refusal is not None:
        raise refusal
    if role not in StaffRole.Role.values:
        message = gettext("“%(role)s” is not a role.") % {"role": role}
        raise ApplicationError(message, code=ProgramErrorCode.INVALID, fields={"role": [message]})
    schools = list(schools)
    if role == StaffRole.Role.SCHOOL_LEADER and not schools:
        message = gettext("A school leader leads at least one school: choose their schools.")
        raise ApplicationError(
            message, code=ProgramErrorCode.INVALID, fields={"schools": [message]}
        )
    for field, objects in (
        ("programs", programs),
        ("credentials", credentials),
        ("schools", schools),
    ):
        if any(o.organization_id != organization.pk for o in objects):
            message = gettext(CROSS_ORGANIZATION)
            raise ApplicationError(
                message, code=ProgramErrorCode.WRONG_ORGANIZATION, fields={field: [message]}
            )
    held = StaffRole.objects.filter(organization=organization, user=user, role=role)
    if staff_role_id is not None:
        held = held.exclude(pk=staff_role_id)
    if held.exists():
        raise _already_granted(user, role)


def _refuse_unless_administers(actor: User | None, organization: Organization) -> None:
    if actor is not None and organization.pk not in selectors.organization_ids_administered_by(
        user=actor
    ):
        raise ApplicationError(
            gettext("You do not administer this organization."),
            code=ProgramErrorCode.NOT_ALLOWED,
        )


def _already_granted(user: User, role: str) -> ApplicationError:
    message = gettext("%(email)s is already %(role)s here.") % {
        "email": user.email,
        "role": StaffRole.Role(role).label.lower(),
    }
    return ApplicationError(
        message, code=ProgramErrorCode.ALREADY_GRANTED, fields={"role": [message]}
    )


def _locked_to_take(staff_role: StaffRole, actor: User | None) -> StaffRole:
    """The role under its lock, once ``actor`` may change it or take it away."""
    staff_role = (
        StaffRole.objects.select_for_update(of=("self",))
        .select_related("organization", "user")
        .get(pk=staff_role.pk)
    )
    _refuse_unless_administers(actor, staff_role.organization)
    refusal = staff_role_refusal(
        actor=actor,
        organization_id=staff_role.organization_id,
        role=staff_role.role,
        taking_away=True,
    )
    if refusal is not None:
        raise refusal
    return staff_role


def _staff_role_data(staff_role: StaffRole) -> dict[str, Any]:
    data: dict[str, Any] = {
        "user": staff_role.user.email,
        "role": staff_role.role,
        "programs": sorted(staff_role.programs.values_list("pk", flat=True)),
        "credentials": sorted(staff_role.credentials.values_list("pk", flat=True)),
    }
    if staff_role.role == StaffRole.Role.SCHOOL_LEADER:
        data |= {
            "schools": sorted(staff_role.schools.values_list("pk", flat=True)),
            "title": staff_role.title,
        }
    return data


@transaction.atomic
def staff_role_grant(
    *,
    organization: Organization,
    user: User,
    role: str,
    actor: User | None,
    programs: Iterable[Program] = (),
    credentials: Iterable[Credential] = (),
    schools: Iterable[School] = (),
    title: str = "",
) -> StaffRole:
    """Give ``user`` a role in the organization, for a reviewer optionally limited to some
    programs and credentials, for a school leader limited to their schools."""
    programs, credentials, schools = list(programs), list(credentials), list(schools)
    _staff_role_check(
        actor=actor,
        organization=organization,
        user=user,
        role=role,
        programs=programs,
        credentials=credentials,
        schools=schools,
    )
    try:
        with transaction.atomic():
            staff_role = StaffRole.objects.create(
                organization=organization, user=user, role=role, title=title.strip()[:60]
            )
    except IntegrityError:  # granted by someone else meanwhile (one_role_per_kind)
        raise _already_granted(user, role) from None
    staff_role.programs.set(programs)
    staff_role.credentials.set(credentials)
    staff_role.schools.set(schools if role == StaffRole.Role.SCHOOL_LEADER else ())
    audit_record(
        organization=organization,
        actor=actor,
        action="staff_role.granted",
        obj=staff_role,
        summary=f"{user.email} made {staff_role.get_role_display().lower()}",
        data=_staff_role_data(staff_role),
    )
    return staff_role


@transaction.atomic
def staff_role_change(
    *,
    staff_role: StaffRole,
    user: User,
    role: str,
    actor: User | None,
    programs: Iterable[Program] = (),
    credentials: Iterable[Credential] = (),
    schools: Iterable[School] = (),
    title: str = "",
) -> StaffRole:
    """Change who holds a role, which role it is, and its limits. Changing an owner's role, or
    making one, takes an owner."""
    staff_role = _locked_to_take(staff_role, actor)
    programs, credentials, schools = list(programs), list(credentials), list(schools)
    _staff_role_check(
        actor=actor,
        organization=staff_role.organization,
        user=user,
        role=role,
        programs=programs,
        credentials=credentials,
        schools=schools,
        staff_role_id=staff_role.pk,
    )
    before = _staff_role_data(staff_role)
    staff_role.user, staff_role.role, staff_role.title = user, role, title.strip()[:60]
    staff_role.save(update_fields=["user", "role", "title", "updated_at"])
    staff_role.programs.set(programs)
    staff_role.credentials.set(credentials)
    staff_role.schools.set(schools if role == StaffRole.Role.SCHOOL_LEADER else ())
    audit_record(
        organization=staff_role.organization,
        actor=actor,
        action="staff_role.changed",
        obj=staff_role,
        summary=f"Role of {user.email} changed to {staff_role.get_role_display().lower()}",
        data={"before": before, "after": _staff_role_data(staff_role)},
    )
    return staff_role


@transaction.atomic
def staff_role_revoke(*, staff_role: StaffRole, actor: User | None) -> None:
    """Take a role away. Taking away an owner's takes an owner."""
    staff_role = _locked_to_take(staff_role, actor)
    data = _staff_role_data(staff_role)
    summary = f"{staff_role.user.email} is no longer {staff_role.get_role_display().lower()}"
    audit_record(
        organization=staff_role.organization,
        actor=actor,
        action="staff_role.revoked",
        obj=staff_role,
        summary=summary,
        data=data,
    )
    staff_role.delete()


@transaction.atomic
def membership_lapse_expired(*, organization: Organization, today: dt.date | None = None) -> int:
    """Mark active memberships whose end date has passed as lapsed; returns how many changed."""
    today = today or timezone.localdate()
    expired = list(
        Membership.objects.select_for_update(skip_locked=True).filter(
            organization=organization,
            status=Membership.Status.ACTIVE,
            member_until__lt=today,
        )
    )
    for membership in expired:
        membership.status = Membership.Status.LAPSED
        membership.save(update_fields=["status", "updated_at"])
        audit_record(
            organization=organization,
            actor=None,
            action="membership.lapsed",
            obj=membership,
            summary=f"Membership of {membership.user.email} lapsed on {membership.member_until}",
        )
    return len(expired)
