"""``sapbridge report worklist`` and the ``worklist`` job step: files, collector filter, bad input."""

from __future__ import annotations

import csv
import json
import textwrap

import pytest
from openpyxl import load_workbook

from sapbridge.cli import main
from sapbridge.config import load_settings
from sapbridge.jobs import load_job, run_job
from sapbridge.store import open_store

from .test_collections import seed_collections
from .test_run_outputs import CONFIG


def write_job(project, name, body):
    path = project / "jobs" / f"{name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


@pytest.fixture
def base(tmp_path):
    config = tmp_path / "sapbridge.toml"
    config.write_text(CONFIG, encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    store = open_store(db)
    seed_collections(store)
    store.dispose()
    return ["--config", str(config), "--db", db, "report", "worklist", "--system", "T"]


def _fails(argv, capsys):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    return err


def test_worklist_writes_workbook_and_csv_ranked(base, tmp_path, capsys):
    out = tmp_path / "wl"
    main([*base, "--out", str(out)])
    assert "2 customers" in capsys.readouterr().out
    with (out / "worklist.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["rank"], r["customer"], r["collector"], r["score"], r["overdue"]) for r in rows] == [
        ("1", "C1", "01", "87.0", "12000.00"), ("2", "C2", "02", "3.3", "1500.00")]
    sheet = load_workbook(out / "worklist.xlsx")["worklist"]
    values = list(sheet.iter_rows(values_only=True))
    assert values[1][3] == "C1"
    assert len(values) == 3


def test_one_collectors_worklist_and_json(base, tmp_path, capsys):
    out = tmp_path / "wl"
    main([*base, "--out", str(out), "--collector", "02", "--json"])
    shown = json.loads(capsys.readouterr().out)
    assert [(r["customer"], r["rank"], r["next_action"]) for r in shown["worklist"]] == [
        ("C2", 2, "wait: promise due 2026-04-10")]
    assert sorted(p.name for p in out.iterdir()) == ["worklist-02.csv", "worklist-02.xlsx"]


def test_unknown_collector_is_one_line_and_writes_nothing(base, tmp_path, capsys):
    out = tmp_path / "wl"
    err = _fails([*base, "--out", str(out), "--collector", "07"], capsys)
    assert "--collector 07" in err
    assert "known: 01, 02" in err
    assert not out.exists()


@pytest.mark.parametrize("name", ["../up", "a b", "x" * 41])
def test_a_collector_that_is_not_a_plain_name_is_refused(base, tmp_path, capsys, name):
    err = _fails([*base, "--out", str(tmp_path / "wl"), "--collector", name], capsys)
    assert "letters, digits" in err


def test_out_that_is_a_file_is_refused(base, tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("keep", encoding="utf-8")
    assert "--out must be a directory" in _fails([*base, "--out", str(target)], capsys)
    assert target.read_text(encoding="utf-8") == "keep"


def test_the_worklist_job_step_writes_the_collectors_list(tmp_path):
    config = tmp_path / "sapbridge.toml"
    config.write_text(CONFIG, encoding="utf-8")
    settings = load_settings(config, store_url=f"sqlite:///{tmp_path / 'job.db'}")
    store = open_store(settings.store_url)
    seed_collections(store)
    path = write_job(tmp_path, "daily", """
        name = "daily"
        system = "T"

        [[steps]]
        kind = "worklist"
        out = "out/{date}/worklist"
        collector = "01"
    """)
    result = run_job(store, settings, load_job(path), actor="scheduler")
    [step] = result.steps
    assert (step.kind, step.status) == ("worklist", "succeeded")
    assert step.counts["customers"] == 1
    assert step.counts["collector"] == "01"
    assert all(name.endswith(("worklist-01.xlsx", "worklist-01.csv")) for name in step.counts["files"])


def test_a_worklist_step_without_out_fails_at_load(tmp_path):
    from sapbridge.errors import JobError

    path = write_job(tmp_path, "bad", """
        name = "bad"
        system = "demo"

        [[steps]]
        kind = "worklist"
    """)
    with pytest.raises(JobError, match=r"step 1 \(worklist\): missing option 'out'"):
        load_job(path)
