"""The sync: read datasets from SAP through their mappings and upsert them into the store.

One sync is one database transaction: if anything fails, rows and bookmarks stay as they were
before it. Snapshot datasets mark rows SAP stopped returning as cleared (with the time seen);
incremental datasets read rows changed since their bookmark (closed range, minus a lag for
clock skew) and move the bookmark to the newest change seen, capped at the sync's start.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from sapbridge.audit import log as audit
from sapbridge.errors import ConfigError
from sapbridge.logs import get_logger
from sapbridge.mapping import DatasetMapping, ODataRoute, RfcRoute
from sapbridge.store import Store
from sapbridge.store.schema import OBJECT_TABLES, customer_companies
from sapbridge.sync.sources import RowSource
from sapbridge.sync.state import finish_run, get_bookmark, set_bookmark, start_run
from sapbridge.sync.writer import DatasetWriter

__all__ = [
    "ALL_OBJECTS",
    "OBJECTS",
    "DatasetSummary",
    "SourceFactory",
    "SyncRequest",
    "SyncSummary",
    "datasets_for",
    "run_sync",
]

log = get_logger(__name__)

OBJECTS: dict[str, tuple[str, ...]] = {
    "customers": ("customers", "customer_companies", "customer_bank_accounts"),
    "credit_segments": ("credit_segments",),
    "open_items": ("open_items",),
    "blocked_orders": ("blocked_orders",),
    "disputes": ("disputes",),
    "promises": ("promises",),
}
"""The objects a user names, and the datasets each one fills."""

ALL_OBJECTS = ("customers", "credit_segments", "open_items", "blocked_orders", "disputes", "promises")
"""``sync all`` order: customers first, because RFC open items are read per customer."""

SourceFactory = Callable[[DatasetMapping, str, Connection], RowSource]
ProgressFactory = Callable[[str], Callable[[int, int | None], None]]


@dataclass
class DatasetSummary:
    """What a sync did to one dataset."""

    dataset: str
    route: str
    mode: str
    partitions: list[str]
    read: int = 0
    inserted: int = 0
    updated: int = 0
    cleared: int = 0
    skipped: int = 0
    seconds: float = 0.0
    bookmark: str | None = None


@dataclass
class SyncSummary:
    """What a whole sync run did."""

    run_id: str
    system: str
    status: str
    started_at: datetime
    finished_at: datetime | None = None
    datasets: list[DatasetSummary] = field(default_factory=list)

    @property
    def rows(self) -> int:
        """Rows read over all datasets."""
        return sum(d.read for d in self.datasets)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "run_id": self.run_id, "system": self.system, "status": self.status,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "rows": self.rows, "datasets": [asdict(d) for d in self.datasets],
        }


@dataclass(frozen=True)
class SyncRequest:
    """What to sync: objects of one system, for some company codes, full or incremental."""

    system: str
    objects: Sequence[str]
    company_codes: Sequence[str] = ()
    full: bool = False
    routes: Mapping[str, str] = field(default_factory=dict)
    page_size: int = 5000
    lag: timedelta = timedelta(minutes=5)


def datasets_for(objects: Iterable[str]) -> list[str]:
    """Datasets of the named objects (``all`` expands), in dependency order, without repeats."""
    names = list(objects) or ["all"]
    wanted = ALL_OBJECTS if "all" in names else names
    unknown = [n for n in wanted if n not in OBJECTS]
    if unknown:
        msg = f"unknown object(s): {', '.join(unknown)} (choose from all, {', '.join(OBJECTS)})"
        raise ConfigError(msg)
    ordered = [o for o in ALL_OBJECTS if o in wanted]
    return [d for o in ordered for d in OBJECTS[o]]


def run_sync(store: Store, mappings: Mapping[str, DatasetMapping], request: SyncRequest,
             sources: SourceFactory, *, run_id: str, actor: str,
             progress: ProgressFactory | None = None) -> SyncSummary:
    """Sync datasets in one transaction; record the run; re-raise any failure after rollback."""
    started = datetime.now(UTC)
    summary = SyncSummary(run_id=run_id, system=request.system, status="running", started_at=started)
    datasets = datasets_for(request.objects)
    missing = [d for d in datasets if d not in mappings]
    if missing:
        msg = f"no mapping for dataset(s): {', '.join(missing)} (add mappings/<dataset>.toml)"
        raise ConfigError(msg)
    start_run(store.engine, run_id, request.system, actor, started)
    try:
        with store.engine.begin() as conn:
            for dataset in datasets:
                summary.datasets.append(_sync_dataset(
                    conn, mappings[dataset], request, sources, run_id=run_id, now=started,
                    progress=progress(dataset) if progress else None))
            audit.record(conn, action="sync_run", actor=actor, run_id=run_id,
                         detail=_audit_detail(request, summary))
    except BaseException as exc:
        summary.status = "failed"
        summary.finished_at = datetime.now(UTC)
        _audit_failure(store, request, run_id, actor, exc)
        finish_run(store.engine, run_id, status="failed", summary=summary.as_dict(), rows=summary.rows,
                   error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        log.error("sync_failed", system=request.system, error=str(exc))
        raise
    summary.status = "ok"
    summary.finished_at = datetime.now(UTC)
    finish_run(store.engine, run_id, status="ok", summary=summary.as_dict(), rows=summary.rows)
    return summary


def _audit_detail(request: SyncRequest, summary: SyncSummary) -> dict[str, Any]:
    return {"system": request.system, "datasets": {
        d.dataset: {"route": d.route, "mode": d.mode, "read": d.read, "inserted": d.inserted,
                    "updated": d.updated, "cleared": d.cleared} for d in summary.datasets}}


def _audit_failure(store: Store, request: SyncRequest, run_id: str, actor: str,
                   exc: BaseException) -> None:
    """Record the failed run in the audit log; the data transaction has been rolled back."""
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    try:
        with store.engine.begin() as conn:
            audit.record(conn, action="sync_failed", actor=actor, run_id=run_id, message=message,
                         detail={"system": request.system})
    except Exception as audit_exc:  # noqa: BLE001 - the sync's own error is the one to report
        log.error("audit_record_failed", run_id=run_id, error=str(audit_exc))


def _route_name(mapping: DatasetMapping, request: SyncRequest) -> str:
    chosen = request.routes.get(mapping.dataset) or request.routes.get("*")
    if chosen:
        return chosen
    return "odata" if mapping.odata is not None else "rfc"


def _is_incremental(mapping: DatasetMapping, route: ODataRoute | RfcRoute) -> bool:
    return (mapping.mode == "incremental" and isinstance(route, ODataRoute)
            and bool(route.incremental_field))


def _sync_dataset(conn: Connection, mapping: DatasetMapping, request: SyncRequest,
                  sources: SourceFactory, *, run_id: str, now: datetime,
                  progress: Callable[[int, int | None], None] | None) -> DatasetSummary:
    clock = time.perf_counter()
    route_name = _route_name(mapping, request)
    route = mapping.route(route_name)
    incremental_capable = _is_incremental(mapping, route)
    partitions: list[str | None] = list(request.company_codes) if mapping.partition else [None]
    if not partitions:
        partitions = [None]
    columns = mapping.columns(route)
    writer = DatasetWriter(conn, OBJECT_TABLES[mapping.dataset], columns, system=request.system,
                           run_id=run_id, now=now)
    builder = mapping.batch_builder(route, sqlite=writer.sqlite)
    source = sources(mapping, route_name, conn)
    result = DatasetSummary(dataset=mapping.dataset, route=route_name, mode="full",
                            partitions=[p or "*" for p in partitions])
    for partition in partitions:
        bookmark = get_bookmark(conn, request.system, mapping.dataset, partition or "*") \
            if incremental_capable else None
        incremental = bookmark is not None and not request.full
        result.mode = "incremental" if incremental else "full"
        newest = _sync_partition(writer, mapping, source, builder, columns, partition,
                                 since=bookmark - request.lag if incremental and bookmark else None,
                                 result=result, progress=progress)
        if incremental_capable:
            latest = min(newest, now) if newest else bookmark
            if latest is not None:
                set_bookmark(conn, request.system, mapping.dataset, partition or "*", latest, now)
                result.bookmark = latest.isoformat()
    result.seconds = round(time.perf_counter() - clock, 3)
    log.info("dataset_synced", **{k: v for k, v in asdict(result).items() if k != "partitions"})
    return result


def _sync_partition(writer: DatasetWriter, mapping: DatasetMapping, source: RowSource,
                    builder: Callable[[Sequence[Mapping[str, Any]]], list[tuple[Any, ...]]],
                    columns: list[str],
                    partition: str | None, *, since: datetime | None, result: DatasetSummary,
                    progress: Callable[[int, int | None], None] | None) -> datetime | None:
    scope = (mapping.partition, partition) if partition is not None else None
    before = writer.count(scope)
    written = 0
    newest: Any = None
    change_at = columns.index(mapping.incremental_column) \
        if mapping.incremental_column in columns else None
    for batch in source.batches(partition, since, progress):
        rows = builder(batch)
        result.read += len(rows)
        if since is not None and mapping.keep:
            kept = _keep(rows, writer, mapping, columns)
            result.skipped += len(rows) - len(kept)
            rows = kept
        if change_at is not None:
            stamps = [r[change_at] for r in rows if r[change_at] is not None]
            if stamps and (newest is None or max(stamps) > newest):
                newest = max(stamps)
        written += writer.upsert(rows)
    inserted = writer.count(scope) - before
    result.inserted += inserted
    result.updated += written - inserted
    if since is None:
        result.cleared += writer.mark_absent(scope)
    return _as_datetime(newest)


def _keep(rows: list[tuple[Any, ...]], writer: DatasetWriter, mapping: DatasetMapping,
          columns: list[str]) -> list[tuple[Any, ...]]:
    """Rows still in a kept state (e.g. credit status B or D), or already known to the store."""
    tests = [(columns.index(col), set(values)) for col, values in mapping.keep.items()]
    key_at = [columns.index(k) for k in mapping.key]
    wanted = [r for r in rows if all(r[i] in values for i, values in tests)]
    others = [r for r in rows if not all(r[i] in values for i, values in tests)]
    known = writer.known_keys([tuple(r[i] for i in key_at) for r in others])
    return wanted + [r for r in others if tuple(r[i] for i in key_at) in known]


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    stamp = datetime.fromisoformat(str(value))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def customers_of(conn: Connection, system: str) -> Callable[[str | None], list[str]]:
    """Customers of a company code in the store (for per-customer RFC calls)."""

    def lookup(company_code: str | None) -> list[str]:
        query = select(customer_companies.c.customer).where(
            customer_companies.c.system == system, customer_companies.c.status == "open")
        if company_code is not None:
            query = query.where(customer_companies.c.company_code == company_code)
        return [row[0] for row in conn.execute(query.order_by(customer_companies.c.customer))]

    return lookup
