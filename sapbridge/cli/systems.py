"""``sapbridge systems``: list the configured SAP systems and test that one answers."""

from __future__ import annotations

import sys

import click

from sapbridge.cli.context import AppContext
from sapbridge.cli.output import echo_json, print_table
from sapbridge.systems import FAILED, SystemInfo, check_system, describe_systems

__all__ = ["COMMANDS"]

EXIT_UNREACHABLE = 1
"""``systems test`` found a failing check."""


@click.group()
def systems() -> None:
    """The configured SAP systems (DEV, QAS, PRD...) and the built-in demo.

    \b
    Example:
      sapbridge systems list
      sapbridge systems test demo
    """


@systems.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable rows.")
@click.pass_obj
def list_systems(app: AppContext, as_json: bool) -> None:
    """Every configured system: kind, URL, client, user, RFC target, password variable.

    \b
    Example:
      sapbridge systems list
      sapbridge --config sapbridge.toml systems list --json
    """
    rows = describe_systems(app.settings)
    if as_json:
        echo_json([row.as_dict() for row in rows])
        return
    print_table("systems", ["name", "kind", "odata_url", "client", "user", "rfc", "password"],
                [[r.name, r.kind, r.odata_url, r.client, r.user, r.rfc, _password_state(r)] for r in rows])


def _password_state(row: SystemInfo) -> str:
    if not row.password_env:
        return "-"
    return f"{row.password_env} ({'set' if row.password_set else 'NOT set'})"


@systems.command("test")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@click.pass_obj
def test(app: AppContext, name: str, as_json: bool) -> None:
    """Check NAME step by step: config, DNS, TCP, TLS, logon and $metadata, RFC ping.

    \b
    Exit code 0 when every check passes, 1 when one fails.
    Example:
      sapbridge systems test demo
      sapbridge systems test PRD --json
    """
    checks = check_system(app.settings, name)
    if as_json:
        echo_json({"system": name, "ok": all(c.status != FAILED for c in checks),
                   "checks": [c.as_dict() for c in checks]})
    else:
        print_table(f"systems test {name}", ["check", "status", "detail"],
                    [[c.name, c.status, c.detail] for c in checks])
    failed = [c for c in checks if c.status == FAILED]
    if failed:
        if not as_json:
            click.echo(f"system {name}: {failed[0].name} failed: {failed[0].detail}", err=True)
        sys.exit(EXIT_UNREACHABLE)


COMMANDS = [systems]
