"""Declarative field mappings (``mappings/*.toml``): which SAP source fills which canonical table.

A site with a custom (Z) service, function or table changes the mapping file, not the code.
One file per dataset; each may offer an ``[odata]`` route, an ``[rfc]`` route, or both::

    dataset = "open_items"                  # a table in sapbridge/store/schema.py
    key = ["company_code", "fiscal_year", "document", "item"]
    partition = "company_code"              # synced (and checked for clearing) per company code
    mode = "snapshot"                       # or "incremental" with [incremental]

    [odata]
    service = "API_OPLACCTGDOCITEMCUBE_SRV"
    entity_set = "A_OperationalAcctgDocItemCube"
    filter = [["FinancialAccountType", "eq", "D"], ["IsCleared", "eq", false]]
    partition_field = "CompanyCode"

    [odata.fields]
    company_code = "CompanyCode"                               # plain text
    customer = { sap = "Customer", convert = "alpha:10" }      # ALPHA to internal form
    amount = { sap = "AmountInTransactionCurrency", convert = "amount",
               currency = "TransactionCurrency" }

Field conversions: ``str`` (default), ``alpha:N``, ``date``, ``datetime``, ``decimal``, ``bool``
(SAP flags), ``nonblank`` (a code such as a block reason: set means true),
``amount`` (Decimal; ``sign = "DebitCreditCode"`` with ``credit = ["H"]`` negates credits when the
source sends unsigned amounts; ``internal = true`` undoes SAP's internal two-decimal storage for
currencies such as JPY, using the field named by ``currency``), ``due_date`` (baseline date in
``sap`` plus the first non-zero day count among ``days``, as FI derives the net due date) and
``const`` (``value = ...``).
A ``sap`` path may name an expanded navigation property: ``"to_CrdtMBusinessPartnerTP/CreditRiskClass"``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sapbridge import convert
from sapbridge.config import Settings
from sapbridge.errors import MappingError
from sapbridge.store.schema import OBJECT_TABLES
from sapbridge.store.types import sqlite_storage_form

__all__ = [
    "DatasetMapping",
    "FieldSpec",
    "ODataRoute",
    "RfcRoute",
    "RfcTableRead",
    "load_mapping",
    "load_mapping_path",
    "load_mappings",
    "mappings_for",
    "values_converter",
]

_CONVERSIONS = {"str", "date", "datetime", "decimal", "bool", "nonblank", "amount", "const", "due_date",
                "code"}
_OPERATORS = {"eq", "ne", "ge", "gt", "le", "lt", "in"}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """How one canonical field is read from one SAP field."""

    name: str
    sap: str = ""
    convert: str = "str"
    width: int = 0
    sign: str = ""
    credit: tuple[str, ...] = ("H",)
    currency: str = ""
    internal: bool = False
    value: Any = None
    days: tuple[str, ...] = ()
    values: Mapping[str, str] = field(default_factory=dict)

    def sap_fields(self) -> list[str]:
        """Every SAP field this spec reads (for $select and contract checks)."""
        names = [self.sap] if self.sap else []
        names += [n for n in (self.sign, self.currency if self.internal else "") if n]
        return names + list(self.days)


@dataclass(frozen=True, slots=True)
class ODataRoute:
    """Where a dataset comes from over OData V2."""

    service: str
    entity_set: str
    fields: tuple[FieldSpec, ...]
    filter: tuple[tuple[str, str, Any], ...] = ()
    partition_field: str = ""
    orderby: tuple[str, ...] = ()
    expand: tuple[str, ...] = ()
    incremental_field: str = ""
    incremental_type: str = "Edm.DateTimeOffset"
    page_size: int = 0

    def select(self) -> list[str]:
        """The SAP fields to ``$select``: only what the mapping uses."""
        seen: dict[str, None] = {}
        for spec in self.fields:
            for name in spec.sap_fields():
                seen.setdefault(name, None)
        return list(seen)


@dataclass(frozen=True, slots=True)
class RfcTableRead:
    """One table read through a configured read function (RFC_READ_TABLE or a Z copy)."""

    table: str
    fields: tuple[str, ...]
    where: tuple[str, ...] = ()
    join: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RfcRoute:
    """Where a dataset comes from over RFC: one BAPI call, or joined table reads."""

    fields: tuple[FieldSpec, ...]
    function: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    result_table: str = ""
    per: str = ""
    read_function: str = "RFC_READ_TABLE"
    tables: tuple[RfcTableRead, ...] = ()
    partition_field: str = ""


@dataclass(frozen=True, slots=True)
class DatasetMapping:
    """A validated mapping of one dataset."""

    dataset: str
    key: tuple[str, ...]
    path: Path
    partition: str = ""
    mode: str = "snapshot"
    incremental_column: str = ""
    keep: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    odata: ODataRoute | None = None
    rfc: RfcRoute | None = None

    def route(self, name: str) -> ODataRoute | RfcRoute:
        """The ``odata`` or ``rfc`` route, or a MappingError naming the file."""
        route = self.odata if name == "odata" else self.rfc if name == "rfc" else None
        if route is None:
            msg = f"{self.path.name}: dataset {self.dataset} has no [{name}] route"
            raise MappingError(msg)
        return route

    def columns(self, route: ODataRoute | RfcRoute) -> list[str]:
        """Canonical columns a route fills, in the order :meth:`row_builder` returns them."""
        return [spec.name for spec in route.fields]

    def row_builder(self, route: ODataRoute | RfcRoute, *, sqlite: bool = False
                    ) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
        """A fast function turning one raw SAP row into a tuple of canonical values.

        With ``sqlite=True`` values are already in SQLite's storage form (ISO text for dates,
        exact text for Decimals), so the bulk writer can hand them straight to the driver.
        """
        return _compile_row_builder(route.fields, sqlite=sqlite, source=self.path.name)

    def batch_builder(self, route: ODataRoute | RfcRoute, *, sqlite: bool = False
                      ) -> Callable[[Sequence[Mapping[str, Any]]], list[tuple[Any, ...]]]:
        """Like :meth:`row_builder`, for a whole page at once: the sync's hot path.

        It converts column by column, so each field's converter runs in one tight loop and
        repeated values (dates, customers, currencies) are converted once. The tuples equal
        :meth:`row_builder`'s; on a bad value it names the field as the row builder does.
        """
        row_builder = self.row_builder(route, sqlite=sqlite)
        columns = [_column_builder(spec, sqlite=sqlite) for spec in route.fields]

        def build(raws: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
            try:
                return list(zip(*(column(raws) for column in columns), strict=True)) if raws else []
            except (ValueError, ArithmeticError):
                return [row_builder(raw) for raw in raws]  # raises, naming the field

        return build


    def values_builder(self, route: ODataRoute | RfcRoute, *, sqlite: bool = False
                       ) -> tuple[tuple[str, ...], ValuesBuilder] | None:
        """For a route whose every field converts one top-level SAP field on its own: the SAP
        fields read, and a function from their value columns (one list per SAP field, in that
        order) to the tuples :meth:`batch_builder` returns for the same rows. ``None`` when a
        field reads more than its own value (a ``nav/Field`` path, a sign or currency field,
        due days, a constant). Raises ``ValueError`` on a bad value without naming the field:
        the caller converts the page again with :meth:`batch_builder` for the message."""
        if not all(_reads_only_its_own_value(spec) for spec in route.fields):
            return None
        names = tuple(dict.fromkeys(spec.sap for spec in route.fields))
        at = [names.index(spec.sap) for spec in route.fields]
        converters = [values_converter(spec, sqlite=sqlite) for spec in route.fields]

        def build(columns: Sequence[list[Any]]) -> list[tuple[Any, ...]]:
            if not columns or not columns[0]:
                return []
            return list(zip(*(convert(columns[i]) for convert, i in zip(converters, at, strict=True)),
                            strict=True))

        return names, build


ValuesBuilder = Callable[[Sequence[list[Any]]], list[tuple[Any, ...]]]
"""Value columns (one list per SAP field) to canonical tuples."""


def _reads_only_its_own_value(spec: FieldSpec) -> bool:
    if not spec.sap or "/" in spec.sap or spec.convert in {"const", "due_date"}:
        return False
    return spec.convert != "amount" or _is_plain_amount(spec)


# --------------------------------------------------------------------------- row building


def _getter(path: str) -> Callable[[Mapping[str, Any]], Any]:
    if "/" not in path:
        return lambda raw: raw.get(path)
    head, _, tail = path.partition("/")
    inner = _getter(tail)

    def nested(raw: Mapping[str, Any]) -> Any:
        value = raw.get(head)
        if isinstance(value, Mapping) and "results" in value and isinstance(value["results"], list):
            value = value["results"][0] if value["results"] else None
        return inner(value) if isinstance(value, Mapping) else None

    return nested


def _field_reader(spec: FieldSpec) -> Callable[[Mapping[str, Any]], Any]:
    if spec.convert == "const":
        constant = spec.value
        return lambda _raw: constant
    get = _getter(spec.sap)
    if spec.convert == "alpha":
        alpha = convert.alpha(spec.width)
        return lambda raw: alpha(get(raw))
    if spec.convert == "due_date":
        return _due_date_reader(get, [_getter(name) for name in spec.days])
    if spec.convert == "code":
        return _code_reader(spec.values, get)
    if spec.convert != "amount":
        fn = convert.CONVERTERS[spec.convert]
        return lambda raw: fn(get(raw))
    return _amount_reader(spec, get)


def _amount_reader(spec: FieldSpec, get: Callable[[Mapping[str, Any]], Any]
                   ) -> Callable[[Mapping[str, Any]], Any]:
    sign_of = _getter(spec.sign) if spec.sign else None
    currency_of = _getter(spec.currency) if spec.internal and spec.currency else None
    credit = frozenset(spec.credit)

    def read(raw: Mapping[str, Any]) -> Any:
        amount = convert.to_decimal(get(raw))
        if amount is None:
            return None
        if currency_of is not None:
            amount = convert.unshift_internal_amount(amount, str(currency_of(raw) or ""))
        if sign_of is not None and str(sign_of(raw) or "").strip() in credit:
            amount = -abs(amount)
        return amount

    return read


def _code_reader(values: Mapping[str, str], get: Callable[[Mapping[str, Any]], Any]
                 ) -> Callable[[Mapping[str, Any]], Any]:
    """A SAP code translated through the mapping's table; blank stays ``None``."""

    def read(raw: Mapping[str, Any]) -> Any:
        code = convert.to_str(get(raw))
        if code is None:
            return None
        if code not in values:
            msg = f"code {code!r} is not in the mapping's values ({', '.join(sorted(values))})"
            raise ValueError(msg)
        return values[code]

    return read


