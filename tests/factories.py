"""factory_boy factories. Every tenant object takes its organization from one root, so a fixture
never crosses tenants by accident."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import factory

from programs import services
from programs.models import (
    Audience,
    Category,
    Credential,
    CredentialVersion,
    EvidenceRequirement,
    FocusArea,
    Membership,
    Organization,
    Pathway,
    Program,
    RubricCriterion,
    RubricLevel,
    StaffRole,
    User,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def verified(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:
        from allauth.account.models import EmailAddress

        if create:
            obj.save()
            EmailAddress.objects.get_or_create(
                user=obj, email=obj.email, defaults={"verified": True, "primary": True}
            )


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    short_name = factory.Sequence(lambda n: f"ORG{n}")
    contact_email = "programs@example.org"
    brand_colour = "#1f4e79"


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    organization = factory.SubFactory(OrganizationFactory)


class ProgramFactory(TenantFactory):
    class Meta:
        model = Program

    name = factory.Sequence(lambda n: f"Program {n}")
    slug = factory.Sequence(lambda n: f"program-{n}")


class FocusAreaFactory(TenantFactory):
    class Meta:
        model = FocusArea

    name = factory.Sequence(lambda n: f"Focus area {n}")
    slug = factory.Sequence(lambda n: f"focus-{n}")


class CategoryFactory(TenantFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class AudienceFactory(TenantFactory):
    class Meta:
        model = Audience

    name = factory.Sequence(lambda n: f"Audience {n}")
    slug = factory.Sequence(lambda n: f"audience-{n}")


class MembershipFactory(TenantFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)


class StaffRoleFactory(TenantFactory):
    class Meta:
        model = StaffRole

    user = factory.SubFactory(UserFactory)
    role = StaffRole.Role.PROGRAM_ADMIN


class PathwayFactory(TenantFactory):
    class Meta:
        model = Pathway

    name = factory.Sequence(lambda n: f"Pathway {n}")
    slug = factory.Sequence(lambda n: f"pathway-{n}")
    certificate_name = "Foundations Certificate"


_counter = iter(range(1, 10**9))


def make_credential(
    organization: Organization,
    *,
    publish: bool = True,
    title: str | None = None,
    program: Program | None = None,
    focus_area: FocusArea | None = None,
    categories: list[Category] | None = None,
    audiences: list[Audience] | None = None,
    **version_fields: Any,
) -> CredentialVersion:
    """A complete credential (one file requirement, one text requirement, a two-level rubric),
    published through the service unless ``publish=False``."""
    n = next(_counter)
    program = program or ProgramFactory(organization=organization)
    version_fields.setdefault("non_member_fee", Decimal("25.00"))
    version_fields.setdefault("summary", f"Summary of credential {n}.")
    version_fields.setdefault("competency", f"The educator demonstrates competency {n}.")
    version = services.credential_create(
        organization=organization,
        program_id=program.pk,
        slug=f"credential-{n}",
        title=title or f"Credential {n}",
        actor=None,
        focus_area=focus_area,
        **version_fields,
    )
    if categories:
        version.categories.set(categories)
    if audiences:
        version.audiences.set(audiences)
    lesson = EvidenceRequirement.objects.create(
        organization=organization,
        version=version,
        position=1,
        title="Lesson plan",
        instructions="Upload the lesson plan you taught.",
        kind=EvidenceRequirement.Kind.FILE,
        accepted_file_kinds=["document"],
        max_file_size_mb=20,
    )
    EvidenceRequirement.objects.create(
        organization=organization,
        version=version,
        position=2,
        title="Reflection",
        instructions="What changed for your students?",
        kind=EvidenceRequirement.Kind.TEXT,
        word_min=100,
        word_max=500,
    )
    criterion = RubricCriterion.objects.create(
        organization=organization,
        version=version,
        requirement=lesson,
        position=1,
        title="Plan aligns with the method",
        passing_score=1,
    )
    RubricLevel.objects.create(
        organization=organization,
        criterion=criterion,
        score=0,
        label="Not yet",
        descriptor="The plan does not use the method.",
    )
    RubricLevel.objects.create(
        organization=organization,
        criterion=criterion,
        score=1,
        label="Meets",
        descriptor="The plan uses every component.",
    )
    if publish:
        services.credential_version_publish(version=version, actor=None)
        version.refresh_from_db()
    return version


def credential_of(version: CredentialVersion) -> Credential:
    return Credential.objects.get(pk=version.credential_id)
