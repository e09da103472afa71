"""New credentials that start mostly built: from a template of the library
(``programs.credential_templates``), or as a duplicate of an existing credential."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.utils.translation import gettext, gettext_noop

from credentials_site.exceptions import ApplicationError

from .. import credential_templates
from ..errors import ProgramErrorCode
from ..models import Credential, CredentialVersion, Organization, Program, User
from .audit import audit_record
from .credential_content import requirements_add, resources_add, version_fields
from .credentials import _copy_version, credential_create, credential_new

SLUG_TAKEN = gettext_noop("This organization already has a credential at this address.")
SLUG_MAX = Credential._meta.get_field("slug").max_length or 50
TITLE_MAX = CredentialVersion._meta.get_field("title").max_length or 200


def _refuse(field: str, message: str, code: str = ProgramErrorCode.INVALID) -> ApplicationError:
    return ApplicationError(message, code=code, fields={field: [message]})


def _check_new_credential(
    *, organization: Organization, program: Program, slug: str, title: str
) -> str:
    """The program is the organization's, the address is valid and free, and there is a title
    (else a field error, and nothing is created); the title, trimmed."""
    if program.organization_id != organization.pk:
        raise _refuse(
            "program",
            gettext("Choose one of this organization's programs."),
            ProgramErrorCode.WRONG_ORGANIZATION,
        )
    try:
        validate_slug(slug)
    except ValidationError:
        raise _refuse(
            "slug", gettext("Use only lower-case letters, numbers, hyphens and underscores.")
        ) from None
    if len(slug) > SLUG_MAX:
        raise _refuse("slug", gettext("Use at most %(max)s characters.") % {"max": SLUG_MAX})
    if Credential.objects.filter(organization=organization, slug=slug).exists():
        raise _refuse("slug", gettext(SLUG_TAKEN))
    title = title.strip()
    if not title:
        raise _refuse("title", gettext("Give the credential a title."))
    if len(title) > TITLE_MAX:
        raise _refuse("title", gettext("Use at most %(max)s characters.") % {"max": TITLE_MAX})
    return title


@transaction.atomic
def credential_create_from_template(
    *,
    organization: Organization,
    program: Program,
    template_key: str,
    slug: str,
    title: str | None = None,
    actor: User | None,
) -> CredentialVersion:
    """A new credential whose draft version 1 holds everything the template has: its text,
    evidence requirements, quizzes, rubric and resources. Not in the catalog until published."""
    template = credential_templates.template_get(template_key)
    if template is None:
        raise _refuse(
            "template_key", gettext("There is no such template; choose one from the gallery.")
        )
    title = _check_new_credential(
        organization=organization, program=program, slug=slug, title=title or template.title
    )
    spec = template.spec
    version = credential_create(
        organization=organization,
        program_id=program.pk,
        slug=slug,
        title=title,
        summary=spec["summary"],
        competency=spec["competency"],
        actor=actor,
        **version_fields(spec),
    )
    resources_add(version, spec.get("resources", []))
    requirements_add(
        version, spec["requirements"], scale=spec["scale"], passing_score=spec["passing_score"]
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="credential.created_from_template",
        obj=version.credential,
        summary=f"“{version.title}” started from the template “{template.title}”",
        data={"template": template.key},
    )
    return version


@transaction.atomic
def credential_duplicate(
    *, credential: Credential, slug: str, title: str, actor: User | None
) -> CredentialVersion:
    """A new credential in the same program whose draft version 1 is a copy of the source's
    latest version (requirements, quizzes, rubric, resources, artwork) under a new title. The
    two are independent from then on."""
    organization = credential.organization
    source = CredentialVersion.objects.filter(credential=credential).order_by("-number").first()
    if source is None:
        raise _refuse(
            "credential",
            gettext("This credential has no version to copy."),
            ProgramErrorCode.NOTHING_TO_PUBLISH,
        )
    title = _check_new_credential(
        organization=organization, program=credential.program, slug=slug, title=title
    )
    copy = credential_new(organization=organization, program=credential.program, slug=slug)
    draft = _copy_version(source, number=1, credential=copy)
    draft.title = title
    draft.save(update_fields=["title", "updated_at"])
    audit_record(
        organization=organization,
        actor=actor,
        action="credential.duplicated",
        obj=copy,
        summary=(f"“{title}” created as a copy of “{source.title}” (version {source.number})"),
        data={"source": credential.pk, "version": source.number},
    )
    return draft
