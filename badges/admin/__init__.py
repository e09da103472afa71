"""Program admins' side of badges in the admin: issued badges (read-only, revoked with a reason),
the organization's signing keys (public halves only, rotated with a button), failed issuing
attempts (retried with an action) and the revocation status lists.

Badges, keys and status lists are records made by the services, so nothing here adds, edits or
deletes them; the two state changes (revoke, rotate) are pages of their own that ask for
confirmation, accept only POST and call ``badges.services``. Every page is limited to the
organizations the user administers, and another organization's object answers 404.

The Application admin of ``submissions`` gains a read-only "Badge" link here (badges may import
submissions, not the other way round).
"""

from . import applications, awards, badges, failures, keys, status_lists

__all__ = ["applications", "awards", "badges", "failures", "keys", "status_lists"]
