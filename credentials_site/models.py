"""Project-wide model bases."""

from django.db import models
from django_scopes import ScopedManager


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class TenantModel(TimeStampedModel):
    """A row owned by one organization.

    ``objects`` is scoped and fails closed: outside ``scope(organization=...)`` (entered by the
    middleware from the URL, by ``TenantTask`` from ``organization_id``, or explicitly by tests and
    commands) every query raises ``ScopeError``.
    """

    organization = models.ForeignKey(
        "programs.Organization", on_delete=models.CASCADE, related_name="+"
    )

    objects = ScopedManager(organization="organization")

    class Meta:
        abstract = True
