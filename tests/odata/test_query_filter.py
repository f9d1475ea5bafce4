"""The ``$filter`` of a mapped read is built in the odata layer, from the route alone."""

from __future__ import annotations

from datetime import UTC, datetime

from sapbridge.mapping import ODataRoute
from sapbridge.odata.query import odata_filter

_ROUTE = ODataRoute(
    service="API_X", entity_set="Items", fields=(),
    filter=(("FinancialAccountType", "eq", "D"), ("DocType", "in", ["RV", "DZ"]), ("Amount", "gt", 0)),
    partition_field="CompanyCode", incremental_field="LastChangeDateTime",
)


def test_full_read_has_the_mapping_clauses_and_the_partition() -> None:
    assert odata_filter(_ROUTE, "1000", None) == (
        "FinancialAccountType eq 'D' and (DocType eq 'RV' or DocType eq 'DZ') and Amount gt 0"
        " and CompanyCode eq '1000'"
    )


def test_incremental_read_drops_the_mapping_clauses_and_adds_the_bookmark() -> None:
    since = datetime(2026, 1, 1, tzinfo=UTC)
    assert odata_filter(_ROUTE, None, since) == "LastChangeDateTime ge datetimeoffset'2026-01-01T00:00:00Z'"


def test_no_clauses_means_no_filter() -> None:
    assert odata_filter(ODataRoute(service="S", entity_set="E", fields=()), None, None) is None
