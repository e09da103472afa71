"""The demo logins: per organization an educator, a reviewer and a program admin (who also owns
the organization), plus one platform superuser. Users are global; roles and memberships tie them
to an organization."""

from __future__ import annotations

from typing import Any

DEMO_PASSWORD = "tessera-demo-2026"  # noqa: S105 - a published demo password, on purpose

_OWNER = "owner"
_PROGRAM_ADMIN = "program_admin"
_REVIEWER = "reviewer"
_SCHOOL_LEADER = "school_leader"

DEMO_USERS: list[dict[str, Any]] = [
    {
        "email": "educator@gael.demo",
        "full_name": "Jordan Ellis",
        "school": "Magnolia Springs Middle School",
        "district": "Pine Ridge County Schools",
        "organization": "gael",
        "roles": [],
        "membership": {"member_number": "GAEL-24-0187", "member_until": "2027-06-30"},
        "label": "Educator (GAEL member)",
    },
    {
        "email": "reviewer@gael.demo",
        "full_name": "Dr. Renee Whitfield",
        "school": "Retired principal, Cedar Grove High School",
        "district": "Pine Ridge County Schools",
        "organization": "gael",
        "roles": [_REVIEWER],
        "label": "Reviewer",
    },
    {
        "email": "admin@gael.demo",
        "full_name": "Marcus Bell",
        "school": "GAEL office",
        "district": "",
        "organization": "gael",
        "roles": [_PROGRAM_ADMIN, _OWNER],
        "label": "Program admin + owner",
    },
    {
        "email": "educator@riverside.demo",
        "full_name": "Priya Raman",
        "school": "Lincoln Elementary School",
        "district": "Riverside Unified School District",
        "organization": "riverside-usd",
        "roles": [],
        "label": "Educator (district staff by e-mail domain)",
    },
    {
        "email": "reviewer@riverside.demo",
        "full_name": "Tomás Herrera",
        "school": "Riverside High School",
        "district": "Riverside Unified School District",
        "organization": "riverside-usd",
        "roles": [_REVIEWER],
        "label": "Reviewer",
    },
    {
        "email": "admin@riverside.demo",
        "full_name": "Dr. Angela Brooks",
        "school": "District Office of Professional Learning",
        "district": "Riverside Unified School District",
        "organization": "riverside-usd",
        "roles": [_PROGRAM_ADMIN, _OWNER],
        "label": "Program admin + owner",
    },
    {
        "email": "principal@riverside.demo",
        "full_name": "Dana Okafor",
        "school": "Lincoln Elementary School",
        "district": "Riverside Unified School District",
        "organization": "riverside-usd",
        "roles": [_SCHOOL_LEADER],
        # a school leader's schools and title (docs/decisions/0029)
        "leads": ["Lincoln Elementary School"],
        "title": "Principal",
        "label": "School leader (principal of Lincoln Elementary)",
    },
    {
        "email": "superuser@tessera.demo",
        "full_name": "Tessera Operator",
        "superuser": True,
        "label": "Platform superuser",
    },
]
