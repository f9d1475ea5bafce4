"""Small builders shared by push tests."""

from __future__ import annotations

from pathlib import Path

from sapbridge.push.authority import PushConfig
from sapbridge.push.batches import ImportResult, import_batch

from .conftest import LIMIT_HEADER, WRITEOFF_HEADER, write_csv


def limit_batch(engine, config: PushConfig, tmp_path: Path, *rows: str,
                requester: str = "alice") -> ImportResult:
    rows = rows or ("0010000001,1000,55000.00,EUR,2027-06-30,review",
                    "0010000002,1000,45000.00,EUR,,downgrade")
    path = write_csv(tmp_path / "limits.csv", LIMIT_HEADER, *rows)
    return import_batch(engine, "limits", path, system="PRD", requester=requester,
                        run_id="r-import", config=config)


def writeoff_batch(engine, config: PushConfig, tmp_path: Path, *rows: str,
                   requester: str = "alice") -> ImportResult:
    rows = rows or tuple(
        f"1000,0010000001,2026,009000000{i},001,{10 * i}.00,EUR,SMALL,rounding {i}"
        for i in range(1, 4))
    path = write_csv(tmp_path / "wo.csv", WRITEOFF_HEADER, *rows)
    return import_batch(engine, "write-offs", path, system="PRD", requester=requester,
                        run_id="r-import", config=config)
