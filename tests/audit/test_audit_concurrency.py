"""Many processes appending at once never fork the chain and never lose an entry."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from sapbridge.audit.anchors import AnchorDir
from sapbridge.audit.auditlog import AuditLog
from sapbridge.audit.log import record, verify
from sapbridge.audit.tables import audit_log

PROCESSES = 8
ENTRIES = 50

_WRITER = """
import sys, time
from pathlib import Path
from sqlalchemy import select
from sapbridge.audit.log import record
from sapbridge.audit.tables import audit_head
from sapbridge.store import open_store

url, name, go, n = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
store = open_store(url)
print("ready", flush=True)
while not go.exists():
    time.sleep(0.01)
for i in range(n):
    with store.engine.begin() as conn:
        if i % 2:  # like callers that read before they write, in the same transaction
            conn.execute(select(audit_head.c.seq)).scalar()
        record(conn, action="sync_run", actor=name, run_id=f"{name}-{i}")
store.dispose()
"""


def _run_writers(url: str, go: Path) -> list[subprocess.CompletedProcess[str]]:
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, url, f"w{p}", str(go), str(ENTRIES)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for p in range(PROCESSES)]
    for proc in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    go.touch()
    deadline = time.monotonic() + 300
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def test_parallel_processes_append_one_line(store, tmp_path) -> None:
    results = _run_writers(store.url, tmp_path / "go")
    assert [r.returncode for r in results] == [0] * PROCESSES, [r.stderr[-500:] for r in results]
    with store.engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.seq, audit_log.c.prev_hash, audit_log.c.hash,
                                   audit_log.c.actor).order_by(audit_log.c.seq)).all()
        per_writer = dict(conn.execute(select(audit_log.c.actor, func.count())
                                       .group_by(audit_log.c.actor)).all())
    assert [r.seq for r in rows] == list(range(1, PROCESSES * ENTRIES + 1))
    assert all(rows[i].prev_hash == rows[i - 1].hash for i in range(1, len(rows)))
    assert per_writer == {f"w{p}": ENTRIES for p in range(PROCESSES)}
    result = verify(store.engine)
    assert result.ok, result.reason
    assert result.checked == PROCESSES * ENTRIES


_HOLDER = """
import sys, time
from sapbridge.audit.log import record
from sapbridge.store import open_store

store = open_store(sys.argv[1])
with store.engine.begin() as conn:
    record(conn, action="approved", actor="victim", run_id="killed")
    print("recorded", flush=True)
    time.sleep(120)  # killed here, holding the head row, before the commit
"""


def test_a_writer_killed_mid_append_leaves_the_chain_whole(store) -> None:
    with store.engine.begin() as conn:
        record(conn, action="sync_run", actor="before", run_id="r0")
    with subprocess.Popen([sys.executable, "-c", _HOLDER, store.url], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True) as holder:
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "recorded"
        finally:
            holder.send_signal(signal.SIGKILL)
            holder.wait(timeout=30)
    with store.engine.begin() as conn:  # the lock died with the process: this does not hang
        seq = record(conn, action="sync_run", actor="after", run_id="r1")
    assert seq == 2
    result = verify(store.engine)
    assert result.ok, result.reason
    with store.engine.connect() as conn:
        actors = conn.execute(select(audit_log.c.actor).order_by(audit_log.c.seq)).scalars().all()
    assert actors == ["before", "after"]


_ANCHORER = """
import sys
from pathlib import Path
from sapbridge.audit.anchors import AnchorDir
from sapbridge.audit.auditlog import AuditLog
from sapbridge.store import open_store

store = open_store(sys.argv[1], audit=AuditLog(key=b"k", anchors=AnchorDir(Path(sys.argv[2]))))
for _ in range(int(sys.argv[3])):
    store.audit.anchor(store.engine)
store.dispose()
"""


def test_parallel_anchor_writers_never_interleave_lines(sqlite_store, tmp_path) -> None:
    log = AuditLog(key=b"k", anchors=AnchorDir(tmp_path / "anchors"))
    engine = log.bind(sqlite_store.engine)
    with engine.begin() as conn:
        record(conn, action="sync_run", actor="x", run_id="r")
    args = [sqlite_store.url, str(tmp_path / "anchors"), "25"]
    procs = [subprocess.Popen([sys.executable, "-c", _ANCHORER, *args]) for _ in range(4)]
    assert [proc.wait(timeout=120) for proc in procs] == [0] * 4
    lines = log.anchors.read(log.key)
    assert len(lines) == 100
    assert all(line.anchor is not None for line in lines), [x.problem for x in lines][:3]
    assert verify(engine).ok
