"""The demo company rendered as SAP writes it: OData V2 JSON entities, RFC rows, and $metadata.

Property names and types follow the real services (checked against ``shared/sap-metadata`` by
the contract tests); the ``$metadata`` documents here are our own, smaller ones, listing only the
properties the demo uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from devtools.demo.data import COMPANY_CODES, PROMISE_CODES, DemoCompany
from sapbridge.money import currency_decimals

__all__ = ["SERVICES", "metadata_xml", "odata_entities", "rfc_tables"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

S, D, DT, DTO, B = "Edm.String", "Edm.Decimal", "Edm.DateTime", "Edm.DateTimeOffset", "Edm.Boolean"

SERVICES: dict[str, dict[str, dict[str, Any]]] = {
    "API_OPLACCTGDOCITEMCUBE_SRV": {
        "A_OperationalAcctgDocItemCube": {
            "keys": ["CompanyCode", "FiscalYear", "AccountingDocument", "AccountingDocumentItem"],
            "props": {
                "CompanyCode": S, "FiscalYear": S, "AccountingDocument": S, "AccountingDocumentItem": S,
                "Customer": S, "FinancialAccountType": S, "DebitCreditCode": S,
                "AccountingDocumentType": S, "PostingDate": DT, "DocumentDate": DT,
                "DueCalculationBaseDate": DT, "NetDueDate": DT, "AmountInTransactionCurrency": D,
                "TransactionCurrency": S, "AmountInCompanyCodeCurrency": D, "CompanyCodeCurrency": S,
                "DocumentReferenceID": S, "AssignmentReference": S, "BillingDocument": S,
                "InvoiceReference": S, "PaymentReference": S, "AccountingDocumentHeaderText": S,
                "PaymentTerms": S, "DunningLevel": S, "PaymentBlockingReason": S, "SpecialGLCode": S,
                "CreditControlArea": S, "IsCleared": B, "ClearingDate": DT,
                "ClearingAccountingDocument": S,
            },
        },
    },
    "API_CRDTMBUSINESSPARTNER": {
        "CreditManagementAccount": {
            "keys": ["BusinessPartner", "CreditSegment"],
            "props": {
                "BusinessPartner": S, "CreditSegment": S, "CreditLimitAmount": D,
                "CreditSegmentCurrency": S, "CreditLimitValidityEndDate": DT,
                "CreditLimitLastChangeDate": DT, "CreditAccountIsBlocked": B,
                "CreditAccountBlockReason": S, "BusinessPartnerIsCritical": B,
            },
            "nav": {"to_CrdtMBusinessPartnerTP": "CreditMgmtBusinessPartner"},
        },
        "CreditMgmtBusinessPartner": {
            "keys": ["BusinessPartner"],
            "props": {"BusinessPartner": S, "CreditRiskClass": S, "CreditCheckRule": S,
                      "CreditWorthinessScoreValue": S},
        },
    },
    "API_SALES_ORDER_SRV": {
        "A_SalesOrder": {
            "keys": ["SalesOrder"],
            "props": {
                "SalesOrder": S, "SoldToParty": S, "SalesOrganization": S, "SalesOrderType": S,
                "TotalCreditCheckStatus": S, "TotalBlockStatus": S, "TotalNetAmount": D,
                "TransactionCurrency": S, "CreationDate": DT, "SalesOrderDate": DT,
                "LastChangeDateTime": DTO, "DeliveryBlockReason": S, "HeaderBillingBlockReason": S,
                "OverallSDDocumentRejectionSts": S,
            },
        },
    },
    "API_BUSINESS_PARTNER": {
        "A_BusinessPartner": {
            "keys": ["BusinessPartner"],
            "props": {"BusinessPartner": S, "Customer": S, "BusinessPartnerFullName": S},
            "nav": {"to_BusinessPartnerAddress": "A_BusinessPartnerAddress*", "to_Customer": "A_Customer"},
        },
        "A_BusinessPartnerAddress": {
            "keys": ["BusinessPartner", "AddressID"],
            "props": {"BusinessPartner": S, "AddressID": S, "Country": S},
        },
        "A_Customer": {
            "keys": ["Customer"],
            "props": {"Customer": S, "PostingIsBlocked": B, "OrderIsBlockedForCustomer": S},
        },
        "A_CustomerCompany": {
            "keys": ["Customer", "CompanyCode"],
            "props": {"Customer": S, "CompanyCode": S, "PaymentTerms": S, "APARToleranceGroup": S,
                      "AccountingClerk": S, "PaymentBlockingReason": S, "CustomerHeadOffice": S,
                      "AlternativePayerAccount": S},
        },
        "A_BusinessPartnerBank": {
            "keys": ["BusinessPartner", "BankIdentification"],
            "props": {"BusinessPartner": S, "BankIdentification": S, "IBAN": S, "BankAccount": S,
                      "BankNumber": S, "BankCountryKey": S, "SWIFTCode": S,
                      "BankAccountHolderName": S},
        },
    },
    "ZFSCM_DISPUTE_SRV": {
        "DisputeCases": {
            "keys": ["CaseID"],
            "props": {
                "CaseID": S, "CaseGUID": S, "CompanyCode": S, "Customer": S, "CaseStatus": S,
                "CaseReason": S, "Coordinator": S, "OriginalAmount": D, "DisputedAmount": D,
                "PaidAmount": D, "CreditedAmount": D, "WrittenOffAmount": D, "Currency": S,
                "InvoiceReference": S, "CreatedOn": DT, "ClosedOn": DT, "LastChangeDateTime": DTO,
            },
        },
    },
    "ZFSCM_COLLECTIONS_SRV": {
        "PromisesToPay": {
            "keys": ["CaseGUID"],
            "props": {
                "CaseGUID": S, "CompanyCode": S, "Customer": S, "PromisedAmount": D, "PaidAmount": D,
                "Currency": S, "DueDate": DT, "PromiseDate": DT, "PromiseState": S, "PromiseLevel": S,
            },
        },
    },
}
"""The demo's services: entity sets with keys, property types and navigation properties."""


