from __future__ import annotations

from pathlib import Path

import pytest

from devtools.demo.shapes import SERVICES, metadata_xml
from sapbridge.config import load_settings
from sapbridge.connect import open_odata
from sapbridge.odata.client import ODataClient
from sapbridge.transport.base import HttpResponse

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "sap-metadata"


class Serve:
    def __init__(self, body: bytes):
        self.body = body

    def request(self, method, url, *, headers=None, params=None, data=None, timeout=None):
        return HttpResponse(200, self.body, {"content-type": "application/xml"}, url)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_pyodata_parses_our_fixture_metadata(service):
    demo = load_settings(None).system("demo")
    model = open_odata(demo).model(service)
    for entity_set, spec in SERVICES[service].items():
        entity_type = model.schema.entity_set(entity_set).entity_type
        assert {p.name for p in entity_type.proprties()} == set(spec["props"])


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared/sap-metadata not available")
def test_pyodata_parses_real_sales_order_metadata():
    demo = load_settings(None).system("demo")
    client = ODataClient(demo, Serve((SHARED / "API_SALES_ORDER_SRV.edmx").read_bytes()))
    entity_type = client.model("API_SALES_ORDER_SRV").schema.entity_set("A_SalesOrder").entity_type
    assert entity_type.proprty("TotalCreditCheckStatus").typ.name == "Edm.String"


def test_metadata_is_fetched_once_per_service():
    calls = []

    class Counting(Serve):
        def request(self, method, url, **kwargs):
            calls.append(url)
            return super().request(method, url, **kwargs)

    client = ODataClient(load_settings(None).system("demo"), Counting(metadata_xml("API_SALES_ORDER_SRV")))
    client.metadata("API_SALES_ORDER_SRV")
    client.metadata("API_SALES_ORDER_SRV")
    assert len(calls) == 1
