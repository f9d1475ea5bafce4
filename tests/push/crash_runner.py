"""Run ``apply_batch`` in its own process against the file-backed fake SAP (crash tests).

Usage: python tests/push/crash_runner.py DB_URL SAP_STATE CONFIG BATCH_ID
``SAPBRIDGE_FAILPOINT`` makes it die at a chosen point; exit code 0 when the batch is done.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE)]

from fakes import FakeOData, FakeRfc, FakeSapState  # noqa: E402

from sapbridge.config import load_settings  # noqa: E402
from sapbridge.push.apply import apply_batch  # noqa: E402
from sapbridge.push.authority import load_push_config  # noqa: E402
from sapbridge.store import open_store  # noqa: E402


def main(db_url: str, sap_path: str, config_path: str, batch_id: str) -> int:
    store = open_store(db_url)
    state = FakeSapState(Path(sap_path))
    config = load_push_config(load_settings(config_path))
    report = apply_batch(store.engine, batch_id, odata=FakeOData(state), rfc=FakeRfc(state),
                         config=config, actor="bob", run_id="crash-run")
    store.dispose()
    return 0 if report.status == "done" else 3


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
