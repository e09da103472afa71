"""Canonicalizing many documents of one shape: the RDF of a template, its slots filled in.

A batch signs hundreds of badges that differ only in their values: the badge's URL, the
educator's name and e-mail hash, the dates, the status index, the evidence. Turning each into
RDF with pyld (JSON-LD expansion, the node map) was ~80 % of canonicalizing it. Here it is done
once per *shape*, on a copy whose variable strings are replaced by sentinels; each document of
that shape gets the template's RDF dataset with its own strings put where the sentinels are,
and only then RDFC-1.0 (pyld's ``URDNA2015``, as ``dataintegrity.canonize``), so labels,
escaping and order are computed from the document's own dataset.

Why the dataset is the one pyld makes from the document itself (docs/decisions/0025-*):

- The shape (``_shape``) is the document's JSON with its slot strings left out and everything
  else kept: every key, every array length, every number, boolean and null, each ``@context``,
  each ``Constant``'s key, and every string that is not a slot (types, IRIs of values, …). The
  active context at every place, and so the term each key expands to, depends only on those.
- A *literal slot* is a string whose sentinel comes out as the value of exactly one literal,
  and nowhere else (no IRI, datatype, language, graph), with a datatype other than xsd:double
  and rdf:JSON. pyld turns a string under such a term into ``{"@value": s}`` and then a literal
  with ``s`` as is, whatever ``s`` holds: only those two datatypes rewrite the string.
- An *IRI slot* is the ``id`` of a node (the sentinel is the subject of a quad), and both the
  sentinel and the value are ``http(s)://`` IRIs of plain ASCII (``_IRI``): pyld returns such an
  IRI unchanged (``_expand_iri``: a suffix starting with ``//``). A value equal to another IRI
  slot's or to any IRI of the template would merge two nodes: that document is canonicalized
  the ordinary way.
- Two literal quads that become equal once filled in (pyld keeps one): the ordinary way too.
- A template is made only when safe mode dropped nothing (dropping depends on keys only), and
  only if filling it with its own document's strings gives the dataset pyld makes of it.

Anything else — a shape with no template, a value outside its slot's class — is canonicalized
by ``dataintegrity.canonize``. tests/badges/test_canon_templates.py compares both over varied
badges (unicode, quotes, tabs, control characters, IRI-looking and equal strings).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from pyld.canon import URDNA2015

from . import dataintegrity
from .dataintegrity import Constant, _Recent

# plain-ASCII http(s) IRIs that pyld's IRI expansion returns unchanged, in any active context
_IRI = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+\Z")
_XSD_DOUBLE = "http://www.w3.org/2001/XMLSchema#double"
_RDF_JSON = "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON"
# keys whose strings are never slots: a node's types shape the active context
_TYPE_KEYS = frozenset({"type", "@type"})
_ID_KEYS = frozenset({"id", "@id"})
# markers of the shape (ints: never a key, which is a string)
_OPEN, _CLOSE, _LIST, _END, _STRING = 0, 1, 2, 3, 4

# this process's sentinels: no document holds them (a document that does is not templated)
_NONCE = secrets.token_hex(8)


def _literal_sentinel(index: int) -> str:
    return f"tessera-slot-{_NONCE}-{index}-"


def _iri_sentinel(index: int) -> str:
    return f"https://slot.invalid/{_NONCE}/{index}"


def _shape(document: Any) -> tuple[tuple[Any, ...], list[str], list[str]]:
    """The document's structure as tokens, its strings in order, and the key each string is
    under. A ``Constant`` is its key (its content is a function of it); an ``@context`` is its
    JSON."""
    tokens: list[Any] = []
    strings: list[str] = []
    keys: list[str] = []

    def walk(value: Any, key: str) -> None:
        if isinstance(value, str):
            tokens.append(_STRING)
            strings.append(value)
            keys.append(key)
        elif isinstance(value, Constant):
            tokens.append(("constant", value.key))
        elif isinstance(value, dict):
            tokens.append(_OPEN)
            for name, item in value.items():
                tokens.append(name)
                if name == "@context":
                    tokens.append(("context", dataintegrity._context_cache_key(item)))
                else:
                    walk(item, name)
            tokens.append(_CLOSE)
        elif isinstance(value, list):
            tokens.append(_LIST)
            for item in value:
                walk(item, key)
            tokens.append(_END)
        else:  # numbers, booleans, null: as JSON (3 and 3.0, 1 and true differ)
            tokens.append(("scalar", json.dumps(value)))

    walk(document, "")
    return tuple(tokens), strings, keys


def _replace(document: Any, replacements: dict[int, str]) -> Any:
    """A copy of the document with its ``i``-th string (``_shape``'s order) replaced."""
    counter = iter(range(1 << 62))

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            index = next(counter)
            return replacements.get(index, value)
        if isinstance(value, Constant):
            return value
        if isinstance(value, dict):
            return {k: (v if k == "@context" else walk(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    return walk(document)


def _to_rdf(document: Any) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """pyld's RDF dataset of the document, as ``canonize`` makes it, and what safe mode saw
    dropped."""
    processor = dataintegrity._SafeProcessor()
    dataset = processor.to_rdf(
        document,
        {
            "documentLoader": dataintegrity.document_loader,
            "contextResolver": dataintegrity._BundledContextResolver(),
            "produceGeneralizedRdf": False,
            "base": "",
            "extractAllScripts": True,
            "processingMode": "json-ld-1.1",
        },
    )
    return dataset, processor.dropped


_POSITIONS = ("subject", "predicate", "object")


@dataclass(frozen=True)
class _Template:
    graphs: tuple[tuple[str, tuple[dict[str, Any], ...]], ...]
    # (graph index, quad index, string index) of each literal slot
    literals: tuple[tuple[int, int, int], ...]
    # (graph index, quad index, position, string index) of each place an IRI slot is
    iris: tuple[tuple[int, int, str, int], ...]
    iri_slots: tuple[int, ...]
    template_iris: frozenset[str]
    # (graph index, quad indexes): literal quads of one subject and predicate, one a slot
    groups: tuple[tuple[int, tuple[int, ...]], ...]
    # per graph, per quad: whether each document gets its own copy (a slot, a blank node, a
    # named graph: what filling or URDNA2015 writes to); the others are shared, never written
    own: tuple[tuple[bool, ...], ...]

    def unfit(self, strings: list[str]) -> set[int]:
        """The slots these strings cannot fill: an IRI slot's value that is not a plain IRI or
        names a node another IRI names; a literal slot whose quad equals another of its group
        once filled in."""
        merged: set[int] = set()
        by_iri: dict[str, list[int]] = {}
        for index in self.iri_slots:
            value = strings[index]
            if not _IRI.match(value) or value in self.template_iris:
                merged.add(index)
            by_iri.setdefault(value, []).append(index)
        merged.update(i for same in by_iri.values() if len(same) > 1 for i in same)
        slot_of = {(g, q): index for g, q, index in self.literals}
        for graph, members in self.groups:
            seen: dict[tuple[Any, ...], list[int]] = {}
            for quad in members:
                component = dict(self.graphs[graph][1][quad]["object"])
                slot = slot_of.get((graph, quad))
                if slot is not None:
                    component["value"] = strings[slot]
                seen.setdefault(_literal_key(component), []).append(quad)
            for quads in seen.values():
                if len(quads) > 1:
                    merged |= {slot_of[(graph, q)] for q in quads if (graph, q) in slot_of}
        return merged

    def fill(self, strings: list[str]) -> dict[str, list[dict[str, Any]]] | None:
        """The dataset of a document of this shape; None when it must be canonicalized the
        ordinary way."""
        seen: set[str] = set()
        for index in self.iri_slots:
            value = strings[index]
            if not _IRI.match(value) or value in seen or value in self.template_iris:
                return None
            seen.add(value)
        graphs = [
            [_copy_quad(quad) if own else quad for quad, own in zip(quads, owns, strict=True)]
            for (_, quads), owns in zip(self.graphs, self.own, strict=True)
        ]
        for graph, quad, index in self.literals:
            graphs[graph][quad]["object"]["value"] = strings[index]
        for graph, quad, position, index in self.iris:
            graphs[graph][quad][position]["value"] = strings[index]
        for graph, members in self.groups:
            objects = [_literal_key(graphs[graph][quad]["object"]) for quad in members]
            if len(set(objects)) != len(objects):
                return None
        return {name: quads for (name, _), quads in zip(self.graphs, graphs, strict=True)}


def _copy_quad(quad: dict[str, Any]) -> dict[str, Any]:
    # URDNA2015 relabels blank nodes in place: every component is the document's own
    return {name: dict(component) for name, component in quad.items()}


def _literal_key(component: dict[str, Any]) -> tuple[Any, ...]:
    return (component["value"], component.get("datatype"), component.get("language"))


def _build(
    document: Any, strings: list[str], keys: list[str], slots: frozenset[int] | None
) -> tuple[_Template | None, frozenset[int]]:
    """The template of the document's shape with ``slots`` (None: find them), and the slots it
    has; None when the document has no usable template."""
    if slots is None:
        candidates = {
            i
            for i, key in enumerate(keys)
            if key not in _TYPE_KEYS and (key not in _ID_KEYS or _IRI.match(strings[i]))
        }
    else:
        candidates = set(slots)
    for _ in range(4):
        sentinels = {
            i: _iri_sentinel(i) if keys[i] in _ID_KEYS else _literal_sentinel(i) for i in candidates
        }
        try:
            dataset, dropped = _to_rdf(_replace(document, sentinels))
        except Exception:
            return None, frozenset()
        if dropped:
            return None, frozenset()
        template, rejected = _check(dataset, sentinels)
        if template is not None and not rejected:
            # strings that pyld merges in this document (a node given twice, the same value
            # each time) are fixed: documents of the shape then merge them alike
            rejected = template.unfit(strings)
        if template is not None and not rejected:
            break
        if slots is not None:  # the slots of the shape do not hold here
            return None, frozenset()
        candidates -= rejected
    else:
        return None, frozenset()
    # the template filled with the document's own strings is pyld's dataset of the document
    own, dropped = _to_rdf(document)
    filled = template.fill(strings)
    if dropped or filled is None or _quads(filled) != _quads(own):
        return None, frozenset()
    return template, frozenset(candidates)


def _quads(dataset: dict[str, list[dict[str, Any]]]) -> list[tuple[Any, ...]]:
    return sorted(
        (name, *(tuple(sorted(quad[p].items())) for p in _POSITIONS))
        for name, quads in dataset.items()
        for quad in quads
    )


def _check(
    dataset: dict[str, list[dict[str, Any]]], sentinels: dict[int, str]
) -> tuple[_Template | None, set[int]]:
    """Where each sentinel came out; the template, and the strings that are not slots."""
    by_value = {value: index for index, value in sentinels.items()}
    found: dict[int, list[tuple[int, int, str]]] = {i: [] for i in sentinels}
    rejected: set[int] = set()
    graphs = list(dataset.items())
    marker = _NONCE
    for g, (name, quads) in enumerate(graphs):
        if marker in name:
            return None, set(sentinels)
        for q, quad in enumerate(quads):
            for position, component in quad.items():
                for field, text in component.items():
                    if field == "type" or not isinstance(text, str) or marker not in text:
                        continue
                    index = by_value.get(text)
                    if field != "value" or index is None:  # inside a longer string, a datatype…
                        rejected.update(i for i, v in sentinels.items() if v in text)
                        continue
                    found[index].append((g, q, position))
    literals: list[tuple[int, int, int]] = []
    iris: list[tuple[int, int, str, int]] = []
    for index, places in found.items():
        iri = sentinels[index].startswith("https://")
        if not places:
            rejected.add(index)
        elif iri:
            kinds = {graphs[g][1][q][p]["type"] for g, q, p in places}
            positions = {p for _, _, p in places}
            if kinds != {"IRI"} or "subject" not in positions or "predicate" in positions:
                rejected.add(index)  # a node's id: the subject of its quads, never a predicate
            else:
                iris += [(g, q, p, index) for g, q, p in places]
        else:
            [(g, q, p), *more] = places
            component = graphs[g][1][q][p]
            if (
                more
                or p != "object"
                or component["type"] != "literal"
                or component.get("datatype") in (_XSD_DOUBLE, _RDF_JSON)
            ):
                rejected.add(index)
            else:
                literals.append((g, q, index))
    if rejected:
        return None, rejected
    # every IRI of the template (nodes, predicates, datatypes, graphs) but its slots'
    iri_values = {name for name, _ in graphs}
    for _, quads in graphs:
        for quad in quads:
            for component in quad.values():
                iri_values.add(component.get("datatype") or component["value"])
    slot_iris = {sentinels[i] for _, _, _, i in iris}
    groups: list[tuple[int, tuple[int, ...]]] = []
    slot_quads = {(g, q) for g, q, _ in literals}
    iri_quads = {(g, q) for g, q, _, _ in iris}
    for g, (_, quads) in enumerate(graphs):
        by_edge: dict[tuple[str, str], list[int]] = {}
        for q, quad in enumerate(quads):
            if quad["object"]["type"] == "literal":
                edge = (quad["subject"]["value"], quad["predicate"]["value"])
                by_edge.setdefault(edge, []).append(q)
        for members in by_edge.values():
            if len(members) > 1 and any((g, q) in slot_quads for q in members):
                groups.append((g, tuple(members)))
    template = _Template(
        graphs=tuple((name, tuple(quads)) for name, quads in graphs),
        literals=tuple(literals),
        iris=tuple(iris),
        iri_slots=tuple(sorted({i for _, _, _, i in iris})),
        template_iris=frozenset(iri_values - slot_iris),
        groups=tuple(groups),
        own=tuple(
            tuple(
                name != "@default"
                or (g, q) in slot_quads
                or (g, q) in iri_quads
                or any(c["type"] == "blank node" for c in quad.values())
                for q, quad in enumerate(quads)
            )
            for g, (name, quads) in enumerate(graphs)
        ),
    )
    return template, set()


class _URDNA2015(URDNA2015):
    """pyld's RDFC-1.0 (pyld 3.3.0; tests/badges/test_pyld_pin.py) without a ``deepcopy`` per
    blank node per quad while hashing: a component is a flat dict of strings, so a shallow
    copy is the same copy (a quarter of canonicalizing a filled template went to it)."""

    def modify_first_degree_component(
        self, id_: str, component: dict[str, Any], key: str
    ) -> dict[str, Any]:
        if component["type"] != "blank node":
            return component
        return {**component, "value": "_:a" if component["value"] == id_ else "_:z"}


# slots by shape (string positions), templates by shape and the strings that are not slots;
# False: none (the ordinary way)
_slots: _Recent = _Recent(maxsize=256)
_templates: _Recent = _Recent(maxsize=256)
# templates made per shape: a shape whose strings that are not slots differ from document to
# document (its first document's values fixed a string that varies) costs a template per
# document, a few times canonizing it: after this many, its documents go the ordinary way
_BUILDS_PER_SHAPE = 16
_builds: _Recent = _Recent(maxsize=256)


def canonize(document: dict[str, Any]) -> str:
    """``dataintegrity.canonize(document)``, the same string, from a template of the
    document's shape when there is one (see the module)."""
    shape, strings, keys = _shape(document)
    if any(_NONCE in value for value in strings):
        return dataintegrity.canonize(document)
    slots = _slots.get(shape)
    if slots is False:
        return dataintegrity.canonize(document)
    template: _Template | bool | None = None
    if slots is not None:
        fixed = tuple(value for i, value in enumerate(strings) if i not in slots)
        template = _templates.get((shape, fixed))
    if template is None:
        builds = _builds.get(shape, 0) + 1
        _builds[shape] = builds
        if builds > _BUILDS_PER_SHAPE:
            _slots[shape] = False
            return dataintegrity.canonize(document)
        template, found = _build(document, strings, keys, slots)
        if slots is None:
            slots = found if template is not None else False
            _slots[shape] = slots
            if template is None:
                return dataintegrity.canonize(document)
        fixed = tuple(value for i, value in enumerate(strings) if i not in slots)
        _templates[(shape, fixed)] = template if template is not None else False
    if not isinstance(template, _Template):
        return dataintegrity.canonize(document)
    dataset = template.fill(strings)
    if dataset is None:
        return dataintegrity.canonize(document)
    result: str = _URDNA2015().main(dataset, {"format": "application/n-quads"})
    return result
