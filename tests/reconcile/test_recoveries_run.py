"""run_recoveries and the CLI end to end: files, the recorded run, atomic output, the demo sample."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from devtools.recoveries.demo_sample import EXPECTED
from devtools.recoveries.demo_sample import main as main_sample
from devtools.recoveries.synthetic import generate, write_files
from sapbridge.audit import log as audit_log
from sapbridge.cli import main
from sapbridge.config import load_settings, project_root
from sapbridge.reconcile.recoveries import CATEGORIES, run_recoveries
from sapbridge.reconcile.tables import reconcile_runs, recovery_claims
from sapbridge.sheetstyle import money_format
from sapbridge.store.schema import customers
from sapbridge.sync.service import sync_system
from sapbridge.tabular import Column, read_table

SAMPLE = project_root() / "fixtures" / "samples" / "claims-demo.csv"


@pytest.fixture
def synthetic(tmp_path):
    data = generate(disputes=400, claims=120, seed=5)
    claims, disputes = write_files(data, tmp_path / "in")
    return data, claims, disputes


def test_run_from_files_writes_every_category_and_records_the_run(store, tmp_path, synthetic):
    data, claims, disputes = synthetic
    out = tmp_path / "out"
    result = run_recoveries(store, load_settings(None), system="demo", claims=claims, out=out,
                            disputes=disputes, as_of=data.as_of, actor="tester")
    expected = Counter(data.claim_truth.values()) + Counter(data.case_truth.values())
    summary = result.summary
    assert {name: summary["categories"][name]["rows"] for name in CATEGORIES} == {
        name: expected.get(name, 0) for name in CATEGORIES}
    assert summary["claims"] == len(data.claims)
    assert result.needs_review == sum(n for name, n in expected.items()
                                      if name not in {"recovered_closed", "open_claim"})
    for name in CATEGORIES:
        rows = read_table(out / f"{name}.csv", []) if expected.get(name) else []
        assert len(rows) == expected.get(name, 0)
        assert (out / f"{name}.csv").is_file()
    with store.engine.connect() as conn:
        run = conn.execute(select(reconcile_runs)).one()
        claims_rows = conn.execute(select(recovery_claims)).all()
    assert (run.kind, run.system, run.actor, run.run_id) == ("recoveries", "demo", "tester", result.run_id)
    assert run.finished_at is not None
    assert json.loads(run.summary)["needs_review"] == result.needs_review
    assert json.loads(run.inputs)["disputes"] == str(disputes)
    audited = list(audit_log.query(store.engine, action="reconcile_recoveries"))
    assert [(e.actor, e.run_id) for e in audited] == [("tester", result.run_id)]
    assert audited[0].detail["needs_review"] == result.needs_review
    assert {r.claim_id: r.category for r in claims_rows} == data.claim_truth
    by_id = {c.claim_id: c for c in data.claims}
    for row in claims_rows:
        assert row.claim_amount == by_id[row.claim_id].amount
        assert isinstance(row.claim_amount, Decimal)
        assert row.owner in {"Dispute team", "Recovery provider"}
        if row.category == "claim_without_dispute":
            assert row.case_id is None
        elif row.category != "duplicate_claim":
            assert row.case_id is not None


def test_summary_and_files_keep_money_exact_per_currency(sqlite_store, tmp_path, synthetic):
    data, claims, disputes = synthetic
    result = run_recoveries(sqlite_store, load_settings(None), system="demo", claims=claims,
                            out=tmp_path / "out", disputes=disputes, as_of=data.as_of)
    rows = [r for r in result.result.rows if r.category == "open_claim"]
    for currency, values in result.summary["categories"]["open_claim"]["currencies"].items():
        assert values["claim_amount"] == str(sum((r.claim_amount for r in rows if r.currency == currency),
                                                 Decimal(0)))
    workbook = load_workbook(tmp_path / "out" / "recoveries.xlsx")
    assert workbook.sheetnames == ["By category", "By customer", "By owner"]
    sheet = workbook["By category"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Category", "Owner", "Currency", "Rows"]
    counted = sum(r[3] for r in sheet.iter_rows(min_row=2, values_only=True))
    assert counted == len(result.result.rows)
    money = sheet.cell(row=2, column=header.index("Claim amount") + 1)
    currency = sheet.cell(row=2, column=header.index("Currency") + 1).value
    assert money.number_format == money_format(currency)  # JPY without decimals
    assert sheet.auto_filter.ref


def test_a_failed_run_leaves_no_output_and_no_run(store, tmp_path, synthetic):
    data, claims, disputes = synthetic
    out = tmp_path / "out"
    out.mkdir()
    (out / "previous.csv").write_text("kept")
    bad = tmp_path / "bad.csv"
    bad.write_text(claims.read_text().replace(",claimed,", ",maybe,", 1))
    with pytest.raises(Exception, match="unknown status 'maybe'"):
        run_recoveries(store, load_settings(None), system="demo", claims=bad, out=out,
                       disputes=disputes, as_of=data.as_of)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")]
    assert [p.name for p in out.iterdir()] == ["previous.csv"]
    with store.engine.connect() as conn:
        assert conn.execute(select(reconcile_runs)).all() == []
    assert list(audit_log.query(store.engine, action="reconcile_recoveries")) == []


def test_a_store_failure_leaves_the_previous_output_in_place(sqlite_store, tmp_path, synthetic,
                                                             monkeypatch):
    data, claims, disputes = synthetic
    out = tmp_path / "out"
    out.mkdir()
    (out / "previous.csv").write_text("kept")

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("sapbridge.reconcile.recoveries.run._record", broken)
    with pytest.raises(RuntimeError):
        run_recoveries(sqlite_store, load_settings(None), system="demo", claims=claims, out=out,
                       disputes=disputes, as_of=data.as_of)
    assert [p.name for p in out.iterdir()] == ["previous.csv"]
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_the_demo_sample_is_the_committed_file(tmp_path):
    assert main_sample([str(tmp_path)]) == 0
    assert (tmp_path / "claims-demo.csv").read_bytes() == SAMPLE.read_bytes()


def test_demo_sample_against_the_synced_demo_store(store, tmp_path):
    settings = load_settings(None)
    sync_system(settings, store, system="demo", objects=["disputes"], run_id=str(uuid.uuid4()),
                actor="tester")
    result = run_recoveries(store, settings, system="demo", claims=SAMPLE, out=tmp_path / "out",
                            as_of=date(2026, 11, 20))
    claims = Counter(row.category for row in result.result.rows if row.claim is not None)
    assert dict(claims) == EXPECTED
    unclaimed = [row for row in result.result.rows if row.claim is None]
    assert unclaimed
    assert all(row.dispute.reason in {"PA1", "PA2"} and not row.dispute.closed for row in unclaimed)


def test_store_without_disputes_says_to_sync_first(sqlite_store, tmp_path):
    with pytest.raises(Exception, match="no dispute cases for system demo in the store; run "
                                        "'sapbridge sync disputes --system demo' first"):
        run_recoveries(sqlite_store, load_settings(None), system="demo", claims=SAMPLE,
                       out=tmp_path / "out")


def run_cli(capsys, *args):
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_json_summary_and_one_line_errors(tmp_path, capsys, synthetic):
    data, claims, disputes = synthetic
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    out = tmp_path / "report"
    code, stdout, _ = run_cli(capsys, "--db", db, "reconcile", "recoveries", "--claims", str(claims),
                              "--disputes", str(disputes), "--out", str(out), "--as-of", "2026-11-20",
                              "--json")
    assert code == 0
    summary = json.loads(stdout)
    assert summary["claims"] == len(data.claims)
    assert summary["as_of"] == "2026-11-20"
    assert (out / "recoveries.xlsx").is_file()
    bad = tmp_path / "empty.csv"
    bad.write_text("")
    code, stdout, err = run_cli(capsys, "--db", db, "reconcile", "recoveries", "--claims", str(bad),
                                "--disputes", str(disputes), "--out", str(tmp_path / "other"))
    assert code == 1
    assert err == f"error: {bad}: empty file (no header row)\n"
    assert not (tmp_path / "other").exists()


def test_cli_reads_the_recoveries_config_section(tmp_path, capsys, synthetic):
    _data, claims, disputes = synthetic
    config = tmp_path / "sapbridge.toml"
    config.write_text('[recoveries]\ndispute_team = "DM Team"\nrecovery_provider = "PRGX"\n')
    code, stdout, _ = run_cli(capsys, "--config", str(config), "--db", f"sqlite:///{tmp_path / 'c.db'}",
                              "reconcile", "recoveries", "--claims", str(claims), "--disputes",
                              str(disputes), "--out", str(tmp_path / "o"), "--json")
    assert code == 0
    owners = {c["owner"] for c in json.loads(stdout)["categories"].values()}
    assert owners == {"DM Team", "PRGX"}
    rows = read_table(Path(tmp_path / "o" / "open_claim.csv"), [Column("owner")])
    owners_in_files = {r["owner"] for r in rows}
    assert owners_in_files == {"PRGX"}


def test_an_unknown_case_status_in_the_store_names_the_case(sqlite_store, tmp_path):
    from sqlalchemy import update

    from sapbridge.store.schema import disputes

    settings = load_settings(None)
    sync_system(settings, sqlite_store, system="demo", objects=["disputes"], run_id=str(uuid.uuid4()),
                actor="tester")
    with sqlite_store.engine.begin() as conn:
        conn.execute(update(disputes).where(disputes.c.case_id == "000000700002").values(case_status="99"))
    with pytest.raises(Exception, match=r"store table disputes, system demo, case 000000700002: unknown "
                                        r"case status '99' \(known: 10, 20, 30, CLOSED, OPEN; set"):
        run_recoveries(sqlite_store, settings, system="demo", claims=SAMPLE, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_by_customer_sheet_names_the_customers_the_store_knows(store, tmp_path):
    settings = load_settings(None)
    sync_system(settings, store, system="demo", objects=["disputes", "customers"], run_id=str(uuid.uuid4()),
                actor="tester")
    with store.engine.connect() as conn:
        known = dict(conn.execute(select(customers.c.customer, customers.c.name)).all())
    result = run_recoveries(store, settings, system="demo", claims=SAMPLE, out=tmp_path / "out",
                            as_of=date(2026, 11, 20))
    sheet = load_workbook(tmp_path / "out" / "recoveries.xlsx")["By customer"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["Customer", "Name", "Currency"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    involved = {row.claim.customer if row.claim is not None else row.dispute.customer
                for row in result.result.rows}
    assert {r[0] for r in rows} == involved
    for customer, name, *_ in rows:
        assert (name or "") == (known.get(customer) or "")
    assert any(name for _, name, *_ in rows)
