"""Becoming a member without an admin typing it in: asking to join (a program admin approves or
declines, the person is e-mailed either way), and membership by verified e-mail domain (every
verified holder of an address at a domain the organization lists is a member).

Both make the membership through ``member_upsert``, the one rule for creating or updating a
member."""

from __future__ import annotations

from collections.abc import Callable, Collection

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from credentials_site.exceptions import ApplicationError
from credentials_site.mail import in_language_of, mail_build
from credentials_site.tenancy import cross_organization, tenant_scope

from ..errors import ProgramErrorCode
from ..models import (
    Credential,
    MemberEmailDomain,
    Membership,
    MembershipRequest,
    Organization,
    User,
)
from .audit import audit_record
from .members import MemberRow, member_row_clean, member_upsert
from .people import _refuse_unless_administers

DOMAINS_BY_ADDRESS = "organizations that admit members by a verified e-mail's domain"


def _row(values: dict[str, str]) -> MemberRow:
    """The row of the one member rule, for values already checked here."""
    row, problems = member_row_clean(values)
    if row is None:
        field, problem = next(iter(problems.items()))
        raise ApplicationError(problem, code=ProgramErrorCode.INVALID, fields={field: [problem]})
    return row


def _label(organization: Organization) -> str:
    return organization.short_name or organization.name


# --- Membership by verified e-mail domain -----------------------------------------------------


def verified_domains(*, user: User) -> set[str]:
    """The domains of the person's verified e-mail addresses (allauth's), lower case."""
    addresses = EmailAddress.objects.filter(user=user, verified=True).values_list(
        "email", flat=True
    )
    return {a.rsplit("@", 1)[1].lower() for a in addresses if "@" in a}


def membership_join_by_domain(
    *, organization: Organization, user: User | AnonymousUser
) -> Membership | None:
    """The person's membership here: the one on record (whatever its state: an admin's or a
    roster's decision stands), or, when there is none and one of their *verified* addresses is
    at a domain the organization lists, a new active one (``source=domain``, audited). Pages
    and applying ask this instead of reading the membership, so a domain member is one from
    their first visit."""
    if not isinstance(user, User):
        return None
    existing = Membership.objects.filter(organization=organization, user=user).first()
    if existing is not None:
        return existing
    return membership_join_by_listed_domain(
        organization=organization, user=user, domains=verified_domains(user=user)
    )


def membership_join_by_listed_domain(
    *, organization: Organization, user: User, domains: Collection[str]
) -> Membership | None:
    """``membership_join_by_domain`` for a caller that has read already that the person has no
    membership here and which ``domains`` their verified addresses are at (a page, from
    ``programs.user_facts``): the new membership when one of them is listed, else None."""
    if not domains:
        return None
    listed = MemberEmailDomain.objects.filter(organization=organization, domain__in=domains)
    domain = listed.values_list("domain", flat=True).first()
    if domain is None:
        return None
    member_upsert(
        organization=organization,
        row=_row({"email": user.email}),
        actor=None,
        source=Membership.Source.DOMAIN,
    )
    return Membership.objects.filter(organization=organization, user=user).first()


def membership_join_by_domain_everywhere(*, user: User) -> list[Membership]:
    """On confirming an e-mail address: a membership in every organization that lists the
    domain of one of the person's verified addresses (each made in that organization's
    scope). Returns the memberships made or found."""
    domains = verified_domains(user=user)
    if not domains:
        return []
    with cross_organization(DOMAINS_BY_ADDRESS):
        organizations = list(
            Organization.objects.filter(
                is_active=True,
                pk__in=MemberEmailDomain.objects.filter(domain__in=domains).values(
                    "organization_id"
                ),
            )
        )
    found = []
    for organization in organizations:
        with tenant_scope(organization):
            membership = membership_join_by_domain(organization=organization, user=user)
        if membership is not None:
            found.append(membership)
    return found


# --- Asking to join ---------------------------------------------------------------------------


def _refused(message: str, code: str, field: str | None = None) -> ApplicationError:
    return ApplicationError(message, code=code, fields={field: [message]} if field else {})


@transaction.atomic
def membership_request_submit(
    *,
    organization: Organization,
    user: User,
    member_number: str = "",
    school: str = "",
    note: str = "",
    credential: Credential | None = None,
) -> MembershipRequest:
    """A signed-in person asks to be a member. Refused when they are one already, or while an
    earlier request of theirs waits (one pending request per person and organization)."""
    membership = Membership.objects.filter(organization=organization, user=user).first()
    if membership is not None and membership.is_current():
        raise _refused(
            _("You are already a %(organization)s member.")
            % {"organization": _label(organization)},
            ProgramErrorCode.ALREADY_MEMBER,
        )
    if credential is not None and credential.organization_id != organization.pk:
        raise _refused(_("No such credential."), ProgramErrorCode.WRONG_ORGANIZATION, "credential")
    fields = {"member_number": member_number, "school": school, "note": note}
    limits = {"member_number": 40, "school": 200, "note": 1000}
    for field, value in fields.items():
        if len(value.strip()) > limits[field]:
            message = _("At most %(limit)s characters.") % {"limit": limits[field]}
            raise _refused(message, ProgramErrorCode.INVALID, field)
    try:
        with transaction.atomic():
            request = MembershipRequest.objects.create(
                organization=organization,
                user=user,
                credential=credential,
                **{field: value.strip() for field, value in fields.items()},
            )
    except IntegrityError:  # one_pending_membership_request
        raise _refused(
            _("Your request to join %(organization)s is already waiting for an answer.")
            % {"organization": _label(organization)},
            ProgramErrorCode.ALREADY_REQUESTED,
        ) from None
    audit_record(
        organization=organization,
        actor=user,
        action="membership_request.submitted",
        obj=request,
        summary=f"{user.email} asked to join",
        data={"member_number": request.member_number, "school": request.school},
    )
    return request