def _sap_date(value: date | None) -> str | None:
    if value is None:
        return None
    stamp = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return f"/Date({int((stamp - _EPOCH).total_seconds()) * 1000})/"


def _sap_stamp(value: datetime) -> str:
    return f"/Date({int((value - _EPOCH).total_seconds() * 1000)}+0000)/"


def _money(value: Decimal, currency: str) -> str:
    return f"{value:.{max(currency_decimals(currency), 2)}f}"


def _strip_zeros(number: str) -> str:
    """OData shows ALPHA-converted keys in external form (no leading zeros)."""
    return number.lstrip("0") or "0"


def odata_entities(company: DemoCompany) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Every entity set's rows as OData V2 JSON objects (navigation targets inlined)."""
    return {
        ("API_OPLACCTGDOCITEMCUBE_SRV", "A_OperationalAcctgDocItemCube"): list(_cube(company)),
        ("API_CRDTMBUSINESSPARTNER", "CreditManagementAccount"): [
            {
                "BusinessPartner": _strip_zeros(s.customer), "CreditSegment": s.segment,
                "CreditLimitAmount": _money(s.limit, s.currency), "CreditSegmentCurrency": s.currency,
                "CreditLimitValidityEndDate": _sap_date(s.valid_to),
                "CreditLimitLastChangeDate": _sap_date(s.changed_on),
                "CreditAccountIsBlocked": s.blocked, "CreditAccountBlockReason": s.block_reason,
                "BusinessPartnerIsCritical": s.critical,
                "to_CrdtMBusinessPartnerTP": {"BusinessPartner": _strip_zeros(s.customer),
                                              "CreditRiskClass": s.risk_class,
                                              "CreditCheckRule": s.check_rule,
                                              "CreditWorthinessScoreValue": s.score},
                "__etag": f"W/\"datetime'{s.changed_on.isoformat()}T00%3A00%3A00'\"",
            }
            for s in company.segments
        ],
        ("API_SALES_ORDER_SRV", "A_SalesOrder"): [
            {
                "SalesOrder": _strip_zeros(o.number), "SoldToParty": _strip_zeros(o.sold_to),
                "SalesOrganization": o.sales_org, "SalesOrderType": o.order_type,
                "TotalCreditCheckStatus": o.credit_status, "TotalBlockStatus": o.block_status,
                "TotalNetAmount": _money(o.net_amount, o.currency), "TransactionCurrency": o.currency,
                "CreationDate": _sap_date(o.created_on), "SalesOrderDate": _sap_date(o.created_on),
                "LastChangeDateTime": _sap_stamp(o.changed_at), "DeliveryBlockReason": o.delivery_block,
                "HeaderBillingBlockReason": "", "OverallSDDocumentRejectionSts": o.rejection_status,
            }
            for o in company.orders
        ],
        ("API_BUSINESS_PARTNER", "A_BusinessPartner"): [
            {
                "BusinessPartner": _strip_zeros(c.number), "Customer": _strip_zeros(c.number),
                "BusinessPartnerFullName": c.name,
                "to_BusinessPartnerAddress": {"results": [
                    {"BusinessPartner": _strip_zeros(c.number), "AddressID": "1", "Country": c.country}]},
                "to_Customer": {"Customer": _strip_zeros(c.number), "PostingIsBlocked": c.posting_blocked,
                                "OrderIsBlockedForCustomer": ""},
            }
            for c in company.customers
        ],
        ("API_BUSINESS_PARTNER", "A_CustomerCompany"): [
            {"Customer": _strip_zeros(c.number), "CompanyCode": code, "PaymentTerms": c.terms,
             "APARToleranceGroup": "", "AccountingClerk": c.clerk, "PaymentBlockingReason": "",
             "CustomerHeadOffice": _strip_zeros(c.head_office) if c.head_office else "",
             "AlternativePayerAccount": _strip_zeros(c.alternative_payer) if c.alternative_payer else ""}
            for c in company.customers for code in c.company_codes
        ],
        ("API_BUSINESS_PARTNER", "A_BusinessPartnerBank"): [
            {"BusinessPartner": _strip_zeros(c.number), "BankIdentification": f"{i + 1:04d}",
             "IBAN": iban, "BankAccount": iban[-10:], "BankNumber": iban[4:12],
             "BankCountryKey": iban[:2], "SWIFTCode": "", "BankAccountHolderName": c.name}
            for c in company.customers for i, iban in enumerate(c.ibans)
        ],
        ("ZFSCM_DISPUTE_SRV", "DisputeCases"): [
            {
                "CaseID": _strip_zeros(d.case_id), "CaseGUID": d.guid, "CompanyCode": d.company_code,
                "Customer": _strip_zeros(d.customer), "CaseStatus": d.status, "CaseReason": d.reason,
                "Coordinator": d.coordinator, "OriginalAmount": _money(d.original, d.currency),
                "DisputedAmount": _money(d.disputed, d.currency), "PaidAmount": _money(d.paid, d.currency),
                "CreditedAmount": _money(d.credited, d.currency),
                "WrittenOffAmount": _money(d.written_off, d.currency), "Currency": d.currency,
                "InvoiceReference": d.invoice_reference, "CreatedOn": _sap_date(d.created_on),
                "ClosedOn": _sap_date(d.closed_on), "LastChangeDateTime": _sap_stamp(d.changed_at),
            }
            for d in company.disputes
        ],
        ("ZFSCM_COLLECTIONS_SRV", "PromisesToPay"): [
            {
                "CaseGUID": p.guid, "CompanyCode": p.company_code, "Customer": _strip_zeros(p.customer),
                "PromisedAmount": _money(p.promised, p.currency), "PaidAmount": _money(p.paid, p.currency),
                "Currency": p.currency, "DueDate": _sap_date(p.due_on), "PromiseDate": _sap_date(p.made_on),
                "PromiseState": PROMISE_CODES[p.state], "PromiseLevel": str(p.level),
            }
            for p in company.promises
        ],
    }


