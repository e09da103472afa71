"""``manage.py migrate`` as the owner role (``DATABASE_OWNER_URL``), when it is set.

The app connects as a role that may not change the schema; the owner creates and alters the
tables, and data migrations read and write every organization's rows (the named bypass
``migrations``: the tables' row-level security is forced, the owner too is held to it). After
the migrations, the post_migrate handler ``credentials_site.db.rls.secure_after_migrate``
secures the tenant tables and grants the app role its privileges.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import migrate

from credentials_site.db.rls import as_owner
from credentials_site.tenancy import cross_organization


class Command(migrate.Command):
    help = migrate.Command.help + " Runs as the owner role (DATABASE_OWNER_URL) when it is set."

    def handle(self, *args: Any, **options: Any) -> None:
        with as_owner(options["database"]), cross_organization("migrations"):
            super().handle(*args, **options)
