"""Regenerate the committed demo fixtures by syncing against the fake SAP with recording on.

``fixtures/demo`` is the demo company on its key date over both routes; ``fixtures/demo-later``
is the same company a week later over OData, recorded as the incremental sync that follows the
first one asks for it (changed orders and cases, cleared and new items). Run::

    python -m devtools.demo.record fixtures
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from devtools.demo.data import DemoCompany, generate
from devtools.demo.fakesap import FakeSapHttp, FakeSapRfc
from sapbridge.config import DEMO_SYSTEM, SystemConfig, load_settings
from sapbridge.store import open_store
from sapbridge.sync.service import Clients, sync_system

__all__ = ["LATER_KEY_DATE", "later_system", "record_demo_fixtures"]

LATER_KEY_DATE = "2026-11-27"


def later_system(system: SystemConfig, fixtures: Path) -> SystemConfig:
    """The demo system as it answers a week later (replaying ``fixtures/demo-later``)."""
    return replace(system, fixtures=str(fixtures), key_date=LATER_KEY_DATE)


def _recording_clients(system: SystemConfig, company: DemoCompany, target: Path) -> Clients:
    from sapbridge.odata.client import ODataClient
    from sapbridge.rfc.client import RfcClient
    from sapbridge.transport.record import RecordingHttpConnection, RecordingRfcConnection

    odata = ODataClient(system, RecordingHttpConnection(FakeSapHttp(company), target))
    rfc = RfcClient(RecordingRfcConnection(FakeSapRfc(company), target))
    return Clients.given(system, odata=odata, rfc=rfc)


def record_demo_fixtures(root: Path) -> dict[str, Any]:
    """Write ``root/demo`` and ``root/demo-later``; returns the sync summaries."""
    settings = load_settings(None)
    demo = settings.system(DEMO_SYSTEM)
    first, later = root / "demo", root / "demo-later"
    for folder in (first, later):
        shutil.rmtree(folder, ignore_errors=True)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as scratch:
        odata_store = open_store(f"sqlite:///{Path(scratch) / 'odata.db'}")
        rfc_store = open_store(f"sqlite:///{Path(scratch) / 'rfc.db'}")
        clients = _recording_clients(demo, generate(1), first)
        results["odata"] = sync_system(settings, odata_store, system=DEMO_SYSTEM, objects=["all"],
                                       run_id="record-odata", actor="recorder", clients=clients)
        results["rfc"] = sync_system(settings, rfc_store, system=DEMO_SYSTEM, objects=["all"],
                                     route="rfc", run_id="record-rfc", actor="recorder", clients=clients)
        week_later = later_system(demo, later)
        clients = _recording_clients(week_later, generate(2), later)
        later_settings = replace(settings, systems={**settings.systems, DEMO_SYSTEM: week_later})
        results["later"] = sync_system(later_settings, odata_store, system=DEMO_SYSTEM, objects=["all"],
                                       run_id="record-later", actor="recorder", clients=clients)
        odata_store.dispose()
        rfc_store.dispose()
    return {name: summary.as_dict() for name, summary in results.items()}


if __name__ == "__main__":
    import orjson

    summaries = record_demo_fixtures(Path(sys.argv[1] if len(sys.argv) > 1 else "fixtures"))
    sys.stdout.write(orjson.dumps(summaries, option=orjson.OPT_INDENT_2).decode() + "\n")
