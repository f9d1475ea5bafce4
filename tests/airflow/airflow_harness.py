"""A throwaway Airflow installation for the tests: its own AIRFLOW_HOME, metadata DB and processes.

Everything Airflow runs in subprocesses with this environment (``airflow db migrate``, the DAG
driver, the api-server), never in the test runner: Airflow configures logging and reads its
home at import time.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from sapbridge.config import project_root

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

    def dags_test(self, dag_id: str, *, env: dict[str, str] | None = None, timeout: float = 600) -> dict:
        """``airflow dags test DAG_ID`` (one run, in-process); what Airflow recorded of the run."""
        done = subprocess.run([str(self.bin / "airflow"), "dags", "test", dag_id],
                              env={**self.env, **(env or {})}, capture_output=True, text=True,
                              timeout=timeout, check=False, cwd=self.home)
        log = done.stdout + done.stderr
        (self.home / f"dags-test-{dag_id}.log").write_text(log, encoding="utf-8")
        if done.returncode != 0:
            raise AssertionError(f"airflow dags test failed ({done.returncode}):\n{log[-4000:]}")
        return {"log": log, **self.last_run(dag_id)}

    def query(self, query: str, *params: object) -> list[tuple]:
        """Rows of the metadata DB (SQLite), read without importing Airflow."""
        with sqlite3.connect(self.home / "airflow.db", timeout=30) as conn:
            return conn.execute(query, params).fetchall()

    def last_run(self, dag_id: str) -> dict:
        """The state, task instances, earlier tries and XComs of the DAG's latest run."""
        run_id, state = self.query("SELECT run_id, state FROM dag_run WHERE dag_id = ? ORDER BY id DESC "
                                   "LIMIT 1", dag_id)[0]
        where = "WHERE dag_id = ? AND run_id = ?"
        tasks = self.query("SELECT task_id, map_index, state, try_number, pool, rendered_map_index "
                           f"FROM task_instance {where}", dag_id, run_id)
        history = self.query(f"SELECT task_id, map_index, state, try_number FROM task_instance_history {where}",
                             dag_id, run_id)
        xcoms = self.query(f"SELECT task_id, map_index, value FROM xcom {where} AND key = 'return_value'",
                           dag_id, run_id)
        return {
            "state": state,
            "tasks": [dict(zip(("task_id", "map_index", "state", "try_number", "pool", "label"), t,
                               strict=True)) for t in tasks],
            "history": [dict(zip(("task_id", "map_index", "state", "try_number"), h, strict=True))
                        for h in history],
            "xcom": [{"task_id": t, "map_index": m, "value": json.loads(v)} for t, m, v in xcoms],
        }


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


class LocalDeployment:
    """Airflow as a one-machine deployment runs it: api-server, dag-processor and scheduler with
    the LocalExecutor, on ephemeral ports, until :meth:`stop`.

    ``parallelism`` caps the tasks the executor runs at once; the SAP system's pool caps the
    sync tasks among them.
    """

    def __init__(self, home: AirflowHome, *, parallelism: int, env: dict[str, str]) -> None:
        self.home = home
        port = free_port()
        self.env = {**home.env, **env,
                    "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                    "AIRFLOW__CORE__PARALLELISM": str(parallelism),
                    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
                    "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                    "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
                    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "2",
                    "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False"}
        self.port = port
        self.processes: list[subprocess.Popen] = []
        self._start("api-server", "--host", "127.0.0.1", "--port", str(port))
        self._wait_healthy()  # workers report to it: a task started before would fail
        self._start("dag-processor")
        self._start("scheduler")

    def _wait_healthy(self, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v2/monitor/health",
                                            timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        raise AssertionError("airflow api-server did not come up")

    def _start(self, *command: str) -> None:
        log = (self.home.home / f"{command[0]}.log").open("a")
        try:
            self.processes.append(subprocess.Popen([str(self.home.bin / "airflow"), *command],
                                                   env=self.env, stdout=log, stderr=subprocess.STDOUT))
        finally:
            log.close()

    def airflow(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.home.bin / "airflow"), *args], env=self.env, capture_output=True,
                              text=True, timeout=300, check=False)

    def query(self, query: str, *params: object) -> list[tuple]:
        return self.home.query(query, *params)

    def trigger(self, dag_id: str, *, seconds: float = 120) -> str:
        """Trigger a run once the dag-processor has parsed the DAG; its run id."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._check_alive()
            if self.query("SELECT 1 FROM serialized_dag WHERE dag_id = ?", dag_id):
                done = self.airflow("dags", "trigger", dag_id, "-o", "json")
                if done.returncode == 0:
                    printed = next(line for line in done.stdout.splitlines() if line.startswith("[{"))
                    return str(json.loads(printed)[0]["dag_run_id"])
            time.sleep(1)
        raise AssertionError(f"DAG {dag_id} was never parsed:\n{self.log('dag-processor')[-3000:]}")

    def first_run(self, dag_id: str, *, seconds: float = 120) -> str:
        """The run id of the DAG's first run (the scheduler starts one for the latest interval)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._check_alive()
            rows = self.query("SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id", dag_id)
            if rows:
                return str(rows[0][0])
            time.sleep(1)
        raise AssertionError(f"no run of {dag_id} started:\n{self.log('scheduler')[-3000:]}")

    def wait(self, dag_id: str, run_id: str, *, seconds: float = 600) -> str:
        """The final state of a DAG run (success or failed)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._check_alive()
            rows = self.query("SELECT state FROM dag_run WHERE dag_id = ? AND run_id = ?",
                                  dag_id, run_id)
            if rows and rows[0][0] in ("success", "failed"):
                return str(rows[0][0])
            time.sleep(1)
        raise AssertionError(f"DAG run {run_id} did not finish:\n{self.log('scheduler')[-3000:]}")

    def task_states(self, dag_id: str, run_id: str) -> list[tuple]:
        return self.query("SELECT task_id, map_index, state, try_number, pool FROM task_instance "
                              "WHERE dag_id = ? AND run_id = ? ORDER BY task_id, map_index",
                              dag_id, run_id)

    def log(self, name: str) -> str:
        return (self.home.home / f"{name}.log").read_text(encoding="utf-8", errors="replace")

    def _check_alive(self) -> None:
        for process in self.processes:
            if process.poll() is not None:
                raise AssertionError(f"airflow {process.args[1]} exited:\n{self.log(process.args[1])[-3000:]}")

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def nightly_project(root: Path) -> Path:
    """A project folder with the demo's nightly job and its sample inputs; returns its jobs/ folder."""
    source = project_root()
    (root / "jobs").mkdir(parents=True)
    shutil.copy(source / "jobs" / "nightly.toml", root / "jobs" / "nightly.toml")
    shutil.copytree(source / "fixtures" / "samples", root / "fixtures" / "samples")
    return root / "jobs"
