"""``run_cash``: the I/O shell around :func:`match_payments` (read, match, write, record)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from sapbridge.audit import log as audit
from sapbridge.bankfiles import read_payments
from sapbridge.bankfiles.payment import normalise_account
from sapbridge.config import Settings
from sapbridge.reconcile.bulk import no_cyclic_gc
from sapbridge.reconcile.cash.advices import read_advices
from sapbridge.reconcile.cash.config import load_config
from sapbridge.reconcile.cash.inputs import (
    load_customers,
    load_habits,
    load_open_items,
    load_reference_habits,
)
from sapbridge.reconcile.cash.matcher import match_payments
from sapbridge.reconcile.cash.model import CashResult, Habit, ItemKey, OpenItem, Payment
from sapbridge.reconcile.cash.outputs import summarise, write_outputs
from sapbridge.reconcile.cash.payer import normalise_name
from sapbridge.reconcile.cash.reference_habits import ReferenceHabit
from sapbridge.reconcile.cash.tables import cash_proposal_orders, cash_proposal_texts, cash_proposals
from sapbridge.reconcile.tables import reconcile_runs
from sapbridge.store import Store

__all__ = ["CashRunResult", "run_cash"]


@dataclass
class CashRunResult:
    """What a run produced: the summary, how much needs a person, and the files."""

    run_id: str
    summary: dict[str, Any]
    needs_review: int
    files: list[Path] = field(default_factory=list)
    result: CashResult | None = None


def _items_by_key(items: list[OpenItem], keys: set[ItemKey]) -> dict[ItemKey, OpenItem]:
    """The open items with these keys (one cheap pass, even over a million items)."""
    documents = {key[2] for key in keys}
    return {i.key: i for i in items if i.document in documents and i.key in keys}


_READ_AS_REFERENCE = frozenset({"reference", "reference_subset", "reference_partial", "many_to_one",
                                "advice"})
"""Rules whose items the remittance names in a form the reference rule reads (or an advice
names): they teach no habit."""


def _texts(rows: list[dict[str, Any]], payments: dict[str, Payment], result: CashResult,
           items: list[OpenItem]) -> list[dict[str, Any]]:
    """What a reference habit is learned from, per proposal: remittance text and item fields
    (only where a habit could be learned: some text, and the item not found as a reference)."""
    read = {(a.payment_id, *a.key) for a in result.matches + result.suggestions
            if a.rule in _READ_AS_REFERENCE}
    wanted = [row for row in rows if payments[row["payment_id"]].remittance
              and (row["payment_id"], row["company_code"], row["fiscal_year"], row["document"], row["item"])
              not in read]
    found = _items_by_key(items, {(r["company_code"], r["fiscal_year"], r["document"], r["item"])
                                  for r in wanted})
    texts = []
    for row in wanted:
        item = found[(row["company_code"], row["fiscal_year"], row["document"], row["item"])]
        texts.append({
            "run_id": row["run_id"], "payment_id": row["payment_id"], "company_code": row["company_code"],
            "fiscal_year": row["fiscal_year"], "document": row["document"], "item": row["item"],
            "item_customer": item.customer, "remittance": payments[row["payment_id"]].remittance,
            "reference": item.reference[:40], "assignment": item.assignment[:40],
            "billing_document": item.billing_document[:40]})
    return texts


def _finish_run(store: Store, run_id: str, system: str, actor: str, payments: list[Payment],
                items: list[OpenItem], result: CashResult, summary: dict[str, Any],
                started: tuple[datetime, dict[str, Any]]) -> None:
    """Record the run, its proposals and its audit entry in one transaction (a failed or killed
    run records nothing, so no run is ever left without a finish time)."""
    by_id = {p.payment_id: p for p in payments}
    now = datetime.now(UTC)
    rows = [{
        "run_id": run_id, "payment_id": a.payment_id, "company_code": a.company_code,
        "fiscal_year": a.fiscal_year, "document": a.document, "item": a.item, "system": system,
        "customer": result.payers[a.payment_id].customer if a.payment_id in result.payers else "",
        "payer_account": normalise_account(by_id[a.payment_id].payer_account)[:40],
        "payer_name": normalise_name(by_id[a.payment_id].payer_name)[:120], "created_at": now,
    } for a in result.matches + result.suggestions]
    unique = list({(r["payment_id"], r["company_code"], r["fiscal_year"], r["document"], r["item"]): r
                   for r in rows}.values())
    with store.engine.begin() as conn:
        conn.execute(insert(reconcile_runs).values(
            run_id=run_id, kind="cash", system=system, actor=actor, started_at=started[0], finished_at=now,
            inputs=json.dumps(started[1], sort_keys=True), summary=json.dumps(summary, sort_keys=True)))
        if unique:
            conn.execute(insert(cash_proposals), unique)
            texts = _texts(unique, by_id, result, items)
            if texts:
                conn.execute(insert(cash_proposal_texts), texts)
            proposed = {r["payment_id"] for r in unique}
            orders = [{"run_id": run_id, "payment_id": pid, "customer": customer, "orders": ",".join(found)}
                      for pid, (customer, found) in result.orders.items() if pid in proposed]
            if orders:
                conn.execute(insert(cash_proposal_orders), orders)
        audit.record(conn, action="reconcile_cash", actor=actor, run_id=run_id, detail=summary)


def run_cash(store: Store, settings: Settings, *, system: str, payments: Path, out: Path,
             fmt: str | None = None, open_items: Path | None = None, customers: Path | None = None,
             advices: Path | None = None, actor: str = "sapbridge") -> CashRunResult:
    """Match a bank file's payments to open items and write matches, suggestions and exceptions.

    Open items and customers come from ``open_items``/``customers`` files when given, else from
    the store's ``system``. Learned payer and reference habits always come from the store.
    ``advices``: a remittance advice file (see :mod:`advices`), checked whole before anything
    runs. The run is recorded in ``reconcile_runs`` (kind ``cash``) and its proposals in ``cash_proposals``
    (with their remittance texts in ``cash_proposal_texts``, for ``cash-confirm`` to learn from).
    """
    config = load_config(settings.section("cash"))
    with no_cyclic_gc():
        paid = read_payments(Path(payments), fmt)
        split = read_advices(Path(advices)) if advices is not None else []
        items = load_open_items(store, system, open_items)
        people = load_customers(store, system, customers)
        habits: list[Habit | ReferenceHabit] = [*load_habits(store, system),
                                                *load_reference_habits(store, system)]
        run_id = str(uuid.uuid4())
        inputs = {"payments": str(payments), "format": fmt, "open_items": str(open_items or "store"),
                  "customers": str(customers or "store"), "out": str(out),
                  **({"advices": str(advices)} if advices is not None else {})}
        started = (datetime.now(UTC), inputs)
        result = match_payments(paid, items, people, config, habits, split)
        summary = {"run_id": run_id, "system": system, **summarise(paid, result)}
        files = write_outputs(Path(out), result, summary)
        _finish_run(store, run_id, system, actor, paid, items, result, summary, started)
    return CashRunResult(run_id, summary, int(summary["needs_review"]), files, result)
