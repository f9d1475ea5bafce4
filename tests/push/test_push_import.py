"""Importing batches: validation against store and config, refusal whole, audit entries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from openpyxl import Workbook

from sapbridge.audit.log import query, verify
from sapbridge.errors import InputError
from sapbridge.push.approval import reject
from sapbridge.push.batches import BatchInvalidError, import_batch, read_table
from sapbridge.push.controls import EXIT_REFUSED, RefusedError
from sapbridge.push.state import load_rows, set_batch_status

from .conftest import LIMIT_HEADER, WRITEOFF_HEADER, write_csv


def test_limit_batch_is_stored_with_seen_values_and_audited(seeded, push_config, tmp_path):
    path = write_csv(tmp_path / "limits.csv", LIMIT_HEADER,
                     "10000001,1000,60000.00,EUR,2027-06-30,annual review",
                     "0010000002,1000,40000,eur,,downgrade")
    result = import_batch(seeded.engine, "limits", path, system="PRD", requester="alice",
                          run_id="r1", config=push_config)
    assert result.rows == 2
    assert result.total == Decimal("10000.00")  # only increases count for authority
    with seeded.engine.connect() as conn:
        rows = load_rows(conn, result.batch_id)
    assert rows[0].customer == "0010000001"
    assert rows[0].seen == {"credit_limit": "50000.00", "valid_to": "2026-12-31"}
    assert rows[1].target["currency"] == "EUR"
    assert len({r.idem_key for r in rows}) == 2
    assert all(len(r.idem_key) == 16 for r in rows)
    actions = [e.action for e in query(seeded.engine, batch_id=result.batch_id)]
    assert actions == ["imported", "validated", "validated"]
    assert verify(seeded.engine).ok


def test_invalid_rows_refuse_the_whole_batch_one_line_each(seeded, push_config, tmp_path):
    path = write_csv(
        tmp_path / "wo.csv", WRITEOFF_HEADER,
        "1000,0010000001,2026,0090000001,001,20.00,EUR,SMALL,rounding",
        "1000,0010000001,2026,0090000009,001,20.00,EUR,SMALL,no such item",
        "1000,0010000001,2026,0090000002,001,500.00,EUR,SMALL,too much",
        "1000,0010000001,2026,0090000003,001,20.00,USD,SMALL,wrong currency",
        "1000,0010000001,2026,0090000004,001,20.00,EUR,GIFT,unknown reason",
        "1000,0010000001,2026,0090000005,001,-1,EUR,SMALL,negative",
        "1000,0010000002,2026,0090000005,001,1,EUR,SMALL,other customer",
    )
    with pytest.raises(BatchInvalidError) as caught:
        import_batch(seeded.engine, "write-offs", path, system="PRD", requester="alice",
                     run_id="r1", config=push_config)
    lines = str(caught.value).splitlines()
    assert len(lines) == 7  # summary + six bad rows
    assert [r for r, _ in caught.value.problems] == [3, 4, 5, 6, 7, 8]
    assert "above the open amount 120.00" in lines[2]
    assert "GIFT" in lines[4]
    refused = list(query(seeded.engine, action="refused"))
    assert len(refused) == 1
    assert len(refused[0].detail["problems"]) == 6
    assert list(query(seeded.engine, action="imported")) == []


def test_limit_validation_problems(seeded, push_config, tmp_path):
    path = write_csv(tmp_path / "l.csv", LIMIT_HEADER,
                     "0010000001,9999,1,EUR,,x", "0010000001,1000,1.234,EUR,,x",
                     "0010000001,1000,1,USD,,x", "0010000002,1000,1,EUR,31.12.2026,x",
                     "0010000003,1000,,EUR,,")
    with pytest.raises(BatchInvalidError) as caught:
        import_batch(seeded.engine, "limits", path, system="PRD", requester="alice",
                     run_id="r", config=push_config)
    text = str(caught.value)
    for expected in ("no open credit segment 9999", "more than 2 decimals", "does not match",
                     "valid_to is not a date", "missing new_limit, reason"):
        assert expected in text


def test_duplicate_rows_and_mixed_systems_refused(seeded, push_config, tmp_path):
    path = write_csv(tmp_path / "l.csv", LIMIT_HEADER, "0010000001,1000,1,EUR,,x",
                     "10000001,1000,2,EUR,,y")
    with pytest.raises(BatchInvalidError, match="duplicates row 2"):
        import_batch(seeded.engine, "limits", path, system="PRD", requester="alice",
                     run_id="r", config=push_config)
    with pytest.raises(BatchInvalidError, match="in system QAS"):
        import_batch(seeded.engine, "limits", path, system="QAS", requester="alice",
                     run_id="r", config=push_config)


def test_user_without_request_role_is_refused_and_logged(seeded, push_config, tmp_path):
    path = write_csv(tmp_path / "l.csv", LIMIT_HEADER, "0010000001,1000,1,EUR,,x")
    with pytest.raises(RefusedError) as caught:
        import_batch(seeded.engine, "limits", path, system="PRD", requester="bob",
                     run_id="r", config=push_config)
    assert caught.value.exit_code == EXIT_REFUSED
    assert [e.detail["control"] for e in query(seeded.engine, action="refused")] == ["requester"]


def test_xlsx_is_read_like_csv(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Customer", "credit_segment", "new_limit", "currency", "valid_to", "reason"])
    sheet.append(["0010000001", "1000", 60000.5, "EUR", None, "review"])
    book.save(tmp_path / "l.xlsx")
    rows = read_table(tmp_path / "l.xlsx")
    assert rows == [{"customer": "0010000001", "credit_segment": "1000", "new_limit": "60000.5",
                     "currency": "EUR", "valid_to": "", "reason": "review"}]


def test_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "latin.csv").write_bytes("customer\nM\xfcller\n".encode("latin-1"))
    with pytest.raises(InputError, match="UTF-8"):
        read_table(tmp_path / "latin.csv")


def test_item_cannot_be_written_off_twice_across_batches(seeded, push_config, tmp_path):
    row = "1000,0010000001,2026,0090000001,001,{},EUR,SMALL,x"
    first = write_csv(tmp_path / "a.csv", WRITEOFF_HEADER, row.format("100.00"))
    batch = import_batch(seeded.engine, "write-offs", first, system="PRD", requester="alice",
                         run_id="r", config=push_config)
    small = write_csv(tmp_path / "b.csv", WRITEOFF_HEADER, row.format("1.00"))
    with pytest.raises(BatchInvalidError, match=f"already requested in batch {batch.batch_id}"):
        import_batch(seeded.engine, "write-offs", small, system="PRD", requester="alice",
                     run_id="r", config=push_config)
    with seeded.engine.begin() as conn:  # posted: the claim ends, the amount stays counted
        set_batch_status(conn, batch.batch_id, "done")
    second = write_csv(tmp_path / "c.csv", WRITEOFF_HEADER, row.format("20.01"))
    with pytest.raises(BatchInvalidError, match=r"100\.00 already requested in other batches"):
        import_batch(seeded.engine, "write-offs", second, system="PRD", requester="alice",
                     run_id="r", config=push_config)
    third = write_csv(tmp_path / "d.csv", WRITEOFF_HEADER, row.format("20.00"))
    assert import_batch(seeded.engine, "write-offs", third, system="PRD", requester="alice",
                        run_id="r", config=push_config).rows == 1


def test_rejected_batch_releases_its_items(seeded, push_config, tmp_path):
    path = write_csv(tmp_path / "a.csv", WRITEOFF_HEADER,
                     "1000,0010000001,2026,0090000001,001,120.00,EUR,SMALL,x")
    batch = import_batch(seeded.engine, "write-offs", path, system="PRD", requester="alice",
                         run_id="r", config=push_config)
    reject(seeded.engine, batch.batch_id, approver="bob", config=push_config, run_id="r",
           reason="wrong customer")
    again = import_batch(seeded.engine, "write-offs", path, system="PRD", requester="alice",
                         run_id="r", config=push_config)
    assert again.rows == 1
