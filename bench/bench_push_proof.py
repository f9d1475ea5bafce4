"""Cost of proving a batch from the audit log before approve, plan and apply.

Usage: python bench/bench_push_proof.py [N]

On a temporary SQLite file: N filler audit entries, then one limit batch requested and approved
(signed with a fresh ed25519 key when ssh-keygen is there). Times ``prove`` (chain walk, entry
checks, rows recomputed) and, as the baseline in the same run, ``verify`` alone over the same
log; then the approvals check with its signature verification.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert

from sapbridge.audit.log import record, verify
from sapbridge.config import load_settings
from sapbridge.push.approval import approvals_problem, approve
from sapbridge.push.authority import load_push_config
from sapbridge.push.batches import import_batch
from sapbridge.push.proof import prove
from sapbridge.store import open_store
from sapbridge.store.schema import credit_segments

CONFIG = """
[users.alice]
roles = ["clerk"]
[users.bob]
roles = ["manager"]
{bob_key}
[authority.clerk]
request = true
[authority.manager]
currency = "EUR"
max_limit_increase = "50000"
require_signature = {signed}
"""


def _config(tmp: Path) -> Path:
    bob_key, signed = "", "false"
    if shutil.which("ssh-keygen"):
        key = tmp / "bob"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                       check=True)
        public = key.with_suffix(".pub").read_text(encoding="utf-8").strip()
        bob_key = f'signing_key = "{public}"\nsigning_key_file = "{key}"'
        signed = "true"
    path = tmp / "sapbridge.toml"
    path.write_text(CONFIG.format(bob_key=bob_key, signed=signed), encoding="utf-8")
    return path


def _fill(engine, n: int) -> None:
    for start in range(0, n, 5000):
        with engine.begin() as conn:
            for i in range(start, min(n, start + 5000)):
                record(conn, action="sync_run", actor="bench", run_id="fill",
                       detail={"i": i, "amount": Decimal("1.00")})


def _seed(engine) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(credit_segments).values(
            system="PRD", customer="0010000001", credit_segment="1000",
            credit_limit=Decimal("50000.00"), currency="EUR", valid_to=date(2026, 12, 31),
            blocked=False, is_critical=False, first_seen_at=now, last_seen_at=now,
            last_seen_run="seed", status="open"))


def _best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        store = open_store(f"sqlite:///{tmp / 'bench.db'}")
        config = load_push_config(load_settings(_config(tmp)))
        _seed(store.engine)
        _fill(store.engine, n)
        csv = tmp / "limits.csv"
        csv.write_text("customer,credit_segment,new_limit,currency,valid_to,reason\n"
                       "0010000001,1000,55000.00,EUR,,bench\n", encoding="utf-8")
        batch = import_batch(store.engine, "limits", csv, system="PRD", requester="alice",
                             run_id="b", config=config)
        approve(store.engine, batch.batch_id, approver="bob", config=config, run_id="b")
        entries = n + 4
        baseline = _best(lambda: verify(store.engine))
        proving = _best(lambda: prove(store.engine, batch.batch_id, config))
        proven = prove(store.engine, batch.batch_id, config)
        checking = _best(lambda: approvals_problem(proven, config))
        store.dispose()
    print(f"audit entries: {entries:,}")
    print(f"verify alone (baseline): {baseline:.3f} s ({entries / baseline:,.0f} entries/s)")
    print(f"prove (verify + checks): {proving:.3f} s ({proving / baseline:.2f}x the baseline)")
    print(f"approvals check (1 signed approval, ssh-keygen -Y verify): {checking:.3f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
