"""Data Integrity proofs with the ``eddsa-rdfc-2022`` cryptosuite, offline.

The signature covers sha256(canonical proof options) ‖ sha256(canonical document without its
proof), both canonicalized with RDFC-1.0 (pyld's ``URDNA2015``), and ``proofValue`` is ``z`` +
base58btc(Ed25519 signature). JSON-LD contexts come only from the files bundled in
``badges/contexts/``; any other URL is refused, so canonicalizing never touches the network.
See ``../shared/standards/SOURCES.md`` and docs/decisions/0005-open-badges-signing.md.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from frozendict import frozendict
from pyld import context_resolver, jsonld
from pyld.resolved_context import ResolvedContext

CONTEXTS_DIR = Path(__file__).resolve().parent / "contexts"
CRYPTOSUITE = "eddsa-rdfc-2022"
# multicodec varint prefixes: ed25519-pub 0xed, ed25519-priv 0x1300
ED25519_PUB_PREFIX = b"\xed\x01"
ED25519_PRIV_PREFIX = b"\x80\x26"


class ContextRefused(ValueError):
    """A JSON-LD document asked for a context that is not bundled with Tessera."""


@cache
def _context_index() -> dict[str, str]:
    index: dict[str, str] = json.loads((CONTEXTS_DIR / "INDEX.json").read_text())
    return index


@cache
def _bundled(url: str) -> dict[str, Any]:
    name = _context_index().get(url)
    if name is None:
        raise ContextRefused(f"JSON-LD context {url!r} is not bundled; refusing to fetch it.")
    return {
        "contextUrl": None,
        "documentUrl": url,
        "document": json.loads((CONTEXTS_DIR / name).read_text()),
    }


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld document loader: bundled contexts only, never the network. The bundled files never
    change, so they are tagged ``static``: our resolver (``_BundledContextResolver``) then keeps
    each context resolved across calls instead of resolving it again for every document."""
    try:
        return {**_bundled(url), "tag": "static"}
    except ContextRefused as error:
        raise jsonld.JsonLdError(
            str(error), "jsonld.LoadDocumentError", code="loading document failed"
        ) from error


class _Recent(OrderedDict[Any, Any]):
    """A mapping that keeps its ``maxsize`` most recently used entries (pyld only calls ``get``
    and ``[key] = value`` on the resolver's shared cache). A concurrent eviction between two
    steps is a miss, never an error."""

    def __init__(self, maxsize: int) -> None:
        super().__init__()
        self.maxsize = maxsize

    def get(self, key: Any, default: Any = None) -> Any:
        try:
            value = self[key]
            self.move_to_end(key)
        except KeyError:
            return default
        return value

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        with suppress(KeyError):
            self.move_to_end(key)
            while len(self) > self.maxsize:
                self.popitem(last=False)


def _context_cache_key(context: Any) -> str:
    """The key a resolved embedded context is filed under. pyld computes it with a pure-Python
    JSON Canonicalization (RFC 8785) every time a type-scoped context applies, a dozen times per
    credential, which was the largest single cost of canonicalizing one. Any deterministic,
    injective serialization is as good a key: the C JSON encoder with sorted keys is one (it
    even tells ``1`` from ``1.0`` apart, which JCS does not). Only the cache key changes; the
    canonical N-Quads do not (the 1EdTech vector test checks them byte for byte)."""
    return json.dumps(
        context, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=dict
    )


# Resolved contexts of our canonicalization only, never pyld's process-wide cache: the bundled
# contexts (tagged ``static``) stay resolved across calls, and no other pyld caller is served
# a context our loader produced. ~35 entries after OB 3.0, CLR 2.0 and the validator's
# complete.json; room for the embedded contexts of documents other people send.
_resolved_contexts = _Recent(maxsize=256)


