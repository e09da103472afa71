"""Demo: one educator's evidence approved by a reviewer through the real services, so the
running worker issues a real badge (`make run` calls this after `load_demo`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from credentials_site.tenancy import tenant_scope
from programs.models import (
    Credential,
    EvidenceRequirement,
    Organization,
    QuizQuestion,
    RubricCriterion,
    User,
)
from reviews import services as review_services
from submissions import services as submission_services
from submissions import storage
from submissions.models import Application

from ... import services as badge_services
from ...models import BackpackProfile, Badge

ORGANIZATION = "gael"
CREDENTIAL = "shared-leadership-best-practices"
EDUCATOR = "educator@gael.demo"
REVIEWER = "admin@gael.demo"  # the demo reviewer shares the educator's district (a conflict)
HANDLE = "demo-educator"
HEADLINE = "Assistant principal; shared leadership and coaching"

PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)
PARAGRAPH = (
    "Our leadership team met every second week to look at student work together. Teachers "
    "brought samples, named what they noticed, and agreed on one change to try before the next "
    "meeting. Over the term the conversation moved from compliance to shared ownership. "
)


class Command(BaseCommand):
    help = "Approve one demo application so the worker issues a real badge (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sync", action="store_true", help="Issue now, without a worker.")

    def handle(self, *args: Any, sync: bool = False, **options: Any) -> None:
        organization = Organization.objects.filter(slug=ORGANIZATION).first()
        educator = User.objects.filter(email=EDUCATOR).first()
        reviewer = User.objects.filter(email=REVIEWER).first()
        if organization is None or educator is None or reviewer is None:
            raise CommandError("Load the demo data first (manage.py load_demo).")
        with tenant_scope(organization):
            existing = Badge.objects.filter(organization=organization, recipient=educator).first()
            if existing is not None:
                self.stdout.write(
                    f"Demo badge already issued: {badge_services.badge_url(existing)}"
                )
                return
            if not BackpackProfile.objects.filter(user=educator).exists():
                # a public profile, so the badge names the educator by its permanent address
                # and /u/<handle>/ has something to show
                badge_services.profile_save(
                    user=educator, handle=HANDLE, headline=HEADLINE, is_public=True
                )
            application = Application.objects.filter(
                organization=organization, educator=educator, credential__slug=CREDENTIAL
            ).first()
            if application is None:
                application = self._submit(organization, educator)
            if application.status in (Application.Status.SUBMITTED, Application.Status.IN_REVIEW):
                self._approve(organization, reviewer)
                application.refresh_from_db()
            if sync:
                badge = badge_services.badge_issue(application_id=application.pk)
                self.stdout.write(f"Demo badge issued: {badge_services.badge_url(badge)}")
            else:
                self.stdout.write(
                    "Demo application approved; the worker issues its badge in a moment "
                    "(log in as educator@gael.demo and open My badges; their public profile is "
                    f"/u/{HANDLE}/)."
                )

    def _submit(self, organization: Organization, educator: User) -> Application:
        credential = Credential.objects.get(organization=organization, slug=CREDENTIAL)
        application = submission_services.application_apply(
            credential=credential, educator=educator
        )
        if application.fee_status == Application.FeeStatus.OWED:
            application = submission_services.application_fee_record(
                application=application, status="waived", actor=None, note="Demo"
            )
        requirements = EvidenceRequirement.objects.filter(version_id=application.version_id)
        for requirement in requirements.order_by("position"):
            self._fulfil(application, requirement, educator)
        submission_services.application_submit(application=application, actor=educator)
        application.refresh_from_db()
        return application

    def _fulfil(
        self, application: Application, requirement: EvidenceRequirement, educator: User
    ) -> None:
        kind = requirement.kind
        if kind == EvidenceRequirement.Kind.TEXT:
            words = max(requirement.word_min or 50, 50)
            text = ""
            while len(text.split()) < words + 5:
                text += PARAGRAPH
            submission_services.evidence_text_save(
                application=application, requirement=requirement, text=text, actor=educator
            )
        elif kind == EvidenceRequirement.Kind.LINK:
            submission_services.evidence_link_save(
                application=application,
                requirement=requirement,
                url="https://example.org/shared-leadership-portfolio",
                actor=educator,
            )
        elif kind == EvidenceRequirement.Kind.QUIZ:
            answers = {
                str(q.pk): str(next(c.pk for c in q.choices.all() if c.is_correct))
                for q in QuizQuestion.objects.filter(requirement=requirement).prefetch_related(
                    "choices"
                )
            }
            submission_services.quiz_answer(
                application=application, requirement=requirement, answers=answers, actor=educator
            )
        else:
            slot = submission_services.evidence_upload_slot(
                application=application,
                requirement=requirement,
                filename="leadership-plan.pdf",
                size=len(PDF),
                content_type="application/pdf",
                actor=educator,
            )
            storage.client().put_object(
                Bucket=storage.bucket(),
                Key=slot.item.storage_key,
                Body=PDF,
                ContentType="application/pdf",
            )
            item = submission_services.evidence_upload_confirm(item=slot.item, actor=educator)
            submission_services.evidence_item_privacy(
                item=item,
                students_identifiable=False,
                consent_on_file=None,
                visibility="public",
                actor=educator,
            )

    def _approve(self, organization: Organization, reviewer: User) -> None:
        claim = review_services.review_claim_next(organization=organization, reviewer=reviewer)
        criteria = RubricCriterion.objects.filter(
            version_id=claim.submission.application.version_id
        ).prefetch_related("levels")
        scores = {
            c.pk: {
                "score": max(level.score for level in c.levels.all()),
                "comment": "Strong, well-evidenced work.",
            }
            for c in criteria
        }
        with transaction.atomic():
            review_services.review_submit(
                claim=claim,
                reviewer=reviewer,
                scores=scores,
                overall_feedback="A clear, well-documented example of shared leadership.",
                decision="approve",
            )
