"""Promises to pay (UDM_P2P_ATTR): synced over both routes, states from the mapping's code table."""

from __future__ import annotations

import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text

from devtools.demo.data import generate
from sapbridge.config import load_settings
from sapbridge.errors import MappingError
from sapbridge.mapping import load_mapping
from sapbridge.store import open_store
from sapbridge.store.schema import promises
from sapbridge.sync.service import sync_system


def sync(store, route=None):
    return sync_system(load_settings(None), store, system="demo", objects=["promises"], route=route,
                       run_id=str(uuid.uuid4()), actor="tester")


def synced(store):
    with store.engine.connect() as conn:
        return {r.case_guid: r for r in conn.execute(select(promises).where(promises.c.status == "open"))}


def test_promises_sync_in_every_state_with_amounts_as_the_demo_company_holds_them(store):
    sync(store)
    rows = synced(store)
    company = generate(1)
    assert len(rows) == len(company.promises)
    assert set(Counter(r.state for r in rows.values())) == {"open", "kept", "partially_kept", "broken",
                                                            "withdrawn"}
    for promise in company.promises:
        row = rows[promise.guid]
        assert (row.customer, row.company_code, row.currency) == (promise.customer, promise.company_code,
                                                                 promise.currency)
        assert (row.promised_amount, row.paid_amount) == (promise.promised, promise.paid)
        assert isinstance(row.promised_amount, Decimal)
        assert (row.due_date, row.promised_on, row.state, row.level) == (
            promise.due_on, promise.made_on, promise.state, str(promise.level))


def test_rfc_table_read_gives_the_same_rows_as_the_site_service(tmp_path):
    via_odata, via_rfc = (open_store(f"sqlite:///{tmp_path / name}") for name in ("o.db", "r.db"))
    sync(via_odata)
    sync(via_rfc, route="rfc")
    columns = ("customer", "company_code", "promised_amount", "paid_amount", "currency", "due_date",
               "promised_on", "state", "level")
    as_tuples = {g: tuple(getattr(r, c) for c in columns) for g, r in synced(via_odata).items()}
    assert as_tuples == {g: tuple(getattr(r, c) for c in columns) for g, r in synced(via_rfc).items()}
    yen = [r for r in synced(via_rfc).values() if r.currency == "JPY"]
    assert yen
    assert all(r.promised_amount == r.promised_amount.to_integral_value() and r.promised_amount >= 100
               for r in yen)


def _mapping_with_codes(tmp_path: Path, values: str) -> Path:
    source = Path("mappings/promises.toml").read_text(encoding="utf-8")
    start = source.index('state = { sap = "PromiseState"')
    end = source.index("\n", start)
    edited = source[:start] + f'state = {{ sap = "PromiseState", convert = "code", values = {values} }}' \
        + source[end:]
    path = tmp_path / "promises.toml"
    path.write_text(edited, encoding="utf-8")
    return path


def test_a_state_code_missing_from_the_mapping_stops_the_sync_naming_the_field(tmp_path):
    mapping = load_mapping(_mapping_with_codes(tmp_path, '{ "O" = "open" }'))
    assert mapping.odata is not None
    build = mapping.row_builder(mapping.odata)
    raw = {"CaseGUID": "AB", "PromiseState": "K", "PromisedAmount": "1.00"}
    with pytest.raises(MappingError) as caught:
        build(raw)
    assert "field state" in str(caught.value)
    assert "'K'" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert build({**raw, "PromiseState": "O"})[mapping.columns(mapping.odata).index("state")] == "open"


@pytest.mark.parametrize("values", ["{}", '"open"', '{ "O" = 1 }'])
def test_a_code_field_without_a_proper_values_table_is_refused_at_load(tmp_path, values):
    with pytest.raises(MappingError, match="field state: code needs a values table"):
        load_mapping(_mapping_with_codes(tmp_path, values))


def test_a_bad_code_in_the_demo_answer_rolls_the_whole_sync_back(sqlite_store, tmp_path, monkeypatch):
    sync(sqlite_store)
    before = synced(sqlite_store)
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    for path in Path("mappings").glob("*.toml"):
        (mappings / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (mappings / "promises.toml").write_text(
        _mapping_with_codes(tmp_path, '{ "O" = "open", "K" = "kept" }').read_text(encoding="utf-8"),
        encoding="utf-8")
    settings = load_settings(None)
    from dataclasses import replace
    settings = replace(settings, mapping_dirs=(mappings,))
    with pytest.raises(MappingError, match="field state"):
        sync_system(settings, sqlite_store, system="demo", objects=["promises"], run_id=str(uuid.uuid4()),
                    actor="tester")
    assert synced(sqlite_store) == before


def test_a_store_created_before_promises_gets_the_table_on_open(tmp_path):
    """A version-1 store (no promises, no row digests) migrates through 2 and 3."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    open_store(url).dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE promises"))
        conn.execute(text("DELETE FROM schema_migrations WHERE component = 'core' AND version IN (2, 3)"))
    engine.dispose()
    store = open_store(url)
    assert inspect(store.engine).has_table("promises")
    sync(store)
    assert len(synced(store)) == len(generate(1).promises)
