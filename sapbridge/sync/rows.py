"""From raw SAP rows to canonical tuples: keys alone, whole rows, and a worker process for pages.

An incremental read decodes only the key fields of each raw OData entity (a typed msgspec
decoder skips the rest) to compare its digest with the stored row of that key; only new and
changed rows are converted in full. Converting big pages runs in a worker process pipelined
with the writer (at most ``depth`` pages in flight, so memory stays bounded); small reads
convert in-process, where a worker would cost more to start than it saves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from operator import attrgetter
from typing import Any

import msgspec
import orjson

from sapbridge.mapping import DatasetMapping, FieldSpec, ODataRoute, values_converter
from sapbridge.sync.guards import check_lengths
from sapbridge.sync.worker import ConversionWorker

__all__ = ["KeyReader", "PageConverter", "RowConversion"]

_KEY_CONVERSIONS = {"str", "alpha", "date", "decimal"}


@dataclass(frozen=True, slots=True)
class RowConversion:
    """Everything needed to convert one dataset's raw rows (picklable, for the worker)."""

    mapping: DatasetMapping
    route_name: str
    sqlite: bool
    widths: tuple[tuple[int, str, int], ...]
    key_at: tuple[int, ...]

    def rows(self, raws: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        """Canonical tuples of decoded rows, refused when a value is longer than its column."""
        route = self.mapping.route(self.route_name)
        built = self.mapping.batch_builder(route, sqlite=self.sqlite)(raws)
        check_lengths(self.mapping.dataset, built, self.widths, self.key_at)
        return built

    def json_rows(self, payload: bytes) -> list[tuple[Any, ...]]:
        """Canonical tuples of a JSON array of raw entities.

        Where every field converts its own SAP value, the page is decoded straight into those
        fields (msgspec skips the rest, about half the cost of decoding every entity into a
        dict) and converted column by column; a bad value, or an entity that is not an
        object, is converted again through :meth:`rows`, which names what is wrong."""
        typed = self.mapping.values_builder(self.mapping.route(self.route_name), sqlite=self.sqlite)
        if typed is None:
            return self.rows(orjson.loads(payload))
        names, build = typed
        try:
            entities = _fields_decoder(names).decode(payload)
            built = build([list(map(attrgetter(f"f{i}"), entities)) for i in range(len(names))])
        except (msgspec.ValidationError, ValueError, ArithmeticError):
            return self.rows(orjson.loads(payload))
        check_lengths(self.mapping.dataset, built, self.widths, self.key_at)
        return built


@lru_cache(maxsize=64)
def _fields_decoder(names: tuple[str, ...]) -> msgspec.json.Decoder[Any]:
    """A decoder of a JSON array of entities into structs holding these SAP fields alone."""
    fields = [(f"f{i}", Any, None) for i in range(len(names))]
    struct = msgspec.defstruct("Entity", fields, rename=dict(zip((f[0] for f in fields), names, strict=True)),
                               gc=False)
    return msgspec.json.Decoder(list[struct])  # type: ignore[valid-type]


def _convert_json(_state: dict[str, Any], conversion: RowConversion, payload: bytes
                  ) -> list[tuple[Any, ...]]:
    return conversion.json_rows(payload)


class KeyReader:
    """Canonical keys of raw OData entities, decoding only the key fields."""

    def __init__(self, mapping: DatasetMapping, route: ODataRoute, *, sqlite: bool) -> None:
        specs = {spec.name: spec for spec in route.fields}
        self.specs: list[FieldSpec] = [specs[name] for name in mapping.key]
        fields = [(f"k{i}", Any, None) for i in range(len(self.specs))]
        struct = msgspec.defstruct("Key", fields, rename={f"k{i}": s.sap for i, s in enumerate(self.specs)},
                                   array_like=False, gc=False)
        self.decode = msgspec.json.Decoder(list[struct]).decode  # type: ignore[valid-type]
        self.converters = [values_converter(spec, sqlite=sqlite) for spec in self.specs]

    @staticmethod
    def supports(mapping: DatasetMapping, route: ODataRoute) -> bool:
        """True when every key field is a plain top-level field with a simple conversion."""
        specs = {spec.name: spec for spec in route.fields}
        return all(name in specs and "/" not in specs[name].sap and specs[name].convert in _KEY_CONVERSIONS
                   for name in mapping.key)

    def keys(self, raws: Sequence[Any]) -> list[tuple[Any, ...]]:
        """The canonical key of each raw entity, in order."""
        return self.keys_of(b"[" + b",".join(raws) + b"]")

    def keys_of(self, payload: bytes) -> list[tuple[Any, ...]]:
        """The canonical key of each entity of a JSON array, in order."""
        decoded = self.decode(payload)
        columns = [convert(list(map(attrgetter(f"k{i}"), decoded)))
                   for i, convert in enumerate(self.converters)]
        return list(zip(*columns, strict=True))


@dataclass
class PageConverter:
    """Converts pages of raw entities, in a worker process once pages are big enough.

    Results are collected in submission order: the caller finishes pages first in, first out.
    """

    min_rows: int = 2000
    """Pages with fewer rows to convert are converted in-process."""
    depth: int = 2
    """Pages converted ahead of the writer at most."""
    _worker: ConversionWorker | None = field(default=None, repr=False)
    _state: dict[str, Any] = field(default_factory=dict, repr=False)
    """What calls handled in this process keep between pages (the worker keeps its own)."""

    def submit(self, conversion: RowConversion, raws: Sequence[Any]) -> Callable[[], list[tuple[Any, ...]]]:
        """Start converting raw entities; the returned callable waits for the rows."""
        if not raws:
            return list
        payload = b"[" + b",".join(raws) + b"]"
        return self.call(_convert_json, conversion, payload, in_worker=self.in_worker(len(raws)))

    def in_worker(self, rows: int) -> bool:
        """Whether to hand a page of this many rows to the worker: when it is big enough and the
        worker is not already ``depth`` pages behind (then this process takes the page instead
        of waiting, so both cores work)."""
        return rows >= self.min_rows and (self._worker is None or self._worker.backlog() < self.depth)

    def call(self, function: Callable[..., Any], *args: Any, in_worker: bool) -> Callable[[], Any]:
        """Run ``function(state, *args)`` here or in the worker; the returned callable waits for
        its result. Worker calls are collected in the order they were made."""
        if not in_worker:
            result = function(self._state, *args)
            return lambda: result
        if self._worker is None:
            self._worker = ConversionWorker()
        self._worker.submit(function, *args)
        return self._worker.result

    def close(self) -> None:
        """Stop the worker process, if one was started."""
        if self._worker is not None:
            self._worker.close()
            self._worker = None
