"""LTI 1.3 state changes: a registration's tool key, the account a launch signs in as, the
grade link a launch leaves, and the score sent through AGS when the badge is issued."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.grade import Grade
from pylti1p3.service_connector import ServiceConnector

from credentials_site.exceptions import ApplicationError

from ..errors import ProgramErrorCode
from ..lti import http_session, key_pair_generate, tool_conf
from ..models import Credential, LtiGradeLink, LtiIdentity, LtiPlatform, Organization, User
from .audit import audit_record
from .sso import email_in_domains

logger = logging.getLogger(__name__)

AGS_SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


def lti_refusal(message: str) -> ApplicationError:
    return ApplicationError(message, code=ProgramErrorCode.LTI_LAUNCH_REFUSED)


def lti_platform_keys_ensure(*, platform: LtiPlatform) -> None:
    """Give a registration its tool key pair (once): the admin calls it on save."""
    if platform.tool_public_key:
        return
    private, public = key_pair_generate()
    platform.tool_private_key = private
    platform.tool_public_key = public


@dataclass(frozen=True)
class LaunchPerson:
    subject: str
    email: str
    full_name: str


def lti_user_for_launch(
    *, platform: LtiPlatform, person: LaunchPerson, signed_in: User | None = None
) -> User:
    """The account a validated launch signs in as (the trust rule, as for single sign-on,
    decision 0013):

    1. the account this platform's user (``sub``) signed in as before;
    2. the account signed in in this browser, when it has the launch's address verified
       (this links them: how someone outside the platform's domains joins the two);
    3. the account whose address is the launch's and *verified*, when the address is in the
       platform's e-mail domains (the domains the organization says it is the authority for);
    4. a new account with the address, when no account has it.

    Otherwise (an account has the address, outside the domains or unverified) nothing is
    signed in and the refusal says what to do: an LMS cannot vouch for any address it likes."""
    with transaction.atomic():
        identity = (
            LtiIdentity.objects.select_related("user")
            .filter(platform=platform, subject=person.subject)
            .first()
        )
        if identity is not None:
            return identity.user
        address = person.email.strip().lower()
        try:
            validate_email(address)
        except ValidationError:
            raise lti_refusal(
                _(
                    "Your learning platform did not share a valid e-mail address, which Tessera "
                    "needs to find or create your account. Ask its administrator to share it."
                )
            ) from None
        verified = (
            EmailAddress.objects.select_related("user")
            .filter(email__iexact=address, verified=True)
            .first()
        )
        taken = verified is not None or (
            User.objects.filter(email__iexact=address).exists()
            or EmailAddress.objects.filter(email__iexact=address).exists()
        )
        if verified is not None and signed_in is not None and verified.user_id == signed_in.pk:
            user = signed_in
        elif verified is not None and email_in_domains(address, platform.email_domains):
            user = verified.user
        elif taken:
            raise lti_refusal(
                _(
                    "A Tessera account already has the address %(email)s. Sign in to Tessera "
                    "with it (and confirm the address if asked), then open the activity from "
                    "your course again: the two will be linked."
                )
                % {"email": address}
            )
        else:
            user = _user_create(platform=platform, person=person, address=address)
        LtiIdentity.objects.get_or_create(
            organization=platform.organization,
            platform=platform,
            subject=person.subject,
            defaults={"user": user},
        )
        return user


def _user_create(*, platform: LtiPlatform, person: LaunchPerson, address: str) -> User:
    """A new account for a launch's address; verified when the platform is the authority for
    its domain, else to be confirmed like any new address."""
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=address, password=None, full_name=person.full_name[:200]
            )
            EmailAddress.objects.create(
                user=user,
                email=address,
                primary=True,
                verified=email_in_domains(address, platform.email_domains),
            )
    except IntegrityError:
        raise lti_refusal(_("Someone just created this account: launch again.")) from None
    audit_record(
        organization=platform.organization,
        actor=None,
        action="user.created_by_lti",
        obj=user,
        summary=f"Account for {address} created at a launch from {platform.name}",
    )
    return user


def lti_grade_link_record(
    *,
    platform: LtiPlatform,
    user: User,
    credential: Credential,
    subject: str,
    resource_link_id: str,
    endpoint: dict[str, object],
) -> LtiGradeLink | None:
    """Remember where the platform takes this learner's score on this credential (its AGS
    endpoint claim), when it gave one with the score scope."""
    scopes = [str(s) for s in endpoint.get("scope", []) or []]  # type: ignore[attr-defined]
    lineitem = str(endpoint.get("lineitem") or "")
    if AGS_SCORE_SCOPE not in scopes or not lineitem:
        return None
    link, _created = LtiGradeLink.objects.update_or_create(
        platform=platform,
        user=user,
        credential=credential,
        resource_link_id=resource_link_id[:255],
        defaults={
            "organization": platform.organization,
            "subject": subject,
            "lineitem_url": lineitem,
            "lineitems_url": str(endpoint.get("lineitems") or ""),
            "scopes": scopes,
        },
    )
    return link


def lti_scores_on_commit(*, organization_id: int, user_id: int, credential_id: int) -> None:
    """Called by badge issuing inside its transaction: once it commits, send the learner's
    score on this credential to each platform that launched them into it."""
    from ..tasks import lti_scores_send

    transaction.on_commit(
        lambda: lti_scores_send.delay(
            organization_id=organization_id, user_id=user_id, credential_id=credential_id
        )
    )


def lti_scores_send(*, organization: Organization, user_id: int, credential_id: int) -> int:
    """Post "completed, fully graded, 1 of 1" to every AGS line item of this learner and
    credential; returns how many were sent. A platform's failure raises (the task retries);
    a link already sent is not sent again."""
    links = list(
        LtiGradeLink.objects.select_related("platform")
        .filter(
            organization=organization,
            user_id=user_id,
            credential_id=credential_id,
            score_sent_at__isnull=True,
            platform__is_active=True,
        )
        .order_by("pk")
    )
    sent = 0
    for link in links:
        platform = link.platform
        registration = tool_conf([platform]).find_registration_by_params(
            platform.issuer, platform.client_id
        )
        connector = ServiceConnector(registration, requests_session=http_session())
        service_data = {
            "scope": link.scopes,
            "lineitem": link.lineitem_url,
            "lineitems": link.lineitems_url,
        }
        ags = AssignmentsGradesService(connector, cast(Any, service_data))
        grade = (
            Grade()
            .set_score_given(1)
            .set_score_maximum(1)
            .set_timestamp(timezone.now().isoformat())
            .set_activity_progress("Completed")
            .set_grading_progress("FullyGraded")
            .set_user_id(link.subject)
            .set_comment("Badge issued by Tessera.")
        )
        ags.put_grade(grade)
        LtiGradeLink.objects.filter(pk=link.pk).update(score_sent_at=timezone.now())
        sent += 1
    return sent
