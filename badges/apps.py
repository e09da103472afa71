from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BadgesConfig(AppConfig):
    name = "badges"
    verbose_name = _("Badges")

    def ready(self) -> None:
        from submissions.signals import application_approved

        from . import receivers

        application_approved.connect(
            receivers.queue_badge_issue, dispatch_uid="badges.queue_badge_issue"
        )
