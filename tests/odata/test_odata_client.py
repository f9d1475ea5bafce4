from __future__ import annotations

import logging

import orjson
import pytest
import requests
import responses
from responses import matchers

from sapbridge.config import SystemConfig
from sapbridge.errors import (
    PreconditionFailedError,
    ProtocolError,
    SapAuthError,
    SapHttpError,
    SapUnavailableError,
)
from sapbridge.odata.client import ODataClient
from sapbridge.odata.query import eq
from sapbridge.transport.base import HttpResponse
from sapbridge.transport.http import LiveHttpConnection

BASE = "https://s4.example.com"
SERVICE_URL = f"{BASE}/sap/opu/odata/sap/API_SALES_ORDER_SRV"
SECRET = "s3cret-Passw0rd"


def system(**overrides) -> SystemConfig:
    values = {"name": "QAS", "odata_url": BASE, "client": "100", "user": "OTC", "password_env": "X",
              "max_attempts": 3, "page_size": 2}
    values.update(overrides)
    return SystemConfig(**values)


def live_client(sleeps=None, **overrides) -> ODataClient:
    sys_ = system(**overrides)
    return ODataClient(sys_, LiveHttpConnection(sys_, SECRET), sleep=(sleeps.append if sleeps is not None else lambda s: None))


def page(rows, **extra):
    return {"d": {"results": rows, **extra}}


@responses.activate
def test_server_paging_follows_next_on_the_configured_host():
    url = f"{SERVICE_URL}/A_SalesOrder"
    responses.get(url, json=page([{"SalesOrder": "1"}, {"SalesOrder": "2"}][:1],
                                 __next="http://internal-gw:8000/sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder?$skiptoken=1"),
                  match=[matchers.query_param_matcher({"$top": "2", "$skip": "0", "$format": "json", "$inlinecount": "allpages", "sap-client": "100"})])
    responses.get(url, json=page([{"SalesOrder": "2"}], __count="3"),
                  match=[matchers.query_param_matcher({"$skiptoken": "1", "sap-client": "100"})])
    responses.get(url, json=page([{"SalesOrder": "3"}]),
                  match=[matchers.query_param_matcher({"$top": "2", "$skip": "2", "$format": "json", "$inlinecount": "allpages", "sap-client": "100"})])
    pages = list(live_client().iter_pages("API_SALES_ORDER_SRV", "A_SalesOrder"))
    assert [r["SalesOrder"] for p in pages for r in p.rows] == ["1", "2", "3"]
    assert all(call.request.url.startswith(BASE) for call in responses.calls)
    assert pages[1].total == 3


def fake(handler):
    class Connection:
        def __init__(self):
            self.calls = []

        def request(self, method, url, *, headers=None, params=None, data=None, timeout=None):
            self.calls.append((method, url, dict(headers or {}), dict(params or {}), data))
            return handler(method, url, headers or {}, params or {}, data)

    return Connection()


def json_response(status, body, headers=None, url="https://s4.example.com/x"):
    return HttpResponse(status, orjson.dumps(body), headers or {}, url)


def test_skip_paging_stops_on_a_short_page_and_detects_loops():
    rows = [{"n": i} for i in range(5)]

    def handler(method, url, headers, params, data):
        skip, top = int(params["$skip"]), int(params["$top"])
        return json_response(200, page(rows[skip:skip + top]))

    conn = fake(handler)
    pages = list(ODataClient(system(), conn).iter_pages("S", "E", page_size=2))
    assert [len(p.rows) for p in pages] == [2, 2, 1]
    looping = fake(lambda *a: json_response(200, page([{"n": 1}], __next=f"{BASE}/sap/opu/odata/sap/S/E?$skiptoken=x")))
    with pytest.raises(ProtocolError, match="Loop detected"):
        list(ODataClient(system(), looping).iter_pages("S", "E"))


def test_quote_in_a_filter_value_cannot_change_the_query():
    captured = {}

    def handler(method, url, headers, params, data):
        captured.update(params)
        return json_response(200, page([]))

    list(ODataClient(system(), fake(handler)).iter_pages("S", "E", filter=eq("Customer", "A' or Customer ne 'B")))
    assert captured["$filter"] == "Customer eq 'A'' or Customer ne ''B'"


def test_csrf_token_is_refetched_once_when_sap_says_required():
    tokens = iter(["t1", "t2"])
    seen = []

    def handler(method, url, headers, params, data):
        if headers.get("X-CSRF-Token") == "Fetch":
            return HttpResponse(200, b"", {"x-csrf-token": next(tokens)}, url)
        seen.append((headers["X-CSRF-Token"], headers.get("If-Match")))
        if headers["X-CSRF-Token"] == "t1":
            return HttpResponse(403, b"CSRF token validation failed", {"x-csrf-token": "Required"}, url)
        return HttpResponse(204, b"", {}, url)

    ODataClient(system(), fake(handler)).patch_entity(
        "API_CRDTMBUSINESSPARTNER", "CreditManagementAccount", {"BusinessPartner": "1", "CreditSegment": "1000"},
        {"CreditLimitAmount": "100.00"}, etag='W/"x"')
    assert seen == [("t1", 'W/"x"'), ("t2", 'W/"x"')]


