"""The evidence of an application withdrawn while an attempt waited for review is kept
``EVIDENCE_WITHDRAWN_RETENTION_DAYS`` (``evidence_delete_after``), then the evidence sweep deletes
it and records when (``evidence_deleted_at``).

Applications withdrawn that way before this change had their items marked removed, and their
files were kept for good (the sweep keeps every file of a submitted attempt). They get the date
they would have had (withdrawal + the grace period, which may already have passed: the sweep then
deletes them on its next run, as the withdrawal page had said it would), and the files of their
undecided attempt are ready again until then, as they are for a withdrawal today (the educator may
download them)."""

import datetime as dt

from django.conf import settings
from django.db import migrations, models


def date_withdrawn_evidence(apps, schema_editor):
    Application = apps.get_model("submissions", "Application")
    ApplicationEvent = apps.get_model("submissions", "ApplicationEvent")
    EvidenceItem = apps.get_model("submissions", "EvidenceItem")
    Submission = apps.get_model("submissions", "Submission")
    grace = dt.timedelta(days=settings.EVIDENCE_WITHDRAWN_RETENTION_DAYS)
    withdrawn = Application._base_manager.filter(
        status="withdrawn", evidence_delete_after__isnull=True, evidence_deleted_at__isnull=True
    )
    for application in withdrawn.iterator():
        waiting = Submission._base_manager.filter(
            application_id=application.pk, number=application.attempt, decided_at__isnull=True
        ).first()
        if waiting is None:  # withdrawn as a draft or a revision: the sweep's usual rules
            continue
        event = (
            ApplicationEvent._base_manager.filter(application_id=application.pk, kind="withdrawn")
            .order_by("-created_at")
            .first()
        )
        withdrawn_at = event.created_at if event is not None else application.updated_at
        Application._base_manager.filter(pk=application.pk).update(
            evidence_delete_after=withdrawn_at + grace
        )
        EvidenceItem._base_manager.filter(
            application_id=application.pk,
            status="removed",
            purged_at__isnull=True,
            submissions=waiting,
        ).exclude(submissions__decided_at__isnull=False).update(status="ready")


class Migration(migrations.Migration):

    dependencies = [
        ('programs', '0004_user_badge_name_public'),
        ('submissions', '0005_evidence_final_key'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='application',
            name='evidence_delete_after',
            field=models.DateTimeField(blank=True, help_text='Withdrawn while an attempt waited for review: when the evidence sweep deletes its files (the date the educator was told).', null=True),
        ),
        migrations.AddField(
            model_name='application',
            name='evidence_deleted_at',
            field=models.DateTimeField(blank=True, help_text='When the evidence sweep deleted those files.', null=True),
        ),
        migrations.AddIndex(
            model_name='application',
            index=models.Index(condition=models.Q(('evidence_delete_after__isnull', False), ('evidence_deleted_at__isnull', True)), fields=['evidence_delete_after'], name='application_evidence_due'),
        ),
        migrations.RunPython(date_withdrawn_evidence, migrations.RunPython.noop),
    ]
