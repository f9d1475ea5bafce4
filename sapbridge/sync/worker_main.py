"""The conversion worker's own process: ``python -m sapbridge.sync.worker_main`` (see worker.py).

Kept apart from :mod:`sapbridge.sync.worker` so that running it never imports itself twice.
"""

from __future__ import annotations

import os
import pickle
import sys
from typing import IO, Any

from sapbridge.errors import SapBridgeError
from sapbridge.sync.worker import read_frame, write_frame

__all__ = ["main", "serve"]


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """The worker's side: answer each request with ``(True, result)`` or ``(False, exception)``.

    Each call gets the worker's state first (what a partition's pages share, such as its stored
    rows), then its own arguments.
    """
    state: dict[str, Any] = {}
    while (request := read_frame(requests)) is not None:
        function, args = pickle.loads(request)  # noqa: S301 - sent by our own parent process
        try:
            answer: tuple[bool, Any] = (True, function(state, *args))
        except Exception as exc:  # noqa: BLE001 - the parent re-raises it where it waits
            answer = (False, exc)
        try:
            frame = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            frame = pickle.dumps((False, SapBridgeError(str(answer[1]))))
        write_frame(answers, frame)


def main() -> None:
    """Serve on stdin/stdout; anything else printing to stdout goes to stderr instead."""
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    main()
