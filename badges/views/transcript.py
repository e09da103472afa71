"""An educator's transcript ("My transcript"): every badge from every organization with its
credit hours and CEUs, as a page, a PDF and a signed CLR 2.0 record; and Tessera's own DID
document, whose key signs the record. Thin views: the rules are ``services.transcript``'s."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from programs.models import User

from .. import clr, services
from ..errors import BadgeError
from .documents import json_response


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _attachment(response: HttpResponse, name: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_safe
def transcript(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "badges/transcript.html",
        {"transcript": services.transcript_get(user=_user(request))},
    )


@login_required
@require_safe
def transcript_pdf(request: HttpRequest) -> HttpResponse:
    """The transcript as a PDF, made in memory and sent as it is."""
    pdf = services.transcript_pdf(services.transcript_get(user=_user(request)))
    stamp = timezone.localdate().isoformat()
    return _attachment(HttpResponse(pdf, content_type="application/pdf"), f"transcript-{stamp}.pdf")


@login_required
@require_safe
def transcript_clr(request: HttpRequest) -> HttpResponse:
    """The signed Comprehensive Learner Record (CLR 2.0), as a file."""
    try:
        record = services.clr_issue(user=_user(request))
    except BadgeError as error:
        messages.error(request, error.message)
        return redirect(reverse("badges:transcript"))
    stamp = timezone.localdate().isoformat()
    response = HttpResponse(
        json.dumps(record, indent=2, ensure_ascii=False), content_type="application/ld+json"
    )
    return _attachment(response, f"transcript-clr-{stamp}.json")


@require_safe
def platform_did_document(request: HttpRequest) -> HttpResponse:
    """Tessera's DID document (``did:web:<host>``): every key the platform signed records with."""
    response = json_response(
        clr.platform_did_document(services.platform_keys_public()),
        content_type="application/did+json",
    )
    response["Cache-Control"] = f"public, max-age={settings.BADGE_STATUS_CACHE_SECONDS}"
    return response