def _due_date_reader(get: Callable[[Mapping[str, Any]], Any],
                     day_getters: Sequence[Callable[[Mapping[str, Any]], Any]]
                     ) -> Callable[[Mapping[str, Any]], Any]:
    """FI's net due date: baseline date plus the first non-zero of net days, days 2, days 1."""

    def read(raw: Mapping[str, Any]) -> Any:
        baseline = convert.to_date(get(raw))
        if baseline is None:
            return None
        for day_of in day_getters:
            days = convert.to_decimal(day_of(raw))
            if days:
                return baseline + timedelta(days=int(days))
        return baseline

    return read


def _compile_row_builder(fields: Sequence[FieldSpec], *, sqlite: bool, source: str
                         ) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    readers = [_field_reader(spec) for spec in fields]
    names = [spec.name for spec in fields]
    fast_plain = [spec.convert == "str" and "/" not in spec.sap for spec in fields]

    def build(raw: Mapping[str, Any]) -> tuple[Any, ...]:
        try:
            values = [read(raw) for read in readers]
        except (ValueError, ArithmeticError) as exc:
            bad = _first_bad_field(raw, readers, names)
            msg = f"{source}: field {bad}: {exc}"
            raise MappingError(msg) from exc
        if sqlite:
            return tuple(v if plain else sqlite_storage_form(v)
                         for v, plain in zip(values, fast_plain, strict=True))
        return tuple(values)

    return build


