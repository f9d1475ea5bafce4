"""Request or approve in its own process at a given moment (race tests).

Usage: python tests/push/race_runner.py import DB_URL CONFIG FILE
       python tests/push/race_runner.py approve DB_URL CONFIG BATCH_ID USER
Prints ``ready`` once the store is open, then acts when a line arrives on stdin, so every
process acts at once. Prints one line more; exit code 0 when it succeeded, 2 when refused.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1])]

from sapbridge.config import load_settings  # noqa: E402
from sapbridge.errors import SapBridgeError  # noqa: E402
from sapbridge.push.approval import approve  # noqa: E402
from sapbridge.push.authority import load_push_config  # noqa: E402
from sapbridge.push.batches import import_batch  # noqa: E402
from sapbridge.store import open_store  # noqa: E402


def main(mode: str, db_url: str, config_path: str, *args: str) -> int:
    store = open_store(db_url)
    config = load_push_config(load_settings(config_path))
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        if mode == "import":
            result = import_batch(store.engine, "write-offs", args[0], system="PRD",
                                  requester="alice", run_id="race", config=config)
            print(f"ok {result.batch_id}")
        else:
            decision = approve(store.engine, args[0], approver=args[1], config=config,
                               run_id=f"race-{args[1]}")
            print(f"ok {decision.status}")
    except SapBridgeError as exc:
        print(f"refused {exc.message.splitlines()[-1]}")
        return 2
    finally:
        store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
