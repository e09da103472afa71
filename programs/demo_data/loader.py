"""Turns the demo content (plain data in the sibling modules) into rows, through the services.

Idempotent by natural keys: organizations, programs, focus areas, categories, audiences and
pathways by slug, credentials by (organization, slug), users by e-mail, roles by
(organization, user, role). What exists already is left exactly as it is, so a second run creates
nothing and changes nothing (and never undoes what someone edited in the admin since).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from allauth.account.models import EmailAddress
from django.db import transaction

from credentials_site.tenancy import cross_organization
from programs import services
from programs.models import (
    Audience,
    Category,
    Credential,
    FocusArea,
    MemberEmailDomain,
    Membership,
    Organization,
    Pathway,
    Program,
    School,
    StaffRole,
    User,
)
from programs.services.credential_content import (
    FOUR_LEVEL_PASSING,
    FOUR_LEVEL_SCALE,
    requirements_add,
    resources_add,
    version_fields,
)

from .gael import GAEL
from .people import DEMO_PASSWORD, DEMO_USERS
from .riverside import RIVERSIDE

ORGANIZATIONS: list[dict[str, Any]] = [GAEL, RIVERSIDE]

_DECIMAL_FIELDS = {"estimated_hours", "credit_hours", "member_fee", "non_member_fee"}


class Writer(Protocol):
    def write(self, msg: str) -> Any: ...


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: str
    organization: str


@dataclass
class DemoResult:
    """What a run did: ``created`` counts only what is new this time (empty on a second run)."""

    created: Counter[str] = field(default_factory=Counter)
    skipped_credentials: list[str] = field(default_factory=list)
    organizations: dict[str, str] = field(default_factory=dict)  # slug -> short name
    logins: list[DemoLogin] = field(default_factory=list)

    @property
    def created_anything(self) -> bool:
        return any(self.created.values())


def load_demo(stdout: Writer | None = None) -> DemoResult:
    """Create the demo organizations, their published catalogs and the demo logins.

    Runs in one transaction (a failure leaves nothing half-loaded) and outside tenant scopes,
    since it sets up several organizations at once.
    """
    result = DemoResult()

    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message + "\n")

    with cross_organization("the demo data, in several organizations"), transaction.atomic():
        for spec in ORGANIZATIONS:
            _load_organization(spec, result=result, say=say)
        _load_people(result=result, say=say)
    return result


# --- Organizations and their catalogs ----------------------------------------------------------


def _load_organization(spec: dict[str, Any], *, result: DemoResult, say: Any) -> Organization:
    organization, created = Organization.objects.get_or_create(
        slug=spec["slug"], defaults=spec["organization"]
    )
    result.created["organizations"] += created
    result.organizations[organization.slug] = organization.short_name or organization.name
    say(f"{organization.name} ({'created' if created else 'already there'})")

    program_spec = dict(spec["program"])
    program, created = Program.objects.get_or_create(
        organization=organization, slug=program_spec.pop("slug"), defaults=program_spec
    )
    result.created["programs"] += created

    focus_areas = {
        item["slug"]: _get_or_create(
            FocusArea,
            result,
            organization=organization,
            slug=item["slug"],
            defaults={
                "name": item["name"],
                "description": item.get("description", ""),
                "position": position,
            },
        )
        for position, item in enumerate(spec["focus_areas"], start=1)
    }
    categories = {
        item["slug"]: _get_or_create(
            Category, result, organization=organization, slug=item["slug"], defaults=item
        )
        for item in spec["categories"]
    }
    audiences = {
        item["slug"]: _get_or_create(
            Audience,
            result,
            organization=organization,
            slug=item["slug"],
            defaults={"name": item["name"], "position": position},
        )
        for position, item in enumerate(spec["audiences"], start=1)
    }

    credentials: dict[str, Credential] = {}
    for credential_spec in spec["credentials"]:
        credentials[credential_spec["slug"]] = _load_credential(
            credential_spec,
            organization=organization,
            program=program,
            focus_areas=focus_areas,
            categories=categories,
            audiences=audiences,
            result=result,
            say=say,
        )

    for domain in spec.get("member_email_domains", []):
        _get_or_create(
            MemberEmailDomain, result, organization=organization, domain=domain, defaults={}
        )

    for pathway_spec in spec.get("pathways", []):
        pathway_spec = dict(pathway_spec)
        members = [credentials[slug] for slug in pathway_spec.pop("credentials")]
        pathway = _get_or_create(
            Pathway,
            result,
            organization=organization,
            slug=pathway_spec.pop("slug"),
            defaults=pathway_spec,
        )
        pathway.credentials.add(*members)  # adds only the missing links
    return organization


def _get_or_create(model: Any, result: DemoResult, *, defaults: dict[str, Any], **keys: Any) -> Any:
    obj, created = model.objects.get_or_create(defaults=defaults, **keys)
    result.created[str(model._meta.verbose_name_plural)] += created
    return obj


def _load_credential(
    spec: dict[str, Any],
    *,
    organization: Organization,
    program: Program,
    focus_areas: dict[str, FocusArea],
    categories: dict[str, Category],
    audiences: dict[str, Audience],
    result: DemoResult,
    say: Any,
) -> Credential:
    existing = Credential.objects.filter(organization=organization, slug=spec["slug"]).first()
    if existing is not None:
        result.skipped_credentials.append(spec["slug"])
        return existing

    version = services.credential_create(
        organization=organization,
        program_id=program.pk,
        slug=spec["slug"],
        title=spec["title"],
        summary=spec["summary"],
        competency=spec["competency"],
        actor=None,
        **_version_fields(spec, focus_areas=focus_areas),
    )
    version.categories.set([categories[slug] for slug in spec["categories"]])
    version.audiences.set([audiences[slug] for slug in spec["audiences"]])
    resources_add(version, spec["resources"])
    # one rubric scale for every criterion of the demo: a reviewer learns it once
    requirements_add(
        version, spec["requirements"], scale=FOUR_LEVEL_SCALE, passing_score=FOUR_LEVEL_PASSING
    )
    services.credential_version_publish(version=version, actor=None)
    result.created["credentials"] += 1
    result.created["credential versions"] += 1

    # Later versions show how editing a published credential works: v1 stays readable.
    for revision in spec.get("revisions", []):
        draft = services.credential_version_create_draft(credential=version.credential, actor=None)
        for name, value in revision.get("changes", {}).items():
            setattr(draft, name, Decimal(value) if name in _DECIMAL_FIELDS else value)
        draft.save()
        resources_add(draft, revision.get("add_resources", []), start=draft.resources.count())
        services.credential_version_publish(version=draft, actor=None)
        result.created["credential versions"] += 1

    say(f"  published “{spec['title']}” (v{1 + len(spec.get('revisions', []))})")
    return Credential.objects.get(pk=version.credential_id)


def _version_fields(spec: dict[str, Any], *, focus_areas: dict[str, FocusArea]) -> dict[str, Any]:
    return {**version_fields(spec), "focus_area": focus_areas[spec["focus_area"]]}


# --- People ------------------------------------------------------------------------------------


def _load_people(*, result: DemoResult, say: Any) -> None:
    organizations = {
        org.slug: org for org in Organization.objects.filter(slug__in=result.organizations)
    }
    for spec in DEMO_USERS:
        user = User.objects.filter(email=spec["email"]).first()
        if user is None:
            create = (
                User.objects.create_superuser if spec.get("superuser") else User.objects.create_user
            )
            user = create(
                spec["email"],
                DEMO_PASSWORD,
                full_name=spec["full_name"],
                school=spec.get("school", ""),
                district=spec.get("district", ""),
            )
            result.created["users"] += 1
        _, created = EmailAddress.objects.get_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )
        result.created["e-mail addresses"] += created
        # a verified address at a domain an organization lists: a member there (Riverside)
        services.membership_join_by_domain_everywhere(user=user)

        organization = organizations.get(spec.get("organization", ""))
        for role in spec.get("roles", []):
            _get_or_create(
                StaffRole,
                result,
                organization=organization,
                user=user,
                role=role,
                defaults={"title": spec.get("title", "")},
            )
        membership = spec.get("membership")
        if membership is not None and organization is not None:
            _get_or_create(
                Membership,
                result,
                organization=organization,
                user=user,
                defaults={
                    "status": Membership.Status.ACTIVE,
                    "member_number": membership["member_number"],
                    "member_until": dt.date.fromisoformat(membership["member_until"]),
                },
            )
        result.logins.append(
            DemoLogin(
                email=user.email,
                password=DEMO_PASSWORD,
                role=spec["label"],
                organization=organization.short_name if organization else "(all, platform)",
            )
        )
    for organization in organizations.values():
        _place_in_schools(organization)
    say(f"{len(DEMO_USERS)} demo logins ready")


def _place_in_schools(organization: Organization) -> None:
    """The demo members work where their profiles say: their memberships name that school (when
    they name none yet), the schools exist, and the school leaders lead theirs."""
    for spec in DEMO_USERS:
        if spec.get("organization") != organization.slug or not spec.get("school"):
            continue
        Membership.objects.filter(organization=organization, user__email=spec["email"]).filter(
            school=""
        ).update(school=spec["school"], district=spec.get("district", ""))
    services.school_links_sync(organization=organization)
    for spec in DEMO_USERS:
        if spec.get("organization") != organization.slug or not spec.get("leads"):
            continue
        role = StaffRole.objects.get(
            organization=organization,
            user__email=spec["email"],
            role=StaffRole.Role.SCHOOL_LEADER,
        )
        if not role.schools.exists():
            school_names = {name.lower() for name in spec["leads"]}
            role.schools.set(
                school
                for school in School.objects.filter(organization=organization)
                if school.name.lower() in school_names
            )