Column = Callable[[Sequence[Mapping[str, Any]]], list[Any]]


_CANONICAL_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?").fullmatch
"""Text that ``str(Decimal(text))`` returns unchanged, so it can be stored as it came."""


def _decimal_text(value: Any) -> str | None:
    if value.__class__ is str and _CANONICAL_DECIMAL(value):
        return str(value)
    amount = convert.to_decimal(value)
    return None if amount is None else str(amount)


@lru_cache(maxsize=65536)
def _date_text(value: str) -> Any:
    return sqlite_storage_form(convert.to_date(value))


def _plain_text_column(spec: FieldSpec, _sqlite: bool) -> Column:
    key, to_str = spec.sap, convert.to_str
    return lambda raws: [(v.strip() or None) if (v := r.get(key)).__class__ is str else to_str(v)
                         for r in raws]


def _decimal_column(spec: FieldSpec, sqlite: bool) -> Column:
    key = spec.sap
    to_decimal = _decimal_text if sqlite else convert.to_decimal
    return lambda raws: [to_decimal(r.get(key)) for r in raws]


def _alpha_column(spec: FieldSpec, _sqlite: bool) -> Column:
    key = spec.sap
    alpha = lru_cache(maxsize=65536)(convert.alpha(spec.width))
    return lambda raws: [None if (v := r.get(key)) is None else alpha(v) for r in raws]


