"""The Comprehensive Learner Record (CLR 2.0 ``ClrCredential``) of an educator: pure builders,
as ``documents`` is for badges. Signing is the badges' own (``dataintegrity.sign``, through
``services.clr_issue``): one signer for every document Tessera issues.

Who issues it: Tessera itself, ``did:web:<host>`` (its DID document at
``/.well-known/did.json``), not an organization. A CLR gathers the badges of every
organization the educator earned one from; each embedded badge keeps its own issuer and proof,
so the record's signature says only "Tessera assembled these, for this person, on this day"
(CLR 2.0 lets a record hold achievements of several issuers). See
docs/decisions/0021-transcripts-and-clr.md.

The shapes follow 1EdTech's CLR 2.0 test vector (``tests/badges/vectors/clrv2p0``): the
builder given the vector's parts gives the vector's document, to the byte
(tests/badges/test_transcript_clr.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings

from .documents import did_document_of, iso, site_url

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
]
SCHEMA = [
    {
        "id": "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/"
        "clr_v2p0_clrcredential_schema.json",
        "type": "1EdTechJsonSchemaValidator2019",
    }
]
PLATFORM_NAME = "Tessera"


def platform_did() -> str:
    """``did:web:<host>``: the DID of the site itself, its document at
    ``https://<host>/.well-known/did.json`` (did:web's rule for a bare domain)."""
    return f"did:web:{quote(urlsplit(settings.SITE_URL).netloc, safe='')}"


def platform_verification_method(key_id: str) -> str:
    return f"{platform_did()}#{key_id}"


def platform_profile() -> dict[str, Any]:
    return {
        "id": platform_did(),
        "type": "Profile",
        "name": PLATFORM_NAME,
        "url": site_url("/"),
    }


def platform_did_document(keys: list[tuple[str, str]]) -> dict[str, Any]:
    """Every platform key (``(key_id, publicKeyMultibase)``, newest first): records signed
    before a rotation keep verifying."""
    return did_document_of(platform_did(), keys)


def achievements_of(credentials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The achievement of each credential, once each (by ``id``), in the credentials' order."""
    seen: set[str] = set()
    found: list[dict[str, Any]] = []
    for credential in credentials:
        achievement = (credential.get("credentialSubject") or {}).get("achievement")
        if not isinstance(achievement, dict):
            continue
        key = str(achievement.get("id") or len(found))
        if key not in seen:
            seen.add(key)
            found.append(achievement)
    return found


def associations_of(achievements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``isParentOf`` from a pathway certificate to each of its micro-credentials that the
    record holds (a pathway achievement aligns to its components by their ids)."""
    held = {a.get("id") for a in achievements}
    associations = []
    for achievement in achievements:
        for alignment in achievement.get("alignment") or []:
            target = alignment.get("targetUrl") if isinstance(alignment, dict) else None
            if (
                alignment.get("targetType") == "ceterms:Credential"
                and target in held
                and target != achievement.get("id")
            ):
                associations.append(
                    {
                        "type": "Association",
                        "associationType": "isParentOf",
                        "sourceId": achievement["id"],
                        "targetId": target,
                    }
                )
    return associations


def clr_credential(
    *,
    credential_id: str,
    issuer: dict[str, Any],
    valid_from: dt.datetime | str,
    name: str,
    credentials: list[dict[str, Any]],
    achievements: list[dict[str, Any]],
    associations: list[dict[str, Any]] | None = None,
    subject_id: str | None = None,
    identifier: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The unsigned ``ClrCredential``: ``credentials`` (signed OB 3.0 credentials) embedded as
    they are, their proofs with them; the subject named by ``subject_id`` and/or
    ``identifier`` (IdentityObjects, as the badges carry them)."""
    subject: dict[str, Any] = {"id": subject_id} if subject_id else {}
    subject["type"] = "ClrSubject"
    if identifier:
        subject["identifier"] = identifier
    subject["verifiableCredential"] = credentials
    subject["achievement"] = achievements
    if associations:
        subject["association"] = associations
    return {
        "@context": CONTEXT,
        "id": credential_id,
        "type": ["VerifiableCredential", "ClrCredential"],
        "issuer": issuer,
        "validFrom": valid_from if isinstance(valid_from, str) else iso(valid_from),
        "name": name,
        "credentialSubject": subject,
        "credentialSchema": SCHEMA,
    }
