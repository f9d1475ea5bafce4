"""The SAP password from an Airflow connection or variable, read inside a running task; nothing logs it."""

from __future__ import annotations

import hashlib

import pytest
from airflow_harness import SKIP_REASON, airflow_installed

pytestmark = [pytest.mark.airflow, pytest.mark.skipif(not airflow_installed(), reason=SKIP_REASON)]

DAG_FILE = '''
import hashlib
from datetime import datetime, timezone

from airflow.sdk import DAG, task

from sapbridge.airflow.dags import _airflow_secret


@task(multiple_outputs=False)
def read_secrets():
    found = {system: _airflow_secret(system) for system in ("PRD", "QAS", "DEV")}
    return {system: hashlib.sha256(v.encode()).hexdigest() if v else None for system, v in found.items()}


with DAG("sapbridge_secrets_probe", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=timezone.utc)):
    read_secrets()
'''


def test_password_comes_from_the_connection_else_the_variable_and_is_not_logged(airflow_home):
    airflow_home.write_dag_file("secrets_probe", DAG_FILE)
    result = airflow_home.dags_test("sapbridge_secrets_probe", env={
        "AIRFLOW_CONN_SAPBRIDGE_PRD": '{"conn_type": "generic", "login": "RFC_OTC", "password": "prd-Secr3t-pw"}',
        "AIRFLOW_VAR_SAPBRIDGE_QAS_PASSWORD": "qas-Secr3t-pw",
    })
    assert result["state"] == "success", result["log"][-3000:]
    [xcom] = [x["value"] for x in result["xcom"] if x["task_id"] == "read_secrets"]
    assert xcom == {"PRD": hashlib.sha256(b"prd-Secr3t-pw").hexdigest(),
                    "QAS": hashlib.sha256(b"qas-Secr3t-pw").hexdigest(), "DEV": None}
    assert "prd-Secr3t-pw" not in result["log"]
    assert "qas-Secr3t-pw" not in result["log"]
