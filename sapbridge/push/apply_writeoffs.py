"""Post one write-off over RFC, exactly once.

The row's idempotency key goes into the document's reference (REF_DOC_NO, i.e. XBLNR). Before
posting, SAP is searched for a document with that reference: if one exists (an earlier run
posted it and then crashed, timed out or lost the answer), the row is done and nothing is posted.
Otherwise: commit ``in_flight``; ``BAPI_ACC_DOCUMENT_POST``; on an E/A return
``BAPI_TRANSACTION_ROLLBACK``, else ``BAPI_TRANSACTION_COMMIT`` with WAIT on the same
connection; read the document back by its reference to verify.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NoReturn

from sapbridge.errors import FatalError, RetriableError, SapBusinessError
from sapbridge.money import D
from sapbridge.push.controls import failpoint
from sapbridge.push.outcome import (
    ApplyContext,
    Event,
    RowOutcome,
    SapUnreachable,
    mark_in_flight,
    settle,
)
from sapbridge.push.sap import ItemState, RfcLike, find_posted_document, read_item
from sapbridge.push.state import Row

__all__ = ["apply_writeoff", "bapi_errors", "posting_params", "writeoff_verdict"]


def bapi_errors(result: dict[str, Any]) -> list[str]:
    """Messages of RETURN rows of type E or A (RETURN may be a table or one structure)."""
    rows = result.get("RETURN") or []
    if isinstance(rows, dict):
        rows = [rows]
    return [f"{r.get('ID', '')}{r.get('NUMBER', '')} {r.get('MESSAGE', '')}".strip()
            for r in rows if r.get("TYPE") in {"E", "A"}]


def posting_params(row: Row, *, doc_type: str, today: datetime) -> dict[str, Any]:
    """BAPI_ACC_DOCUMENT_POST parameters: customer credit line and write-off G/L line."""
    t = row.target
    amount = D(t["amount"])
    day = today.strftime("%Y%m%d")
    text = (t.get("text") or "")[:50]
    return {
        "DOCUMENTHEADER": {
            "BUS_ACT": "RFBU", "COMP_CODE": t["company_code"], "DOC_DATE": day,
            "PSTNG_DATE": day, "DOC_TYPE": doc_type, "REF_DOC_NO": row.idem_key,
            "HEADER_TXT": f"WO {row.batch_id}"[:25],
        },
        "ACCOUNTRECEIVABLE": [{
            "ITEMNO_ACC": "0000000001", "CUSTOMER": row.customer, "COMP_CODE": t["company_code"],
            "ALLOC_NMBR": t["document"], "ITEM_TEXT": text,
        }],
        "ACCOUNTGL": [{
            "ITEMNO_ACC": "0000000002", "GL_ACCOUNT": t["gl_account"],
            "COMP_CODE": t["company_code"], "ITEM_TEXT": text,
        }],
        "CURRENCYAMOUNT": [
            {"ITEMNO_ACC": "0000000001", "CURRENCY": t["currency"], "AMT_DOCCUR": -amount},
            {"ITEMNO_ACC": "0000000002", "CURRENCY": t["currency"], "AMT_DOCCUR": amount},
        ],
    }


def writeoff_verdict(row: Row, item: ItemState | None) -> str:
    """``stale`` when the item is gone, cleared or its amount changed; else ``change``."""
    if item is None or item.cleared or item.amount != D(row.seen["open_amount"]):
        return "stale"
    return "change"


def _document(result: dict[str, Any]) -> str:
    key = str(result.get("OBJ_KEY") or "")
    return f"{key[10:14]}/{key[:10]}/{key[14:18]}" if len(key) >= 18 else key


def _after(row: Row) -> dict[str, Any]:
    t = row.target
    return {"write_off": t["amount"], "currency": t["currency"], "gl_account": t["gl_account"]}


def _unreachable(ctx: ApplyContext, row: Row, exc: Exception) -> NoReturn:
    message = f"SAP did not answer ({exc}); outcome unknown, re-run to resolve"
    outcome = settle(ctx, row, None, [Event("failed", after=_after(row))], outcome="unknown",
                     message=message)
    raise SapUnreachable(outcome) from exc


def _post(ctx: ApplyContext, rfc: RfcLike, row: Row) -> tuple[str, list[str]]:
    """Post and commit (or roll back); return (document, error messages)."""
    params = posting_params(row, doc_type=ctx.config.writeoff_doc_type, today=datetime.now(UTC))
    result = rfc.call_unchecked("BAPI_ACC_DOCUMENT_POST", **params)
    errors = bapi_errors(result)
    if errors:
        rfc.call_unchecked("BAPI_TRANSACTION_ROLLBACK")
        return "", errors
    failpoint("writeoff_after_post_before_commit")
    try:
        rfc.call("BAPI_TRANSACTION_COMMIT", WAIT="X")
    except SapBusinessError as exc:
        rfc.call_unchecked("BAPI_TRANSACTION_ROLLBACK")
        return "", [str(exc)]
    failpoint("writeoff_after_commit")
    return _document(result), []


def _recover(ctx: ApplyContext, row: Row, document: str) -> RowOutcome:
    events = [Event("applied", before=row.seen, after=_after(row), detail={"recovered": True}),
              Event("verified", after={"document": document})]
    return settle(ctx, row, "done", events, outcome="recovered", sap_document=document,
                  message="found posted in SAP after an interrupted run")


def apply_writeoff(ctx: ApplyContext, row: Row) -> RowOutcome:
    """Post one write-off; see the module docstring for the steps."""
    t = row.target
    if ctx.rfc is None:
        msg = "no RFC connection: write-offs need RFC"
        raise FatalError(msg)
    try:
        existing = find_posted_document(ctx.odata, t["company_code"], row.idem_key)
        if existing:
            return _recover(ctx, row, existing)
        if row.state == "in_flight" and row.sap_document:
            msg = (f"posted as {row.sap_document} but not found by reference {row.idem_key};"
                   " check in SAP (FB03) before anything else")
            return settle(ctx, row, None, [Event("failed")], outcome="unknown", message=msg)
        item = read_item(ctx.odata, t["company_code"], t["fiscal_year"], t["document"], t["item"])
    except RetriableError as exc:
        _unreachable(ctx, row, exc)
    before = {"open_amount": str(item.amount) if item else None,
              "cleared": item.cleared if item else None}
    if writeoff_verdict(row, item) == "stale":
        msg = f"item changed since request (now {before}, was {row.seen})"
        return settle(ctx, row, "stale", [Event("stale", before=before, after=_after(row))],
                      outcome="stale", message=msg)
    mark_in_flight(ctx, row)
    failpoint("writeoff_before_post")
    try:
        document, errors = _post(ctx, ctx.rfc, row)
    except RetriableError as exc:
        _unreachable(ctx, row, exc)
    except FatalError as exc:
        errors, document = [str(exc)], ""
    if errors:
        return settle(ctx, row, "failed", [Event("failed", before=before, after=_after(row),
                                                 detail={"messages": errors})],
                      outcome="failed", message="; ".join(errors))
    mark_in_flight(ctx, row, sap_document=document)
    try:
        found = find_posted_document(ctx.odata, t["company_code"], row.idem_key)
    except RetriableError as exc:
        _unreachable(ctx, row, exc)
    if found != document:
        msg = f"posted {document} but read-back by reference found {found}"
        return settle(ctx, row, None, [Event("failed", after={"document": document})],
                      outcome="unknown", sap_document=document, message=msg)
    events = [Event("applied", before=before, after=_after(row)),
              Event("verified", after={"document": found})]
    return settle(ctx, row, "done", events, outcome="applied", sap_document=document)
