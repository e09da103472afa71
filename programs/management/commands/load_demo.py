"""``manage.py load_demo``: the demo organizations, catalogs and logins. Safe to run again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.urls import reverse

from programs.demo_data import DemoResult, load_demo


class Command(BaseCommand):
    help = (
        "Load the demo organizations (GAEL and Riverside USD), their published micro-credentials, "
        "a pathway and demo logins. Idempotent: a second run adds only what is missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Where the site runs, for the addresses printed at the end.",
        )

    def handle(self, *args: Any, base_url: str, **options: Any) -> None:
        # sets up several organizations: load_demo works in the named bypass of tenancy
        result = load_demo(stdout=self.stdout)
        self._print_summary(result, base_url=base_url.rstrip("/"))

    def _print_summary(self, result: DemoResult, *, base_url: str) -> None:
        if result.created_anything:
            created = ", ".join(f"{kind} {n}" for kind, n in sorted(result.created.items()) if n)
            self.stdout.write(self.style.SUCCESS(f"Demo data loaded (created: {created})."))
        else:
            self.stdout.write(self.style.SUCCESS("Demo data already loaded; nothing changed."))

        pages = [("Home", reverse("programs:home"))]
        pages += [
            (f"{name} catalog", reverse("programs:catalog", kwargs={"org_slug": slug}))
            for slug, name in result.organizations.items()
        ]
        pages += [
            (
                "A superseded version (v1)",
                reverse(
                    "programs:credential_version",
                    kwargs={
                        "org_slug": "gael",
                        "credential_slug": "leadership-coaching",
                        "number": 1,
                    },
                ),
            ),
            (
                "A pathway",
                reverse(
                    "programs:pathway_detail",
                    kwargs={"org_slug": "riverside-usd", "pathway_slug": "digital-teaching-tools"},
                ),
            ),
            ("Admin", reverse("admin:index")),
            ("API docs", reverse("api-docs")),
        ]
        self.stdout.write("\nOpen:")
        width = max(len(label) for label, _ in pages)
        for label, path in pages:
            self.stdout.write(f"  {label:<{width}}  {base_url}{path}")

        self.stdout.write("\nDemo logins:")
        rows = [("E-mail", "Password", "Role", "Organization")]
        rows += [(x.email, x.password, x.role, x.organization) for x in result.logins]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for number, row in enumerate(rows):
            self.stdout.write(
                "  "
                + "  ".join(f"{cell:<{w}}" for cell, w in zip(row, widths, strict=True)).rstrip()
            )
            if number == 0:
                self.stdout.write("  " + "  ".join("-" * w for w in widths))
