"""Verifying a credential: signature, status list and dates, as the verification page re-checks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from programs.models import Organization

from .. import dataintegrity, documents, selectors
from ..models import StatusList
from .status import status_list_get


def _resolve_key_for(organization: Organization) -> dataintegrity.KeyResolver:
    published = {
        documents.verification_method_id(organization, key_id): multibase
        for key_id, multibase in selectors.signing_key_public_list(organization=organization)
    }

    def resolve(method: str) -> Any:
        multibase = published.get(method)
        return dataintegrity.public_key_from_multibase(multibase) if multibase else None

    return resolve


def credential_verify(
    *, organization: Organization, credential: dict[str, Any], now: dt.datetime | None = None
) -> dict[str, Any]:
    """Re-check a credential issued by ``organization``: signature against the published keys,
    the status bit in the signed status list, validity dates. Returns
    ``{"verified", "status", "checks": [{"check", "ok", "message"}]}``."""
    now = now or timezone.now()
    checks: list[dict[str, Any]] = []
    result = dataintegrity.verify(credential, resolve_key=_resolve_key_for(organization))
    checks.append(
        {
            "check": "signature",
            "ok": result.verified,
            "message": _("Signed by the issuer's published key.")
            if result.verified
            else "; ".join(result.errors),
        }
    )
    status = "valid"
    entry = credential.get("credentialStatus") or {}
    url = entry.get("statusListCredential", "")
    prefix = documents.site_url(f"/o/{organization.slug}/status/")
    revoked = False
    if url.startswith(prefix) and url[len(prefix) :].isdigit():
        try:
            status_list = status_list_get(organization=organization, number=int(url[len(prefix) :]))
            list_ok = dataintegrity.verify(
                status_list.credential, resolve_key=_resolve_key_for(organization)
            ).verified
            bits = documents.decode_bits(status_list.credential["credentialSubject"]["encodedList"])
            revoked = documents.bit_is_set(bits, int(entry.get("statusListIndex", -1)))
            checks.append(
                {
                    "check": "status",
                    "ok": list_ok and not revoked,
                    "message": _("Revoked by the issuer.")
                    if revoked
                    else (
                        _("Not revoked.")
                        if list_ok
                        else _("The status list's signature is invalid.")
                    ),
                }
            )
        except (StatusList.DoesNotExist, KeyError, ValueError, IndexError):
            checks.append({"check": "status", "ok": False, "message": _("Status list not found.")})
    else:
        checks.append({"check": "status", "ok": False, "message": _("Unknown status list.")})
    valid_until = str(credential.get("validUntil") or "")
    expired = bool(valid_until) and valid_until <= documents.iso(now)
    checks.append(
        {
            "check": "expiry",
            "ok": not expired,
            "message": _("Expired on %(date)s.") % {"date": valid_until[:10]}
            if expired
            else _("Within its validity dates."),
        }
    )
    if revoked:
        status = "revoked"
    elif expired:
        status = "expired"
    elif not all(c["ok"] for c in checks):
        status = "invalid"
    return {"verified": status == "valid", "status": status, "checks": checks}
