"""Audit actions spelt one way, ``<entity>.<past-tense verb>`` (the entity is the audited object,
as ``AuditEvent.object_type`` names it): the few recorded otherwise are renamed."""

from django.db import migrations

RENAMED = {
    "conflict_declared": "conflict.declared",
    "conflict_removed": "conflict.removed",
    "calibration.exemplar_created": "calibration_exemplar.created",
    "credential.draft_created": "credential.drafted",
}


def _rename(apps, mapping):
    AuditEvent = apps.get_model("programs", "AuditEvent")
    for old, new in mapping.items():
        AuditEvent._base_manager.filter(action=old).update(action=new)


def forwards(apps, schema_editor):
    _rename(apps, RENAMED)


def backwards(apps, schema_editor):
    _rename(apps, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):
    dependencies = [("programs", "0004_user_badge_name_public")]

    operations = [migrations.RunPython(forwards, backwards)]
