"""The application object: one per process, the use cases the CLI, job steps and Airflow call.

Example::

    from sapbridge.app import Bridge
    from sapbridge.config import load_settings

    with Bridge.open(load_settings("sapbridge.toml")) as bridge:
        summary = bridge.sync()                       # SyncSummary
        result = bridge.kpi_report(out=Path("out/kpis"))

Methods return result objects and never print; problems are :mod:`sapbridge.errors` exceptions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from sapbridge.app.clients import SapClients
from sapbridge.app.components import Components, read_components
from sapbridge.app.push import ApprovedPlans, Decided, PushCases, Requested
from sapbridge.audit.auditlog import AnchorOutcome, AuditLog
from sapbridge.audit.entry import AuditEntry
from sapbridge.audit.log import export, get_entry, query
from sapbridge.audit.verify import VerifyResult
from sapbridge.config import Settings
from sapbridge.errors import ConfigError, ReconciliationError
from sapbridge.logs import new_run_id, redact
from sapbridge.push.apply import ApplyReport
from sapbridge.push.exposure import ReleaseLine
from sapbridge.push.identity import os_login
from sapbridge.push.plan import Plan
from sapbridge.push.signatures import SignatureProblem, verify_audit_approvals
from sapbridge.push.status import BatchStatus
from sapbridge.store import Store, open_store
from sapbridge.store.schema import open_items
from sapbridge.sync.engine import ProgressFactory, SyncSummary
from sapbridge.sync.service import sync_system
from sapbridge.sync.state import SyncRun, sync_history

if TYPE_CHECKING:
    from sapbridge.kpi.run import KpiResult
    from sapbridge.kpi.worklist import WorklistResult
    from sapbridge.reconcile.cash.habit_admin import HabitRow
    from sapbridge.reconcile.cash.learning import ConfirmResult
    from sapbridge.reconcile.cash.service import CashRunResult
    from sapbridge.reconcile.recoveries.run import RunResult as RecoveriesRun

__all__ = ["Bridge", "check_store_url"]

_POSTGRES_WITHOUT_DRIVER = ("postgres://", "postgresql://", "postgres+psycopg://")


def check_store_url(url: str) -> None:
    """Catch the usual store URL typos with what was typed and what was meant."""
    shown = redact(url)
    if "://" not in url:
        msg = f"store URL {shown!r} is not a URL; for a SQLite file write sqlite:///{url}"
        raise ConfigError(msg)
    for prefix in _POSTGRES_WITHOUT_DRIVER:
        if url.startswith(prefix):
            meant = "postgresql+psycopg://" + url[len(prefix):]
            msg = f"store URL {shown!r}: PostgreSQL needs the psycopg driver named: {redact(meant)}"
            raise ConfigError(msg)


@dataclass
class Bridge:
    """The store, every component's configuration, the audit log, SAP clients and the actor."""

    settings: Settings
    store: Store
    components: Components
    actor: str
    """Who acts: ``--as`` or the OS login (push commands check it against ``[users]``)."""
    run_id: str = field(default_factory=new_run_id)
    clients: SapClients = field(default_factory=SapClients)
    declared: str | None = None
    """``--as`` when given: push commands resolve their configured user from it."""

    @classmethod
    def open(cls, settings: Settings, *, actor: str | None = None, run_id: str | None = None,
             clients: SapClients | None = None, components: Components | None = None) -> Bridge:
        """Check every section, open (and migrate) the store with the audit log of the settings."""
        parts = components or read_components(settings)
        check_store_url(settings.store_url)
        store = open_store(settings.store_url, audit=parts.audit)
        return cls(settings, store, parts, actor or os_login(), run_id or new_run_id(),
                   clients or SapClients(), declared=actor)

    @classmethod
    def over(cls, store: Store, settings: Settings, *, actor: str, run_id: str,
             clients: SapClients | None = None) -> Bridge:
        """A Bridge over a store already open (a job run's steps share the run's store)."""
        return cls(settings, store, read_components(settings), actor, run_id, clients or SapClients())

    @property
    def audit(self) -> AuditLog:
        """How this process writes and checks the audit log (key, anchors, timestamps)."""
        return AuditLog.of(self.store.engine)

    def close(self) -> None:
        """Release the store's connections."""
        self.store.dispose()

    def __enter__(self) -> Bridge:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --- sync ----------------------------------------------------------------------------

    def sync(self, objects: Sequence[str] = ("all",), *, system: str | None = None,
             company_codes: Sequence[str] = (), full: bool = False, route: str | None = None,
             record_dir: Path | None = None, progress: ProgressFactory | None = None,
             allow_mass_clear: bool = False, max_clear_share: float | None = None,
             run_id: str | None = None) -> SyncSummary:
        """Sync SAP objects of ``system`` (default: the configured one) into the store.

        Each call is its own sync run (``run_id``, default: a new one), so a notebook may sync
        again with the same Bridge."""
        target = self.settings.system(system)
        return sync_system(self.settings, self.store, system=target.name, objects=objects,
                           company_codes=company_codes, full=full, route=route,
                           record_dir=record_dir, run_id=run_id or new_run_id(), actor=self.actor,
                           progress=progress, clients=self.clients.sync(target, record_dir),
                           allow_mass_clear=allow_mass_clear,
                           max_clear_share=max_clear_share)

    def sync_history(self, *, system: str | None = None, limit: int = 20) -> list[SyncRun]:
        """The latest sync runs, newest first (a run whose process died shows as interrupted)."""
        return sync_history(self.store.engine, system=system, limit=limit)

    # --- reconcile -----------------------------------------------------------------------

    def reconcile_cash(self, payments: Path, out: Path, *, system: str | None = None,
                       fmt: str | None = None, open_items: Path | None = None,
                       customers: Path | None = None, advices: Path | None = None,
                       require_synced: bool = True) -> CashRunResult:
        """Match a bank file's payments to open items; write matches, suggestions, exceptions.

        ``require_synced``: refuse when the store holds no open items of the system (every
        payment would come out unapplied), unless ``open_items`` gives them from a file."""
        from sapbridge.reconcile.cash import run_cash

        name = self.settings.system(system).name
        if open_items is None and require_synced:
            self._require_open_items(name)
        return run_cash(self.store, self.settings, system=name, payments=payments, out=out,
                        fmt=fmt, open_items=open_items, customers=customers, advices=advices,
                        actor=self.actor)

    def confirm_cash(self, matches: Path, *, system: str | None = None) -> ConfirmResult:
        """Learn payer and reference habits from matches a person approved."""
        from sapbridge.reconcile.cash import confirm_matches

        return confirm_matches(self.store, system=self.settings.system(system).name,
                               matches=matches, actor=self.actor,
                               min_length=self.components.cash.reference_min_length)

    def cash_habits(self, *, system: str | None = None, customer: str | None = None) -> list[HabitRow]:
        """The payer and reference habits ``confirm_cash`` learned."""
        from sapbridge.reconcile.cash.habit_admin import list_habits

        return list_habits(self.store, self.settings.system(system).name, customer)

    def forget_cash_habits(self, customer: str, *, system: str | None = None,
                           **which: Any) -> list[HabitRow]:
        """Forget habits of ``customer`` (``field``/``pattern``, ``payer_key`` or ``everything``)."""
        from sapbridge.reconcile.cash.habit_admin import forget_habits

        return forget_habits(self.store, system=self.settings.system(system).name,
                             customer=customer, actor=self.actor, **which)

    def reconcile_recoveries(self, claims: Path, out: Path, *, system: str | None = None,
                             disputes: Path | None = None, as_of: date | None = None) -> RecoveriesRun:
        """Dispute cases versus the recovery provider's claims, a file per category."""
        from sapbridge.reconcile.recoveries import run_recoveries

        return run_recoveries(self.store, self.settings, system=self.settings.system(system).name,
                              claims=claims, out=out, disputes=disputes, as_of=as_of,
                              actor=self.actor)

    # --- reports -------------------------------------------------------------------------

    def kpi_report(self, out: Path, *, system: str | None = None, as_of: date | None = None,
                   company_codes: Sequence[str] | None = None) -> KpiResult:
        """Every KPI at ``as_of`` written as kpis.xlsx and kpis.html; headline kept in the store."""
        from sapbridge.kpi import run_kpi_report

        return run_kpi_report(self.store, self.settings, system=self.settings.system(system).name,
                              out=out, as_of=as_of, company_codes=company_codes)

    def worklist(self, out: Path, *, system: str | None = None, collector: str | None = None,
                 as_of: date | None = None,
                 company_codes: Sequence[str] | None = None) -> WorklistResult:
        """The collections worklist (one collector's when named)."""
        from sapbridge.kpi.worklist import run_worklist

        return run_worklist(self.store, self.settings, system=self.settings.system(system).name,
                            out=out, collector=collector, as_of=as_of, company_codes=company_codes)

    # --- push ----------------------------------------------------------------------------

    @property
    def push(self) -> PushCases:
        """The push use cases with this Bridge's store, config and clients."""
        return PushCases(self.store, self.settings, self.components.push, self.clients,
                         self.run_id, self.declared)

    def push_request(self, kind: str, file: str | Path, *, system: str | None = None) -> Requested:
        """Request a batch (``limits``, ``write-offs``, ``releases``) from a CSV or XLSX file."""
        return self.push.request(kind, file, system)

    def push_approve(self, batch_id: str, *, as_user: str | None = None,
                     sign_key: str | None = None) -> Decided:
        """Approve a batch under the authority matrix (never one's own)."""
        return self.push.approve(batch_id, declared=as_user, sign_key=sign_key)

    def push_reject(self, batch_id: str, *, reason: str, as_user: str | None = None) -> Decided:
        """Reject a batch; it can never be applied."""
        return self.push.reject(batch_id, reason=reason, declared=as_user)

    def push_plan(self, batch_id: str) -> Plan:
        """What the batch would change in SAP now (nothing is sent)."""
        return self.push.plan(batch_id)

    def push_plan_approved(self, *, system: str | None = None,
                           kinds: Sequence[str] | None = None) -> ApprovedPlans:
        """Dry-run plans of every approved batch of the system, as this Bridge's actor."""
        name = self.settings.system(system).name
        return self.push.plan_approved(name, kinds, actor=self.actor)

    def push_apply(self, batch_id: str) -> ApplyReport:
        """Apply an approved batch (resumes an interrupted run)."""
        return self.push.apply(batch_id)

    def push_status(self, batch_id: str | None = None) -> list[BatchStatus]:
        """Batches, latest first, or the one named."""
        return self.push.status(batch_id)

    def release_lines(self, batch_id: str) -> list[ReleaseLine]:
        """Each order of a release batch with its exposure after release (else nothing)."""
        return self.push.release_lines(batch_id)

    # --- audit ---------------------------------------------------------------------------

    def audit_verify(self, *, require_key: bool = False) -> VerifyResult:
        """Check the hash chain and the anchors."""
        return self.audit.verify(self.store.engine, require_key=require_key)

    def approval_signature_problems(self) -> list[SignatureProblem]:
        """Approvals whose required SSH signature is missing or does not verify."""
        return verify_audit_approvals(self.store.engine, self.components.push)

    def audit_export(self, path: str | Path, *, fmt: str, since: datetime | None = None,
                     until: datetime | None = None, **filters: Any) -> int:
        """Write the filtered entries as csv, xlsx or jsonl; return how many."""
        return export(self.store.engine, path, fmt=fmt, since=since, until=until, **filters)

    def audit_entries(self, **filters: Any) -> Iterator[AuditEntry]:
        """Entries oldest first, filtered (``since``, ``until``, ``actor``, ``action``, ...)."""
        return query(self.store.engine, **filters)

    def audit_entry(self, seq: int) -> AuditEntry:
        """One entry by its sequence number."""
        return get_entry(self.store.engine, seq)

    def audit_anchor(self, *, only_if_moved: bool = False) -> AnchorOutcome | None:
        """Copy the head of the log to the anchor directory (None: none configured)."""
        return self.audit.anchor(self.store.engine, only_if_moved=only_if_moved)

    def _require_open_items(self, system: str) -> None:
        with self.store.engine.connect() as conn:
            found = conn.execute(select(open_items.c.document).where(
                open_items.c.system == system).limit(1)).first()
        if found is None:
            msg = (f"no open items for system {system} in the store; run "
                   f"'sapbridge sync open_items --system {system}' first (or pass --open-items FILE)")
            raise ReconciliationError(msg)
