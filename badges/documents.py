"""The JSON documents of Open Badges 3.0: issuer profile, DID document, achievement, the
OpenBadgeCredential and the BitstringStatusListCredential. Pure builders: they take model rows
and return dicts; signing happens in services."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.urls import reverse

from programs.models import CredentialVersion, Organization, Pathway, RubricCriterion

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
]
SCHEMA = [
    {
        "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/"
        "ob_v3p0_achievementcredential_schema.json",
        "type": "1EdTechJsonSchemaValidator2019",
    }
]
DID_CONTEXT = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]


def site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def issuer_did(organization: Organization) -> str:
    """``did:web:<host>:o:<slug>``; its document is served at ``/o/<slug>/did.json``."""
    host = urlsplit(settings.SITE_URL).netloc
    return f"did:web:{quote(host, safe='')}:o:{organization.slug}"


def verification_method_id(organization: Organization, key_id: str) -> str:
    return f"{issuer_did(organization)}#{key_id}"


def identity_hash(identity: str, salt: str) -> str:
    return "sha256$" + hashlib.sha256((identity + salt).encode()).hexdigest()


def email_identity(email: str, salt: str) -> dict[str, Any]:
    """The earner's e-mail address as a salted hash (who holds the address can check it)."""
    return {
        "type": "IdentityObject",
        "hashed": True,
        "identityType": "emailAddress",
        "identityHash": identity_hash(email, salt),
        "salt": salt,
    }


def name_identity(name: str) -> dict[str, Any]:
    """The earner's name as they chose it, in plain text (OB 3.0 IdentityObject, identityType
    ``name``, ``hashed`` false: a hashed name could not be shown to anyone)."""
    return {"type": "IdentityObject", "identityHash": name, "identityType": "name", "hashed": False}


def subject_identity(credential: dict[str, Any], identity_type: str) -> dict[str, Any] | None:
    """The credential subject's IdentityObject of ``identity_type`` (``emailAddress``, ``name``),
    or ``None``."""
    subject = credential.get("credentialSubject") or {}
    for identifier in subject.get("identifier") or []:
        if isinstance(identifier, dict) and identifier.get("identityType") == identity_type:
            return identifier
    return None


def subject_name(credential: dict[str, Any]) -> str:
    """The earner's name as the signed credential carries it ("" when it carries none)."""
    identifier = subject_identity(credential, "name")
    if identifier is None or identifier.get("hashed"):
        return ""
    return str(identifier.get("identityHash") or "").strip()


def issuer_profile(organization: Organization) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "id": issuer_did(organization),
        "type": ["Profile"],
        "name": organization.issuer_name or organization.name,
        "url": organization.issuer_url
        or organization.website
        or site_url(reverse("programs:catalog", args=[organization.slug])),
    }
    email = organization.issuer_email or organization.contact_email
    if email:
        profile["email"] = email
    description = organization.issuer_description or organization.tagline
    if description:
        profile["description"] = description
    if organization.logo:
        profile["image"] = {"id": site_url(organization.logo.url), "type": "Image"}
    return profile


def did_document(organization: Organization, keys: list[tuple[str, str]]) -> dict[str, Any]:
    """Every key the organization ever signed with (``(key_id, publicKeyMultibase)``, newest
    first), so that badges signed before a rotation keep verifying."""
    return did_document_of(issuer_did(organization), keys)


def did_document_of(did: str, keys: list[tuple[str, str]]) -> dict[str, Any]:
    """The DID document of ``did`` with its Multikeys (``(key_id, publicKeyMultibase)``), each
    an assertion method."""
    methods = [
        {
            "id": f"{did}#{key_id}",
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": multibase,
        }
        for key_id, multibase in keys
    ]
    return {
        "@context": DID_CONTEXT,
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods],
    }


def _criterion_id(achievement_id: str, criterion: RubricCriterion) -> str:
    return f"{achievement_id}#criterion-{criterion.pk}"


def _level_id(achievement_id: str, criterion: RubricCriterion, score: int) -> str:
    return f"{_criterion_id(achievement_id, criterion)}-level-{score}"


def achievement_id(version: CredentialVersion) -> str:
    return site_url(
        reverse(
            "programs:credential_version",
            args=[version.organization.slug, version.credential.slug, version.number],
        )
    )


def achievement_edition_id(version: CredentialVersion, language: str) -> str:
    """The address of the version's Achievement in another language (its edition, decision
    0037), served as a JSON-LD document (``badges:achievement_edition``)."""
    return site_url(
        reverse(
            "badges:achievement_edition",
            args=[version.organization.slug, version.credential.slug, version.number, language],
        )
    )


