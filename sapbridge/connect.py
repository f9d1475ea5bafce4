"""Build clients for a configured system: live SAP, replay, the simulated demo SAP, or live with recording.

This is the one place that chooses a transport; everything else receives a client.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sapbridge.config import SystemConfig

if TYPE_CHECKING:
    from sapbridge.odata.client import ODataClient
    from sapbridge.rfc.client import RfcClient

__all__ = ["open_odata", "open_rfc"]


def _to_stderr(text: str) -> None:
    """Where the simulated demo SAP says it is one: a line on a terminal, a log entry (JSON)
    when unattended, so scheduled runs keep one JSON object per stderr line."""
    if sys.stderr.isatty():
        sys.stderr.write(text + "\n")
        return
    from sapbridge.logs import get_logger

    get_logger(__name__).warning("simulated_sap", message=text)


def open_odata(system: SystemConfig, *, record_dir: Path | None = None) -> ODataClient:
    """An OData client: replay for a replay system, else live (recording when asked)."""
    from sapbridge.odata.client import ODataClient
    from sapbridge.transport.base import HttpConnection
    from sapbridge.transport.replay import ReplayHttpConnection

    connection: HttpConnection
    if system.is_replay and system.sap_state:
        from sapbridge.transport.sapstate import SapState
        from sapbridge.transport.simulated import SimulatedHttpConnection

        connection = SimulatedHttpConnection(system.fixtures_dir(), SapState(Path(system.sap_state)),
                                             notice=_to_stderr)
    elif system.is_replay:
        connection = ReplayHttpConnection(system.fixtures_dir())
    else:
        from sapbridge.transport.http import LiveHttpConnection

        connection = LiveHttpConnection(system, system.password())
        if record_dir is not None:
            from sapbridge.transport.record import RecordingHttpConnection

            connection = RecordingHttpConnection(connection, record_dir)
    return ODataClient(system, connection)


def open_rfc(system: SystemConfig, *, record_dir: Path | None = None) -> RfcClient:
    """An RFC client: replay for a replay system, else pyrfc (recording when asked)."""
    from sapbridge.rfc.client import RfcClient
    from sapbridge.transport.base import RfcConnection
    from sapbridge.transport.replay import ReplayRfcConnection

    connection: RfcConnection
    if system.is_replay and system.sap_state:
        from sapbridge.transport.sapstate import SapState
        from sapbridge.transport.simulated import SimulatedRfcConnection

        connection = SimulatedRfcConnection(system.fixtures_dir(), SapState(Path(system.sap_state)),
                                            notice=_to_stderr)
    elif system.is_replay:
        connection = ReplayRfcConnection(system.fixtures_dir())
    else:
        from sapbridge.rfc.live import LiveRfcConnection

        connection = LiveRfcConnection(system, system.password())
        if record_dir is not None:
            from sapbridge.transport.record import RecordingRfcConnection

            connection = RecordingRfcConnection(connection, record_dir)
    return RfcClient(connection, max_attempts=system.max_attempts)
