"""How the Bridge reaches SAP: the sync clients and the push clients of a system (a seam for tests)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sapbridge.config import SystemConfig
from sapbridge.push import sap
from sapbridge.sync.service import Clients

__all__ = ["SapClients"]


def _sync_clients(system: SystemConfig, record_dir: Path | None) -> Clients:
    return Clients(system, record_dir=record_dir)


def _push_clients(system: SystemConfig) -> tuple[Any, Any]:
    return sap.connect(system)  # looked up per call: tests replace sapbridge.push.sap.connect


@dataclass(frozen=True, slots=True)
class SapClients:
    """Opens clients per system: ``sync`` for reads (optionally recording), ``push`` for the
    OData client and the (lazily connecting) RFC client a push plan or apply uses."""

    sync: Callable[[SystemConfig, Path | None], Clients] = _sync_clients
    push: Callable[[SystemConfig], tuple[Any, Any]] = _push_clients