class _BundledContextResolver(context_resolver.ContextResolver):
    """pyld's resolver with ``_context_cache_key`` for embedded contexts. Overrides
    ``ContextResolver.resolve`` (pyld 3.3.0; tests/badges/test_pyld_pin.py fails when an
    upgrade changes it): an embedded context is looked up with the fast key, everything else
    (URLs, ``null``, errors) is pyld's own code."""

    def __init__(self) -> None:
        super().__init__(_resolved_contexts, document_loader)

    def resolve(
        self, active_ctx: Any, context: Any, base: Any, cycles: set[str] | None = None
    ) -> list[Any]:
        if cycles is None:
            cycles = set()  # one set for the whole call, as pyld's own loop shares it
        if isinstance(context, dict | frozendict) and "@context" in context:
            context = context["@context"]
        resolved: list[Any] = []
        for ctx in context if isinstance(context, list) else [context]:
            if not isinstance(ctx, dict | frozendict):
                resolved.extend(super().resolve(active_ctx, [ctx], base, cycles))
                continue
            key = _context_cache_key(ctx)
            found = self._get(key)
            if not found:
                found = ResolvedContext(ctx)
                self._cache_resolved_context(key, found, "static")
            resolved.append(found)
        return resolved


# pyld caches a processed context per (resolved context, active context), the active context
# known by its ``_uuid``. But a type-scoped context (OB 3.0 has one per class) is processed
# against a fresh copy of the active context, with a fresh ``_uuid``, so it is processed again
# for every typed node of every document: half of what canonicalizing a badge costs. Processed
# contexts are immutable (frozendict) and a function of the active context, the local context
# and the options (the base IRI and the document loader: only ours), so they are kept here by
# those, with the same ``_uuid`` key pyld uses.
_processed_contexts = _Recent(maxsize=1024)


class Constant(dict[str, Any]):
    """A part of a document that many documents carry unchanged (the Achievement of every badge
    of a credential version): canonicalizing keeps its JSON-LD expansion, by ``key`` (what
    identifies its content, e.g. its JSON text's digest) and by everything else expansion
    depends on, the active context and property above all; the next document with the same
    part at the same place gets a copy instead of expanding it again. It is a plain ``dict``
    otherwise (JSON, equality, the stored credential)."""

    def __init__(self, value: dict[str, Any], *, key: str) -> None:
        super().__init__(value)
        self.key = key


def _json_copy(value: Any) -> Any:
    """A copy of an expanded JSON-LD value (only lists, dicts and scalars)."""
    if isinstance(value, list):
        return [_json_copy(item) for item in value]
    if isinstance(value, dict):
        return {name: _json_copy(item) for name, item in value.items()}
    return value


# Expanded ``Constant`` parts (see there), by their key, the active context's ``_uuid``, the
# active property and the options.
_expanded_constants = _Recent(maxsize=256)


class UnsafeDocument(ValueError):
    """JSON-LD "safe mode" refused the document: it has a property its contexts do not define,
    which expansion drops, so a signature would not cover it. A signed credential never does."""


class _SafeProcessor(jsonld.JsonLdProcessor):
    """The processor of our canonicalization, and only of ours (pyld's own module and classes
    are left as they are):

    - Safe mode. pyld has none; this processor records what expansion drops (pyld's
      ``on_property_dropped``). An undefined type needs no check: it is resolved against the
      base IRI and so changes the canonical form (the signature fails).
    - Processed contexts kept across documents: overrides ``JsonLdProcessor._process_context``
      (pyld 3.3.0; tests/badges/test_pyld_pin.py fails when an upgrade changes it).
    """

    def __init__(self) -> None:
        self.dropped: list[str] = []
        super().__init__(on_property_dropped=self._dropped)

    def _dropped(self, expanded_property: str | None) -> None:
        self.dropped.append(str(expanded_property))

    def _expand(
        self,
        active_ctx: Any,
        active_property: Any,
        element: Any,
        options: dict[str, Any],
        inside_list: bool = False,
        inside_index: Any = False,
        type_scoped_ctx: Any = None,
    ) -> Any:
        """pyld's ``_expand`` (pyld 3.3.0; tests/badges/test_pyld_pin.py), its result kept for
        a ``Constant`` element: expansion is a function of the element, the active context
        (known by its ``_uuid``, never changed once made), the active property, the
        type-scoped context, whether inside a list or index, and the options (the base IRI,
        the processing mode, our document loader). Kept only when safe mode dropped nothing
        there, so a document with an undefined term is refused every time."""
        args = (active_ctx, active_property, element, options, inside_list, inside_index)
        stock = super()._expand
        if (
            not isinstance(element, Constant)
            or options.get("documentLoader") is not document_loader
        ):
            return stock(*args, type_scoped_ctx)
        uid = active_ctx.get("_uuid") if hasattr(active_ctx, "get") else None
        scoped = None if type_scoped_ctx is None else type_scoped_ctx.get("_uuid")
        if uid is None or (type_scoped_ctx is not None and scoped is None):
            return stock(*args, type_scoped_ctx)
        key = (
            element.key,
            uid,
            active_property,
            scoped,
            inside_list,
            inside_index,
            options.get("base"),
            options.get("processingMode"),
        )
        expanded = _expanded_constants.get(key)
        if expanded is None:
            dropped = len(self.dropped)
            expanded = stock(*args, type_scoped_ctx)
            if len(self.dropped) != dropped:
                return expanded
            _expanded_constants[key] = expanded
        return _json_copy(expanded)  # the node map may share and relabel what it is given

    def _process_context(
        self,
        active_ctx: Any,
        local_ctx: Any,
        options: dict[str, Any],
        override_protected: bool = False,
        propagate: bool = True,
        validate_scoped: bool = True,
        cycles: Any = None,
    ) -> Any:
        stock = super()._process_context
        args = (active_ctx, local_ctx, options, override_protected, propagate, validate_scoped)
        uid = active_ctx.get("_uuid") if hasattr(active_ctx, "get") else None
        if uid is None or options.get("documentLoader") is not document_loader:
            return stock(*args, cycles)  # only with the bundled contexts
        try:
            local_key = _context_cache_key(local_ctx)
        except (TypeError, ValueError):
            return stock(*args, cycles)
        key = (
            uid,
            local_key,
            override_protected,
            propagate,
            validate_scoped,
            options.get("base"),
            options.get("processingMode"),
        )
        processed = _processed_contexts.get(key)
        if processed is None:
            processed = stock(*args, cycles)
            if isinstance(processed, frozendict):  # never keep a context someone could change
                _processed_contexts[key] = processed
        return processed


