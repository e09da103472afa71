import uuid

from django.db import migrations, models


def fill_public_ids(apps, schema_editor):
    Submission = apps.get_model("submissions", "Submission")
    for submission in Submission._base_manager.filter(public_id__isnull=True).only("pk"):
        submission.public_id = uuid.uuid4()
        submission.save(update_fields=["public_id"])


class Migration(migrations.Migration):
    dependencies = [("submissions", "0003_submission_overdue_notified_at")]

    operations = [
        migrations.AddField(
            model_name="submission", name="public_id", field=models.UUIDField(null=True)
        ),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="submission",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
