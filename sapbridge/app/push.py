"""The push use cases: request, approve, reject, plan and apply batches, one orchestration each."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from sapbridge.app.clients import SapClients
from sapbridge.config import Settings
from sapbridge.errors import ControlError
from sapbridge.push.apply import ApplyReport, apply_batch
from sapbridge.push.approval import Decision, approve, reject
from sapbridge.push.authority import PushConfig
from sapbridge.push.batches import KINDS, ImportResult, import_batch
from sapbridge.push.exposure import ReleaseLine, release_lines
from sapbridge.push.identity import identify, os_login
from sapbridge.push.plan import Plan, plan_batch
from sapbridge.push.state import load_batch
from sapbridge.push.status import BatchStatus, batch_status
from sapbridge.push.tables import push_batches
from sapbridge.store import Store

__all__ = ["ApprovedPlans", "Decided", "PushCases", "Requested"]


@dataclass(frozen=True, slots=True)
class Requested:
    """A batch stored as requested, and the configured user who requested it."""

    batch: ImportResult
    requester: str


@dataclass(frozen=True, slots=True)
class Decided:
    """A decision on a batch (approval or rejection), and the configured user who took it."""

    decision: Decision
    approver: str


@dataclass(frozen=True, slots=True)
class ApprovedPlans:
    """The dry-run plans of every approved batch of a system (what a scheduled plan step does)."""

    plans: tuple[Plan, ...]

    @property
    def verdicts(self) -> Counter[str]:
        """How many rows of all plans got each verdict (``ok``, ``stale``, ...)."""
        return Counter(row.verdict for plan in self.plans for row in plan.rows)


@dataclass(frozen=True, slots=True)
class PushCases:
    """The push commands over one store, config and SAP connection factory."""

    store: Store
    settings: Settings
    config: PushConfig
    clients: SapClients
    run_id: str
    declared: str | None = None
    """``--as`` given to the whole command (a command's own ``--as`` wins)."""

    def actor(self, attempted: str, declared: str | None = None) -> str:
        """The configured user acting now; a refused identity is recorded in the audit log."""
        return identify(self.store.engine, self.config, declared=declared or self.declared,
                        os_login=os_login(), run_id=self.run_id, attempted=attempted)

    def request(self, kind: str, file: str | Path, system: str | None = None) -> Requested:
        """Import a batch of ``kind`` from ``file``; it awaits approval."""
        actor = self.actor(f"push {kind}")
        return Requested(import_batch(self.store.engine, kind, file,
                                      system=self.settings.system(system).name, requester=actor,
                                      run_id=self.run_id, config=self.config), actor)

    def approve(self, batch_id: str, *, declared: str | None = None,
                sign_key: str | None = None) -> Decided:
        """Approve under the authority matrix (signed where the config requires it)."""
        actor = self.actor("approve", declared)
        return Decided(approve(self.store.engine, batch_id, approver=actor, config=self.config,
                               run_id=self.run_id, sign_key=sign_key), actor)

    def reject(self, batch_id: str, *, reason: str, declared: str | None = None) -> Decided:
        """Reject a batch for good; ``reason`` is kept in the audit log."""
        actor = self.actor("reject", declared)
        if not reason.strip():
            msg = "--reason must not be empty"
            raise ControlError(msg)
        return Decided(reject(self.store.engine, batch_id, approver=actor, config=self.config,
                              run_id=self.run_id, reason=reason), actor)

    def plan(self, batch_id: str) -> Plan:
        """What the batch would change in SAP now (a dry run)."""
        return self._plans([batch_id], self.actor("plan")).plans[0]

    def plan_approved(self, system: str, kinds: Sequence[str] | None, *, actor: str) -> ApprovedPlans:
        """Dry-run plans of every approved batch of ``system`` of these kinds (default: all),
        oldest first."""
        return self._plans(self._approved(system, kinds or tuple(KINDS)), actor)

    def apply(self, batch_id: str) -> ApplyReport:
        """Apply an approved batch; a re-run resumes where the last one stopped."""
        actor = self.actor("apply")
        odata, rfc = self.clients.push(self.settings.system(self._system_of(batch_id)))
        try:
            return apply_batch(self.store.engine, batch_id, odata=odata, rfc=rfc, config=self.config,
                               actor=actor, run_id=self.run_id)
        finally:
            rfc.close()

    def status(self, batch_id: str | None = None) -> list[BatchStatus]:
        """Batches, latest first, or the one named."""
        return batch_status(self.store.engine, batch_id)

    def release_lines(self, batch_id: str) -> list[ReleaseLine]:
        """For a release batch, each order's exposure after its release; else nothing."""
        return release_lines(self.store.engine, batch_id)

    def _plans(self, batch_ids: Sequence[str], actor: str) -> ApprovedPlans:
        if not batch_ids:
            return ApprovedPlans(())
        odata, rfc = self.clients.push(self.settings.system(self._system_of(batch_ids[0])))
        try:
            return ApprovedPlans(tuple(
                plan_batch(self.store.engine, batch_id, odata=odata, actor=actor,
                           run_id=self.run_id, config=self.config) for batch_id in batch_ids))
        finally:
            rfc.close()

    def _system_of(self, batch_id: str) -> str:
        with self.store.engine.connect() as conn:
            return load_batch(conn, batch_id).system

    def _approved(self, system: str, kinds: Sequence[str]) -> list[str]:
        t = push_batches.c
        with self.store.engine.connect() as conn:
            return list(conn.execute(
                select(t.batch_id).where(t.system == system, t.status == "approved",
                                         t.kind.in_(list(kinds)))
                .order_by(t.created_at, t.batch_id)).scalars())
