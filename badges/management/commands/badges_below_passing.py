"""List the badges issued although a rubric criterion was scored below its passing level.

Approval now follows the rubric (reviews.services.review_submit refuses it otherwise); on an
install that issued badges before that, this lists them per organization so that each program
admin can decide (revoke with a public reason, or keep). It changes nothing."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from credentials_site.tenancy import tenant_scope
from programs.models import Organization

from ...documents import site_url
from ...selectors import badge_list_below_passing
from ...services._urls import badge_url


class Command(BaseCommand):
    help = (
        "List unrevoked badges whose approval scored a rubric criterion below its passing "
        "level, per organization, with the admin page to revoke or keep each. Changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--organization", metavar="SLUG", help="Only this organization (default: all)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        chosen = Organization.objects.order_by("slug")
        if options["organization"]:
            chosen = chosen.filter(slug=options["organization"])
            if not chosen.exists():
                raise CommandError(f"No organization “{options['organization']}”.")
        organizations = list(chosen)
        total = 0
        for organization in organizations:
            with tenant_scope(organization):
                found = badge_list_below_passing(organization=organization)
            if not found:
                continue
            total += len(found)
            self.stdout.write(
                f"{organization.name} ({organization.slug}): {len(found)} badge"
                f"{'s' if len(found) != 1 else ''} issued below passing"
            )
            for entry in found:
                badge = entry.badge
                self.stdout.write(
                    f"  {badge.issued_at:%Y-%m-%d}  {badge.name} — {badge.recipient.email}\n"
                    f"    badge: {badge_url(badge)}\n"
                    f"    admin: {site_url(reverse('admin:badges_badge_change', args=[badge.pk]))}"
                )
                for title, score, passing in entry.criteria:
                    given = "not rated" if score is None else f"rated {score}"
                    self.stdout.write(f"    - {title}: {given}, passing level {passing}")
        if total:
            self.stdout.write(
                f"{total} badge{'s' if total != 1 else ''} to decide on: revoke with a public "
                "reason in the admin, or keep."
            )
        else:
            self.stdout.write("No badge was issued below passing.")
