"""A throw-away RFC 3161 TSA for tests: an ``openssl ts -reply`` responder on a loopback port."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

_TS_CONFIG = """\
[ tsa ]
default_tsa = tsa_config1

[ tsa_config1 ]
dir = {dir}
serial = $dir/tsaserial
crypto_device = builtin
signer_cert = $dir/tsa.crt
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""

_TSA_EXT = """\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
"""


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(folder: Path, name: str) -> Path:
    """A self-signed CA (``ca.crt``, ``ca.key``) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
             "ca.crt", "-days", "2", "-subj", f"/CN={name}", "-addext",
             "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
             cwd=folder)
    return folder / "ca.crt"


def make_tsa_pki(folder: Path) -> Path:
    """A CA and a TSA certificate it signed (EKU critical timeStamping); the ts config."""
    make_ca(folder, "sapbridge test CA")
    (folder / "tsa.ext").write_text(_TSA_EXT)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "tsa.key", "-out", "tsa.csr",
             "-subj", "/CN=sapbridge test TSA", cwd=folder)
    _openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "tsa.crt", "-days", "2", "-extfile", "tsa.ext",
             cwd=folder)
    (folder / "tsaserial").write_text("01\n")
    config = folder / "ts.cnf"
    config.write_text(_TS_CONFIG.format(dir=folder))
    return config


def _handler(config: Path, folder: Path, lock: threading.Lock) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock, tempfile.TemporaryDirectory(dir=folder) as scratch:
                (Path(scratch) / "q.tsq").write_bytes(query)
                _openssl("ts", "-reply", "-config", str(config), "-queryfile", "q.tsq",
                         "-out", "r.tsr", cwd=Path(scratch))
                reply = (Path(scratch) / "r.tsr").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@dataclass(frozen=True)
class LocalTsa:
    """A running responder: its URL and the CA its tokens chain to."""

    url: str
    ca_file: Path


@contextmanager
def local_tsa(folder: Path) -> Iterator[LocalTsa]:
    """Run the responder on an ephemeral loopback port until the block ends."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (needed for the local RFC 3161 responder)")
    config = make_tsa_pki(folder)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(config, folder, threading.Lock()))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LocalTsa(f"http://127.0.0.1:{server.server_address[1]}/tsa", folder / "ca.crt")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
