"""Views of a badge's verification page and shares by its earner, counted for the program
dashboard (issue 20): counts per badge and day only, no address or visitor kept.

The verification page is served to anonymous visitors from the shared cache (a hit never
reaches a view), so the page itself reports each view: static/js/badge-engagement.js sends a
same-origin beacon (``POST /badges/<id>/seen``) when it is shown, and another
(``POST /badges/<id>/shared``) when the earner uses a share button of their sharing panel
(LinkedIn, copying the link, the signature or the embed code). Each beacon adds one to the
badge's row of the day (``BadgeEngagement``, one statement); the insight rebuild sums them per
application (``aggregates``).

Neither endpoint needs a CSRF token (a cached page carries none): both accept only a request
whose ``Origin`` is this site, which a browser sets on every cross-site POST; a share is counted
only from the badge's earner, signed in.
"""

from __future__ import annotations

import uuid
from typing import Literal

from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from credentials_site.tenancy import scoped_sql

from .. import selectors
from ..models import Badge

Kind = Literal["view", "share"]

_RECORD = """
INSERT INTO badges_badgeengagement (organization_id, badge_id, day, views, shares)
SELECT %(org)s, %(badge)s, %(day)s, %(views)s, %(shares)s WHERE {tenant}
ON CONFLICT (badge_id, day)
DO UPDATE SET views = badges_badgeengagement.views + EXCLUDED.views,
              shares = badges_badgeengagement.shares + EXCLUDED.shares
"""


def badge_engagement_record(*, badge: Badge, kind: Kind) -> None:
    """One view of the badge's verification page, or one share, added to its row of today
    (created if needed): one statement, safe under concurrent beacons."""
    sql, params = scoped_sql(
        _RECORD,
        {
            "org": badge.organization_id,
            "badge": badge.pk,
            "day": timezone.localdate(),
            "views": int(kind == "view"),
            "shares": int(kind == "share"),
        },
        tenant="%(org)s",  # the badge's organization is the scope's
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _same_origin(request: HttpRequest) -> bool:
    origin = request.headers.get("Origin", "")
    return bool(origin) and origin == f"{request.scheme}://{request.get_host()}"


def _beacon(request: HttpRequest, badge_public_id: uuid.UUID, kind: Kind) -> HttpResponse:
    if not _same_origin(request):
        return HttpResponseForbidden()
    badge = selectors.badge_get_by_public_id(public_id=badge_public_id)
    if kind == "share" and (
        not request.user.is_authenticated or badge.recipient_id != request.user.pk
    ):
        raise Http404("No such badge.")
    badge_engagement_record(badge=badge, kind=kind)
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def badge_seen(request: HttpRequest, badge_public_id: uuid.UUID) -> HttpResponse:
    """The verification page's beacon: one view."""
    return _beacon(request, badge_public_id, "view")


@csrf_exempt
@require_POST
def badge_shared(request: HttpRequest, badge_public_id: uuid.UUID) -> HttpResponse:
    """The sharing panel's beacon: one share by the badge's earner."""
    return _beacon(request, badge_public_id, "share")
