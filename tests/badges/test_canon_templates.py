"""Canonicalizing from a template of the document's shape (the batch path) gives pyld's
N-Quads of the document itself, byte for byte, and so the same signatures."""

from __future__ import annotations

import copy
import hashlib
import json
import random
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from badges import canon_templates, dataintegrity
from tests.badges.conftest import VECTORS

# an unsigned badge as the benchmark issues it (benchmarks/issue.py): issuer, achievement with
# a rubric, identifiers, result, status, evidence
BADGE = Path(__file__).parent / "fixtures" / "issued-badge.json"
STRINGS = [
    "Zoë Ångström",
    'José "Pepe" Núñez \\ backslash',
    "tab\there",
    "lines\nand\r\nreturns",
    "\x01control\x7f\x0b\x0c",
    "",
    " spaces ",
    "http://127.0.0.1:8000/o/bench/",  # looks like an IRI of the document
    "@id",
    "_:b0",
    "李小龍 😀 \u200f",
    "Data",  # a tag of the achievement
    "Benchmark Educators Association",  # the issuer's name, also the achievement creator's
    "3.0",
]


@pytest.fixture(autouse=True)
def _no_templates_yet(monkeypatch: Any) -> None:
    """Each test starts with no template made (the caches are the process's)."""
    for name in ("_slots", "_templates", "_builds"):
        monkeypatch.setattr(canon_templates, name, dataintegrity._Recent(maxsize=256))


def _key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def _badge(rng: random.Random, number: int) -> dict[str, Any]:
    """A badge like the ones a batch signs, with the values each badge has of its own."""
    base = json.loads(BADGE.read_text())
    document = copy.deepcopy(base)
    subject = document["credentialSubject"]
    subject["achievement"] = dataintegrity.Constant(
        base["credentialSubject"]["achievement"], key="a"
    )
    url = f"http://127.0.0.1:8000/badges/{number:08d}-4c33-97ed-302b3f975e80/"
    document["id"] = url
    document["validFrom"] = f"2026-12-06T09:{number % 60:02d}:52Z"
    document["validUntil"] = f"2029-12-06T09:{number % 60:02d}:52Z"
    subject["identifier"][0]["identityHash"] = f"sha256${number:064x}"
    subject["identifier"][0]["salt"] = rng.choice(STRINGS)
    subject["identifier"][1]["identityHash"] = rng.choice(STRINGS)
    if number % 4 == 0:
        del subject["identifier"][1]  # the name kept private
    if number % 3 == 0:
        subject["id"] = f"http://127.0.0.1:8000/u/id/{number}/"
    status = document["credentialStatus"]
    status["id"] = f"http://127.0.0.1:8000/o/bench/status/1#{number}"
    status["statusListIndex"] = str(number)
    evidence = document["evidence"]
    evidence[0]["name"] = rng.choice(STRINGS)
    evidence[0]["narrative"] = rng.choice(STRINGS)
    if number % 5 == 0:  # the same evidence twice: two nodes, equal values
        evidence.append(copy.deepcopy(evidence[0]))
    if number % 7 == 0:  # a file (its own URL) and a link that is the badge's own URL
        evidence.append(
            {
                "type": ["Evidence"],
                "name": rng.choice(STRINGS),
                "id": f"http://127.0.0.1:8000/badges/{number}/evidence/e{number}/",
                "description": rng.choice(STRINGS),
                "genre": "application/pdf",
            }
        )
        evidence.append({"type": ["Evidence"], "name": "Link", "id": url})
    if number % 11 == 0:  # the issuer's values at a literal slot that merges with the creator's
        document["issuer"]["name"] = rng.choice(STRINGS)
    return document


def test_templated_canonicalization_is_pyld_s_over_varied_badges(monkeypatch: Any) -> None:
    # given badges of a few shapes with varied values (unicode, quotes, tabs, control
    # characters, IRI- and keyword-looking strings, values equal to the document's own)
    rng = random.Random(17)
    badges = [_badge(rng, number) for number in range(1, 160)]
    plain = dataintegrity.canonize
    ordinary: list[int] = []

    def counted(document: dict[str, Any], **options: Any) -> str:
        ordinary.append(1)
        return plain(document, **options)

    key = _key()
    for document in badges:
        # when each is canonicalized and signed from its shape's template
        monkeypatch.setattr(dataintegrity, "canonize", counted)
        templated = canon_templates.canonize(document)
        signed = dataintegrity.sign(
            document,
            private_key=key,
            verification_method="did:example:issuer#key-1",
            created="2026-12-06T09:30:52Z",
            canonicalize=canon_templates.canonize,
        )
        monkeypatch.setattr(dataintegrity, "canonize", plain)
        # then the N-Quads and the proof are the ordinary path's, byte for byte
        assert templated == plain(document)
        assert signed == dataintegrity.sign(
            document,
            private_key=key,
            verification_method="did:example:issuer#key-1",
            created="2026-12-06T09:30:52Z",
        )
    # and most came from a template (the others: the values of their own that no template
    # of their shape can take, e.g. evidence naming the badge's own URL)
    assert len(ordinary) < len(badges) // 4, len(ordinary)