def _cube(company: DemoCompany) -> Iterable[dict[str, Any]]:
    for i in [*company.open_items, *company.cleared_items]:
        local = COMPANY_CODES[i.company_code][0]
        yield {
            "CompanyCode": i.company_code, "FiscalYear": i.fiscal_year,
            "AccountingDocument": i.document.lstrip("0"), "AccountingDocumentItem": i.item.lstrip("0"),
            "Customer": _strip_zeros(i.customer), "FinancialAccountType": "D",
            "DebitCreditCode": "H" if i.amount < 0 else "S", "AccountingDocumentType": i.doc_type,
            "PostingDate": _sap_date(i.posting_date), "DocumentDate": _sap_date(i.posting_date),
            "DueCalculationBaseDate": _sap_date(i.baseline_date),
            "NetDueDate": _sap_date(i.baseline_date + timedelta(days=i.net_days)),
            "AmountInTransactionCurrency": _money(i.amount, i.currency),
            "TransactionCurrency": i.currency, "AmountInCompanyCodeCurrency": _money(i.amount, local),
            "CompanyCodeCurrency": local, "DocumentReferenceID": i.reference,
            "AssignmentReference": i.assignment, "BillingDocument": i.billing_document.lstrip("0"),
            "InvoiceReference": "", "PaymentReference": "", "AccountingDocumentHeaderText": "",
            "PaymentTerms": i.terms, "DunningLevel": i.dunning_level, "PaymentBlockingReason": "",
            "SpecialGLCode": "", "CreditControlArea": "A000", "IsCleared": i.clearing_date is not None,
            "ClearingDate": _sap_date(i.clearing_date),
            "ClearingAccountingDocument": i.clearing_document.lstrip("0"),
        }


