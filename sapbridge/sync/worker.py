"""A worker process that converts pages of raw entities, so the writer's thread only writes.

Started as ``python -m sapbridge.sync.worker_main`` (a fresh interpreter: nothing of the parent's
connections, threads or ``__main__`` is inherited or re-imported). Requests and answers are
length-prefixed pickles over its stdin and stdout, answered in order; a thread on each side of
the pipe keeps the parent from ever blocking on a full pipe while the worker is busy. The worker
ends when its stdin closes, so it never outlives the sync (even one killed with kill -9).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from sapbridge.errors import SapBridgeError

__all__ = ["ConversionWorker", "read_frame", "write_frame"]

_HEADER = 8


def write_frame(stream: IO[bytes], payload: bytes) -> None:
    stream.write(len(payload).to_bytes(_HEADER, "big"))
    stream.write(payload)
    stream.flush()


def read_frame(stream: IO[bytes]) -> bytes | None:
    header = stream.read(_HEADER)
    if len(header) < _HEADER:
        return None
    size = int.from_bytes(header, "big")
    payload = stream.read(size)
    return payload if len(payload) == size else None


class ConversionWorker:
    """The parent's side: send ``(function, args)`` requests, receive their results in order.

    The worker calls ``function(state, *args)``, with a state dict of its own kept between calls.
    """

    def __init__(self) -> None:
        package_root = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        self.process = subprocess.Popen([sys.executable, "-m", "sapbridge.sync.worker_main"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        env={**os.environ, "PYTHONPATH": path})
        self._outbox: queue.Queue[bytes | None] = queue.Queue()
        self._waiting = 0
        self._inbox: queue.Queue[bytes | None] = queue.Queue()
        self._sender = threading.Thread(target=self._send_loop, name="sync-worker-send", daemon=True)
        self._receiver = threading.Thread(target=self._receive_loop, name="sync-worker-receive",
                                          daemon=True)
        self._sender.start()
        self._receiver.start()

    def _send_loop(self) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        try:
            while (request := self._outbox.get()) is not None:
                write_frame(stdin, request)
        except (BrokenPipeError, OSError):
            pass
        finally:
            with contextlib.suppress(OSError):
                stdin.close()

    def _receive_loop(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while (answer := read_frame(stdout)) is not None:
            self._inbox.put(answer)
        self._inbox.put(None)

    def submit(self, function: Any, *args: Any) -> None:
        """Queue a call; its result comes from a later :meth:`result`, in submission order."""
        self._outbox.put(pickle.dumps((function, args), protocol=pickle.HIGHEST_PROTOCOL))
        self._waiting += 1

    def backlog(self) -> int:
        """Calls submitted whose results have not arrived yet (the worker's queue of work)."""
        return self._waiting - self._inbox.qsize()

    def result(self) -> Any:
        """The result of the oldest call not yet collected (its exception is raised here)."""
        answer = self._inbox.get()
        self._waiting -= 1
        if answer is None:
            msg = f"the sync's conversion worker ended unexpectedly (exit code {self.process.poll()})"
            raise SapBridgeError(msg)
        ok, value = pickle.loads(answer)  # noqa: S301 - our own child process, over a private pipe
        if not ok:
            raise value
        return value

    def close(self) -> None:
        """Stop the worker: close its input and wait for it (killing it if it hangs)."""
        self._outbox.put(None)
        self._sender.join(timeout=10)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._receiver.join(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()
