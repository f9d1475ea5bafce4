"""Broken promises, worklist, credit exposure, top debtors and overrides by approver, on the small
store of conftest (31 March 2026) plus promises, credit accounts, collectors and push releases."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import text

from sapbridge.config import load_settings
from sapbridge.kpi.collections import next_action, score
from sapbridge.kpi.collections_queries import load_releases
from sapbridge.kpi.run import compute_report
from sapbridge.push.tables import push_approvals, push_batches, push_rows
from sapbridge.store.schema import credit_segments, customer_companies, promises

from .conftest import SEEN, SYSTEM, _tracked, seed
from .test_run_outputs import CONFIG

D = Decimal
AT = datetime(2026, 3, 30, 9, tzinfo=UTC)


def promise(guid, customer, promised, paid, due, state, level="1", **extra):
    return _tracked({"case_guid": guid, "company_code": "1000", "customer": customer,
                     "promised_amount": D(promised), "paid_amount": D(paid), "currency": "EUR",
                     "due_date": date.fromisoformat(due), "promised_on": date(2026, 2, 20), "state": state,
                     "level": level, **extra})


PROMISES = [
    promise("P1", "C1", "3000", "1000", "2026-03-01", "broken", "2"),   # 30 days broken, short 2000
    promise("P2", "C1", "500", "0", "2026-03-21", "broken"),            # 10 days broken, short 500
    promise("P3", "C2", "2000", "2000", "2026-03-20", "kept"),
    promise("P4", "C2", "1000", "400", "2026-03-25", "partially_kept"),
    promise("P5", "C2", "800", "0", "2026-04-10", "open"),
    promise("P6", "C1", "100", "0", "2026-03-01", "withdrawn"),
    promise("P7", "C1", "900", "0", "2026-03-01", "broken", status="cleared", cleared_at=SEEN),
]


def segment(customer, seg, limit, currency, valid_to=None, risk="A"):
    return _tracked({"customer": customer, "credit_segment": seg, "credit_limit": D(limit), "currency": currency,
                     "valid_to": valid_to, "blocked": False, "is_critical": False, "risk_class": risk})


SEGMENTS = [segment("C1", "1000", "15000", "EUR", date(2026, 4, 20), "C"),
            segment("C2", "1000", "2000", "EUR"),
            segment("C1", "2000", "5000", "USD", date(2026, 6, 30))]
CLERKS = [_tracked({"customer": c, "company_code": cc, "accounting_clerk": clerk})
          for c, cc, clerk in (("C1", "1000", "01"), ("C2", "1000", "02"), ("C1", "2000", "01"))]


def _release_batch(batch_id, kind, rows, approvals):
    batch = {"batch_id": batch_id, "kind": kind, "system": SYSTEM, "requester": "alice", "created_at": AT,
             "source_file": "r.csv", "content_hash": "h", "status": "done", "row_count": len(rows),
             "currency": "EUR", "total": D(0), "largest": D(0), "updated_at": AT}
    lines = [{"batch_id": batch_id, "row_no": n, "customer": "C1", "seen_json": "{}", "updated_at": AT,
              "idem_key": f"{batch_id}-{n}", "state": state,
              "target_json": json.dumps({"sales_order": order, "action": action, "order_value": value,
                                         "currency": "EUR", "reason": "ok"})}
             for n, (order, action, value, state) in enumerate(rows, start=1)]
    votes = [{"batch_id": batch_id, "user": user, "decision": decision, "content_hash": "h", "at": AT}
             for user, decision in approvals]
    return batch, lines, votes


def seed_collections(store):
    seed(store)
    with store.engine.begin() as conn:
        conn.execute(promises.insert(), PROMISES)
        conn.execute(credit_segments.insert(), SEGMENTS)
        conn.execute(customer_companies.insert(), CLERKS)
        for batch, lines, votes in (
                _release_batch("R1", "releases", [("O2", "release", "1000.00", "done"),
                                                  ("O9", "release", "500.00", "failed"),
                                                  ("O3", "reject", "300.00", "done")],
                               [("bob", "approved"), ("carol", "approved"), ("dave", "rejected")]),
                _release_batch("L1", "limits", [("", "release", "999.00", "done")], [("bob", "approved")])):
            conn.execute(push_batches.insert(), [batch])
            conn.execute(push_rows.insert(), lines)
            conn.execute(push_approvals.insert(), votes)


@pytest.fixture
def report(store, tmp_path):
    seed_collections(store)
    config = tmp_path / "sapbridge.toml"
    config.write_text(CONFIG, encoding="utf-8")
    settings = load_settings(config, store_url="sqlite://")
    return compute_report(store, settings, system=SYSTEM).collections


def test_broken_promises_list_shortfall_days_broken_and_collector(report):
    assert [(b.customer, b.collector, b.shortfall, b.due_on, b.days_broken, b.level) for b in report.broken] == [
        ("C1", "01", D("2000"), date(2026, 3, 1), 30, "2"), ("C1", "01", D("500"), date(2026, 3, 21), 10, "1")]
    assert [(r.label, r.count, r.amount) for r in report.broken_by_age] == [("1-30", 2, D("2500"))]
    assert [(r.label, r.count, r.amount) for r in report.broken_by_collector] == [("01", 2, D("2500"))]


def test_kept_rate_counts_kept_over_due_leaving_out_open_and_withdrawn(report):
    [rate] = report.kept_rates
    assert (rate.currency, rate.due, rate.kept, rate.percent) == ("EUR", 4, 1, D(25))


def test_worklist_ranks_by_the_documented_score_with_the_next_action(report):
    rows = [(w.company_code, w.rank, w.customer, w.overdue, w.overdue_buckets, w.oldest_days, w.broken_promises,
             w.risk_class, w.blocked_orders, w.blocked_value, w.score) for w in report.worklist]
    # C1: 40 (largest weighted overdue) + 15 (151 days, capped) + 20 (two broken) + 6 (risk C) + 6 (O1, O8
    # blocked; O5 blocked only after the date). C2: 40 x 1500/38000 + 15 x 14/120 = 3.3.
    assert rows == [
        ("1000", 1, "C1", D("12000"), (D(0), D("3000"), D("4000"), D("5000")), 151, 2, "C", 2, D("1800"),
         D("87.0")),
        ("1000", 2, "C2", D("1500"), (D("1500"), D(0), D(0), D(0)), 14, 0, "A", 0, D(0), D("3.3")),
    ]
    assert report.worklist[0].next_action == "call: promise of 2000.00 EUR due 2026-03-01 broken"
    assert report.worklist[1].next_action == "wait: promise due 2026-04-10"


def test_customers_without_overdue_items_are_not_on_the_worklist(report):
    assert {(w.company_code, w.customer) for w in report.worklist} == {("1000", "C1"), ("1000", "C2")}


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"weighted_share": D(1), "oldest_days": 500, "broken": 5, "risk_class": "D", "dunning_level": 9,
      "blocked_orders": 3}, D("100.0")),
    ({"weighted_share": D(0), "oldest_days": 0, "broken": 0, "risk_class": "Z", "dunning_level": 0,
      "blocked_orders": 0}, D("0.0")),
    ({"weighted_share": D("0.5"), "oldest_days": 60, "broken": 1, "risk_class": "B", "dunning_level": 2,
      "blocked_orders": 0}, D("46.5")),
])
def test_score_parts_and_caps(kwargs, expected):
    assert score(**kwargs) == expected


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"blocked_orders": 2, "blocked_value": D("10"), "open_promise_due": date(2026, 4, 1),
      "oldest_days": 200, "dunning_level": 3}, "decide 2 blocked order(s) worth 10.00 EUR"),
    ({"blocked_orders": 0, "blocked_value": D(0), "open_promise_due": date(2026, 4, 1),
      "oldest_days": 200, "dunning_level": 3}, "wait: promise due 2026-04-01"),
    ({"blocked_orders": 0, "blocked_value": D(0), "open_promise_due": None, "oldest_days": 91,
      "dunning_level": 3}, "escalate: dunned 3 times and over 90 days past due"),
    ({"blocked_orders": 0, "blocked_value": D(0), "open_promise_due": None, "oldest_days": 91,
      "dunning_level": 1}, "send dunning level 2"),
    ({"blocked_orders": 0, "blocked_value": D(0), "open_promise_due": None, "oldest_days": 40,
      "dunning_level": 3}, "call"),
])
def test_next_action_rules_in_order(kwargs, expected):
    assert next_action(broken=[], currency="EUR", **kwargs) == expected


def test_credit_exposure_is_open_ar_plus_blocked_orders_against_the_limit(report):
    assert [(e.segment, e.currency, e.customers, e.limit, e.exposure, e.over_limit) for e in report.exposure] == [
        ("1000", "EUR", 2, D("17000"), D("17090"), 1), ("2000", "USD", 1, D("5000"), D("1200"), 0)]
    assert report.exposure[0].utilisation_percent.quantize(D("0.01")) == D("100.53")
    [over] = report.over_limit
    assert (over.customer, over.limit, over.open_ar, over.blocked_value, over.exposure) == (
        "C1", D("15000"), D("13790"), D("1800"), D("15590"))
    assert [(e.customer, e.segment, e.days_left) for e in report.expiring] == [("C1", "1000", 20)]


def test_top_debtors_per_company_code_by_overdue(report):
    assert [(t.company_code, t.rank, t.customer, t.overdue, t.ar_total) for t in report.top_debtors] == [
        ("1000", 1, "C1", D("12000"), D("13790")), ("1000", 2, "C2", D("1500"), D("1500"))]


def test_overrides_count_applied_releases_per_approver_of_release_batches_only(report):
    assert [(o.approver, o.currency, o.releases, o.value) for o in report.overrides] == [
        ("bob", "EUR", 1, D("1000.00")), ("carol", "EUR", 1, D("1000.00"))]


def test_no_push_tables_means_no_overrides(sqlite_store):
    with sqlite_store.engine.begin() as conn:
        for table in ("push_approvals", "push_rows", "push_claims", "push_batches"):
            conn.execute(text(f"DROP TABLE {table}"))
    with sqlite_store.engine.connect() as conn:
        assert load_releases(conn, SYSTEM) == []


def test_an_empty_store_section_is_empty_not_an_error(store, tmp_path):
    seed(store)
    config = tmp_path / "sapbridge.toml"
    config.write_text(CONFIG, encoding="utf-8")
    c = compute_report(store, load_settings(config, store_url="sqlite://"), system=SYSTEM).collections
    assert (c.broken, c.kept_rates, c.exposure, c.overrides) == ([], [], [], [])
    assert [w.customer for w in c.worklist] == ["C1", "C2"]
    assert c.worklist[0].next_action == "decide 2 blocked order(s) worth 1800.00 EUR"
