"""Evidence is immutable once confirmed: an item records the upload slot the browser wrote
(``slot_key``) apart from the object it refers to (``storage_key``, a final key only the app's
own copy writes). Files confirmed before this change keep working where they are: they get
``slot_key = storage_key`` (their object is the slot), and every read still uses ``storage_key``;
``manage.py evidence_finalize`` moves them to final keys. Their names lose any extension that
runs code, as new names do (``sniff.neutralise_name``)."""

from django.db import migrations, models
from django.db.models import F

from submissions.sniff import neutralise_name


def record_slots_and_neutralise_names(apps, schema_editor):
    EvidenceItem = apps.get_model("submissions", "EvidenceItem")
    files = EvidenceItem._base_manager.filter(kind="file")
    files.exclude(storage_key="").update(slot_key=F("storage_key"))
    renamed = []
    for item in files.exclude(display_name="").only("pk", "display_name").iterator():
        name = neutralise_name(item.display_name)
        if name != item.display_name:
            item.display_name = name
            renamed.append(item)
    EvidenceItem._base_manager.bulk_update(renamed, ["display_name"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("submissions", "0004_submission_public_id")]

    operations = [
        migrations.AddField(
            model_name="evidenceitem",
            name="slot_key",
            field=models.CharField(
                blank=True,
                help_text="Where the browser was allowed to upload (signatures valid for "
                "minutes). Files confirmed before final keys existed still live there "
                "(storage_key = slot_key).",
                max_length=300,
            ),
        ),
        migrations.AlterField(
            model_name="evidenceitem",
            name="storage_key",
            field=models.CharField(
                blank=True,
                help_text="The object the item refers to: its upload slot while it is "
                "uploading; once confirmed, the app's own copy of the checked bytes, which no "
                "browser can write.",
                max_length=300,
            ),
        ),
        migrations.RunPython(record_slots_and_neutralise_names, migrations.RunPython.noop),
    ]
