"""A fake SAP gateway for the open-items cube, over the real OData client, pager and source."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import orjson

from devtools.demo.shapes import metadata_xml
from sapbridge.config import SystemConfig
from sapbridge.odata.client import ODataClient
from sapbridge.sync.sources import ODataSource
from sapbridge.transport.base import HttpResponse

SERVICE = "API_OPLACCTGDOCITEMCUBE_SRV"
BASE = "https://s4.example.com"


def item(doc: int, amount: str = "100.00", code: str = "1000", **extra) -> dict:
    """One open item as the cube returns it."""
    return {"__metadata": {"type": f"{SERVICE}.A_OperationalAcctgDocItemCubeType"},
            "CompanyCode": code, "FiscalYear": "2026", "AccountingDocument": str(doc),
            "AccountingDocumentItem": "1", "Customer": "100001", "PostingDate": "/Date(1767225600000)/",
            "NetDueDate": "/Date(1769817600000)/", "AmountInTransactionCurrency": amount,
            "TransactionCurrency": "EUR", "DocumentReferenceID": f"INV{doc}", **extra}


class Gateway:
    """Serves $metadata and pages of ``items`` ($top/$skip, $inlinecount); faults on request.

    ``stop_after``: end paging after this many rows (no ``__next``, a short page) while the
    count still says all of them, as a gateway with a hard row limit does. ``answer``: a fixed
    (status, headers, body) for every data request.
    """

    def __init__(self, items: list[dict], *, stop_after: int | None = None,
                 answer: tuple[int, dict[str, str], bytes] | None = None) -> None:
        self.items = items
        self.stop_after = stop_after
        self.answer = answer
        self.requests = 0

    def request(self, method, url, *, headers=None, params=None, data=None, timeout=None):
        if url.endswith("$metadata"):
            return HttpResponse(200, metadata_xml(SERVICE), {"content-type": "application/xml"}, url)
        self.requests += 1
        if self.answer is not None:
            status, response_headers, body = self.answer
            return HttpResponse(status, body, response_headers, url)
        query = {**dict(parse_qsl(urlsplit(url).query)), **(params or {})}
        code = query.get("$filter", "").partition("CompanyCode eq '")[2].partition("'")[0]
        wanted = [row for row in self.items if not code or row["CompanyCode"] == code]
        start, top = int(query.get("$skip", "0")), int(query.get("$top", "1000"))
        end = start + top if self.stop_after is None else min(start + top, self.stop_after)
        body = {"d": {"results": wanted[start:end], "__count": str(len(wanted))}}
        return HttpResponse(200, orjson.dumps(body), {"content-type": "application/json"}, url)


def odata_sources(gateway: Gateway, page_size: int = 3):
    """A source factory for run_sync reading through the real client from ``gateway``."""
    system = SystemConfig(name="T", odata_url=BASE, client="100", user="OTC", password_env="X",
                          page_size=page_size, max_attempts=1)
    client = ODataClient(system, gateway)
    return lambda mapping, route, conn: ODataSource(client, mapping.route(route), page_size=page_size)
