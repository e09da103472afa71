"""eddsa-rdfc-2022 against 1EdTech's published test vector, byte for byte."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from c14n import Canonicalize
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyld import context_resolver, jsonld, resolved_context

from badges import dataintegrity
from tests.badges.conftest import VECTORS, assert_valid_ob3

OB = VECTORS / "obv3p0"
CLR = VECTORS / "clrv2p0"


@pytest.fixture(scope="module")
def vector() -> dict:
    return json.loads((OB / "vector.json").read_text())


def _key(vector: dict) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(vector["keyPair"]["seedHex"]))


def test_canonical_document_matches_the_vector() -> None:
    credential = json.loads((OB / "credential.json").read_text())
    assert dataintegrity.canonize(credential) == (OB / "document-canon.txt").read_text()


def test_signing_reproduces_the_signed_vector_byte_for_byte(vector: dict) -> None:
    # given the vector's credential, key and proof options
    credential = json.loads((OB / "credential.json").read_text())
    # when we sign it
    signed = dataintegrity.sign(
        credential,
        private_key=_key(vector),
        verification_method=vector["proofOptions"]["verificationMethod"],
        created=vector["proofOptions"]["created"],
    )
    # then the result is the published signed credential, to the byte
    assert signed["proof"][0]["proofValue"] == vector["expected"]["proofValue"]
    published = (OB / "signed-credential.json").read_text()
    assert json.dumps(signed, indent=2) + "\n" == published


def test_public_key_multibase_matches_the_vector(vector: dict) -> None:
    public = _key(vector).public_key()
    assert dataintegrity.public_key_multibase(public) == vector["keyPair"]["publicKeyMultibase"]
    assert (
        dataintegrity.public_key_from_multibase(
            vector["keyPair"]["publicKeyMultibase"]
        ).public_bytes_raw()
        == public.public_bytes_raw()
    )


def test_verify_accepts_the_vector_and_rejects_a_tampered_copy(vector: dict) -> None:
    signed = json.loads((OB / "signed-credential.json").read_text())
    method = vector["proofOptions"]["verificationMethod"]
    public = _key(vector).public_key()

    def resolve(m: str):
        return public if m == method else None

    assert dataintegrity.verify(signed, resolve_key=resolve).verified
    tampered = {**signed, "name": signed["name"] + " (edited)"}
    result = dataintegrity.verify(tampered, resolve_key=resolve)
    assert not result.verified
    assert "does not match" in result.errors[0]
    assert not dataintegrity.verify(signed, resolve_key=lambda m: None).verified


def test_the_signed_vector_passes_the_schema_once_proof_is_an_array() -> None:
    assert_valid_ob3(json.loads((OB / "signed-credential.json").read_text()))


def test_the_document_loader_refuses_contexts_that_are_not_bundled() -> None:
    document = {"@context": "https://example.org/evil-context.json", "name": "x"}
    with pytest.raises(jsonld.JsonLdError):
        dataintegrity.canonize(document)


@pytest.mark.parametrize(
    ("where", "added", "reported"),
    [
        # a property the contexts do not define: expansion drops it, the signature ignores it
        ("credential", {"endorsedBy": "The Governor"}, "endorsedBy"),
        ("subject", {"grade": "A+"}, "grade"),
    ],
)
def test_a_term_the_signature_does_not_cover_fails_verification_in_safe_mode(
    vector: dict, where: str, added: dict, reported: str
) -> None:
    # given the vector's signed credential, which verifies
    signed = json.loads((OB / "signed-credential.json").read_text())
    method = vector["proofOptions"]["verificationMethod"]
    public = _key(vector).public_key()

    def resolve(m: str):
        return public if m == method else None

    # when someone adds a claim with a term no context defines (the canonical form, and so the
    # signature, would be unchanged without safe mode)
    if where == "subject":
        tampered = {**signed, "credentialSubject": {**signed["credentialSubject"], **added}}
    else:
        tampered = {**signed, **added}
    unsafe = dict(tampered)
    unsafe.pop("proof")
    assert dataintegrity.canonize(unsafe, safe=False) == dataintegrity.canonize(
        {k: v for k, v in signed.items() if k != "proof"}
    )
    # then verification fails and names the term
    result = dataintegrity.verify(tampered, resolve_key=resolve)
    assert not result.verified
    assert reported in result.errors[0]
    assert "not what was signed" in result.errors[0]
    with pytest.raises(dataintegrity.UnsafeDocument):
        dataintegrity.canonize(unsafe)


def test_the_clr_vector_canonicalizes_and_signs_byte_for_byte() -> None:
    # given 1EdTech's CLR 2.0 vector: a credential with four contexts, CLR's among them
    vector = json.loads((CLR / "vector.json").read_text())
    credential = json.loads((CLR / "credential.json").read_text())
    proof_options = {**vector["proofOptions"], "@context": credential["@context"]}
    # when we canonicalize its document and proof options, and sign it
    document_canon = dataintegrity.canonize(credential)
    proof_canon = dataintegrity.canonize(proof_options)
    signed = dataintegrity.sign(
        credential,
        private_key=_key(vector),
        verification_method=vector["proofOptions"]["verificationMethod"],
        created=vector["proofOptions"]["created"],
    )
    # then each is the published one, to the byte
    assert document_canon == (CLR / "document-canon.txt").read_text()
    assert proof_canon == (CLR / "proof-canon.txt").read_text()
    assert signed["proof"][0]["proofValue"] == vector["expected"]["proofValue"]
    assert json.dumps(signed, indent=2) + "\n" == (CLR / "signed-credential.json").read_text()


def _code_of_ours(module: ModuleType) -> list[str]:
    """Names in a pyld module, or methods of its classes, whose code is not pyld's (or the
    libraries pyld imports) but Tessera's."""
    found = [
        name
        for name, value in vars(module).items()
        if str(getattr(value, "__module__", "")).startswith(("badges", "tests"))
    ]
    for name, cls in inspect.getmembers(module, inspect.isclass):
        if cls.__module__.startswith("pyld"):
            found += [
                f"{name}.{attr}"
                for attr, value in vars(cls).items()
                if str(getattr(value, "__module__", "pyld")).startswith(("badges", "tests"))
            ]
    return found


