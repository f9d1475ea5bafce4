"""Every SAP field the mappings and the demo fixtures use exists, with a compatible type, in the
real SAP metadata where the real metadata is available (../shared/sap-metadata)."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest

from devtools.demo.shapes import SERVICES
from sapbridge.mapping import ODataRoute, load_mappings

SHARED = Path(os.environ.get("SAP_METADATA_DIR") or
              Path(__file__).resolve().parents[2].parent / "shared" / "sap-metadata")
EDMX = {
    "API_OPLACCTGDOCITEMCUBE_SRV": "API_OPLACCTGDOCITEMCUBE_SRV.edmx",
    "API_SALES_ORDER_SRV": "API_SALES_ORDER_SRV.edmx",
    "API_BUSINESS_PARTNER": "API_BUSINESS_PARTNER.edmx",
}
CDS = {
    ("API_CRDTMBUSINESSPARTNER", "CreditManagementAccount"):
        "credit-management-derived/API_CRDTMBUSINESSPARTNER__zcreditmanagementaccount.ddls.asddls",
    ("API_CRDTMBUSINESSPARTNER", "CreditMgmtBusinessPartner"):
        "credit-management-derived/API_CRDTMBUSINESSPARTNER__zcreditmgmtbusinesspartner.ddls.asddls",
}
COMPATIBLE = {
    "str": {"Edm.String"}, "alpha": {"Edm.String"}, "date": {"Edm.DateTime"},
    "datetime": {"Edm.DateTimeOffset", "Edm.DateTime"}, "amount": {"Edm.Decimal"},
    "decimal": {"Edm.Decimal"}, "bool": {"Edm.Boolean"}, "nonblank": {"Edm.String"}, "code": {"Edm.String"},
}
CDS_TYPES = {"abap.char": "Edm.String", "abap.cuky": "Edm.String", "abap.numc": "Edm.String",
             "abap.curr": "Edm.Decimal", "abap_boolean": "Edm.Boolean",
             "RAP_CP_ODATA_V2_EDM_DATETIME": "Edm.DateTime"}

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="shared/sap-metadata not available")


@cache
def edmx_types(service: str) -> dict[str, dict[str, str]]:
    """Entity set -> {property or navigation: Edm type or 'nav:<target set>'}."""
    root = ET.parse(SHARED / EDMX[service]).getroot()
    ns = {"edm": "http://schemas.microsoft.com/ado/2008/09/edm"}
    types = {}
    for entity_type in root.iterfind(".//edm:EntityType", ns):
        props = {p.get("Name"): p.get("Type") for p in entity_type.iterfind("edm:Property", ns)}
        for nav in entity_type.iterfind("edm:NavigationProperty", ns):
            props[nav.get("Name")] = "nav"
        types[entity_type.get("Name")] = props
    sets = {}
    for entity_set in root.iterfind(".//edm:EntitySet", ns):
        sets[entity_set.get("Name")] = types[entity_set.get("EntityType").split(".")[-1]]
    return sets


@cache
def cds_types(path: str) -> dict[str, str]:
    text = (SHARED / path).read_text(encoding="utf-8")
    fields = {}
    for name, kind in re.findall(r"^\s*(?:key\s+)?(\w+)\s*:\s*([\w.]+)", text, re.M):
        fields[name] = CDS_TYPES.get(kind, kind)
    for alias in re.findall(r"@OData.property.name: '(\w+)'", text):
        fields[alias] = "nav"
    return fields


def real_properties(service: str, entity_set: str) -> dict[str, str] | None:
    if service in EDMX:
        return edmx_types(service).get(entity_set)
    if (service, entity_set) in CDS:
        return cds_types(CDS[(service, entity_set)])
    return None


NAV_TARGETS = {"to_CrdtMBusinessPartnerTP": ("API_CRDTMBUSINESSPARTNER", "CreditMgmtBusinessPartner"),
               "to_BusinessPartnerAddress": ("API_BUSINESS_PARTNER", "A_BusinessPartnerAddress"),
               "to_Customer": ("API_BUSINESS_PARTNER", "A_Customer")}


def resolve(service: str, entity_set: str, path: str) -> str | None:
    props = real_properties(service, entity_set)
    head, _, rest = path.partition("/")
    if props is None or head not in props:
        return None
    if not rest:
        return props[head]
    assert props[head] == "nav", f"{head} is not a navigation property"
    return resolve(*NAV_TARGETS[head], rest)


def odata_routes():
    if not SHARED.is_dir():  # collected before the module's skip applies
        return
    for mapping in load_mappings("mappings").values():
        if isinstance(mapping.odata, ODataRoute) and real_properties(mapping.odata.service, mapping.odata.entity_set):
            yield pytest.param(mapping, id=mapping.dataset)


@pytest.mark.parametrize("mapping", list(odata_routes()))
def test_mapped_fields_exist_with_compatible_types(mapping):
    route = mapping.odata
    for spec in route.fields:
        edm = resolve(route.service, route.entity_set, spec.sap)
        assert edm is not None, f"{mapping.path.name}: {spec.sap} not in {route.service}/{route.entity_set}"
        if spec.convert in COMPATIBLE:
            assert edm in COMPATIBLE[spec.convert], f"{spec.sap}: {edm} cannot be read as {spec.convert}"
    used = [c[0] for c in route.filter] + list(route.orderby) + list(route.expand)
    used += [f for f in (route.partition_field, route.incremental_field) if f]
    for name in used:
        assert resolve(route.service, route.entity_set, name) is not None, f"{name} unknown"


def test_every_real_service_is_checked():
    checked = {p.values[0].odata.service for p in odata_routes()}
    assert checked == {"API_OPLACCTGDOCITEMCUBE_SRV", "API_SALES_ORDER_SRV", "API_BUSINESS_PARTNER",
                       "API_CRDTMBUSINESSPARTNER"}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_demo_metadata_matches_real_metadata(service):
    for entity_set, spec in SERVICES[service].items():
        real = real_properties(service, entity_set)
        if real is None:
            continue
        for name, edm in spec["props"].items():
            assert name in real, f"demo {service}/{entity_set}.{name} is not a real property"
            assert real[name] == edm, f"demo {entity_set}.{name} is {edm}, SAP says {real[name]}"
