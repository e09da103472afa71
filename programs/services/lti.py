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
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.grade import Grade
from pylti1p3.service_connector import ServiceConnector

from credentials_site.exceptions import ApplicationError

from ..errors import ProgramErrorCode
from ..lti import http_session, key_pair_generate, tool_conf
from ..models import Credential, LtiGradeLink, LtiIdentity, LtiPlatform, Organization, User
from .audit import audit_record

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


def lti_user_for_launch(*, platform: LtiPlatform, person: LaunchPerson) -> User:
    """The account a validated launch signs in as: the one this platform's user signed in as
    before; else the account whose *verified* address is the launch's e-mail; else a new
    account with it. An account that has the address unverified is not reached (the LMS could
    be vouching for an address nobody proved): the launch is refused and says why."""
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
                "Your learning platform did not share a valid e-mail address, which Tessera "
                "needs to find or create your account. Ask its administrator to share it."
            ) from None
        verified = (
            EmailAddress.objects.select_related("user")
            .filter(email__iexact=address, verified=True)
            .first()
        )
        if verified is not None:
            user = verified.user
        elif (
            User.objects.filter(email__iexact=address).exists()
            or EmailAddress.objects.filter(email__iexact=address).exists()
        ):
            raise lti_refusal(
                f"An account with {address} exists but the address is not verified yet. Sign "
                "in to Tessera once and confirm it, then launch again from your course."
            )
        else:
            try:
                with transaction.atomic():
                    user = User.objects.create_user(
                        email=address, password=None, full_name=person.full_name[:200]
                    )
                    EmailAddress.objects.create(
                        user=user, email=address, primary=True, verified=False
                    )
            except IntegrityError:
                raise lti_refusal("Someone just created this account: launch again.") from None
            audit_record(
                organization=platform.organization,
                actor=None,
                action="user.created_by_lti",
                obj=user,
                summary=f"Account for {address} created at a launch from {platform.name}",
            )
        LtiIdentity.objects.get_or_create(
            organization=platform.organization,
            platform=platform,
            subject=person.subject,
            defaults={"user": user},
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
    link, _ = LtiGradeLink.objects.update_or_create(
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
