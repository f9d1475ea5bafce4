"""The sync: read datasets from SAP through their mappings and upsert them into the store.

One sync is one database transaction: if anything fails, rows and bookmarks stay as they were
before it. Snapshot datasets mark rows SAP stopped returning as cleared (with the time seen);
incremental datasets read rows changed since their bookmark (closed range, minus a lag for
clock skew) and move the bookmark to the newest change seen, capped at the sync's start.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Connection

from sapbridge.audit import log as audit
from sapbridge.errors import ConfigError, SapBridgeError
from sapbridge.logs import get_logger
from sapbridge.mapping import DatasetMapping, ODataRoute, RfcRoute
from sapbridge.store import Store
from sapbridge.store.schema import OBJECT_TABLES, customer_companies
from sapbridge.sync.digest import Digests, digest_seed
from sapbridge.sync.guards import ClearPolicy, check_clear_share, check_count, column_widths
from sapbridge.sync.pages import DatasetWork, Page, dict_page, raw_page, resync_session
from sapbridge.sync.resync import ResyncSession
from sapbridge.sync.rows import KeyReader, PageConverter, RowConversion
from sapbridge.sync.sources import RawBatch, RowSource
from sapbridge.sync.state import close_interrupted, finish_run, get_bookmark, set_bookmark, start_run
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
    "cleared_items": ("cleared_items",),
    "blocked_orders": ("blocked_orders",),
    "disputes": ("disputes",),
    "promises": ("promises",),
}
"""The objects a user names, and the datasets each one fills."""

ALL_OBJECTS = ("customers", "credit_segments", "open_items", "cleared_items", "blocked_orders", "disputes",
               "promises")
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
    unchanged: int = 0
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
    allow_mass_clear: bool = False
    max_clear_share: float = 0.5
    worker_min_rows: int = 2000
    """Pages with at least this many rows to convert are converted in a worker process."""
    disabled_datasets: frozenset[str] = frozenset()
    """Datasets the system does not have (``[systems.X] disabled_datasets``): not read."""


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
    datasets = [d for d in datasets_for(request.objects) if d not in request.disabled_datasets]
    missing = [d for d in datasets if d not in mappings]
    if missing:
        msg = f"no mapping for dataset(s): {', '.join(missing)} (add mappings/<dataset>.toml)"
        raise ConfigError(msg)
    close_interrupted(store.engine, request.system, started)
    start_run(store.engine, run_id, request.system, actor, started)
    converter = PageConverter(min_rows=request.worker_min_rows)
    try:
        with store.engine.begin() as conn:
            for dataset in datasets:
                summary.datasets.append(_sync_dataset(
                    conn, mappings[dataset], request, sources, converter, run_id=run_id, now=started,
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
    finally:
        converter.close()
    summary.status = "ok"
    summary.finished_at = datetime.now(UTC)
    finish_run(store.engine, run_id, status="ok", summary=summary.as_dict(), rows=summary.rows)
    return summary


def _audit_detail(request: SyncRequest, summary: SyncSummary) -> dict[str, Any]:
    return {"system": request.system, "datasets": {
        d.dataset: {"route": d.route, "mode": d.mode, "read": d.read, "inserted": d.inserted,
                    "updated": d.updated, "unchanged": d.unchanged, "cleared": d.cleared}
        for d in summary.datasets}}


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
                  sources: SourceFactory, converter: PageConverter, *, run_id: str, now: datetime,
                  progress: Callable[[int, int | None], None] | None) -> DatasetSummary:
    clock = time.perf_counter()
    route_name = _route_name(mapping, request)
    route = mapping.route(route_name)
    incremental_capable = _is_incremental(mapping, route)
    partitions: list[str | None] = list(request.company_codes) if mapping.partition else [None]
    if not partitions:
        partitions = [None]
    columns = mapping.columns(route)
    table = OBJECT_TABLES[mapping.dataset]
    writer = DatasetWriter(conn, table, columns, system=request.system, run_id=run_id, now=now)
    key_at = tuple(columns.index(k) for k in mapping.key)
    work = DatasetWork(
        mapping=mapping, route_name=route_name, writer=writer, source=sources(mapping, route_name, conn),
        conversion=RowConversion(mapping, route_name, writer.sqlite,
                                 tuple(column_widths(table, columns)), key_at),
        keys=KeyReader(mapping, route, sqlite=writer.sqlite)
        if isinstance(route, ODataRoute) and KeyReader.supports(mapping, route) else None,
        raw_seed=digest_seed(mapping.dataset, route_name, route.fields, raw=True),
        row_seed=digest_seed(mapping.dataset, route_name, route.fields, raw=False),
        converter=converter,
        policy=ClearPolicy(max_share=request.max_clear_share, allow=request.allow_mass_clear),
    )
    result = DatasetSummary(dataset=mapping.dataset, route=route_name, mode="full",
                            partitions=[p or "*" for p in partitions])
    first_load = writer.table_is_empty()
    with writer.indexes_deferred() if writer.defers_indexes(first_load) else nullcontext():
        for partition in partitions:
            bookmark = get_bookmark(conn, request.system, mapping.dataset, partition or "*") \
                if incremental_capable else None
            incremental = bookmark is not None and not request.full
            result.mode = "incremental" if incremental else "full"
            since = bookmark - request.lag if incremental and bookmark else None
            newest = _sync_partition(work, partition, since=since, result=result, progress=progress)
            if incremental_capable:
                latest = min(newest, now) if newest else bookmark
                if latest is not None:
                    set_bookmark(conn, request.system, mapping.dataset, partition or "*", latest, now)
                    result.bookmark = latest.isoformat()
    if first_load:
        writer.refresh_statistics()
    result.seconds = round(time.perf_counter() - clock, 3)
    log.info("dataset_synced", **{k: v for k, v in asdict(result).items() if k != "partitions"})
    return result


def _sync_partition(work: DatasetWork, partition: str | None, *, since: datetime | None,
                    result: DatasetSummary, progress: Callable[[int, int | None], None] | None
                    ) -> datetime | None:
    mapping, writer = work.mapping, work.writer
    scope = (mapping.partition, partition) if partition is not None else None
    where = f"{mapping.dataset}" + (f" {mapping.partition}={partition}" if partition is not None else "")
    before = writer.count(scope)
    bulk = before == 0
    open_before: int | None = None if since is None and not bulk else 0
    """The partition's open rows before this sync wrote any: the clearing guard's measure."""
    read, written, total = 0, 0, None
    seen: list[np.ndarray[Any, Any]] = []
    newest: Any = None
    pending: deque[Page] = deque()
    session: ResyncSession | None = None

    def finish(page: Page) -> None:
        nonlocal written, newest
        done = page()
        rows, digests = done.rows, done.digests
        if since is not None and mapping.keep:
            rows, digests = _keep(rows, digests, writer, mapping)
        stamp = _newest(rows, mapping, writer.columns)
        if stamp is not None and (newest is None or stamp > newest):
            newest = stamp
        written += writer.insert_new(rows, digests) if bulk else writer.upsert(rows, digests)
        result.unchanged += len(done.unchanged)
        if len(done.unchanged) and since is None and session is None:
            seen.append(done.unchanged)

    for batch in work.source.batches(partition, since, progress):
        if open_before is None:  # the first batch of a snapshot resync, before any write
            if isinstance(batch, RawBatch):
                session = resync_session(work, scope)
                open_before = len(session.start.known)
            else:
                open_before = writer.count(scope, open_only=True)
        read += len(batch)
        if isinstance(batch, RawBatch):
            total = batch.total if batch.total is not None else total
            pending.append(session.submit(batch.raws) if session else raw_page(work, batch.raws, bulk=bulk))
        elif session is None:
            pending.append(dict_page(work, batch, bulk=bulk))
        else:
            msg = f"{where}: the OData source returned rows that are not raw entities"
            raise SapBridgeError(msg)
        while len(pending) > work.converter.depth:
            finish(pending.popleft())
    while pending:
        finish(pending.popleft())
    check_count(where, read, total)
    if open_before is None:  # nothing read, so nothing written
        open_before = writer.count(scope, open_only=True)
    result.read += read
    inserted = writer.count(scope) - before
    result.inserted += inserted
    result.updated += written - inserted
    result.skipped = result.read - result.inserted - result.updated - result.unchanged
    if session is not None:
        result.cleared += _clear_unmatched(work, session, scope, where=where, open_before=open_before,
                                           read=read)
    elif since is None:
        stored = work.writer.unwritten_open_digests(scope)
        result.cleared += _clear_unseen(work, scope, stored, seen, where=where, open_before=open_before,
                                        read=read)
    return _as_datetime(newest)


def _clear_unmatched(work: DatasetWork, session: ResyncSession, scope: tuple[str, str] | None, *,
                     where: str, open_before: int, read: int) -> int:
    """Clear the stored open rows no row read matched and this run did not write, unless that is
    more than the policy allows (the refusal rolls the whole sync back, clearing included)."""
    ids, digests = session.unseen()
    cleared = work.writer.clear_rows(scope, ids, digests)
    check_clear_share(where, to_clear=cleared, open_before=open_before, read=read, policy=work.policy)
    return cleared


def _clear_unseen(work: DatasetWork, scope: tuple[str, str] | None,
                  stored: tuple[np.ndarray[Any, Any], int], seen: list[np.ndarray[Any, Any]],
                  *, where: str, open_before: int, read: int) -> int:
    """Clear the open rows the snapshot did not see, unless that is more than the policy allows.

    Rows this run wrote carry its run id; of the others, those whose digest matches a row seen
    unchanged were seen. A digest shared by two keys can only keep a row open, never clear one
    that was seen.
    """
    digests, missing = stored
    seen_digests = np.concatenate(seen) if seen else np.empty(0, dtype=np.int64)
    unseen = digests[~np.isin(digests, seen_digests)]
    check_clear_share(where, to_clear=len(unseen) + missing, open_before=open_before, read=read,
                      policy=work.policy)
    return work.writer.clear_unseen(scope, unseen.tolist(), without_digest=missing > 0)


def _newest(rows: Sequence[tuple[Any, ...]], mapping: DatasetMapping, columns: list[str]) -> Any:
    if mapping.incremental_column not in columns:
        return None
    at = columns.index(mapping.incremental_column)
    return max((r[at] for r in rows if r[at] is not None), default=None)


def _keep(rows: list[tuple[Any, ...]], digests: Digests, writer: DatasetWriter,
          mapping: DatasetMapping) -> tuple[list[tuple[Any, ...]], Digests]:
    """Rows still in a kept state (e.g. credit status B or D), or already known to the store."""
    columns = writer.columns
    tests = [(columns.index(col), set(values)) for col, values in mapping.keep.items()]
    key_at = [columns.index(k) for k in mapping.key]

    def kept_state(row: tuple[Any, ...]) -> bool:
        return all(row[i] in values for i, values in tests)

    others = [tuple(r[i] for i in key_at) for r in rows if not kept_state(r)]
    known = writer.known_keys(others)
    chosen = [i for i, r in enumerate(rows) if kept_state(r) or tuple(r[j] for j in key_at) in known]
    return [rows[i] for i in chosen], digests[chosen]


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