def edition_languages(version: CredentialVersion) -> list[str]:
    """The languages of the version's editions an Achievement points to (``related``): none
    when the organization writes in that language itself."""
    own = version.organization.content_language
    return [language for language in version.edition_languages() if language != own]


def criteria_narrative(version: CredentialVersion, criteria: list[RubricCriterion]) -> str:
    lines = [version.competency.strip()]
    requirements = list(version.requirements.all())
    if requirements:
        lines += ["", "Evidence submitted:"]
        lines += [f"- {r.title}" for r in requirements]
    if criteria:
        lines += ["", "Scored against a rubric; every criterion reached its passing level:"]
        for criterion in criteria:
            passing = next(
                (lv.label for lv in criterion.levels.all() if lv.score == criterion.passing_score),
                str(criterion.passing_score),
            )
            lines.append(f"- {criterion.title} (at least “{passing}”)")
    return "\n".join(lines)


def achievement(
    version: CredentialVersion, *, criteria: list[RubricCriterion], image_url: str
) -> dict[str, Any]:
    """The credential version as an OB 3.0 Achievement, with its rubric as result
    descriptions (one per criterion, its levels as ``rubricCriterionLevel``)."""
    ident = achievement_id(version)
    result: dict[str, Any] = {
        "id": ident,
        "type": ["Achievement"],
        "achievementType": "MicroCredential",
        "name": version.title,
        "description": (version.summary or version.competency).strip(),
        "criteria": {"id": ident, "narrative": criteria_narrative(version, criteria)},
        "image": {
            "id": image_url,
            "type": "Image",
            "caption": version.badge_image_alt or f"{version.title} badge",
        },
        "creator": issuer_profile(version.organization),
        "version": str(version.number),
        "inLanguage": version.organization.content_language,
    }
    # OB 3.0 types ``name`` and ``description`` as plain strings (no language maps): another
    # language's edition is a Related achievement of its own (decision 0037)
    editions = edition_languages(version)
    if editions:
        result["related"] = [
            {
                "id": achievement_edition_id(version, language),
                "type": ["Related"],
                "inLanguage": language,
                "version": str(version.number),
            }
            for language in editions
        ]
    if version.credit_hours:
        result["creditsAvailable"] = float(version.credit_hours)
    tags = [c.name for c in version.categories.all()]
    if tags:
        result["tag"] = tags
    focus = version.focus_area
    if focus is not None:
        result["alignment"] = [
            {
                "type": ["Alignment"],
                "targetName": focus.name,
                "targetUrl": site_url(
                    reverse("programs:catalog", args=[version.organization.slug])
                    + f"?focus={focus.slug}"
                ),
                "targetDescription": focus.description or f"Focus area: {focus.name}",
                "targetFramework": version.organization.name,
            }
        ]
    if criteria:
        result["resultDescription"] = [
            {
                "id": _criterion_id(ident, criterion),
                "type": ["ResultDescription"],
                "name": criterion.title,
                "resultType": "RubricCriterionLevel",
                "requiredLevel": _level_id(ident, criterion, criterion.passing_score),
                "rubricCriterionLevel": [
                    {
                        "id": _level_id(ident, criterion, level.score),
                        "type": ["RubricCriterionLevel"],
                        "name": level.label,
                        "description": level.descriptor,
                        "points": str(level.score),
                    }
                    for level in criterion.levels.all()
                ],
            }
            for criterion in criteria
        ]
    return result


def achievement_edition(
    version: CredentialVersion,
    language: str,
    *,
    criteria: list[RubricCriterion],
    image_url: str,
) -> dict[str, Any]:
    """The version's Achievement in ``language`` (one of ``edition_languages``): its own id,
    the edition's name and description, ``inLanguage``, and ``related`` pointing back to the
    organization's own; criteria, rubric and alignment stay as the organization wrote them."""
    original = achievement(version, criteria=criteria, image_url=image_url)
    title = getattr(version, f"title_{language}")
    edition = {
        **original,
        "id": achievement_edition_id(version, language),
        "name": title,
        "description": getattr(version, f"summary_{language}").strip(),
        "image": {**original["image"], "caption": version.badge_image_alt or f"{title} badge"},
        "inLanguage": language,
        "related": [
            {
                "id": original["id"],
                "type": ["Related"],
                "inLanguage": original["inLanguage"],
                "version": original["version"],
            }
        ],
    }
    return edition


