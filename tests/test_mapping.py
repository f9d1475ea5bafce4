from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from sapbridge.config import project_root
from sapbridge.errors import MappingError
from sapbridge.mapping import load_mapping, load_mappings


def test_every_object_has_both_routes():
    mappings = load_mappings("mappings")
    assert set(mappings) == {"open_items", "cleared_items", "credit_segments", "blocked_orders", "disputes",
                             "customers", "customer_companies", "customer_bank_accounts", "promises"}
    assert all(m.odata is not None and m.rfc is not None for m in mappings.values())


def test_select_names_only_mapped_fields():
    route = load_mapping("mappings/open_items.toml").odata
    select = route.select()
    assert "AmountInTransactionCurrency" in select
    assert "IsCleared" not in select


def test_rfc_open_items_sign_and_due_date():
    mapping = load_mapping("mappings/open_items.toml")
    build = mapping.row_builder(mapping.rfc)
    columns = mapping.columns(mapping.rfc)
    row = dict(zip(columns, build({"DOC_NO": "90000001", "ITEM_NUM": "1", "BLINE_DATE": "20260101",
                                   "NETTERMS": "030", "DSCT_DAYS1": "10", "AMT_DOCCUR": "12.50",
                                   "DB_CR_IND": "H", "CURRENCY": "EUR"}), strict=True))
    assert row["amount"] == Decimal("-12.50")
    assert row["net_due_date"] == date(2026, 1, 31)
    assert row["document"] == "0090000001"
    assert row["item"] == "001"


def test_rfc_credit_limit_in_jpy_is_unshifted():
    mapping = load_mapping("mappings/credit_segments.toml")
    row = dict(zip(mapping.columns(mapping.rfc), mapping.row_builder(mapping.rfc)(
        {"PARTNER": "100001", "CREDIT_SGMNT": "3000", "CREDIT_LIMIT": "75000.00", "CURRENCY": "JPY"}),
        strict=True))
    assert row["credit_limit"] == Decimal("7500000")


def test_bad_value_names_mapping_and_field():
    mapping = load_mapping("mappings/open_items.toml")
    build = mapping.row_builder(mapping.odata)
    with pytest.raises(MappingError, match=r"open_items\.toml: field posting_date: not a date"):
        build({"PostingDate": "yesterday"})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('dataset = "invoices"', "dataset must be one of"),
        ('dataset = "customers"\nkey = ["customer"]\n[odata]\nservice = "S"\nentity_set = "E"\n'
         '[odata.fields]\ncustomer = "C"\nshoe_size = "X"', "unknown canonical field"),
        ('dataset = "customers"\nkey = ["name"]\n[odata]\nservice = "S"\nentity_set = "E"\n'
         '[odata.fields]\nname = "N"', "key must be"),
        ('dataset = "customers"\nkey = ["customer"]\n[odata]\nservice = "S"\nentity_set = "E"\n'
         '[odata.fields]\ncustomer = { sap = "C", convert = "rot13" }', "unknown conversion"),
        ("dataset = = 1", "not valid TOML"),
    ],
)
def test_malformed_mappings_are_refused_with_the_file_name(tmp_path, body, message):
    path = tmp_path / "site.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(MappingError, match=message) as caught:
        load_mapping(path)
    assert "site.toml" in str(caught.value)


def _recorded_pages(dataset: str) -> list[dict]:
    """The raw rows a demo sync of ``dataset`` reads (company code 1000 where partitioned)."""
    from sapbridge.config import load_settings
    from sapbridge.connect import open_odata
    from sapbridge.sync.sources import ODataSource

    mapping = load_mapping(project_root() / "mappings" / f"{dataset}.toml")
    system = load_settings(None).system("demo")
    source = ODataSource(open_odata(system), mapping.odata, page_size=system.page_size)
    partition = "1000" if mapping.partition else None
    return [row for batch in source.batches(partition, None) for row in batch.decoded()]


@pytest.mark.parametrize("dataset", ["open_items", "disputes", "blocked_orders", "credit_segments"])
@pytest.mark.parametrize("sqlite", [True, False])
def test_batch_builder_gives_the_row_builders_tuples_on_recorded_pages(dataset, sqlite):
    mapping = load_mapping(project_root() / "mappings" / f"{dataset}.toml")
    raws = _recorded_pages(dataset)
    assert len(raws) > 50
    by_row = [mapping.row_builder(mapping.odata, sqlite=sqlite)(raw) for raw in raws]
    assert mapping.batch_builder(mapping.odata, sqlite=sqlite)(raws) == by_row


def test_batch_builder_names_the_bad_field_like_the_row_builder():
    mapping = load_mapping(project_root() / "mappings" / "open_items.toml")
    raws = _recorded_pages("open_items")[:3]
    raws[2] = {**raws[2], "PostingDate": "31.02.2026"}
    with pytest.raises(MappingError, match="field posting_date"):
        mapping.batch_builder(mapping.odata, sqlite=True)(raws)
