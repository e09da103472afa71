"""pyld is pinned because badges/dataintegrity.py overrides and calls some of its internals (on
our own subclasses, never on pyld's module or classes: STYLE.md rule 26). These tests fail
loudly when an upgrade changes any of them, and say what to re-check before moving the pin.
That ``normalize`` still takes our resolver from its ``contextResolver`` option is checked by
behaviour instead: tests/badges/test_dataintegrity.py's isolation test fails if pyld used its
own process-wide cache for our contexts."""

from __future__ import annotations

import ast
import hashlib
import inspect
import re
import textwrap
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import pytest
from pyld import context_resolver, jsonld, resolved_context
from pyld.canon import URDNA2015

from tests.badges.conftest import ROOT

PINNED = "3.3.0"

Processor = jsonld.JsonLdProcessor
Resolver = context_resolver.ContextResolver

# what we rely on in pyld 3.3.0 -> (hash of its syntax tree, what to re-check when it changes)
RELIED_ON: dict[Callable[..., Any], tuple[str, str]] = {
    Processor._process_context: (
        "69b81c2001b815f18e316223a9d75928dfa6574b89db3382c51ff29f9e6a5ce3",
        "_SafeProcessor._process_context overrides it and keeps its results by the active "
        "context's `_uuid`, the local context and the options: check its signature, that a "
        "processed context is still a frozendict that depends on nothing else, and that "
        "scoped contexts still go through self._process_context",
    ),
    Processor._expand: (
        "814e032b0e5e53c300c2d5fc4019df7832e73ee0a727bf014976fe72e3360ce8",
        "_SafeProcessor._expand overrides it and keeps its result for a Constant element by "
        "the element's key, the active context's `_uuid`, the active property, the type-scoped "
        "context's `_uuid`, inside_list/inside_index and the options: check its signature, that "
        "the result still depends on nothing else, and that nested values still go through "
        "self._expand",
    ),
    Processor._clone_active_context: (
        "ac6fd1ce07899d827067c24b7988f3b30cac312e62e145bf4f0dd2cecd8f7733",
        "the processed-context cache assumes a clone never copies `_uuid` (an active context "
        "with a given `_uuid` is never changed afterwards): check that it still does not",
    ),
    Resolver.__init__: (
        "a024e4fb1395f8507eadbdc8ec12d266eecf8e639ad4ecee7fb7d3bf5cb84dcf",
        "_BundledContextResolver passes (shared_cache, document_loader): check the parameters "
        "and that the shared cache is still only used through get() and [key] = value",
    ),
    Resolver.resolve: (
        "f5b02dbca3e816c72516657af46f4b9d777a0206d3141afc4b9b45d2a295b683",
        "_BundledContextResolver.resolve overrides it for embedded contexts (a faster cache "
        "key) and hands everything else to it one context at a time: port any new handling of "
        "embedded contexts, and check `cycles` is still shared across the list",
    ),
    Resolver._get: (
        "1d5d820dffc2ad8a28fa265ac42711e5a4154226d3d504e5f3c3c827ca70b50e",
        "_BundledContextResolver.resolve calls it to look an embedded context up by key",
    ),
    Resolver._cache_resolved_context: (
        "b5d257c2f1ed5c3c03e8e482c1d164c9b45f66b48a15ab2f2dc749bae96565b1",
        "_BundledContextResolver.resolve calls it to keep an embedded context, tagged static",
    ),
    resolved_context.ResolvedContext.__init__: (
        "17370d0a1d08f64e80f0cf3b2a7c8ec5cb2ffdce57aa2807f65cef6a411704a7",
        "_BundledContextResolver.resolve builds ResolvedContext(ctx) as pyld's resolve does",
    ),
    # badges/canon_templates.py: a template's slots are sound because of what these do
    Processor._expand_value: (
        "c28234ffaa3e31caead21922e0653d5e22e95e6cdde8a9ddd8dcaf20cdc379c4",
        "canon_templates relies on a string under a term that is not @id/@vocab-typed "
        "becoming {'@value': s} whatever s holds: check it still does",
    ),
    Processor._expand_iri: (
        "66650b9fbe2c9c8d86d3195849faa33fe0755cd148e2109d3750d5796a79fc67",
        "canon_templates relies on an http(s) IRI whose suffix starts with '//' being returned "
        "unchanged (vocab=False) in any active context: check it still is",
    ),
    Processor._object_to_rdf: (
        "c033bfa7ac652bf83fe546f68b0d07fa50063da5e9eaec41cc62146543c40dbd",
        "canon_templates relies on a string literal keeping its value as is unless its "
        "datatype is xsd:double or @json (those are never slots): check no other branch "
        "rewrites a string",
    ),
    Processor._graph_to_rdf: (
        "40ae3dd167e22a16ae5a8f3dec510894971d6b4afe81d3ab6e3f925e74b42b39",
        "canon_templates relies on the triples of a node depending on its IRI only through "
        "_is_absolute_iri (true of every IRI slot): check it",
    ),
    URDNA2015.main: (
        "9ea13ccc98ae78c0824b3f8d0323f1c65d5c2031bdcf16b72fb5a0c483491ccb",
        "canon_templates calls it with a dataset and {'format': 'application/n-quads'} as "
        "normalize does: check its signature and that it still relabels blank nodes in place "
        "(each filled template's components are fresh dicts)",
    ),
    URDNA2015.modify_first_degree_component: (
        "4c947a9a802c4eaf4b1eaea6c9fa6d002bae04b492dbaec428cf7256f6ff19a9",
        "canon_templates._URDNA2015 overrides it with a shallow copy: port any change",
    ),
}


def _tree_hash(function: Callable[..., Any]) -> str:
    """Hash of the function's syntax tree: formatting and comments may change, code may not."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()


def test_the_installed_pyld_is_the_pinned_one() -> None:
    # given the pin in pyproject.toml
    pinned = re.search(r'"pyld==([^"]+)"', (ROOT / "pyproject.toml").read_text())
    # then it is the version these tests were written for, and the one installed
    assert pinned is not None, "pyproject.toml must pin pyld exactly (pyld==X.Y.Z)"
    assert pinned.group(1) == PINNED, (
        f"pyproject.toml pins pyld {pinned.group(1)}, but tests/badges/test_pyld_pin.py was "
        f"written for {PINNED}: re-check what RELIED_ON lists, then update PINNED and the hashes."
    )
    assert version("pyld") == PINNED, (
        f"pyld {version('pyld')} is installed, {PINNED} is pinned: reinstall the environment."
    )


@pytest.mark.parametrize("function", list(RELIED_ON), ids=[f.__qualname__ for f in RELIED_ON])
def test_the_pyld_internals_we_override_or_call_are_unchanged(
    function: Callable[..., Any],
) -> None:
    # given the hash of the pyld code badges/dataintegrity.py was written against
    expected, recheck = RELIED_ON[function]
    # when we hash the installed pyld's code
    found = _tree_hash(function)
    # then it is the same code
    assert found == expected, (
        f"pyld's {function.__module__}.{function.__qualname__} changed (pyld "
        f"{version('pyld')}). badges/dataintegrity.py or canon_templates.py depends on it: "
        f"{recheck}. Read the new "
        f"source, adapt the override, run tests/badges/test_dataintegrity.py (the 1EdTech and "
        f"CLR vectors byte for byte) and the issuing benchmark, then set its hash here to "
        f"{found}."
    )
