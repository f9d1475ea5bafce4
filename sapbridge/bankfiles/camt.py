"""ISO 20022 camt.053 (statement) and camt.054 (debit/credit notification), any version.

No sound camt package exists on PyPI (``camt`` is an image tool; the others are young and
unmaintained), so this reads the standard elements with lxml, namespace-agnostic. Only credit
entries (``CdtDbtInd`` = ``CRDT``) are payments to us; an entry with several transaction details
(a batch booking) yields one payment per detail.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from lxml import etree  # type: ignore[import-untyped]

from sapbridge.bankfiles.payment import Payment, check_currency
from sapbridge.errors import InputError
from sapbridge.money import parse_amount

__all__ = ["parse_camt"]

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


def _children(node: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in node if isinstance(child.tag, str) and etree.QName(child).localname == name]


def _find(node: etree._Element | None, *path: str) -> etree._Element | None:
    for name in path:
        if node is None:
            return None
        found = _children(node, name)
        node = found[0] if found else None
    return node


def _first(*nodes: etree._Element | None) -> etree._Element | None:
    """The first node that exists (lxml elements without children are falsy, so no ``or``)."""
    return next((node for node in nodes if node is not None), None)


def _text(node: etree._Element | None, *path: str) -> str:
    found = _find(node, *path)
    return (found.text or "").strip() if found is not None else ""


def _line(node: etree._Element) -> int:
    return int(node.sourceline or 0)


def _amount(node: etree._Element | None, path: Path, where: etree._Element) -> tuple[Decimal, str]:
    if node is None:
        raise InputError("entry without Amt", path=str(path), row=_line(where))
    try:
        amount = parse_amount(node.text or "")
    except ValueError as exc:
        raise InputError(f"Amt: {exc}", path=str(path), row=_line(node)) from None
    if amount <= 0:
        raise InputError(f"Amt must be positive, got {node.text!r}", path=str(path), row=_line(node))
    return amount, check_currency(node.get("Ccy", ""), path=str(path), row=_line(node))


def _party(details: etree._Element | None) -> tuple[str, str]:
    parties = _find(details, "RltdPties")
    name = (_text(parties, "Dbtr", "Nm") or _text(parties, "Dbtr", "Pty", "Nm")
            or _text(parties, "UltmtDbtr", "Nm"))
    account = _text(parties, "DbtrAcct", "Id", "IBAN") or _text(parties, "DbtrAcct", "Id", "Othr", "Id")
    return name, account


def _remittance(details: etree._Element | None, entry: etree._Element) -> str:
    parts: list[str] = []
    info = _find(details, "RmtInf")
    if info is not None:
        parts += [(n.text or "").strip() for n in _children(info, "Ustrd")]
        for structured in _children(info, "Strd"):
            parts.append(_text(structured, "CdtrRefInf", "Ref"))
            parts += [_text(doc, "Nb") for doc in _children(structured, "RfrdDocInf")]
    parts.append(_text(details, "AddtlTxInf"))
    if not any(parts):
        parts.append(_text(entry, "AddtlNtryInf"))
    return " ".join(p for p in parts if p)


def _value_date(entry: etree._Element) -> date | None:
    text = _text(entry, "ValDt", "Dt") or _text(entry, "BookgDt", "Dt") or _text(entry, "ValDt", "DtTm")[:10]
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _payment_id(entry: etree._Element, details: etree._Element | None, fallback: str) -> str:
    refs = _find(details, "Refs")
    return (_text(refs, "AcctSvcrRef") or _text(refs, "EndToEndId").replace("NOTPROVIDED", "")
            or _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef") or fallback)


def _entry_payments(entry: etree._Element, account_ccy: str, path: Path, serial: str) -> list[Payment]:
    amount, currency = _amount(_find(entry, "Amt"), path, entry)
    if account_ccy and currency != account_ccy:
        raise InputError(f"mixed currencies: entry in {currency} on an account in {account_ccy}",
                         path=str(path), row=_line(entry))
    all_details = [d for block in _children(entry, "NtryDtls") for d in _children(block, "TxDtls")]
    if len(all_details) <= 1:
        details = all_details[0] if all_details else None
        name, account = _party(details)
        return [Payment(_payment_id(entry, details, serial), _value_date(entry), amount, currency,
                        name, account, "", _remittance(details, entry))]
    payments = []
    for index, details in enumerate(all_details, start=1):
        amount_node = _first(_find(details, "Amt"), _find(details, "AmtDtls", "TxAmt", "Amt"))
        detail_amount, detail_ccy = _amount(amount_node, path, details)
        if detail_ccy != currency:
            raise InputError(f"mixed currencies: detail in {detail_ccy} in an entry in {currency}",
                             path=str(path), row=_line(details))
        name, account = _party(details)
        payments.append(Payment(_payment_id(entry, details, f"{serial}-{index}"), _value_date(entry),
                                detail_amount, currency, name, account, "", _remittance(details, entry)))
    return payments


def parse_camt(path: Path) -> list[Payment]:
    """Credit entries of a camt.053 or camt.054 file as payments."""
    try:
        root = etree.parse(str(path), _PARSER).getroot()
    except (etree.XMLSyntaxError, OSError) as exc:
        raise InputError(f"not well-formed XML: {exc}", path=str(path)) from None
    message = _first(_find(root, "BkToCstmrStmt"), _find(root, "BkToCstmrDbtCdtNtfctn"))
    if message is None:
        raise InputError("not a camt.053/054 document (no BkToCstmrStmt or BkToCstmrDbtCdtNtfctn)",
                         path=str(path))
    reports = _children(message, "Stmt") + _children(message, "Ntfctn")
    payments: list[Payment] = []
    for report in reports:
        report_id = _text(report, "Id") or "camt"
        account_ccy = _text(report, "Acct", "Ccy")
        for index, entry in enumerate(_children(report, "Ntry"), start=1):
            indicator = _text(entry, "CdtDbtInd")
            if indicator not in {"CRDT", "DBIT"}:
                raise InputError(f"entry without CdtDbtInd CRDT/DBIT (got {indicator!r})",
                                 path=str(path), row=_line(entry))
            if indicator == "CRDT" and _text(entry, "RvslInd").lower() != "true":
                payments += _entry_payments(entry, account_ccy, path, f"{report_id}-{index}")
    return payments
