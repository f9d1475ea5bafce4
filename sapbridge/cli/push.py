"""``sapbridge push``, ``approve`` and ``reject``: controlled changes to SAP."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from sapbridge.audit.chain import to_jsonable
from sapbridge.cli.context import AppContext

__all__ = ["COMMANDS"]

EXIT_INCOMPLETE = 1
"""``push plan --apply`` left rows failed, unknown or not attempted."""


def _emit_json(value: Any) -> None:
    click.echo(json.dumps(to_jsonable(value), indent=2, sort_keys=True))


def _as_dict(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__dataclass_fields__}


def _import(app: AppContext, kind: str, file: str, system: str | None, as_json: bool) -> None:
    requested = app.bridge.push_request(kind, file, system=system)
    result = requested.batch
    if as_json:
        _emit_json(_as_dict(result))
        return
    click.echo(f"batch {result.batch_id}: {result.rows} {kind} row(s), total "
               f"{result.total} {result.currency}, requested by {requested.requester}; "
               "awaiting approval")
    _print_release_lines(app, result.batch_id)


def _print_release_lines(app: AppContext, batch_id: str) -> None:
    for line in app.bridge.release_lines(batch_id):
        click.echo(line.text())


_system_option = click.option("--system", help="SAP system the batch is for (default: config).")
_json_option = click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")


@click.group("push")
def push_group() -> None:
    """Request, plan and apply credit limits, write-offs and credit-block releases (SOX).

    \b
    Example:
      sapbridge push limits limits.csv
      sapbridge approve L-20261122-1a2b3c4d --as bob
      sapbridge push plan L-20261122-1a2b3c4d
      sapbridge push plan L-20261122-1a2b3c4d --apply
    """


@push_group.command("limits")
@click.argument("file", type=click.Path(dir_okay=False))
@_system_option
@_json_option
@click.pass_obj
def push_limits(app: AppContext, file: str, system: str | None, as_json: bool) -> None:
    """Request credit-limit changes from a CSV or XLSX file.

    Columns: customer, credit_segment, new_limit, currency, valid_to, reason.

    \b
    Example:
      sapbridge push limits limits.csv --system PRD
    """
    _import(app, "limits", file, system, as_json)


@push_group.command("write-offs")
@click.argument("file", type=click.Path(dir_okay=False))
@_system_option
@_json_option
@click.pass_obj
def push_writeoffs(app: AppContext, file: str, system: str | None, as_json: bool) -> None:
    """Request write-offs of open items from a CSV or XLSX file.

    Columns: company_code, customer, fiscal_year, document, item, amount, currency,
    reason_code, text.

    \b
    Example:
      sapbridge push write-offs small-balances.xlsx
    """
    _import(app, "write-offs", file, system, as_json)


@push_group.command("releases")
@click.argument("file", type=click.Path(dir_okay=False))
@_system_option
@_json_option
@click.pass_obj
def push_releases(app: AppContext, file: str, system: str | None, as_json: bool) -> None:
    """Request releases or rejections of credit-blocked sales orders from a CSV or XLSX file.

    Columns: sales_order, action (release or reject), reason, rejection_reason (SAP's
    rejection reason code, for reject only). Each order must be synced and blocked now
    (TotalCreditCheckStatus B or C).

    \b
    Example:
      sapbridge push releases releases.csv --system PRD
    """
    _import(app, "releases", file, system, as_json)


def _print_plan(plan: Any) -> None:
    click.echo(f"batch {plan.batch_id} ({plan.kind}, {plan.status}) - dry run, nothing sent")
    for row in plan.rows:
        before = ", ".join(f"{k}={v}" for k, v in row.before.items() if v is not None)
        after = ", ".join(f"{k}={v}" for k, v in row.after.items() if v is not None)
        click.echo(f"  row {row.row_no:>4}  {row.ref:<28} {row.verdict:<8} {before} -> {after}")
    if plan.stale:
        click.echo(f"{len(plan.stale)} stale row(s) will be refused: SAP changed since the "
                   "request")


def _print_report(report: Any) -> None:
    for row in report.rows:
        extra = " ".join(x for x in (row.sap_document, row.message) if x)
        click.echo(f"  row {row.row_no:>4}  {row.customer:<10} {row.outcome:<13} {extra}")
    counts = ", ".join(f"{n} {k}" for k, n in sorted(report.counts.items()))
    click.echo(f"batch {report.batch_id}: {report.status} ({counts})")


@push_group.command("plan")
@click.argument("batch_id")
@click.option("--apply", "do_apply", is_flag=True,
              help="Apply the approved batch (default: dry run showing before/after).")
@_json_option
@click.pass_obj
def push_plan(app: AppContext, batch_id: str, do_apply: bool, as_json: bool) -> None:
    """Show what a batch would change in SAP now, or apply it with --apply.

    A re-run resumes: rows already done are skipped, interrupted rows are checked in SAP first.

    \b
    Example:
      sapbridge push plan W-20261122-9f8e7d6c
      sapbridge push plan W-20261122-9f8e7d6c --apply --json
    """
    if not do_apply:
        plan = app.bridge.push_plan(batch_id)
        _emit_json(_as_dict(plan) | {"rows": [_as_dict(r) for r in plan.rows]}) \
            if as_json else _print_plan(plan)
        return
    report = app.bridge.push_apply(batch_id)
    if as_json:
        _emit_json(_as_dict(report) | {"rows": [_as_dict(r) for r in report.rows],
                                       "counts": report.counts})
    else:
        _print_report(report)
    if report.status != "done":
        sys.exit(EXIT_INCOMPLETE)


@push_group.command("status")
@click.argument("batch_id", required=False)
@_json_option
@click.pass_obj
def push_status(app: AppContext, batch_id: str | None, as_json: bool) -> None:
    """Show batches (latest first) or one batch: status, approvals, row states.

    \b
    Example:
      sapbridge push status
      sapbridge push status L-20261122-1a2b3c4d --json
    """
    found = app.bridge.push_status(batch_id)
    if not found and not as_json:
        click.echo("no batches yet")
    if as_json:
        _emit_json([_as_dict(b) for b in found])
        return
    for b in found:
        states = ", ".join(f"{n} {s}" for s, n in sorted(b.row_states.items()))
        approvals = "; ".join(b.approvals) or "no decisions"
        click.echo(f"{b.batch_id}  {b.kind:<10} {b.system:<6} {b.status:<9} {b.rows} row(s) "
                   f"{b.total} {b.currency}  by {b.requester}  [{states}]  {approvals}")


_as_option = click.option("--as", "as_user", metavar="USER",
                          help="Act as this configured user (default: from the OS user).")


@click.command("approve")
@click.argument("batch_id")
@_as_option
@click.option("--sign-key", type=click.Path(dir_okay=False), metavar="PATH",
              help="Private SSH key to sign the approval with (default: the user's "
                   "signing_key_file, else ssh-agent).")
@_json_option
@click.pass_obj
def approve_cmd(app: AppContext, batch_id: str, as_user: str | None, sign_key: str | None,
                as_json: bool) -> None:
    """Approve a batch under the authority matrix (never your own).

    Where the config requires it (identity = "declared", or a role with require_signature),
    the approval is signed with ssh-keygen (namespace sapbridge-approval).

    \b
    Example:
      sapbridge approve L-20261122-1a2b3c4d --as bob
      sapbridge approve L-20261122-1a2b3c4d --as bob --sign-key ~/.ssh/id_ed25519
    """
    decided = app.bridge.push_approve(batch_id, as_user=as_user, sign_key=sign_key)
    decision = decided.decision
    if as_json:
        _emit_json(_as_dict(decision))
        return
    click.echo(f"batch {batch_id}: approved by {decided.approver} ({decision.approvals} of "
               f"{decision.needed} approval(s)); status {decision.status}")
    _print_release_lines(app, batch_id)


@click.command("reject")
@click.argument("batch_id")
@_as_option
@click.option("--reason", required=True, help="Why the batch is rejected (kept in the log).")
@_json_option
@click.pass_obj
def reject_cmd(app: AppContext, batch_id: str, as_user: str | None, reason: str,
               as_json: bool) -> None:
    """Reject a batch; a rejected batch can never be applied.

    \b
    Example:
      sapbridge reject W-20261122-9f8e7d6c --as carol --reason "no dispute evidence"
    """
    decided = app.bridge.push_reject(batch_id, reason=reason, as_user=as_user)
    if as_json:
        _emit_json(_as_dict(decided.decision))
        return
    click.echo(f"batch {batch_id}: rejected by {decided.approver}")


COMMANDS: list[click.Command] = [push_group, approve_cmd, reject_cmd]