def canonize(
    document: dict[str, Any], *, timeout_seconds: float | None = None, safe: bool = True
) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document (bundled contexts only). ``safe``:
    refuse (UnsafeDocument) a document with terms its contexts do not define."""
    started = time.monotonic()
    processor = _SafeProcessor()
    result: str = processor.normalize(
        document,
        {
            "algorithm": "URDNA2015",
            "format": "application/n-quads",
            "documentLoader": document_loader,
            # pyld's documented option (its docstrings say "internal use"): our resolver, so
            # the faster keys and the kept contexts are ours alone
            "contextResolver": _BundledContextResolver(),
        },
    )
    if safe and processor.dropped:
        terms = ", ".join(sorted(set(processor.dropped)))
        raise UnsafeDocument(
            f"Terms its JSON-LD contexts do not define, which no signature covers: {terms}."
        )
    if timeout_seconds is not None and time.monotonic() - started > timeout_seconds:
        raise TimeoutError("Canonicalization took too long.")
    return result


# --- keys ---------------------------------------------------------------------------------


def public_key_multibase(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "z" + base58.b58encode(ED25519_PUB_PREFIX + raw).decode()


def public_key_from_multibase(value: str) -> Ed25519PublicKey:
    if not value.startswith("z"):
        raise ValueError("Only base58btc ('z') multibase keys are supported.")
    raw = base58.b58decode(value[1:])
    if not raw.startswith(ED25519_PUB_PREFIX) or len(raw) != 34:
        raise ValueError("Not an Ed25519 public key.")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


# --- proofs -------------------------------------------------------------------------------


# sha256 of the canonical proof options, by the options' JSON (``_context_cache_key``). The
# options of the badges one key signs in the same second are the same document (type,
# created, verificationMethod, cryptosuite, proofPurpose and the credential's @context), and
# canonicalizing it is a pure function of it (the contexts are the bundled files, which never
# change): a batch, which gives its proofs one ``created``, canonicalizes them once.
_options_digests = _Recent(maxsize=64)


def _options_digest(options: dict[str, Any]) -> bytes:
    try:
        key = _context_cache_key(options)
    except (TypeError, ValueError):
        return hashlib.sha256(canonize(options).encode()).digest()
    digest: bytes | None = _options_digests.get(key)
    if digest is None:
        digest = hashlib.sha256(canonize(options).encode()).digest()
        _options_digests[key] = digest
    return digest


def _hash_data(
    document: dict[str, Any],
    proof_options: dict[str, Any],
    canonicalize: Callable[[dict[str, Any]], str] | None = None,
) -> tuple[bytes, Timing]:
    timing = Timing()
    options = {**proof_options, "@context": document["@context"]}
    options.pop("proofValue", None)
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    with timing.measure("canonicalize"):
        options_digest = _options_digest(options)
        canonical_document = (canonicalize or canonize)(unsigned)
    data = options_digest + hashlib.sha256(canonical_document.encode()).digest()
    return data, timing


@dataclass
class Timing:
    """Where the time of one signing went, in seconds (for the issuing benchmark)."""

    seconds: dict[str, float] = field(default_factory=dict)

    def measure(self, name: str) -> _Measure:
        return _Measure(self, name)


class _Measure:
    def __init__(self, timing: Timing, name: str) -> None:
        self.timing, self.name = timing, name

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        elapsed = time.perf_counter() - self.started
        self.timing.seconds[self.name] = self.timing.seconds.get(self.name, 0.0) + elapsed


def sign(
    document: dict[str, Any],
    *,
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: str,
    timing: Timing | None = None,
    canonicalize: Callable[[dict[str, Any]], str] | None = None,
) -> dict[str, Any]:
    """Return a copy of ``document`` with one ``DataIntegrityProof`` added to its ``proof``
    array (an array even when it is the only proof: the OB 3.0 schema wants one). The copy is
    shallow: ``document`` is left unchanged, and the copy shares its values except ``proof``.
    ``canonicalize``: what makes the document's canonical N-Quads, ``canonize`` by default
    (a batch passes ``canon_templates.canonize``, which returns the same string)."""
    proof = {
        "type": "DataIntegrityProof",
        "created": created,
        "verificationMethod": verification_method,
        "cryptosuite": CRYPTOSUITE,
        "proofPurpose": "assertionMethod",
    }
    data, hashed = _hash_data(document, proof, canonicalize)
    started = time.perf_counter()
    signature = private_key.sign(data)
    if timing is not None:
        for name, seconds in hashed.seconds.items():
            timing.seconds[name] = timing.seconds.get(name, 0.0) + seconds
        timing.seconds["sign"] = timing.seconds.get("sign", 0.0) + time.perf_counter() - started
    existing = document.get("proof") or []
    proofs = existing if isinstance(existing, list) else [existing]
    return {
        **document,
        "proof": [*proofs, {**proof, "proofValue": "z" + base58.b58encode(signature).decode()}],
    }


@dataclass
class Verification:
    verified: bool
    errors: list[str] = field(default_factory=list)
    verification_methods: list[str] = field(default_factory=list)


KeyResolver = Callable[[str], Ed25519PublicKey | None]


def verify(document: dict[str, Any], *, resolve_key: KeyResolver) -> Verification:
    """Check every ``eddsa-rdfc-2022`` proof on ``document``. ``resolve_key`` maps a
    verification method id to a public key, or None when the method is unknown."""
    proofs: Iterable[Any] = document.get("proof") or []
    if isinstance(proofs, dict):
        proofs = [proofs]
    proofs = list(proofs)
    if not proofs:
        return Verification(False, ["The credential has no proof."])
    errors: list[str] = []
    methods: list[str] = []
    for proof in proofs:
        if not isinstance(proof, dict) or proof.get("type") != "DataIntegrityProof":
            errors.append("Unsupported proof type.")
            continue
        if proof.get("cryptosuite") != CRYPTOSUITE:
            errors.append(f"Unsupported cryptosuite {proof.get('cryptosuite')!r}.")
            continue
        if proof.get("proofPurpose") != "assertionMethod":
            errors.append("The proof's purpose is not assertionMethod.")
            continue
        method = str(proof.get("verificationMethod", ""))
        key = resolve_key(method)
        if key is None:
            errors.append(f"Unknown verification method {method!r}.")
            continue
        value = str(proof.get("proofValue", ""))
        try:
            if not value.startswith("z"):
                raise ValueError
            signature = base58.b58decode(value[1:])
            data, _ = _hash_data(document, proof)
            key.verify(signature, data)
        except UnsafeDocument as error:  # before ValueError, its base
            errors.append(f"The credential is not what was signed. {error}")
            continue
        except (ValueError, InvalidSignature):
            errors.append("The signature does not match the credential.")
            continue
        except jsonld.JsonLdError as error:
            errors.append(f"The credential could not be canonicalized: {error}")
            continue
        methods.append(method)
    return Verification(not errors and bool(methods), errors, methods)