def _their_loader(asked: list[str]) -> Any:
    """Another caller's document loader: the same context files, read afresh, no ``static``
    tag, and a record of every URL pyld asks it for."""

    def load(url: str, options: Any = None) -> dict[str, Any]:
        asked.append(url)
        name = dataintegrity._context_index()[url]
        document = json.loads(Path(dataintegrity.CONTEXTS_DIR / name).read_text())
        return {"contextUrl": None, "documentUrl": url, "document": document}

    return load


def test_our_canonicalization_leaves_pyld_as_every_other_caller_finds_it() -> None:
    # given our canonicalization has run, with its speed-ups, on a credential with 4 contexts
    credential = json.loads((CLR / "credential.json").read_text())
    ours = dataintegrity.canonize(credential)
    kept = len(dataintegrity._processed_contexts)
    # when another caller canonicalizes the same credential with plain pyld and its own loader
    asked: list[str] = []
    theirs = jsonld.normalize(
        credential,
        {
            "algorithm": "URDNA2015",
            "format": "application/n-quads",
            "documentLoader": _their_loader(asked),
        },
    )
    # then they get the same N-Quads from pyld as pyld ships it: its own functions and cache
    # key, its own context resolution (their loader is asked for every context: none of the
    # contexts our loader produced is served to them), and our caches are not used for them
    assert theirs == ours
    assert set(credential["@context"]) <= set(asked)
    assert len(dataintegrity._processed_contexts) == kept
    assert jsonld.JsonLdProcessor._process_context.__module__ == "pyld.jsonld"
    assert jsonld.JsonLdProcessor._process_context.__qualname__ == (
        "JsonLdProcessor._process_context"
    )
    assert context_resolver.canonicalize is Canonicalize.canonicalize
    assert context_resolver.ContextResolver.resolve.__module__ == "pyld.context_resolver"
    for module in (jsonld, context_resolver, resolved_context):
        assert _code_of_ours(module) == [], f"Tessera code assigned into {module.__name__}"


def test_a_constant_part_canonicalizes_as_the_plain_document_each_time() -> None:
    # given the vector's credential, and a copy whose achievement is marked Constant
    credential = json.loads((OB / "credential.json").read_text())
    expected = (OB / "document-canon.txt").read_text()
    subject = credential["credentialSubject"]
    marked = {
        **credential,
        "credentialSubject": {
            **subject,
            "achievement": dataintegrity.Constant(subject["achievement"], key="vector-ach"),
        },
    }
    # when it is canonicalized twice (the second time from the kept expansion), and another
    # credential carries the same achievement
    first, second = dataintegrity.canonize(marked), dataintegrity.canonize(marked)
    other = {**marked, "id": "http://example.com/credentials/other"}
    plain_other = {**credential, "id": "http://example.com/credentials/other"}
    # then every result is the vector's, byte for byte, or the plain other's
    assert first == second == expected
    assert dataintegrity.canonize(other) == dataintegrity.canonize(plain_other)


def test_a_constant_part_with_an_undefined_term_is_refused_every_time() -> None:
    credential = json.loads((OB / "credential.json").read_text())
    subject = credential["credentialSubject"]
    achievement = {**subject["achievement"], "undefinedTerm": "not covered by a signature"}
    marked = {
        **credential,
        "credentialSubject": {
            **subject,
            "achievement": dataintegrity.Constant(achievement, key="unsafe-ach"),
        },
    }
    for _ in range(2):  # nothing kept makes the second one pass
        with pytest.raises(dataintegrity.UnsafeDocument):
            dataintegrity.canonize(marked)
