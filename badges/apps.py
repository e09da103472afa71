from django.apps import AppConfig


class BadgesConfig(AppConfig):
    name = "badges"

    def ready(self) -> None:
        from submissions.signals import application_approved

        from . import receivers

        application_approved.connect(
            receivers.queue_badge_issue, dispatch_uid="badges.queue_badge_issue"
        )