def test_second_csrf_refusal_is_an_auth_error():
    def handler(method, url, headers, params, data):
        if headers.get("X-CSRF-Token") == "Fetch":
            return HttpResponse(200, b"", {"x-csrf-token": "t"}, url)
        return HttpResponse(403, b"", {"x-csrf-token": "Required"}, url)

    with pytest.raises(SapAuthError, match="CSRF"):
        ODataClient(system(), fake(handler)).post("S", "Fn")


def test_412_on_patch_is_stale_and_not_retried():
    calls = []

    def handler(method, url, headers, params, data):
        if headers.get("X-CSRF-Token") == "Fetch":
            return HttpResponse(200, b"", {"x-csrf-token": "t"}, url)
        calls.append(method)
        return json_response(412, {"error": {"code": "/IWBEP/CM_MGW_RT/004", "message": {"value": "Precondition failed"}}})

    with pytest.raises(PreconditionFailedError):
        ODataClient(system(), fake(handler)).patch_entity("S", "E", {"K": "1"}, {"A": "1"}, etag="e")
    assert calls == ["PATCH"]


@responses.activate
def test_429_honours_retry_after_then_succeeds():
    url = f"{SERVICE_URL}/A_SalesOrder"
    responses.get(url, status=429, headers={"Retry-After": "7"})
    responses.get(url, json=page([{"SalesOrder": "1"}]))
    sleeps = []
    rows = [r for p in live_client(sleeps).iter_pages("API_SALES_ORDER_SRV", "A_SalesOrder") for r in p.rows]
    assert rows == [{"SalesOrder": "1"}]
    assert sleeps == [7.0]


@responses.activate
def test_503_until_attempts_are_exhausted():
    url = f"{SERVICE_URL}/A_SalesOrder"
    responses.get(url, status=503, body="Service Unavailable")
    with pytest.raises(SapUnavailableError, match="after 3 attempts"):
        list(live_client().iter_pages("API_SALES_ORDER_SRV", "A_SalesOrder"))
    assert len(responses.calls) == 3


@responses.activate
def test_timeout_is_retried_and_reported_without_secrets():
    url = f"{SERVICE_URL}/A_SalesOrder"
    responses.get(url, body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(SapUnavailableError, match=r"timeout after 60s reading s4\.example\.com") as caught:
        list(live_client().iter_pages("API_SALES_ORDER_SRV", "A_SalesOrder"))
    assert SECRET not in str(caught.value)


@responses.activate
def test_sap_error_payload_becomes_one_readable_line():
    body = {"error": {"code": "/IWBEP/CM_MGW_RT/020", "message": {"lang": "en", "value": "Property 'Foo' is invalid"},
                      "innererror": {"errordetails": [{"code": "X", "message": "Check $select", "severity": "error"}]}}}
    responses.get(f"{SERVICE_URL}/A_SalesOrder", status=400, json=body)
    with pytest.raises(SapHttpError) as caught:
        list(live_client().iter_pages("API_SALES_ORDER_SRV", "A_SalesOrder"))
    assert str(caught.value) == ("SAP 400 /IWBEP/CM_MGW_RT/020: Property 'Foo' is invalid (details: Check $select) "
                                 "[s4.example.com/sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder]")
    assert caught.value.code == "/IWBEP/CM_MGW_RT/020"


def test_xml_error_body_and_malformed_json():
    xml = b'<?xml version="1.0"?><error><code>SY/530</code><message xml:lang="en">Not found</message></error>'
    client = ODataClient(system(), fake(lambda *a: HttpResponse(404, xml, {}, f"{BASE}/x")))
    with pytest.raises(SapHttpError, match="SAP 404 SY/530: Not found"):
        client.get_entity("S", "E", {"K": "1"})
    broken = ODataClient(system(), fake(lambda *a: HttpResponse(200, b'{"d": {"results": [', {}, f"{BASE}/x")))
    with pytest.raises(ProtocolError, match="malformed JSON"):
        list(broken.iter_pages("S", "E"))


@responses.activate
def test_logon_failure_names_the_user_not_the_password(caplog):
    responses.get(f"{SERVICE_URL}/A_SalesOrder", status=401)
    with caplog.at_level(logging.DEBUG), pytest.raises(SapAuthError, match="logon refused \\(401\\) for user OTC") as caught:
        list(live_client().iter_pages("API_SALES_ORDER_SRV", "A_SalesOrder"))
    assert SECRET not in str(caught.value)
    assert SECRET not in caplog.text


def test_etag_from_header_or_metadata():
    with_header = fake(lambda *a: json_response(200, {"d": {"K": "1"}}, {"ETag": 'W/"h"'}))
    assert ODataClient(system(), with_header).get_entity("S", "E", {"K": "1"})[1] == 'W/"h"'
    in_body = fake(lambda *a: json_response(200, {"d": {"K": "1", "__metadata": {"etag": 'W/"m"'}}}))
    assert ODataClient(system(), in_body).get_entity("S", "E", {"K": "1"})[1] == 'W/"m"'


def test_sap_message_error_header_on_success_is_raised():
    header = {"sap-message": orjson.dumps({"code": "V1/123", "message": "Order locked", "severity": "error"}).decode()}
    client = ODataClient(system(), fake(lambda *a: json_response(200, page([]), header)))
    with pytest.raises(SapHttpError, match="Order locked"):
        list(client.iter_pages("S", "E"))