def _sqlite_date_column(spec: FieldSpec, _sqlite: bool) -> Column:
    key = spec.sap
    return lambda raws: [_date_text(v) if (v := r.get(key)).__class__ is str else
                         sqlite_storage_form(convert.to_date(v)) for r in raws]


def _is_plain_amount(spec: FieldSpec) -> bool:
    """An amount that is only a decimal: no sign field, no internal (shifted) currency amount."""
    return spec.convert == "amount" and not spec.sign and not (spec.internal and spec.currency)


ColumnRule = tuple[str, Callable[[FieldSpec, bool], bool], Callable[[FieldSpec, bool], Column]]

_FAST_COLUMNS: tuple[ColumnRule, ...] = (
    ("plain text", lambda spec, _sqlite: spec.convert == "str", _plain_text_column),
    ("decimal or plain amount", lambda spec, _sqlite: spec.convert == "decimal" or _is_plain_amount(spec),
     _decimal_column),
    ("ALPHA key", lambda spec, _sqlite: spec.convert == "alpha", _alpha_column),
    ("date into SQLite", lambda spec, sqlite: spec.convert == "date" and sqlite, _sqlite_date_column),
)
"""Fields a page converts in one tight loop, first match wins: (what, applies, build). Only top-
level SAP fields (no ``nav/Field`` path); every other field goes row by row through its reader."""


def _column_builder(spec: FieldSpec, *, sqlite: bool) -> Column:
    """One field's values for a page of raw rows, in storage form when ``sqlite``."""
    if "/" not in spec.sap:
        for _what, applies, build in _FAST_COLUMNS:
            if applies(spec, sqlite):
                return build(spec, sqlite)
    read = _field_reader(spec)
    if not sqlite:
        return lambda raws: [read(r) for r in raws]
    return lambda raws: [sqlite_storage_form(read(r)) for r in raws]


def values_converter(spec: FieldSpec, *, sqlite: bool) -> Callable[[Sequence[Any]], list[Any]]:
    """Like a column of :meth:`DatasetMapping.batch_builder`, for one plain field's raw values
    already taken out of their rows (a sync reads key fields alone this way)."""
    to_str = convert.to_str
    if spec.convert == "str":
        return lambda values: [(v.strip() or None) if v.__class__ is str else to_str(v) for v in values]
    if spec.convert == "alpha":
        alpha = lru_cache(maxsize=65536)(convert.alpha(spec.width))
        return lambda values: [None if v is None else alpha(v) for v in values]
    column = _column_builder(spec, sqlite=sqlite)
    return lambda values: column([{spec.sap: v} for v in values])


def _first_bad_field(raw: Mapping[str, Any], readers: Sequence[Callable[[Mapping[str, Any]], Any]],
                     names: Sequence[str]) -> str:
    for read, name in zip(readers, names, strict=True):
        try:
            read(raw)
        except (ValueError, ArithmeticError):
            return name
    return "?"


# --------------------------------------------------------------------------- loading


