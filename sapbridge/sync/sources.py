"""Where raw SAP rows come from: an OData entity set or RFC calls, as a mapping route says.

A source yields batches of raw rows for one partition; it knows nothing of the store. RFC
batches are dicts with SAP field names; OData batches are :class:`RawBatch` pages whose
entities are still their JSON bytes, so the engine can fingerprint rows before converting them
(and convert only the rows that changed), and knows the count SAP reported for the read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

import orjson

from sapbridge.errors import MappingError
from sapbridge.mapping import ODataRoute, RfcRoute, RfcTableRead
from sapbridge.odata.errors import parse_json
from sapbridge.odata.paging import decode_raw_page
from sapbridge.odata.query import odata_filter
from sapbridge.transport.base import ResponseLike

__all__ = ["Batch", "ODataSource", "PageReader", "RawBatch", "RfcReader", "RfcSource", "RowSource",
           "check_route"]


@dataclass(frozen=True, slots=True)
class RawBatch:
    """One OData page: each entity's raw JSON bytes, and the row count SAP reported, if any."""

    raws: list[Any]
    total: int | None

    def __len__(self) -> int:
        return len(self.raws)

    def decoded(self) -> list[dict[str, Any]]:
        """The entities as dicts (what an RFC batch holds)."""
        return list(orjson.loads(b"[" + b",".join(self.raws) + b"]"))


Batch = list[Mapping[str, Any]] | RawBatch
Progress = Callable[[int, int | None], None]


def _raw_decode(response: ResponseLike) -> Any:
    return decode_raw_page(response.content, lambda: parse_json(response))


class RowSource(Protocol):
    """Yields raw rows of one route for one partition (None: the whole system)."""

    def batches(self, partition: str | None, since: datetime | None,
                progress: Progress | None = None) -> Iterator[Batch]: ...


class PageReader(Protocol):
    """What :class:`ODataSource` needs of the OData client."""

    def iter_pages(self, service: str, entity_set: str, *, select: Sequence[str] = (),
                   filter: str | None = None, orderby: str | None = None,
                   expand: Sequence[str] = (), page_size: int | None = None,
                   inline_count: bool = True, decode: Callable[[ResponseLike], Any] = ...
                   ) -> Iterator[Any]: ...

    def model(self, service: str) -> Any: ...


def check_route(route: ODataRoute, model: Any) -> None:
    """Refuse a mapping whose entity set or fields the service's ``$metadata`` does not have."""
    try:
        entity_type = model.schema.entity_set(route.entity_set).entity_type
    except KeyError:
        msg = f"{route.service} $metadata has no entity set {route.entity_set} (check the mapping)"
        raise MappingError(msg) from None
    known = {p.name for p in entity_type.proprties()} | {n.name for n in entity_type.nav_proprties}
    used = [name.split("/", 1)[0] for name in route.select()] + list(route.expand)
    used += [c[0] for c in route.filter] + [f for f in (route.partition_field, route.incremental_field) if f]
    unknown = sorted({name for name in used if name not in known})
    if unknown:
        msg = (f"{route.service}/{route.entity_set} $metadata has no {', '.join(unknown)} "
               "(fix the mapping for this site)")
        raise MappingError(msg)


class RfcReader(Protocol):
    """What :class:`RfcSource` needs of the RFC client."""

    def call(self, function: str, **params: Any) -> dict[str, Any]: ...

    def read_table(self, table: str, fields: Sequence[str], where: Sequence[str] = (), *,
                   function: str = "RFC_READ_TABLE", batch: int = 10000) -> Iterator[dict[str, str]]: ...


class ODataSource:
    """Reads one entity set page by page (server paging or ``$skip``), selecting mapped fields."""

    def __init__(self, client: PageReader, route: ODataRoute, *, page_size: int) -> None:
        self.client = client
        self.route = route
        self.page_size = route.page_size or page_size
        self.checked = False

    def batches(self, partition: str | None, since: datetime | None,
                progress: Progress | None = None) -> Iterator[Batch]:
        route = self.route
        if not self.checked:
            check_route(route, self.client.model(route.service))
            self.checked = True
        pages = self.client.iter_pages(
            route.service, route.entity_set, select=route.select(),
            filter=odata_filter(route, partition, since),
            orderby=",".join(route.orderby) or None, expand=route.expand,
            page_size=self.page_size, inline_count=True, decode=_raw_decode,
        )
        for page in pages:
            if progress is not None:
                progress(len(page.rows), page.total)
            yield RawBatch(raws=page.rows, total=None if page.total is None else int(page.total))


def _template(value: Any, context: Mapping[str, str]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        name = value[1:-1]
        if name not in context:
            msg = f"unknown parameter placeholder {value} (known: {', '.join(sorted(context))})"
            raise MappingError(msg)
        return context[name]
    return value


class RfcSource:
    """Reads over RFC: one BAPI call per partition (or per customer), or joined table reads."""

    def __init__(self, client: RfcReader, route: RfcRoute, *,
                 customers_of: Callable[[str | None], list[str]] | None = None,
                 today: date | None = None) -> None:
        self.client = client
        self.route = route
        self.customers_of = customers_of
        self.today = today or datetime.now(UTC).date()

    def batches(self, partition: str | None, since: datetime | None,
                progress: Progress | None = None) -> Iterator[Batch]:
        rows = self._call_rows(partition) if self.route.function else self._table_rows(partition)
        for batch in rows:
            if progress is not None:
                progress(len(batch), None)
            yield batch

    def _call_rows(self, partition: str | None) -> Iterator[Batch]:
        route = self.route
        context = {"company_code": partition or "", "today": self.today.strftime("%Y%m%d")}
        customers: list[str | None] = [None]
        if route.per == "customer":
            if self.customers_of is None:
                msg = f"{route.function}: per-customer calls need the customer list (sync customers first)"
                raise MappingError(msg)
            customers = list(self.customers_of(partition))
        for customer in customers:
            params = {k: _template(v, {**context, "customer": customer or ""})
                      for k, v in route.params.items()}
            result = self.client.call(route.function, **params)
            rows = result.get(route.result_table) or []
            if rows:
                yield list(rows)

    def _table_rows(self, partition: str | None) -> Iterator[Batch]:
        route = self.route
        driver, *joined = route.tables
        lookups = [self._lookup(read) for read in joined]
        where = list(driver.where)
        if partition is not None and route.partition_field:
            quoted = partition.replace("'", "''")
            where.append(("AND " if where else "") + f"{route.partition_field} = '{quoted}'")
        batch: list[Mapping[str, Any]] = []
        for row in self.client.read_table(driver.table, driver.fields, where,
                                          function=route.read_function):
            merged = dict(row)
            for read, index in zip(joined, lookups, strict=True):
                merged.update(index.get(tuple(row.get(k, "") for k in read.join), {}))
            batch.append(merged)
            if len(batch) >= 5000:
                yield batch
                batch = []
        if batch:
            yield batch

    def _lookup(self, read: RfcTableRead) -> dict[tuple[str, ...], dict[str, str]]:
        rows = self.client.read_table(read.table, read.fields, read.where,
                                      function=self.route.read_function)
        return {tuple(row.get(k, "") for k in read.join): row for row in rows}