@transaction.atomic
def membership_request_decide(
    *, membership_request: MembershipRequest, approve: bool, actor: User | None
) -> MembershipRequest:
    """Approve (the person becomes an active member, ``source=request``) or decline a waiting
    request; the person is e-mailed either way once it commits. A request already decided is
    refused (nothing changes, nobody is e-mailed twice)."""
    request = (
        MembershipRequest.objects.select_for_update(of=("self",))
        .select_related("organization", "user", "credential")
        .get(pk=membership_request.pk)
    )
    _refuse_unless_administers(actor, request.organization)
    if request.status != MembershipRequest.Status.PENDING:
        already = (
            _("The request of %(email)s was already approved.")
            if request.status == MembershipRequest.Status.APPROVED
            else _("The request of %(email)s was already declined.")
        )
        raise _refused(
            already % {"email": request.user.email},
            ProgramErrorCode.ALREADY_DECIDED,
        )
    organization, user = request.organization, request.user
    request.status = (
        MembershipRequest.Status.APPROVED if approve else MembershipRequest.Status.DECLINED
    )
    request.decided_by, request.decided_at = actor, timezone.now()
    request.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    if approve:
        member_upsert(
            organization=organization,
            row=_row(
                {"email": user.email, "member_number": request.member_number}
                | ({"school": request.school} if request.school else {})
            ),
            actor=actor,
            source=Membership.Source.REQUEST,
        )
    verb = "approved" if approve else "declined"
    audit_record(
        organization=organization,
        actor=actor,
        action=f"membership_request.{verb}",
        obj=request,
        summary=f"Request of {user.email} to join {verb}",
    )
    transaction.on_commit(_decision_mail(request, approve=approve))
    return request


def _decision_mail(request: MembershipRequest, *, approve: bool) -> Callable[[], None]:
    """The e-mail to the person, built now (in the organization's scope) and sent on commit."""
    organization, label = request.organization, _label(request.organization)
    page = (
        reverse(
            "programs:credential_detail",
            kwargs={"org_slug": organization.slug, "credential_slug": request.credential.slug},
        )
        if request.credential is not None
        else reverse("programs:catalog", kwargs={"org_slug": organization.slug})
    )
    link = f"{settings.SITE_URL}{page}"
    with in_language_of(request.user):
        subject = (
            _("You are now a %(organization)s member")
            if approve
            else _("Your request to join %(organization)s")
        ) % {"organization": label}
        message = mail_build(
            template="join_approved" if approve else "join_declined",
            subject=subject,
            to=[request.user.email],
            context={"link": link, "contact": organization.contact_email},
            organization=organization,
        )

    def send() -> None:
        message.send(fail_silently=True)

    return send


# --- The domains an organization lists ----------------------------------------------------------


@transaction.atomic
def member_email_domain_add(
    *, organization: Organization, domain: str, actor: User | None
) -> MemberEmailDomain:
    """List a domain: from now on its verified holders become members (on confirming an
    address, on their next visit or application). Existing memberships are left as they are."""
    _refuse_unless_administers(actor, organization)
    value = domain.strip().lower().removeprefix("@")
    listed = MemberEmailDomain(organization=organization, domain=value)
    try:
        listed.full_clean()
    except ValidationError as invalid:
        messages = invalid.message_dict.get("domain") or invalid.messages
        raise ApplicationError(
            messages[0], code=ProgramErrorCode.INVALID, fields={"domain": messages}
        ) from None
    listed.save()
    audit_record(
        organization=organization,
        actor=actor,
        action="member_email_domain.added",
        obj=listed,
        summary=f"Verified addresses at @{value} are members",
    )
    return listed


@transaction.atomic
def member_email_domain_remove(*, listed: MemberEmailDomain, actor: User | None) -> None:
    """Stop admitting a domain's holders; memberships already made stay (lapse them with a
    roster or in the admin)."""
    _refuse_unless_administers(actor, listed.organization)
    audit_record(
        organization=listed.organization,
        actor=actor,
        action="member_email_domain.removed",
        obj=listed,
        summary=f"Addresses at @{listed.domain} no longer make members",
    )
    listed.delete()
