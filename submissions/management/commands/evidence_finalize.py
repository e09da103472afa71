from django.core.management.base import BaseCommand

from submissions import services


class Command(BaseCommand):
    help = (
        "Copy files confirmed before final keys existed to keys no browser can write, if their "
        "bytes are still the ones that were checked (safe to run again; run once after upgrading)."
    )

    def handle(self, *args: object, **options: object) -> None:
        counts = services.evidence_legacy_finalize()
        self.stdout.write(f"Moved {counts['moved']} file(s) to final keys.")
        if counts["changed"]:
            self.stderr.write(
                f"{counts['changed']} file(s) changed in storage after they were checked, or are "
                "missing; they were left where they are (see the log for their ids)."
            )
