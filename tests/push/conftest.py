"""Shared push fixtures: a config with users and authority, a seeded store, a fake SAP."""

from __future__ import annotations

import os
import pwd
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import insert

from sapbridge.config import load_settings
from sapbridge.push.authority import PushConfig, load_push_config
from sapbridge.store.schema import credit_segments, open_items

from .fakes import FakeOData, FakeRfc, FakeSapState

LOGIN = pwd.getpwuid(os.getuid()).pw_name
"""The test runner's real login (root in CI): every test user maps to it, so ``--as`` picks."""

CONFIG = f"""
[users.alice]
roles = ["ar_clerk"]
os_user = "{LOGIN}"

[users.bob]
roles = ["credit_manager"]
os_user = "{LOGIN}"

[users.carol]
roles = ["controller"]
os_user = "{LOGIN}"

[users.dave]
roles = ["ar_clerk", "credit_manager"]
os_user = "{LOGIN}"

[authority.ar_clerk]
request = true

[authority.credit_manager]
currency = "EUR"
max_limit_increase = "50000"
max_writeoff_item = "1000"
max_writeoff_batch = "5000"
max_release_order_value = "25000"

[authority.controller]
currency = "EUR"
max_limit_increase = "500000"
max_writeoff_item = "25000"
max_writeoff_batch = "100000"
max_release_order_value = "250000"

[push]
identity = "os"
second_approver_above = "10000"

[push.reason_codes.SMALL]
gl_account = "0000880000"
text = "Small balance write-off"
"""


def write_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "sapbridge.toml"
    path.write_text(CONFIG + extra, encoding="utf-8")
    return path


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return write_config(tmp_path)


@pytest.fixture
def push_config(config_path: Path) -> PushConfig:
    return load_push_config(load_settings(config_path))


def seed_store(engine, system: str = "PRD") -> None:
    now = datetime.now(UTC)
    tracking = {"first_seen_at": now, "last_seen_at": now, "last_seen_run": "seed",
                "status": "open"}
    with engine.begin() as conn:
        conn.execute(insert(credit_segments), [
            {"system": system, "customer": f"001000000{i}", "credit_segment": "1000",
             "credit_limit": Decimal("50000.00"), "currency": "EUR",
             "valid_to": date(2026, 12, 31), "blocked": False, "is_critical": False,
             **tracking}
            for i in range(1, 6)
        ])
        conn.execute(insert(open_items), [
            {"system": system, "company_code": "1000", "fiscal_year": "2026",
             "document": f"009000000{i}", "item": "001", "customer": "0010000001",
             "amount": Decimal("120.00"), "currency": "EUR", **tracking}
            for i in range(1, 6)
        ])


def seed_sap(state: FakeSapState) -> None:
    for i in range(1, 6):
        state.add_account(f"001000000{i}", "1000", "50000.00")
        state.add_item("1000", "2026", f"009000000{i}", "001", "0010000001", "120.00")


@pytest.fixture
def seeded(store):
    seed_store(store.engine)
    return store


@pytest.fixture
def sap(tmp_path: Path) -> FakeSapState:
    state = FakeSapState(tmp_path / "sap.json")
    seed_sap(state)
    return state


@pytest.fixture
def odata(sap: FakeSapState) -> FakeOData:
    return FakeOData(sap)


@pytest.fixture
def rfc(sap: FakeSapState) -> FakeRfc:
    return FakeRfc(sap)


def write_csv(path: Path, header: str, *rows: str) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


LIMIT_HEADER = "customer,credit_segment,new_limit,currency,valid_to,reason"
WRITEOFF_HEADER = ("company_code,customer,fiscal_year,document,item,amount,currency,"
                   "reason_code,text")
