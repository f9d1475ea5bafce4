"""A page decoded straight into the mapping's fields converts exactly as one decoded into dicts."""

from __future__ import annotations

import itertools

import orjson
import pytest

from sapbridge.errors import MappingError
from sapbridge.mapping import load_mappings
from sapbridge.store.schema import OBJECT_TABLES
from sapbridge.sync.guards import column_widths
from sapbridge.sync.rows import RowConversion

MAPPINGS = load_mappings("mappings")

ODD_VALUES = {
    "str": ["  padded ", "", None, "Zürich \"quoted\" \\ back", 7, "\u00a0x"],
    "nonblank": ["", "x", None, " "],
    "alpha": ["123", "00123", "AB-1", None, "", " 7 "],
    "date": ["/Date(1767225600000)/", None, "20260131", "2026-01-31", ""],
    "datetime": ["/Date(1767225600000+0060)/", "/Date(1767225600000)/", None, "2026-01-31T10:00:00Z"],
    "decimal": ["10.50", "-3", "0.000", None, "1E+2", 7, 2.5],
    "amount": ["10.50", "-3", "0.000", None, "1E+2", 12],
    "bool": [True, False, None, "X", "", "true"],
}


def conversions():
    for mapping in MAPPINGS.values():
        if mapping.odata is None:
            continue
        for sqlite in (True, False):
            if mapping.values_builder(mapping.odata, sqlite=sqlite) is None:
                continue
            columns = mapping.columns(mapping.odata)
            table = OBJECT_TABLES[mapping.dataset]
            yield pytest.param(RowConversion(mapping, "odata", sqlite, tuple(column_widths(table, columns)),
                                             tuple(columns.index(k) for k in mapping.key)),
                               id=f"{mapping.dataset}-{'sqlite' if sqlite else 'postgresql'}")


def entities(conversion, count):
    """Entities whose every field cycles through odd values (plus SAP's metadata and extra fields)."""
    specs = conversion.mapping.odata.fields
    cycles = [itertools.cycle([*spec.values, None] if spec.convert == "code"
                              else ODD_VALUES.get(spec.convert, ["x"])) for spec in specs]
    rows = []
    for n in range(count):
        entity = {"__metadata": {"uri": f"x({n})"}, "Unmapped": {"nested": [n]}}
        for spec, values in zip(specs, cycles, strict=True):
            value = next(values)
            if value is not None or n % 2:  # half the rows leave a null field out altogether
                entity[spec.sap] = value
        rows.append(entity)
    return rows


def test_every_synced_odata_mapping_is_decoded_straight_into_its_fields():
    assert sum(1 for _ in conversions()) >= 8, "the typed path covers the usual mappings"


@pytest.mark.parametrize("conversion", list(conversions()))
def test_typed_decoding_converts_exactly_as_dict_decoding(conversion):
    widths = {name: width for _, name, width in conversion.widths}
    page = entities(conversion, 48)
    for entity in page:  # keep every text within its column, so neither path refuses the page
        for spec in conversion.mapping.odata.fields:
            if isinstance(entity.get(spec.sap), str) and spec.name in widths:
                entity[spec.sap] = entity[spec.sap][: widths[spec.name]]
    payload = orjson.dumps(page)
    expected = conversion.rows(orjson.loads(payload))  # the odd values are all valid ones
    assert conversion.json_rows(payload) == expected


def test_a_bad_value_is_named_as_before():
    mapping = MAPPINGS["open_items"]
    columns = mapping.columns(mapping.odata)
    conversion = RowConversion(mapping, "odata", True, (), tuple(columns.index(k) for k in mapping.key))
    page = [{"CompanyCode": "1000", "AmountInTransactionCurrency": "12,5"}]
    with pytest.raises(MappingError, match="field amount"):
        conversion.json_rows(orjson.dumps(page))
    with pytest.raises(AttributeError):  # not an object: as orjson's dicts would fail, not hidden
        conversion.json_rows(b'["not an entity"]')