def _internal(value: Decimal, currency: str) -> str:
    """SAP's internal CURR form (two decimals always): JPY 1500 is stored as 15.00."""
    return f"{value.scaleb(currency_decimals(currency) - 2):.2f}"


def _dats(value: date | None) -> str:
    return value.strftime("%Y%m%d") if value else "00000000"


def rfc_tables(company: DemoCompany) -> dict[str, list[dict[str, str]]]:
    """Table contents as RFC_READ_TABLE returns them (all text, CURR in internal form)."""
    segment_currency = {code: cur for code, (cur, _) in COMPANY_CODES.items()}
    return {
        "KNA1": [{"KUNNR": c.number, "NAME1": c.name, "LAND1": c.country,
                  "SPERR": "X" if c.posting_blocked else "", "AUFSD": ""} for c in company.customers],
        "KNB1": [{"KUNNR": c.number, "BUKRS": code, "ZTERM": c.terms, "TOGRU": "", "BUSAB": c.clerk,
                  "ZAHLS": "", "KNRZE": c.head_office, "KNRZB": c.alternative_payer}
                 for c in company.customers for code in c.company_codes],
        "KNBK": [{"KUNNR": c.number, "BVTYP": f"{i + 1:04d}", "BANKS": iban[:2], "BANKL": iban[4:12],
                  "BANKN": iban[-10:], "KOINH": c.name} for c in company.customers
                 for i, iban in enumerate(c.ibans)],
        "UKMBP_CMS_SGM": [{"PARTNER": s.customer, "CREDIT_SGMNT": s.segment,
                           "CREDIT_LIMIT": _internal(s.limit, s.currency),
                           "LIMIT_VALID_DATE": _dats(s.valid_to), "LIMIT_CHG_DATE": _dats(s.changed_on),
                           "XBLOCKED": "X" if s.blocked else "", "BLOCK_REASON": s.block_reason,
                           "XCRITICAL": "X" if s.critical else ""} for s in company.segments],
        "UKMBP_CMS": [{"PARTNER": c.number, "RISK_CLASS": s.risk_class, "CHECK_RULE": s.check_rule,
                       "OWN_RATING": s.score}
                      for c in company.customers for s in company.segments
                      if s.customer == c.number and s.segment == c.company_codes[0]],
        "UKMCRED_SGM0C": [{"CREDIT_SGMNT": code, "CURRENCY": cur} for code, cur in segment_currency.items()],
        "VBAK": [{"VBELN": o.number, "KUNNR": o.sold_to, "VKORG": o.sales_org, "AUART": o.order_type,
                  "CMGST": o.credit_status, "NETWR": _internal(o.net_amount, o.currency),
                  "WAERK": o.currency, "ERDAT": _dats(o.created_on), "AUDAT": _dats(o.created_on),
                  "LIFSK": o.delivery_block, "FAKSK": "", "ABSTK": o.rejection_status}
                 for o in company.orders],
        "SCMG_T_CASE_ATTR": [{"CASE_GUID": d.guid, "EXT_KEY": d.case_id, "CASE_TYPE": "F_DM",
                              "STAT_ORDERNO": d.status, "REASON_CODE": d.reason,
                              "CREATE_TIME": d.created_on.strftime("%Y%m%d") + "090000",
                              "CLOSING_TIME": d.closed_on.strftime("%Y%m%d") + "170000"
                              if d.closed_on else "0",
                              "CHANGE_TIME": d.changed_at.strftime("%Y%m%d%H%M%S")}
                             for d in company.disputes],
        "UDMCASEATTR00": [{"CASE_GUID": d.guid, "FIN_BUKRS": d.company_code, "FIN_KUNNR": d.customer,
                           "FIN_COORDINATOR": d.coordinator,
                           "FIN_ORIGINAL_AMT": _internal(d.original, d.currency),
                           "FIN_DISPUTED_AMT": _internal(d.disputed, d.currency),
                           "FIN_PAID_AMT": _internal(d.paid, d.currency),
                           "FIN_CREDITED_AMT": _internal(d.credited, d.currency),
                           "FIN_WRT_OFF_AMT": _internal(d.written_off, d.currency),
                           "FIN_DISPUTE_CURR": d.currency, "FIN_INV_REF": d.invoice_reference}
                          for d in company.disputes],
        "UDM_P2P_ATTR": [{"CASE_GUID": p.guid, "FIN_COMP_CODE": p.company_code, "FIN_CUSTOMER": p.customer,
                          "FIN_PROMISED_AMT": _internal(p.promised, p.currency),
                          "FIN_PAID_AMOUNT": _internal(p.paid, p.currency), "FIN_P2P_CURR": p.currency,
                          "FIN_P2P_DUE_DATE": _dats(p.due_on), "FIN_P2P_DATE": _dats(p.made_on),
                          "FIN_P2P_STATE": PROMISE_CODES[p.state], "FIN_P2P_LEVEL": str(p.level)}
                         for p in company.promises],
    }


