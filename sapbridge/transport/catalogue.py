"""The rows a set of OData recordings hold, per entity set, merged by entity key.

Every recorded collection answer contributes its rows; rows of one entity recorded under
different ``$select`` lists are merged. A recording made with a ``$filter`` of plain ``eq``
conditions joined by ``and`` tells us those fields' values even when they were not selected
(``IsCleared eq false``), so they are added to its rows: a later query filtering on them gets the
rows SAP gave for them. Keys come from the recorded ``$metadata``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from lxml import etree  # type: ignore[import-untyped]

from sapbridge.transport.odata_query import alpha

__all__ = ["Catalogue", "entity_key", "load_catalogue"]

_EQ_TERM = re.compile(r"^\s*(\w+) eq ('(?:[^']|'')*'|true|false|-?\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Recorded rows of each ``(service, entity set)`` and the key properties of each."""

    rows: dict[tuple[str, str], dict[tuple[str, ...], dict[str, Any]]] = field(default_factory=dict)
    keys: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)

    def entity_sets(self) -> list[tuple[str, str]]:
        """Every (service, entity set) with recorded rows or a recorded key."""
        return sorted(set(self.rows) | set(self.keys))


def entity_key(row: dict[str, Any], names: tuple[str, ...]) -> tuple[str, ...]:
    """A row's key as text (the whole row's plain fields when the key is unknown or not selected)."""
    if names and all(n in row for n in names):
        return tuple(str(alpha(str(row.get(n, "")))) for n in names)
    return tuple(f"{k}={v}" for k, v in sorted(row.items()) if not isinstance(v, dict))


def _filter_values(text: str) -> dict[str, Any]:
    """``{field: value}`` of a filter made only of ``field eq literal`` joined by ``and``."""
    values: dict[str, Any] = {}
    for term in re.split(r"\band\b", text):
        match = _EQ_TERM.match(term.strip("() "))
        if match is None or " or " in text:
            return {}
        raw = match.group(2)
        if raw.startswith("'"):
            values[match.group(1)] = raw[1:-1].replace("''", "'")
        else:
            values[match.group(1)] = {"true": True, "false": False}.get(raw, raw)
    return values


def _metadata_keys(document: bytes) -> dict[str, tuple[str, ...]]:
    """Entity set name -> its type's key property names, from a ``$metadata`` document."""
    root = etree.fromstring(document, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    types: dict[str, tuple[str, ...]] = {}
    for node in root.iter("{*}EntityType"):
        names = tuple(ref.get("Name", "") for ref in node.iterfind("{*}Key/{*}PropertyRef"))
        types[node.get("Name", "")] = names
    sets: dict[str, tuple[str, ...]] = {}
    for node in root.iter("{*}EntitySet"):
        type_name = (node.get("EntityType") or "").rsplit(".", 1)[-1]
        sets[node.get("Name", "")] = types.get(type_name, ())
    return sets


def _recordings(root: Path) -> Iterator[tuple[str, str, dict[str, str], Path]]:
    for meta_path in sorted((root / "odata").glob("*/*.json")):
        meta = orjson.loads(meta_path.read_bytes())
        request, response = meta["request"], meta["response"]
        if request["method"] != "GET" or int(response["status"]) != 200:
            continue
        service = meta_path.parent.name
        last = request["path"].rstrip("/").rsplit("/", 1)[-1]
        yield service, last, dict(request["query"]), meta_path.parent / response["body_file"]


def load_catalogue(root: Path) -> Catalogue:
    """Read every recording under ``root/odata`` into a :class:`Catalogue`."""
    catalogue = Catalogue()
    collections: list[tuple[str, str, dict[str, str], Path]] = []
    for service, last, query, body in _recordings(root):
        if last == "$metadata":
            for entity_set, names in _metadata_keys(body.read_bytes()).items():
                catalogue.keys[(service, entity_set)] = names
        elif "(" not in last and not last.startswith("$"):
            collections.append((service, last, query, body))
    for service, entity_set, query, body in collections:
        data = orjson.loads(body.read_bytes()).get("d", {})
        results = data.get("results", []) if isinstance(data, dict) else []
        implied = _filter_values(query.get("$filter", ""))
        names = catalogue.keys.get((service, entity_set), ())
        known = catalogue.rows.setdefault((service, entity_set), {})
        for row in results:
            merged = {**implied, **row}
            key = entity_key(merged, names)
            known[key] = {**known.get(key, {}), **merged}
    return catalogue
