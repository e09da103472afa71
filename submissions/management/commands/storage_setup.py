from django.conf import settings
from django.core.management.base import BaseCommand

from submissions import storage


class Command(BaseCommand):
    help = "Create the evidence bucket if missing and allow the site's origins to upload to it."

    def handle(self, *args: object, **options: object) -> None:
        origins = list(settings.EVIDENCE_CORS_ORIGINS)
        storage.ensure_bucket(cors_origins=origins)
        self.stdout.write(
            f"Evidence bucket “{storage.bucket()}” ready; uploads allowed from "
            + ", ".join(origins)
        )