def results(
    version: CredentialVersion, *, criteria: list[RubricCriterion], scores: dict[int, int]
) -> list[dict[str, Any]]:
    """The rubric levels the educator reached (``scores``: criterion id → score)."""
    ident = achievement_id(version)
    out = []
    for criterion in criteria:
        score = scores.get(criterion.pk)
        if score is None:
            continue
        out.append(
            {
                "type": ["Result"],
                "resultDescription": _criterion_id(ident, criterion),
                "achievedLevel": _level_id(ident, criterion, score),
                "status": "Completed",
            }
        )
    return out


def pathway_achievement(
    pathway: Pathway, *, components: list[CredentialVersion], image_url: str
) -> dict[str, Any]:
    ident = site_url(
        reverse("programs:pathway_detail", args=[pathway.organization.slug, pathway.slug])
    )
    name = pathway.certificate_name or pathway.name
    return {
        "id": ident,
        "type": ["Achievement"],
        "achievementType": "Certificate",
        "name": name,
        "description": pathway.description
        or f"Completed every micro-credential of {pathway.name}.",
        "criteria": {
            "id": ident,
            "narrative": "Earned every micro-credential of the pathway:\n"
            + "\n".join(f"- {v.title}" for v in components),
        },
        "image": {"id": image_url, "type": "Image", "caption": f"{name} badge"},
        "creator": issuer_profile(pathway.organization),
        "alignment": [
            {
                "type": ["Alignment"],
                "targetName": v.title,
                "targetUrl": achievement_id(v),
                "targetType": "ceterms:Credential",
                "targetDescription": (v.summary or v.competency)[:500],
            }
            for v in components
        ],
    }


def open_badge_credential(
    *,
    credential_id: str,
    organization: Organization,
    achievement: dict[str, Any],
    identity: str,
    salt: str,
    valid_from: dt.datetime,
    valid_until: dt.datetime | None,
    status_list_url: str,
    subject_id: str | None = None,
    name: str = "",
    status_index: int,
    result: list[dict[str, Any]] | None = None,
    evidence: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``identity``: the earner's e-mail address (carried hashed with ``salt``); ``name``: the
    name they chose to be named by, carried as it is beside it ("" for none)."""
    subject: dict[str, Any] = {"id": subject_id} if subject_id else {}
    identifiers = [email_identity(identity, salt)]  # first: OB 2.0 copies it (ob2.assertion)
    if name.strip():
        identifiers.append(name_identity(name.strip()))
    subject |= {
        "type": ["AchievementSubject"],
        "identifier": identifiers,
        "achievement": achievement,
    }
    if result:
        subject["result"] = result
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer_profile(organization),
        "validFrom": iso(valid_from),
        "name": achievement["name"],
        "credentialSubject": subject,
        "credentialSchema": SCHEMA,
        "credentialStatus": {
            "id": f"{status_list_url}#{status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(status_index),
            "statusListCredential": status_list_url,
        },
    }
    if valid_until is not None:
        document["validUntil"] = iso(valid_until)
    if evidence:
        document["evidence"] = evidence
    return document


def encode_bits(bits: bytes) -> str:
    """Multibase base64url (no padding) of the GZIP-compressed bitstring."""
    compressed = gzip.compress(bits, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode().rstrip("=")


def decode_bits(encoded: str) -> bytes:
    if not encoded.startswith("u"):
        raise ValueError("encodedList must be multibase base64url ('u').")
    data = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))


def bit_is_set(bits: bytes, index: int) -> bool:
    """Bit ``index``, most-significant bit first in each byte."""
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def with_bit(bits: bytes, index: int, value: bool) -> bytes:
    data = bytearray(bits)
    mask = 0x80 >> (index % 8)
    if value:
        data[index // 8] |= mask
    else:
        data[index // 8] &= ~mask & 0xFF
    return bytes(data)


def status_list_credential(
    *,
    organization: Organization,
    url: str,
    bits: bytes,
    valid_from: dt.datetime,
    valid_until: dt.datetime,
    ttl_seconds: int,
) -> dict[str, Any]:
    """The unsigned list. ``validUntil`` bounds how long any copy of it may be trusted (it is
    re-signed well before); ``ttl`` (milliseconds, Bitstring Status List §2.2) tells a verifier
    holding a copy when to fetch it again, and matches the HTTP cache time it is served with."""
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_did(organization),
        "validFrom": iso(valid_from),
        "validUntil": iso(valid_until),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_bits(bits),
            "ttl": ttl_seconds * 1000,
        },
    }
