from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("programs", "0009_catalog_search")]

    operations = [
        migrations.AddField(
            model_name="credentialversion",
            name="badge_design",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="credentialversion",
            name="badge_image_alt",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="What the badge artwork shows.",
                max_length=250,
            ),
        ),
    ]