@pytest.mark.parametrize("standard", ["obv3p0", "clrv2p0"])
def test_the_1edtech_vectors_sign_byte_for_byte_from_a_template(standard: str) -> None:
    folder = VECTORS / standard
    vector = json.loads((folder / "vector.json").read_text())
    credential = json.loads((folder / "credential.json").read_text())
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(vector["keyPair"]["seedHex"]))
    for _ in range(2):  # the template made, then used
        assert canon_templates.canonize(credential) == (folder / "document-canon.txt").read_text()
        signed = dataintegrity.sign(
            credential,
            private_key=key,
            verification_method=vector["proofOptions"]["verificationMethod"],
            created=vector["proofOptions"]["created"],
            canonicalize=canon_templates.canonize,
        )
        assert signed["proof"][0]["proofValue"] == vector["expected"]["proofValue"]
        assert (
            json.dumps(signed, indent=2) + "\n" == (folder / "signed-credential.json").read_text()
        )


def test_a_document_with_a_term_no_context_defines_is_refused_every_time() -> None:
    rng = random.Random(3)
    good = _badge(rng, 1)
    canon_templates.canonize(good)  # its shape has a template
    unsafe = {**good, "endorsedBy": "The Governor"}
    nested = copy.deepcopy(good)
    nested["credentialSubject"]["identifier"][0]["grade"] = "A+"
    for document in (unsafe, unsafe, nested):
        with pytest.raises(dataintegrity.UnsafeDocument):
            canon_templates.canonize(document)


def test_a_value_with_the_process_sentinel_is_canonicalized_the_ordinary_way() -> None:
    rng = random.Random(5)
    document = _badge(rng, 2)
    canon_templates.canonize(document)
    document["name"] = canon_templates._literal_sentinel(3)
    assert canon_templates.canonize(document) == dataintegrity.canonize(document)


def test_a_shape_that_needs_a_template_per_document_stops_making_them(monkeypatch: Any) -> None:
    # given badges whose evidence names the badge's own URL (which then is no slot: every
    # badge of the shape has other strings that are not slots)
    rng = random.Random(11)
    numbers = [n for n in range(7, 7 * 200, 7) if n % 3 and n % 4 and n % 5 and n % 11][:40]
    badges = [_badge(rng, number) for number in numbers]  # one shape
    made: list[int] = []
    build = canon_templates._build

    def counted(*args: Any) -> Any:
        made.append(1)
        return build(*args)

    monkeypatch.setattr(canon_templates, "_build", counted)
    # when they are canonicalized
    for document in badges:
        assert canon_templates.canonize(document) == dataintegrity.canonize(document)
    # then a bounded number of templates was made, and the rest went the ordinary way
    assert len(made) == canon_templates._BUILDS_PER_SHAPE < len(badges)


def _digest(value: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(value).encode()).hexdigest()


def test_a_badge_pointing_to_its_spanish_edition_signs_byte_for_byte(monkeypatch: Any) -> None:
    # given badges whose achievement says its language and points to its Spanish edition
    # (``related``, decision 0037), the achievement a Constant as issuing passes it, or not
    rng = random.Random(23)
    key = _key()
    plain = dataintegrity.canonize
    ordinary: list[int] = []

    def counted(document: dict[str, Any], **options: Any) -> str:
        ordinary.append(1)
        return plain(document, **options)

    for number in range(1, 40):
        document = _badge(rng, number)
        subject = document["credentialSubject"]
        achievement = copy.deepcopy(dict(subject["achievement"]))
        achievement["related"] = [
            {
                "id": f"{achievement['id']}achievement-es.json",
                "type": ["Related"],
                "inLanguage": "es",
                "version": achievement["version"],
            }
        ]
        subject["achievement"] = (
            dataintegrity.Constant(achievement, key=_digest(achievement))
            if number % 2
            else achievement
        )
        # when it is canonicalized and signed from its shape's template
        monkeypatch.setattr(dataintegrity, "canonize", counted)
        templated = canon_templates.canonize(document)
        monkeypatch.setattr(dataintegrity, "canonize", plain)
        expanded = copy.deepcopy(document)
        expanded["credentialSubject"]["achievement"] = achievement
        # then the N-Quads and the proof are the ordinary path's, byte for byte
        assert templated == plain(expanded)
        options = {
            "private_key": key,
            "verification_method": "did:example:issuer#key-1",
            "created": "2026-12-06T09:30:52Z",
        }
        signed = dataintegrity.sign(document, canonicalize=canon_templates.canonize, **options)
        assert signed["proof"] == dataintegrity.sign(expanded, **options)["proof"]
    # and most came from a template
    assert len(ordinary) < 10, len(ordinary)