def _parse_field(name: str, raw: Any, where: str) -> FieldSpec:
    if isinstance(raw, str):
        return FieldSpec(name=name, sap=raw)
    if not isinstance(raw, dict):
        msg = f"{where}: field {name} must be a SAP field name or a table"
        raise MappingError(msg)
    kind = str(raw.get("convert", "str"))
    width = 0
    if kind.startswith("alpha:"):
        kind, _, size = kind.partition(":")
        if not size.isdigit():
            msg = f"{where}: field {name}: alpha needs a width, e.g. alpha:10"
            raise MappingError(msg)
        width = int(size)
    elif kind not in _CONVERSIONS:
        msg = f"{where}: field {name}: unknown conversion {kind!r}"
        raise MappingError(msg)
    values = raw.get("values", {})
    if kind == "code" and (not isinstance(values, dict) or not values
                           or not all(isinstance(v, str) for v in values.values())):
        msg = f"{where}: field {name}: code needs a values table of SAP code = canonical text"
        raise MappingError(msg)
    if kind != "const" and not raw.get("sap"):
        msg = f"{where}: field {name}: 'sap' (the SAP field) is required"
        raise MappingError(msg)
    return FieldSpec(
        name=name, sap=str(raw.get("sap", "")), convert=kind, width=width,
        sign=str(raw.get("sign", "")), credit=tuple(raw.get("credit", ("H",))),
        currency=str(raw.get("currency", "")), internal=bool(raw.get("internal", False)),
        value=raw.get("value"), days=tuple(raw.get("days", ())),
        values={str(k): str(v) for k, v in values.items()} if kind == "code" else {},
    )


def _parse_fields(raw: Any, where: str, columns: set[str]) -> tuple[FieldSpec, ...]:
    if not isinstance(raw, dict) or not raw:
        msg = f"{where}: a [fields] table mapping canonical fields to SAP fields is required"
        raise MappingError(msg)
    unknown = sorted(set(raw) - columns)
    if unknown:
        msg = f"{where}: unknown canonical field(s): {', '.join(unknown)}"
        raise MappingError(msg)
    return tuple(_parse_field(name, spec, where) for name, spec in raw.items())


def _parse_filter(raw: Any, where: str) -> tuple[tuple[str, str, Any], ...]:
    clauses = []
    for clause in raw or []:
        if not (isinstance(clause, list) and len(clause) == 3 and clause[1] in _OPERATORS):
            msg = f"{where}: filter clauses are [field, op, value] with op in {sorted(_OPERATORS)}"
            raise MappingError(msg)
        clauses.append((str(clause[0]), str(clause[1]), clause[2]))
    return tuple(clauses)


def _parse_odata(raw: dict[str, Any], where: str, columns: set[str]) -> ODataRoute:
    for required in ("service", "entity_set"):
        if not raw.get(required):
            msg = f"{where}: [odata] needs {required}"
            raise MappingError(msg)
    return ODataRoute(
        service=raw["service"], entity_set=raw["entity_set"],
        fields=_parse_fields(raw.get("fields"), f"{where} [odata.fields]", columns),
        filter=_parse_filter(raw.get("filter"), f"{where} [odata]"),
        partition_field=str(raw.get("partition_field", "")),
        orderby=tuple(raw.get("orderby", ())), expand=tuple(raw.get("expand", ())),
        incremental_field=str(raw.get("incremental_field", "")),
        incremental_type=str(raw.get("incremental_type", "Edm.DateTimeOffset")),
        page_size=int(raw.get("page_size", 0)),
    )


def _parse_rfc(raw: dict[str, Any], where: str, columns: set[str]) -> RfcRoute:
    tables = tuple(
        RfcTableRead(table=t["table"], fields=tuple(t["fields"]), where=tuple(t.get("where", ())),
                     join=tuple(t.get("join", ())))
        for t in raw.get("tables", [])
    )
    if not raw.get("function") and not tables:
        msg = f"{where}: [rfc] needs a function (BAPI) or [[rfc.tables]] reads"
        raise MappingError(msg)
    if raw.get("function") and not raw.get("result_table"):
        msg = f"{where}: [rfc] with a function needs result_table"
        raise MappingError(msg)
    return RfcRoute(
        fields=_parse_fields(raw.get("fields"), f"{where} [rfc.fields]", columns),
        function=str(raw.get("function", "")), params=dict(raw.get("params", {})),
        result_table=str(raw.get("result_table", "")), per=str(raw.get("per", "")),
        read_function=str(raw.get("read_function", "RFC_READ_TABLE")), tables=tables,
        partition_field=str(raw.get("partition_field", "")),
    )