def open_item_lines(company: DemoCompany, company_code: str, customer: str, *,
                    cleared: bool = False) -> list[dict[str, str]]:
    """BAPI_AR_ACC_GETOPENITEMS (or, ``cleared``, _GETCLEAREDITEMS) LINEITEMS (BAPI3007_2 shape;
    amounts unsigned plus S/H; cleared items with CLEAR_DATE and CLR_DOC_NO)."""
    items = company.cleared_items if cleared else company.open_items
    return [
        {"COMP_CODE": i.company_code, "CUSTOMER": i.customer, "FISC_YEAR": i.fiscal_year,
         "DOC_NO": i.document, "ITEM_NUM": i.item, "DOC_TYPE": i.doc_type,
         "PSTNG_DATE": i.posting_date.isoformat(), "DOC_DATE": i.posting_date.isoformat(),
         "BLINE_DATE": i.baseline_date.isoformat(), "NETTERMS": str(i.net_days), "DSCT_DAYS1": "0",
         "DSCT_DAYS2": "0", "DB_CR_IND": "H" if i.amount < 0 else "S",
         "AMT_DOCCUR": _money(abs(i.amount), i.currency), "CURRENCY": i.currency,
         "LC_AMOUNT": _money(abs(i.amount), COMPANY_CODES[i.company_code][0]),
         "LOC_CURRENCY": COMPANY_CODES[i.company_code][0], "REF_DOC_NO": i.reference,
         "ALLOC_NMBR": i.assignment, "BILL_DOC": i.billing_document, "PMNTTRMS": i.terms,
         "DUNN_LEVEL": i.dunning_level, "PMNT_BLOCK": "", "SP_GL_IND": "",
         **({"CLEAR_DATE": i.clearing_date.isoformat(), "CLR_DOC_NO": i.clearing_document}
            if i.clearing_date else {})}
        for i in items if i.company_code == company_code and i.customer == customer
    ]


