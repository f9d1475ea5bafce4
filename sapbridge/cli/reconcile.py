"""``sapbridge reconcile``: cash application and disputes versus post-audit recoveries."""

from __future__ import annotations

import importlib

import click

__all__ = ["COMMANDS", "SUBCOMMAND_MODULES"]

SUBCOMMAND_MODULES: list[str] = [
    "sapbridge.cli.reconcile_cash",
    "sapbridge.cli.reconcile_recoveries",
]
"""Modules whose ``SUBCOMMANDS`` join the ``reconcile`` group."""


@click.group()
def reconcile() -> None:
    """Match payments to open items, and disputes to post-audit recoveries.

    \b
    Example:
      sapbridge reconcile cash --payments fixtures/samples/bank-demo.camt053.xml --out out/cash
      sapbridge reconcile recoveries --claims fixtures/samples/claims-demo.csv --out out/recoveries
    """


for _name in SUBCOMMAND_MODULES:
    for _command in importlib.import_module(_name).SUBCOMMANDS:
        reconcile.add_command(_command)

COMMANDS = [reconcile]
