from django.apps import AppConfig
from django.core import checks
from django.db.models.signals import post_migrate


class CredentialsSiteConfig(AppConfig):
    name = "credentials_site"
    verbose_name = "Tessera"

    def ready(self) -> None:
        from credentials_site.db import rls

        # once per migrate, after every app's migrations: RLS on the tenant tables, grants
        post_migrate.connect(rls.secure_after_migrate, sender=self)
        checks.register(rls.check_app_role, checks.Tags.database)
