"""Credentials and their versions (draft → published → superseded), and retirement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext

from credentials_site import public_cache
from credentials_site.exceptions import ApplicationError

from .. import selectors
from ..errors import ProgramErrorCode
from ..models import (
    Credential,
    CredentialVersion,
    EvidenceRequirement,
    Organization,
    Program,
    User,
)
from .audit import audit_record
from .version_diff import Change, credential_version_diff


def _copy_version(
    source: CredentialVersion, *, number: int, credential: Credential | None = None
) -> CredentialVersion:
    """Deep-copy a version with its requirements, quiz, rubric, resources and artwork as a new
    draft: of the same credential, or of ``credential`` (a duplicate)."""
    categories = list(source.categories.all())
    audiences = list(source.audiences.all())
    requirements = list(source.requirements.prefetch_related("questions__choices"))
    criteria = list(source.criteria.prefetch_related("levels"))
    resources = list(source.resources.all())

    copy = CredentialVersion.objects.get(pk=source.pk)
    copy.pk = None
    copy._state.adding = True
    if credential is not None:
        copy.credential = credential
    copy.number = number
    copy.state = CredentialVersion.State.DRAFT
    copy.published_at = None
    copy.save()
    copy.categories.set(categories)
    copy.audiences.set(audiences)

    requirement_map: dict[int, EvidenceRequirement] = {}
    for requirement in requirements:
        old_pk = requirement.pk
        questions = list(requirement.questions.all())
        requirement.pk = None
        requirement._state.adding = True
        requirement.version = copy
        requirement.save()
        requirement_map[old_pk] = requirement
        for question in questions:
            choices = list(question.choices.all())
            question.pk = None
            question._state.adding = True
            question.requirement = requirement
            question.save()
            for choice in choices:
                choice.pk = None
                choice._state.adding = True
                choice.question = question
                choice.save()
    for criterion in criteria:
        levels = list(criterion.levels.all())
        criterion.pk = None
        criterion._state.adding = True
        criterion.version = copy
        if criterion.requirement_id is not None:
            criterion.requirement = requirement_map.get(criterion.requirement_id)
        criterion.save()
        for level in levels:
            level.pk = None
            level._state.adding = True
            level.criterion = criterion
            level.save()
    for resource in resources:
        resource.pk = None
        resource._state.adding = True
        resource.version = copy
        resource.save()
    return copy


@transaction.atomic
def credential_version_create_draft(
    *, credential: Credential, actor: User | None
) -> CredentialVersion:
    """The draft to edit: the existing draft, or a copy of the latest version as version n+1.

    Published versions are never edited in place: applications and badges keep the version they
    were judged by.
    """
    credential = Credential.objects.select_for_update().get(pk=credential.pk)
    existing = CredentialVersion.objects.filter(
        credential=credential, state=CredentialVersion.State.DRAFT
    ).first()
    if existing is not None:
        return existing
    latest = CredentialVersion.objects.filter(credential=credential).order_by("-number").first()
    if latest is None:
        raise ApplicationError(
            gettext("This credential has no version to copy."),
            code=ProgramErrorCode.NOTHING_TO_PUBLISH,
        )
    draft = _copy_version(latest, number=latest.number + 1)
    audit_record(
        organization=credential.organization,
        actor=actor,
        action="credential.drafted",
        obj=credential,
        summary=(
            f"Draft version {draft.number} of “{draft.title}” created from version {latest.number}"
        ),
    )
    return draft


def credential_version_problems(*, version: CredentialVersion) -> list[str]:
    """What keeps a version from being published, in words a program admin can act on."""
    problems: list[str] = []
    requirements = list(version.requirements.prefetch_related("questions__choices"))
    if not requirements:
        problems.append(gettext("Add at least one evidence requirement."))
    for requirement in requirements:
        if (
            requirement.kind == EvidenceRequirement.Kind.FILE
            and not requirement.accepted_file_kinds
        ):
            problems.append(
                gettext("“%(requirement)s”: choose the file types it accepts.")
                % {"requirement": requirement.title}
            )
        if requirement.kind == EvidenceRequirement.Kind.QUIZ:
            questions = list(requirement.questions.all())
            if not questions:
                problems.append(
                    gettext("“%(requirement)s”: add the quiz questions.")
                    % {"requirement": requirement.title}
                )
            if requirement.pass_mark_percent is None:
                problems.append(
                    gettext("“%(requirement)s”: set the pass mark.")
                    % {"requirement": requirement.title}
                )
            for question in questions:
                if not any(choice.is_correct for choice in question.choices.all()):
                    problems.append(
                        gettext("“%(requirement)s”, question %(number)s: mark the correct answer.")
                        % {"requirement": requirement.title, "number": question.position}
                    )
        if (
            requirement.word_min is not None
            and requirement.word_max is not None
            and requirement.word_min > requirement.word_max
        ):
            problems.append(
                gettext("“%(requirement)s”: the word minimum is above the maximum.")
                % {"requirement": requirement.title}
            )
    criteria = list(version.criteria.prefetch_related("levels"))
    if not criteria:
        problems.append(gettext("Add at least one rubric criterion."))
    for criterion in criteria:
        scores = [level.score for level in criterion.levels.all()]
        if len(scores) < 2:
            problems.append(
                gettext("Rubric criterion “%(criterion)s”: give it at least two levels.")
                % {"criterion": criterion.title}
            )
        elif criterion.passing_score not in scores:
            problems.append(
                gettext(
                    "Rubric criterion “%(criterion)s”: its passing score must be one of its levels."
                )
                % {"criterion": criterion.title}
            )
    if version.members_only is False and version.non_member_fee is None:
        problems.append(
            gettext("Set the fee for non-members (0 for free), or make it members only.")
        )
    if version.expiry_policy == CredentialVersion.ExpiryPolicy.MONTHS and not version.expiry_months:
        problems.append(gettext("Set after how many months the badge expires."))
    return problems


def _not_a_draft(version: CredentialVersion) -> str:
    return gettext("Version %(number)s is already %(state)s; only a draft can be published.") % {
        "number": version.number,
        "state": version.get_state_display().lower(),
    }


@dataclass(frozen=True)
class PublishCheck:
    """What the confirmation before publishing shows: the version (with its contents), what
    still blocks it, the published version it replaces and what changes since, and the
    applications in progress (by version number) that stay on the version they applied to."""

    version: CredentialVersion
    problems: list[str]
    previous: CredentialVersion | None
    changes: list[Change]
    in_progress: dict[int, int]

    @property
    def in_progress_total(self) -> int:
        return sum(self.in_progress.values())


def credential_version_publish_check(*, version: CredentialVersion) -> PublishCheck:
    """Everything to confirm before ``credential_version_publish``, in a constant number of
    queries (the comparison reads prefetched contents)."""
    credential = Credential.objects.only("pk", "current_version_id").get(pk=version.credential_id)
    ids = [version.pk]
    if credential.current_version_id not in (None, version.pk):
        ids.append(credential.current_version_id)
    loaded = selectors.credential_version_with_contents(version_ids=ids)
    version = loaded[version.pk]
    previous = loaded.get(credential.current_version_id) if len(ids) > 1 else None  # type: ignore[arg-type]
    if version.state == CredentialVersion.State.DRAFT:
        problems = credential_version_problems(version=version)
    else:
        problems = [_not_a_draft(version)]
    counts = import_string(settings.PROGRAMS_LOOKUPS["APPLICATION_COUNTS_IN_PROGRESS"])
    return PublishCheck(
        version=version,
        problems=problems,
        previous=previous,
        changes=credential_version_diff(old=previous, new=version),
        in_progress=counts(credential_id=credential.pk) if previous is not None else {},
    )


@transaction.atomic
def credential_version_publish(
    *, version: CredentialVersion, actor: User | None
) -> CredentialVersion:
    """Publish a draft: it becomes the catalog's current version; the previous one is superseded
    and stays readable."""
    credential = Credential.objects.select_for_update().get(pk=version.credential_id)
    version = CredentialVersion.objects.select_for_update().get(pk=version.pk)
    if version.state != CredentialVersion.State.DRAFT:
        raise ApplicationError(_not_a_draft(version), code=ProgramErrorCode.NOT_EDITABLE)
    problems = credential_version_problems(version=version)
    if problems:
        raise ApplicationError(
            gettext("This version cannot be published yet: %(problems)s")
            % {"problems": " ".join(problems)},
            code=ProgramErrorCode.INCOMPLETE,
            fields={"version": problems},
        )
    previous = CredentialVersion.objects.filter(
        credential=credential, state=CredentialVersion.State.PUBLISHED
    ).first()
    if previous is not None:
        previous.state = CredentialVersion.State.SUPERSEDED
        previous.save(update_fields=["state", "updated_at"])
    version.state = CredentialVersion.State.PUBLISHED
    version.published_at = timezone.now()
    version.save(update_fields=["state", "published_at", "updated_at"])
    credential.current_version = version
    credential.status = Credential.Status.PUBLISHED
    credential.save(update_fields=["current_version", "status", "updated_at"])
    public_cache.changed(organizations=[credential.organization.slug])
    audit_record(
        organization=credential.organization,
        actor=actor,
        action="credential.published",
        obj=credential,
        summary=f"Version {version.number} of “{version.title}” published",
        data={"version": version.number, "previous": previous.number if previous else None},
    )
    return version


@transaction.atomic
def credential_retire(*, credential: Credential, actor: User | None) -> Credential:
    """Take a credential out of the catalog; its versions and everything earned stay readable."""
    credential = Credential.objects.select_for_update().get(pk=credential.pk)
    if credential.status == Credential.Status.RETIRED:
        raise ApplicationError(
            gettext("This credential is already retired."),
            code=ProgramErrorCode.ALREADY_RETIRED,
        )
    credential.status = Credential.Status.RETIRED
    credential.save(update_fields=["status", "updated_at"])
    public_cache.changed(organizations=[credential.organization.slug])
    audit_record(
        organization=credential.organization,
        actor=actor,
        action="credential.retired",
        obj=credential,
        summary=f"“{credential}” retired from the catalog",
    )
    return credential


def credential_new(*, organization: Organization, program: Program, slug: str) -> Credential:
    """The credential row of a new credential, placed last in the organization's order (its
    callers add the first version)."""
    position = (
        Credential.objects.filter(organization=organization).aggregate(m=Max("position"))["m"] or 0
    )
    return Credential.objects.create(
        organization=organization, program=program, slug=slug, position=position + 1
    )


@transaction.atomic
def credential_create(
    *,
    organization: Organization,
    program_id: int,
    slug: str,
    title: str,
    summary: str,
    competency: str,
    actor: User | None,
    **version_fields: Any,
) -> CredentialVersion:
    """A new credential with its first draft version (not yet in the catalog)."""
    program = Program.objects.get(pk=program_id, organization=organization)
    credential = credential_new(organization=organization, program=program, slug=slug)
    version = CredentialVersion.objects.create(
        organization=organization,
        credential=credential,
        number=1,
        title=title,
        summary=summary,
        competency=competency,
        **version_fields,
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="credential.created",
        obj=credential,
        summary=f"Credential “{title}” created as a draft",
    )
    return version
