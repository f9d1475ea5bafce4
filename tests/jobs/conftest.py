"""Shared job fixtures: a project folder with jobs/, and step kinds registered by the tests."""

from __future__ import annotations

import textwrap
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sapbridge.errors import ReconciliationError
from sapbridge.jobs.steps import STEP_KINDS, Option, StepContext, StepOutcome, register_step, text
from sapbridge.logs import configure_logging, get_logger


def _log():
    return get_logger(__name__)


@pytest.fixture(autouse=True)
def _logging_to_live_stderr() -> Iterator[None]:
    """CLI tests point logging at capsys's stream, closed after the test; point it back."""
    configure_logging(json_lines=True)
    yield
    configure_logging(json_lines=True)


def write_job(project: Path, name: str, body: str) -> Path:
    """Write ``project/jobs/<name>.toml``."""
    path = project / "jobs" / f"{name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


@dataclass
class Calls:
    """What the test step kinds saw, and switches to make them fail or block."""

    seen: list[tuple[str, int, str]] = field(default_factory=list)
    contexts: list[StepContext] = field(default_factory=list)
    fail: set[str] = field(default_factory=set)
    release: threading.Event = field(default_factory=threading.Event)
    entered: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def calls() -> Iterator[Calls]:
    """Registers ``count`` (counts a label), ``review`` (leaves exceptions) and ``block`` (waits)."""
    state = Calls()
    saved = dict(STEP_KINDS)

    def count(ctx: StepContext, options: Mapping[str, Any]) -> StepOutcome:
        label = options["label"]
        _log().info("counting", label=label)
        state.seen.append((ctx.run_id, ctx.position, label))
        state.contexts.append(ctx)
        if label in state.fail:
            msg = f"cannot reconcile {label}"
            raise ReconciliationError(msg)
        return StepOutcome({"label": label, "rows": len(label)})

    def review(ctx: StepContext, options: Mapping[str, Any]) -> StepOutcome:
        state.seen.append((ctx.run_id, ctx.position, "review"))
        return StepOutcome({"unmatched": options["exceptions"]}, needs_review=options["exceptions"])

    def block(ctx: StepContext, options: Mapping[str, Any]) -> StepOutcome:
        state.entered.set()
        assert state.release.wait(20), "test never released the blocking step"
        return StepOutcome({"waited": 1})

    def integer(value: Any) -> str:
        return "" if isinstance(value, int) and value >= 0 else "must be a whole number >= 0"

    register_step("count", count, options={"label": Option(text, required=True)})
    register_step("review", review, options={"exceptions": Option(integer, required=True)})
    register_step("block", block)
    yield state
    state.release.set()
    STEP_KINDS.clear()
    STEP_KINDS.update(saved)


THREE_STEPS = """
name = "three"
system = "demo"
[[steps]]
kind = "count"
label = "first"
[[steps]]
kind = "count"
label = "second"
[[steps]]
kind = "count"
label = "third"
"""
