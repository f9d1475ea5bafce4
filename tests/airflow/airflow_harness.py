"""A throwaway Airflow installation for the tests: its own AIRFLOW_HOME, metadata DB and processes.

Everything Airflow runs in subprocesses with this environment (``airflow db migrate``, the DAG
driver, the api-server), never in the test runner: Airflow configures logging and reads its
home at import time.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent


def airflow_installed() -> bool:
    """True when the ``airflow`` extra is installed in this interpreter."""
    try:
        importlib.metadata.version("apache-airflow")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


SKIP_REASON = "Apache Airflow is not installed (pip install -e '.[airflow]'; .ci/run does)"


def free_port() -> int:
    """An ephemeral port the kernel just handed out (for the api-server)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class AirflowHome:
    """An AIRFLOW_HOME with a migrated SQLite metadata DB and a dags folder."""

    home: Path
    env: dict[str, str]

    @property
    def dags(self) -> Path:
        return self.home / "dags"

    @property
    def bin(self) -> Path:
        return Path(sys.executable).parent

    def airflow(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run the ``airflow`` command of this interpreter with this home."""
        return subprocess.run([str(self.bin / "airflow"), *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout, check=False)

    def write_dag_file(self, name: str, body: str) -> Path:
        path = self.dags / f"{name}.py"
        path.write_text(textwrap.dedent(body), encoding="utf-8")
        return path

    def run_dag(self, dag_file: Path, dag_id: str, *, executor: bool = False,
                env: dict[str, str] | None = None, timeout: float = 600) -> dict:
        """``dag.test()`` of one DAG in a subprocess; what Airflow recorded of the run."""
        out = dag_file.with_suffix(".result.json")
        done = subprocess.run(
            [sys.executable, str(HERE / "dag_driver.py"), str(dag_file), dag_id,
             "executor" if executor else "inline", str(out)],
            env={**self.env, **(env or {})}, capture_output=True, text=True, timeout=timeout,
            check=False, cwd=self.home)
        (self.home / f"{dag_file.stem}.log").write_text(done.stdout + done.stderr, encoding="utf-8")
        if done.returncode != 0:
            raise AssertionError(f"dag driver failed ({done.returncode}):\n{done.stderr[-4000:]}")
        result = json.loads(out.read_text(encoding="utf-8"))
        result["log"] = done.stdout + done.stderr
        return result


def make_home(root: Path) -> AirflowHome:
    """A fresh AIRFLOW_HOME under ``root`` with its metadata DB migrated."""
    home = root / "airflow-home"
    (home / "dags").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SAPBRIDGE_"))}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__API_AUTH__JWT_SECRET": "tests-only-jwt-secret",
        "PYTHONPATH": str(HERE),
    })
    made = AirflowHome(home, env)
    migrated = made.airflow("db", "migrate")
    if migrated.returncode != 0:
        raise AssertionError(f"airflow db migrate failed:\n{migrated.stderr[-4000:]}")
    return made


class ApiServer:
    """``airflow api-server`` on an ephemeral port: LocalExecutor workers report to it."""

    def __init__(self, home: AirflowHome) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/execution/"
        log = (home.home / "api-server.log").open("w")
        self.process = subprocess.Popen(
            [str(home.bin / "airflow"), "api-server", "--host", "127.0.0.1", "--port", str(self.port)],
            env=home.env, stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, seconds: float = 90) -> None:
        import urllib.request

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("airflow api-server exited early")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v2/monitor/health",
                                            timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        raise AssertionError("airflow api-server did not come up")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
