"""Admin for programs. Every page is limited to the organizations the user administers.

``base`` holds the tenant plumbing every tenant model's admin derives from (``TenantAdmin``,
``TenantInline``); the other modules register the admins of people, the catalog's structure, and
credentials with their versions.
"""

from . import access, catalog, credentials, lti, people, roster, schools, sso, webhooks
from .base import (
    NestedTenantAdmin,
    OrganizationFileForm,
    TenantAdmin,
    TenantFormMixin,
    TenantInline,
    safe_field_classes,
)
from .people import UserByEmailForm

__all__ = [
    "NestedTenantAdmin",
    "OrganizationFileForm",
    "TenantAdmin",
    "TenantFormMixin",
    "TenantInline",
    "UserByEmailForm",
    "access",
    "catalog",
    "credentials",
    "lti",
    "people",
    "roster",
    "safe_field_classes",
    "schools",
    "sso",
    "webhooks",
]
