"""A reviewer's own declarations of conflicts of interest: never give me submissions from my
school, my district, or this person. Each change is checked, runs in one transaction and is
recorded in the organization's audit trail."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from credentials_site.exceptions import ApplicationError
from programs.models import Organization, User
from programs.services import audit_record

from . import selectors
from .errors import ReviewErrorCode as Code
from .models import ConflictOfInterest

Kind = ConflictOfInterest.Kind


def _require_reviewer(organization: Organization, reviewer: User) -> None:
    if selectors.reviewer_scope(organization=organization, user=reviewer) is None:
        raise ApplicationError(
            _("You are not a reviewer for this organization."), code=Code.NOT_A_REVIEWER
        )


def _person(email: str, reviewer: User) -> User:
    email = email.strip()
    if not email:
        raise ApplicationError(
            _("Enter the person's e-mail address."),
            code=Code.INVALID,
            fields={"email": [_("Enter the person's e-mail address.")]},
        )
    try:
        validate_email(email)
    except ValidationError:
        raise ApplicationError(
            _("That is not an e-mail address."),
            code=Code.INVALID,
            fields={"email": [_("Enter an e-mail address like name@example.org.")]},
        ) from None
    person = User.objects.filter(email__iexact=email).first()
    if person is None:
        raise ApplicationError(
            _("No one has an account with that e-mail address."),
            code=Code.INVALID,
            fields={
                "email": [
                    _(
                        "No one has an account with that e-mail address; check it, or use the "
                        "address they sign in with."
                    )
                ]
            },
        )
    if person.pk == reviewer.pk:
        raise ApplicationError(
            _("You never get your own submissions; there is no need to declare yourself."),
            code=Code.INVALID,
            fields={"email": [_("That is your own address.")]},
        )
    return person


def _already_declared(kind: str, person: User | None) -> ApplicationError:
    if kind == Kind.SCHOOL:
        message = _("You have already declared your school.")
    elif kind == Kind.DISTRICT:
        message = _("You have already declared your district.")
    elif person is not None:
        message = _("You have already declared a conflict with %(email)s.") % {
            "email": person.email
        }
    else:
        message = _("You have already declared a conflict with this person.")
    return ApplicationError(message, code=Code.INVALID, fields={})


@transaction.atomic
def conflict_declare(
    *, organization: Organization, reviewer: User, kind: str, email: str = "", note: str = ""
) -> ConflictOfInterest:
    """Declare a conflict; from now on the queue leaves those submissions out. Each is
    declared once (the constraint ``one_conflict_declaration``, whoever declares it at the same
    moment)."""
    _require_reviewer(organization, reviewer)
    person: User | None = None
    if kind == Kind.SCHOOL:
        if not reviewer.school.strip():
            raise ApplicationError(
                _(
                    "Your profile has no school, so there is nothing to match against. Add it at "
                    "/me/profile/ (Your profile), or declare the people by e-mail."
                ),
                code=Code.INVALID,
                fields={"kind": [_("Your profile has no school.")]},
            )
    elif kind == Kind.DISTRICT:
        if not reviewer.district.strip():
            raise ApplicationError(
                _(
                    "Your profile has no district, so there is nothing to match against. Add it at "
                    "/me/profile/ (Your profile), or declare the people by e-mail."
                ),
                code=Code.INVALID,
                fields={"kind": [_("Your profile has no district.")]},
            )
    elif kind == Kind.PERSON:
        person = _person(email, reviewer)
    else:
        raise ApplicationError(
            _("Choose your school, your district or a named person."),
            code=Code.INVALID,
            fields={"kind": [_("Choose your school, your district or a named person.")]},
        )
    try:
        with transaction.atomic():  # a savepoint: a duplicate leaves the transaction usable
            conflict = ConflictOfInterest.objects.create(
                organization=organization,
                reviewer=reviewer,
                kind=kind,
                person=person,
                note=note[:200],
            )
    except IntegrityError as error:
        diagnostics = getattr(error.__cause__, "diag", None)
        if getattr(diagnostics, "constraint_name", None) == "one_conflict_declaration":
            raise _already_declared(kind, person) from None
        raise
    audit_record(
        organization=organization,
        actor=reviewer,
        action="conflict.declared",
        obj=conflict,
        summary=f"{reviewer.email} declared a conflict: "
        + (f"with {person.email}" if person else conflict.get_kind_display().lower()),
    )
    return conflict


@transaction.atomic
def conflict_remove(
    *, organization: Organization, reviewer: User, kind: str, email: str = ""
) -> int:
    """Withdraw a declaration (named by its kind and, for a person, their e-mail)."""
    _require_reviewer(organization, reviewer)
    mine = ConflictOfInterest.objects.select_for_update(of=("self",)).filter(
        organization=organization, reviewer=reviewer, kind=kind
    )
    if kind == Kind.PERSON:
        mine = mine.filter(person__email__iexact=email.strip())
    conflicts = list(mine)
    if not conflicts:
        raise ApplicationError(_("There is no such declaration to remove."), code=Code.INVALID)
    for conflict in conflicts:
        audit_record(
            organization=organization,
            actor=reviewer,
            action="conflict.removed",
            obj=conflict,
            summary=f"{reviewer.email} withdrew a conflict: "
            + (f"with {email.strip()}" if kind == Kind.PERSON else conflict.get_kind_display()),
        )
    ConflictOfInterest.objects.filter(pk__in=[c.pk for c in conflicts]).delete()
    return len(conflicts)