def metadata_xml(service: str) -> bytes:
    """A small EDMX ($metadata) for one demo service, OData V2 with SAP annotations."""
    sets = SERVICES[service]
    types, containers, associations = [], [], []
    for name, spec in sets.items():
        keys = "".join(f'<PropertyRef Name="{k}"/>' for k in spec["keys"])
        props = "".join(
            f'<Property Name="{p}" Type="{t}" Nullable="{str(p not in spec["keys"]).lower()}"'
            + (' Precision="24" Scale="3"' if t == D else "")
            + (' Precision="0" sap:display-format="Date"' if t == DT else "")
            + (' Precision="7"' if t == DTO else "") + "/>"
            for p, t in spec["props"].items()
        )
        navs = ""
        for nav, target in spec.get("nav", {}).items():
            many = target.endswith("*")
            target_name = target.rstrip("*")
            assoc = f"assoc_{name}_{nav}"
            navs += (f'<NavigationProperty Name="{nav}" Relationship="{service}.{assoc}" '
                     f'FromRole="FromRole_{assoc}" ToRole="ToRole_{assoc}"/>')
            associations.append(
                f'<Association Name="{assoc}"><End Type="{service}.{name}Type" Multiplicity="1" '
                f'Role="FromRole_{assoc}"/><End Type="{service}.{target_name}Type" '
                f'Multiplicity="{"*" if many else "0..1"}" Role="ToRole_{assoc}"/></Association>')
            containers.append(
                f'<AssociationSet Name="{assoc}_set" Association="{service}.{assoc}">'
                f'<End EntitySet="{name}" Role="FromRole_{assoc}"/>'
                f'<End EntitySet="{target_name}" Role="ToRole_{assoc}"/></AssociationSet>')
        types.append(f'<EntityType Name="{name}Type"><Key>{keys}</Key>{props}{navs}</EntityType>')
        containers.insert(0, f'<EntitySet Name="{name}" EntityType="{service}.{name}Type"/>')
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<edmx:Edmx Version="1.0" xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx" '
        'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" '
        'xmlns:sap="http://www.sap.com/Protocols/SAPData">'
        '<edmx:DataServices m:DataServiceVersion="2.0">'
        f'<Schema Namespace="{service}" xml:lang="en" sap:schema-version="1" '
        'xmlns="http://schemas.microsoft.com/ado/2008/09/edm">'
        + "".join(types) + "".join(associations)
        + f'<EntityContainer Name="{service}_Entities" m:IsDefaultEntityContainer="true">'
        + "".join(containers) + "</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"
    ).encode()
