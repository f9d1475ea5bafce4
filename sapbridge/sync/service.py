"""One call that syncs a configured system: mappings, clients, sources and the engine together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from sapbridge.config import Settings, SystemConfig
from sapbridge.connect import open_odata, open_rfc
from sapbridge.errors import ConfigError
from sapbridge.mapping import DatasetMapping, ODataRoute, RfcRoute, mappings_for
from sapbridge.store import Store
from sapbridge.sync.engine import (
    ALL_OBJECTS,
    OBJECTS,
    ProgressFactory,
    SyncRequest,
    SyncSummary,
    customers_of,
    run_sync,
)
from sapbridge.sync.partitions import partition_leases, partitions_of
from sapbridge.sync.sources import ODataSource, RfcSource, RowSource

__all__ = ["Clients", "enabled_objects", "sync_system"]


@dataclass
class Clients:
    """Opens the OData and RFC clients of a system on first use, and closes them at the end."""

    system: SystemConfig
    record_dir: Path | None = None
    _odata: Any = None
    _rfc: Any = None
    opened: list[Any] = field(default_factory=list)

    @classmethod
    def given(cls, system: SystemConfig, *, odata: Any = None, rfc: Any = None) -> Clients:
        """Clients built elsewhere (tests, fixture recording); none is opened here."""
        return cls(system, _odata=odata, _rfc=rfc)

    def odata(self) -> Any:
        """The system's OData client."""
        if self._odata is None:
            self._odata = open_odata(self.system, record_dir=self.record_dir)
        return self._odata

    def rfc(self) -> Any:
        """The system's RFC client."""
        if self._rfc is None:
            self._rfc = open_rfc(self.system, record_dir=self.record_dir)
            self.opened.append(self._rfc)
        return self._rfc

    def source(self, mapping: DatasetMapping, route_name: str, conn: Connection) -> RowSource:
        """The row source of one dataset over the chosen route."""
        route = mapping.route(route_name)
        if isinstance(route, ODataRoute):
            return ODataSource(self.odata(), route, page_size=self.system.page_size)
        assert isinstance(route, RfcRoute)
        return RfcSource(self.rfc(), route, customers_of=customers_of(conn, self.system.name),
                         today=self.system.rfc_key_date())

    def close(self) -> None:
        """Close the RFC connection, if one was opened."""
        for client in self.opened:
            client.close()


def enabled_objects(system: SystemConfig, objects: Sequence[str]) -> list[str]:
    """The objects to sync on ``system``: ``all`` leaves out those whose datasets it has switched
    off; naming such an object is refused, saying so."""
    off = system.disabled_datasets
    names = list(objects) or ["all"]
    if "all" in names:
        return [o for o in ALL_OBJECTS if not set(OBJECTS[o]) <= off]
    refused = [o for o in names if o in OBJECTS and set(OBJECTS[o]) <= off]
    if refused:
        msg = (f"system {system.name} has {', '.join(refused)} switched off "
               f"([systems.{system.name}] disabled_datasets)")
        raise ConfigError(msg)
    return names


def sync_system(settings: Settings, store: Store, *, system: str | None, objects: Sequence[str],
                company_codes: Sequence[str] = (), full: bool = False, route: str | None = None,
                record_dir: Path | None = None, run_id: str, actor: str,
                progress: ProgressFactory | None = None, clients: Clients | None = None,
                allow_mass_clear: bool = False, max_clear_share: float | None = None) -> SyncSummary:
    """Sync the named objects of a system into the store (see :func:`run_sync`)."""
    target = settings.system(system)
    if record_dir is not None and target.is_replay:
        msg = f"system {target.name} replays fixtures; --record needs a live system"
        raise ConfigError(msg)
    if route not in (None, "odata", "rfc"):
        msg = f"route must be odata or rfc, not {route!r}"
        raise ConfigError(msg)
    routes = {"*": route} if route else dict(target.routes)
    objects = enabled_objects(target, objects)
    request = SyncRequest(system=target.name, objects=objects,
                          company_codes=list(company_codes) or list(target.company_codes),
                          full=full, routes=routes, page_size=target.page_size,
                          allow_mass_clear=allow_mass_clear,
                          disabled_datasets=target.disabled_datasets)
    if max_clear_share is not None:
        request = replace(request, max_clear_share=max_clear_share)
    mappings = mappings_for(settings, target.name)
    partitions = partitions_of(mappings, system=target.name, objects=objects,
                               company_codes=request.company_codes)
    clients = clients or Clients(target, record_dir=record_dir)
    try:
        with partition_leases(store.engine, partitions, run_id):  # overlapping syncs are refused
            return run_sync(store, mappings, request, clients.source,
                            run_id=run_id, actor=actor, progress=progress)
    finally:
        clients.close()
