"""``User.facts_revision``: a random value the database draws again whenever what a person's
pages read about them changes (docs/decisions/0024-signed-in-pages.md), so that those facts can
be kept in the cache under (user, revision) and never be read stale, whatever wrote the change: a service, the
admin, a roster's bulk update, a cascade.

- a row of ``programs_membership``, ``programs_staffrole``, ``programs_membershiprequest`` or
  allauth's ``account_emailaddress`` inserted, changed or deleted: its person's revision (both
  persons', when the row moves from one to another), once per statement for all its rows
  (statement triggers with transition tables);
- an organization renamed, given another address or (de)activated: the revision of everyone
  with a staff role there (the header names the organizations whose review queue they may
  open). That trigger reads the staff under the named bypass of row-level security, whatever
  scope wrote the change, and puts the caller's setting back before it returns (a failure in
  between aborts the statement's transaction or savepoint, which undoes the setting too).
"""

import uuid

import django.contrib.postgres.functions
from django.db import migrations, models

PERSON_TABLES = [
    "programs_membership",
    "programs_staffrole",
    "programs_membershiprequest",
    "account_emailaddress",
]

# once per statement, over the rows it touched (transition tables): a roster's bulk insert of
# 50,000 memberships is one UPDATE of their people, not 50,000
BUMP_PERSON = """
CREATE FUNCTION programs_user_facts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE programs_user SET facts_revision = gen_random_uuid()
        WHERE id IN (SELECT user_id FROM old_rows);
    END IF;
    IF TG_OP = 'INSERT' THEN
        UPDATE programs_user SET facts_revision = gen_random_uuid()
        WHERE id IN (SELECT user_id FROM new_rows);
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE programs_user SET facts_revision = gen_random_uuid()
        WHERE id IN (SELECT user_id FROM new_rows EXCEPT SELECT user_id FROM old_rows);
    END IF;
    RETURN NULL;
END
$$;
"""

BUMP_STAFF = """
CREATE FUNCTION programs_organization_staff_facts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    previous text := coalesce(current_setting('tessera.tenant', true), '');
BEGIN
    PERFORM set_config(
        'tessera.tenant', 'bypass:the staff of an organization that changed its name or state', true
    );
    UPDATE programs_user SET facts_revision = gen_random_uuid()
    WHERE id IN (SELECT user_id FROM programs_staffrole WHERE organization_id = NEW.id);
    PERFORM set_config('tessera.tenant', previous, true);
    RETURN NULL;
END
$$;
CREATE TRIGGER programs_organization_staff_facts
AFTER UPDATE OF name, short_name, slug, is_active ON programs_organization
FOR EACH ROW
WHEN (
    OLD.name IS DISTINCT FROM NEW.name OR OLD.short_name IS DISTINCT FROM NEW.short_name
    OR OLD.slug IS DISTINCT FROM NEW.slug OR OLD.is_active IS DISTINCT FROM NEW.is_active
)
EXECUTE FUNCTION programs_organization_staff_facts_changed();
"""


def _triggers(table: str) -> str:
    return f"""
CREATE TRIGGER {table}_facts_new AFTER INSERT ON {table}
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION programs_user_facts_changed();
CREATE TRIGGER {table}_facts_changed AFTER UPDATE ON {table}
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION programs_user_facts_changed();
CREATE TRIGGER {table}_facts_gone AFTER DELETE ON {table}
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION programs_user_facts_changed();
"""


def _untriggers(table: str) -> str:
    return f"""
DROP TRIGGER IF EXISTS {table}_facts_new ON {table};
DROP TRIGGER IF EXISTS {table}_facts_changed ON {table};
DROP TRIGGER IF EXISTS {table}_facts_gone ON {table};
"""


UNBUMP = """
DROP TRIGGER IF EXISTS programs_organization_staff_facts ON programs_organization;
DROP FUNCTION IF EXISTS programs_organization_staff_facts_changed();
DROP FUNCTION IF EXISTS programs_user_facts_changed();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("programs", "0021_webhooks"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="facts_revision",
            field=models.UUIDField(
                db_default=django.contrib.postgres.functions.RandomUUID(),
                default=uuid.uuid4,
                editable=False,
            ),
        ),
        migrations.RunSQL(
            BUMP_PERSON + "".join(_triggers(t) for t in PERSON_TABLES) + BUMP_STAFF,
            "".join(_untriggers(t) for t in PERSON_TABLES) + UNBUMP,
        ),
    ]
