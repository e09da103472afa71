"""Steps of an application: step n is the n-th evidence requirement of its credential version, in
the requirements' default order (position, then pk). The website and the API name requirements
by step, never by database key."""

from __future__ import annotations

from programs.models import EvidenceRequirement

from .models import Application, EvidenceItem


def requirement_list(*, application: Application) -> list[EvidenceRequirement]:
    """The version's requirements in step order (step = index + 1)."""
    return list(EvidenceRequirement.objects.filter(version_id=application.version_id))


def requirement_for_step(*, application: Application, step: int) -> EvidenceRequirement | None:
    """The requirement at 1-based ``step``, or None when there is no such step (however large
    the number: it never reaches the database as an OFFSET, which takes 64 bits at most)."""
    requirements = requirement_list(application=application)
    return requirements[step - 1] if 1 <= step <= len(requirements) else None


def step_map(*, application: Application) -> dict[int, int]:
    """{requirement pk: step} for the application's version, in one query."""
    ids = EvidenceRequirement.objects.filter(version_id=application.version_id).values_list(
        "pk", flat=True
    )
    return {pk: step for step, pk in enumerate(ids, start=1)}


def evidence_item_list(*, application: Application) -> list[EvidenceItem]:
    """The items the educator sees: uploading, ready and rejected (with the reason)."""
    return list(
        EvidenceItem.objects.filter(
            application=application,
            status__in=[
                EvidenceItem.Status.PENDING,
                EvidenceItem.Status.READY,
                EvidenceItem.Status.REJECTED,
            ],
        ).order_by("created_at", "pk")
    )