def load_mapping(path: str | Path) -> DatasetMapping:
    """Read and validate one mapping file."""
    source = Path(path)
    where = source.name
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"mapping file not found: {source}"
        raise MappingError(msg) from None
    except tomllib.TOMLDecodeError as exc:
        msg = f"{where}: not valid TOML: {exc}"
        raise MappingError(msg) from exc
    dataset = raw.get("dataset")
    if dataset not in OBJECT_TABLES:
        msg = f"{where}: dataset must be one of {', '.join(OBJECT_TABLES)}, not {dataset!r}"
        raise MappingError(msg)
    table = OBJECT_TABLES[dataset]
    columns = {c.name for c in table.columns} - {"system", "status", "cleared_at", "first_seen_at",
                                                  "last_seen_at", "last_seen_run"}
    mapping = DatasetMapping(
        dataset=dataset, key=tuple(raw.get("key", ())), path=source,
        partition=str(raw.get("partition", "")), mode=str(raw.get("mode", "snapshot")),
        incremental_column=str(raw.get("incremental_column", "")),
        keep={k: tuple(v) for k, v in raw.get("keep", {}).items()},
        odata=_parse_odata(raw["odata"], where, columns) if "odata" in raw else None,
        rfc=_parse_rfc(raw["rfc"], where, columns) if "rfc" in raw else None,
    )
    _validate(mapping, table_key=[c.name for c in table.primary_key.columns if c.name != "system"])
    return mapping


def _validate(mapping: DatasetMapping, table_key: list[str]) -> None:
    where = mapping.path.name
    if list(mapping.key) != table_key:
        msg = f"{where}: key must be {table_key} (the table's primary key), not {list(mapping.key)}"
        raise MappingError(msg)
    if mapping.mode not in {"snapshot", "incremental"}:
        msg = f"{where}: mode must be snapshot or incremental"
        raise MappingError(msg)
    if mapping.mode == "incremental" and not mapping.incremental_column:
        msg = f"{where}: incremental mode needs incremental_column"
        raise MappingError(msg)
    routes = [r for r in (mapping.odata, mapping.rfc) if r is not None]
    if not routes:
        msg = f"{where}: needs an [odata] or [rfc] route"
        raise MappingError(msg)
    for route in routes:
        names = {spec.name for spec in route.fields}
        missing = [k for k in mapping.key if k not in names]
        if missing:
            msg = f"{where}: key field(s) {', '.join(missing)} not mapped"
            raise MappingError(msg)


def load_mapping_path(folders: Sequence[Path], disabled: Collection[str] = ()) -> dict[str, DatasetMapping]:
    """The mappings found along a search path: for each dataset the first folder that maps it wins,
    so a site folder overrides one dataset without copying the others. ``disabled`` datasets are
    left out (a system without them); naming one no folder maps is an error."""
    existing = [f for f in folders if f.is_dir()]
    if not existing:
        msg = f"mappings directory not found: {', '.join(str(f) for f in folders)}"
        raise MappingError(msg)
    result: dict[str, DatasetMapping] = {}
    for folder in reversed(existing):
        result.update(load_mappings(folder))
    unknown = sorted(set(disabled) - set(result))
    if unknown:
        msg = (f"disabled_datasets names unknown dataset(s): {', '.join(unknown)} "
               f"(mapped: {', '.join(sorted(result))})")
        raise MappingError(msg)
    return {name: mapping for name, mapping in result.items() if name not in disabled}


def mappings_for(settings: Settings, system: str | None = None) -> dict[str, DatasetMapping]:
    """A system's mappings: its search path (site folders first), its disabled datasets left out."""
    missing = [f for f in settings.mapping_search_path(system)[:-1] if not f.is_dir()]
    if missing:
        msg = f"mappings directory not found: {missing[0]}"
        raise MappingError(msg)
    return load_mapping_path(settings.mapping_search_path(system),
                             settings.system(system).disabled_datasets)


def load_mappings(directory: str | Path) -> dict[str, DatasetMapping]:
    """Every mapping in a directory, by dataset name."""
    folder = Path(directory)
    if not folder.is_dir():
        msg = f"mappings directory not found: {folder}"
        raise MappingError(msg)
    result: dict[str, DatasetMapping] = {}
    for path in sorted(folder.glob("*.toml")):
        mapping = load_mapping(path)
        if mapping.dataset in result:
            msg = f"{path.name}: dataset {mapping.dataset} is mapped twice"
            raise MappingError(msg)
        result[mapping.dataset] = mapping
    return result
