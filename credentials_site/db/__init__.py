"""The database: PostgreSQL with row-level security as the second wall between organizations.

- ``credentials_site.db`` is the ``ENGINE``: Django's PostgreSQL backend that sends the code
  path's tenant (``credentials_site.tenancy``) as the session setting ``tessera.tenant``
  (``base.py``).
- ``rls.py``: the tenant tables (derived from the models), their policy, the app role's
  privileges, switching a connection to the owner role for migrations, and the system check on
  the app role. docs/decisions/0010-row-level-security.md says why.
"""
