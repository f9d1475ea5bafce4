"""An in-process SAP stand-in serving the demo company over the transport seam.

``FakeSapHttp`` answers OData V2 reads the way SAP Gateway does (``$filter`` with eq/ne/ge/gt/
le/lt joined by and/or, ``$select``, ``$expand``, ``$orderby``, ``$top``/``$skip``, server paging
with ``__next`` on the gateway's internal host, ``$inlinecount``) plus ``$metadata`` and CSRF
token fetches; ``FakeSapRfc`` answers the BAPIs and table reads the mappings use. Recording a
sync against them produces the committed demo fixtures.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import orjson

from devtools.demo.data import DemoCompany
from devtools.demo.shapes import metadata_xml, odata_entities, open_item_lines, rfc_tables
from sapbridge.transport.base import HttpResponse
from sapbridge.transport.odata_query import compile_filter, project

__all__ = ["FakeSapHttp", "FakeSapRfc", "compile_filter"]

INTERNAL_HOST = "http://sapgw-internal.example:8000"
"""Gateways behind a web dispatcher write ``__next`` links on their own host, as this one does."""


class FakeSapHttp:
    """OData V2 reads over the demo company, shaped as SAP Gateway answers them."""

    def __init__(self, company: DemoCompany, *, server_page: int = 1000) -> None:
        self.entities = odata_entities(company)
        self.server_page = server_page
        self.requests: list[tuple[str, str]] = []

    def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                params: Mapping[str, str] | None = None, data: bytes | str | None = None,
                timeout: float | None = None) -> HttpResponse:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        query.update(params or {})
        self.requests.append((method, f"{parts.path}?{urlencode(sorted(query.items()))}"))
        segments = [unquote(s) for s in parts.path.split("/") if s]
        at = segments.index("odata") + 2 if "odata" in segments else len(segments)
        service = segments[at] if at < len(segments) else ""
        tail = segments[at + 1:]
        wants_token = {k.lower(): v for k, v in (headers or {}).items()}.get("x-csrf-token") == "Fetch"
        token = {"x-csrf-token": "fake-token"} if wants_token else {}
        if tail == ["$metadata"]:
            return HttpResponse(200, metadata_xml(service), {"content-type": "application/xml", **token}, url)
        if not tail:
            body = orjson.dumps({"d": {"EntitySets": sorted(s for sv, s in self.entities if sv == service)}})
            return HttpResponse(200, body, {"content-type": "application/json", **token}, url)
        rows = self.entities.get((service, tail[0].split("(")[0]))
        if rows is None:
            message = f"Resource not found for segment '{tail[0]}'"
            return self._error(404, "/IWBEP/CM_MGW_RT/021", message, url)
        try:
            return self._collection(service, tail[0], rows, query, url)
        except ValueError as exc:
            return self._error(400, "/IWBEP/CM_MGW_RT/022", str(exc), url)

    def _collection(self, service: str, entity_set: str, rows: list[dict[str, Any]],
                    query: dict[str, str], url: str) -> HttpResponse:
        if "$filter" in query:
            keep = compile_filter(query["$filter"])
            rows = [r for r in rows if keep(r)]
        order = [f.strip().split(" ")[0] for f in query.get("$orderby", "").split(",") if f]
        if order:
            rows = sorted(rows, key=lambda r: tuple(str(r.get(f) or "") for f in order))
        total = len(rows)
        token = query.get("$skiptoken")
        if token:
            first, _, last = token.partition(":")
            skip, window_end = int(first), int(last or total)
        else:
            skip = int(query.get("$skip", "0") or 0)
            window_end = skip + int(query["$top"]) if "$top" in query else total
        window_end = min(window_end, total)
        page = rows[skip: min(skip + self.server_page, window_end)]
        select = [s for s in query.get("$select", "").split(",") if s]
        expand = [e for e in query.get("$expand", "").split(",") if e]
        results = [project(r, select, expand) for r in page]
        for raw, shaped in zip(page, results, strict=True):
            shaped["__metadata"] = {"type": f"{service}.{entity_set}Type"}
            if "__etag" in raw:
                shaped["__metadata"]["etag"] = raw["__etag"]
        body: dict[str, Any] = {"results": results}
        if query.get("$inlinecount") == "allpages":
            body["__count"] = str(total)
        served = skip + len(page)
        if served < window_end:
            rest = {k: v for k, v in query.items() if k not in {"$skiptoken", "$skip", "$top", "sap-client"}}
            rest["$skiptoken"] = f"{served}:{window_end}"
            body["__next"] = f"{INTERNAL_HOST}{urlsplit(url).path}?{urlencode(sorted(rest.items()))}"
        return HttpResponse(200, orjson.dumps({"d": body}), {"content-type": "application/json"}, url)

    @staticmethod
    def _error(status: int, code: str, message: str, url: str) -> HttpResponse:
        body = {"error": {"code": code, "message": {"lang": "en", "value": message},
                          "innererror": {"errordetails": [{"code": code, "message": message,
                                                           "severity": "error"}]}}}
        return HttpResponse(status, orjson.dumps(body), {"content-type": "application/json"}, url)


_WHERE = re.compile(r"(\w+)\s*(=|IN)\s*(\('(?:[^']*)'(?:\s*,\s*'[^']*')*\)|'[^']*')", re.I)


class FakeSapRfc:
    """The BAPIs and table reads of the RFC mappings, over the demo company."""

    def __init__(self, company: DemoCompany) -> None:
        self.company = company
        self.tables = rfc_tables(company)
        self.calls: list[str] = []

    def call(self, function: str, **params: Any) -> dict[str, Any]:
        self.calls.append(function)
        if function == "RFC_PING":
            return {}
        if function in ("BAPI_AR_ACC_GETOPENITEMS", "BAPI_AR_ACC_GETCLEAREDITEMS"):
            lines = open_item_lines(self.company, params["COMPANYCODE"], params["CUSTOMER"],
                                    cleared=function == "BAPI_AR_ACC_GETCLEAREDITEMS")
            message = "" if lines else "No open items found"
            return {"LINEITEMS": lines, "RETURN": {"TYPE": "" if lines else "I", "CODE": "",
                                                    "MESSAGE": message, "LOG_NO": "", "LOG_MSG_NO": "000000"}}
        if function == "RFC_READ_TABLE":
            return self._read_table(params)
        return {"RETURN": [{"TYPE": "E", "ID": "FL", "NUMBER": "046",
                            "MESSAGE": f"Function module {function} not found"}]}

    def close(self) -> None:
        """Nothing to release."""

    def _read_table(self, params: Mapping[str, Any]) -> dict[str, Any]:
        rows = self.tables[params["QUERY_TABLE"]]
        where = " ".join(o["TEXT"] for o in params.get("OPTIONS", []))
        for field, _op, value in _WHERE.findall(where):
            allowed = set(re.findall(r"'([^']*)'", value))
            rows = [r for r in rows if r.get(field, "") in allowed]
        names = [f["FIELDNAME"] for f in params.get("FIELDS", [])] or (list(rows[0]) if rows else [])
        delimiter = params.get("DELIMITER", "|") or "|"
        skip = int(params.get("ROWSKIPS", 0) or 0)
        count = int(params.get("ROWCOUNT", 0) or 0)
        chosen = rows[skip: skip + count] if count else rows[skip:]
        fields, offset = [], 0
        for name in names:
            width = max([len(str(r.get(name, ""))) for r in rows] + [1])
            fields.append({"FIELDNAME": name, "OFFSET": f"{offset:06d}", "LENGTH": f"{width:06d}",
                           "TYPE": "C", "FIELDTEXT": name})
            offset += width + len(delimiter)
        data = [{"WA": delimiter.join(str(r.get(n, "")) for n in names)} for r in chosen]
        return {"DATA": data, "FIELDS": fields, "OPTIONS": params.get("OPTIONS", [])}


def key_date(company: DemoCompany) -> date:
    """The key date the demo's RFC calls use (the company's 'today')."""
    return company.as_of
