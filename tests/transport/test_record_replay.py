from __future__ import annotations

from decimal import Decimal

import pytest

from sapbridge.errors import ProtocolError
from sapbridge.transport.base import HttpResponse
from sapbridge.transport.keys import http_key
from sapbridge.transport.record import RecordingHttpConnection, RecordingRfcConnection
from sapbridge.transport.replay import ReplayHttpConnection, ReplayRfcConnection

URL = "https://s4.example.com/sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder"


def test_http_key_ignores_host_order_and_volatile_params():
    a = http_key("get", URL + "?$top=5&sap-client=100", {"$skip": "0"})
    b = http_key("GET", "http://internal:8000/sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder", {"$skip": "0", "$top": "5"})
    assert a == b == "GET /sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder?$skip=0&$top=5"


class Live:
    def request(self, method, url, *, headers=None, params=None, data=None, timeout=None):
        return HttpResponse(200, b'{"d":{"results":[{"SalesOrder":"1"}]}}',
                            {"Content-Type": "application/json", "Set-Cookie": "MYSAPSSO2=abc; SAP_SESSIONID=zzz",
                             "x-csrf-token": "real-token-123", "Authorization": "Basic c2VjcmV0"}, url)


def test_record_then_replay_http_without_secrets(tmp_path):
    recorder = RecordingHttpConnection(Live(), tmp_path)
    recorder.request("GET", URL, params={"$top": "5"})
    everything = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    for secret in (b"MYSAPSSO2", b"SAP_SESSIONID", b"real-token-123", b"c2VjcmV0"):
        assert secret not in everything
    replayed = ReplayHttpConnection(tmp_path).request("GET", URL, params={"$top": "5"})
    assert replayed.content == b'{"d":{"results":[{"SalesOrder":"1"}]}}'
    assert replayed.status_code == 200


def test_replay_miss_names_the_request(tmp_path):
    (tmp_path / "odata").mkdir()
    with pytest.raises(ProtocolError, match=r"no recording for GET /sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder\?\$top=9"):
        ReplayHttpConnection(tmp_path).request("GET", URL, params={"$top": "9"})


class LiveRfc:
    def call(self, function, **params):
        return {"LINEITEMS": [{"AMT": Decimal("1.50")}], "ECHO": {"PASSWD": "hunter2", "USER": "OTC"}}

    def close(self):
        pass


def test_record_then_replay_rfc_masks_password_fields(tmp_path):
    RecordingRfcConnection(LiveRfc(), tmp_path).call("Z_READ", COMPANYCODE="1000", PASSWD="hunter2")
    text = "".join(p.read_text() for p in tmp_path.rglob("*.json"))
    assert "hunter2" not in text
    result = ReplayRfcConnection(tmp_path).call("Z_READ", COMPANYCODE="1000", PASSWD="anything")
    assert result["LINEITEMS"] == [{"AMT": "1.50"}]
    with pytest.raises(ProtocolError, match="no recording for RFC Z_READ"):
        ReplayRfcConnection(tmp_path).call("Z_READ", COMPANYCODE="2000")
