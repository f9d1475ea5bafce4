"""The ``sapbridge`` command: a thin click layer over the library.

Each command module exposes ``COMMANDS``; this module wires them into one group and turns every
:class:`~sapbridge.errors.SapBridgeError` into one line on stderr (a traceback only with
``--debug``).
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from sapbridge.cli.context import AppContext
from sapbridge.errors import ControlError, SapBridgeError

__all__ = ["EXIT_ERROR", "EXIT_REFUSED", "EXIT_USAGE", "GLOBAL_OPTIONS", "cli", "exit_code_of", "main"]

COMMAND_MODULES: list[str] = [
    "sapbridge.cli.systems",
    "sapbridge.cli.sync",
    "sapbridge.cli.push",
    "sapbridge.cli.audit",
    "sapbridge.cli.reconcile",
    "sapbridge.cli.report",
    "sapbridge.cli.job",
]
"""Modules whose ``COMMANDS`` join the top-level group, in help order."""

EXIT_ERROR = 1
"""A command failed; stderr has one line saying what and where."""

EXIT_USAGE = 2
"""Bad command line (click's usage error): unknown option, missing argument, bad value."""

EXIT_REFUSED = 5
"""A control refused the action (identity, authority matrix, four eyes); nothing was changed."""


def exit_code_of(exc: SapBridgeError) -> int:
    """The process exit code for a library error: refusals have their own."""
    if isinstance(exc, ControlError):
        return EXIT_REFUSED
    code = getattr(exc, "exit_code", EXIT_ERROR)
    return code if isinstance(code, int) and code not in (0, EXIT_USAGE) else EXIT_ERROR


@dataclass(frozen=True, slots=True)
class GlobalOption:
    """An option of the whole program, accepted before or after the subcommand."""

    field: str
    """The :class:`AppContext` field it sets."""
    decls: tuple[str, ...]
    help: str
    is_flag: bool = False
    envvar: str | None = None
    metavar: str | None = None
    type: Any = None
    logging: bool = False
    """Changing it after the command name reconfigures the logs."""

    def on_group(self) -> click.Option:
        """The option as the top-level group shows it (with its environment variable)."""
        return click.Option([*self.decls, self.field], is_flag=self.is_flag, envvar=self.envvar,
                            metavar=self.metavar, type=self.type, help=self.help)

    def on_command(self) -> click.Option:
        """The same option repeated on a subcommand: hidden, it overrides what came before."""
        return click.Option([*self.decls, self.field], is_flag=self.is_flag, default=None,
                            metavar=self.metavar, type=self.type, help=self.help, hidden=True,
                            expose_value=False, callback=self._override)

    def _override(self, ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        app = ctx.find_object(AppContext)
        if app is None or value is None or value is False:
            return
        setattr(app, self.field, value)
        if self.logging:
            app.configure_logs()


GLOBAL_OPTIONS: tuple[GlobalOption, ...] = (
    GlobalOption("config_path", ("--config",), envvar="SAPBRIDGE_CONFIG", type=click.Path(),
                 help="Config file (default: ./sapbridge.toml if present, else built-ins only)."),
    GlobalOption("db_url", ("--db",), envvar="SAPBRIDGE_DB",
                 help="Store URL, e.g. sqlite:///sapbridge.db or postgresql+psycopg://host/db."),
    GlobalOption("debug", ("--debug",), is_flag=True, logging=True, help="Show tracebacks and debug logs."),
    GlobalOption("log_json", ("--log-json",), is_flag=True, logging=True,
                 help="Structured JSON logs on stderr, even on a terminal."),
    GlobalOption("log_file", ("--log-file",), logging=True,
                 type=click.Path(dir_okay=False, path_type=Path),
                 help="Append every log line (JSON) to this file instead of stderr."),
    GlobalOption("verbose", ("-v", "--verbose"), is_flag=True, logging=True,
                 help="On a terminal, show info logs too (default: warnings)."),
    GlobalOption("quiet", ("-q", "--quiet"), is_flag=True, logging=True,
                 help="No progress bars and only error logs."),
    GlobalOption("actor_override", ("--as",), metavar="USER",
                 help="Act as this configured user (default: OS user)."),
)
"""Options of the whole program; each is accepted before or after the subcommand, the last one wins."""


def _add_global_options(command: click.Command) -> None:
    """Let ``command`` (and every command under it) take the global options too.

    A command that defines an option of the same name itself (``approve --as``) keeps its own.
    """
    taken = {opt for param in command.params for opt in getattr(param, "opts", ())}
    for option in GLOBAL_OPTIONS:
        if not taken.intersection(option.decls):
            command.params.append(option.on_command())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _add_global_options(sub)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sapbridge")
@click.pass_context
def cli(ctx: click.Context, **options: Any) -> None:
    """Pull SAP S/4HANA FSCM data, reconcile it, and push approved changes back under control.

    Global options (--config, --db, --as, --debug, --log-json, --log-file, -v, -q) may also
    follow the subcommand: sapbridge sync all --db sqlite:///x.db.

    \b
    Example:
      sapbridge sync all --system demo
      sapbridge systems list
    """
    app = AppContext(**options)
    ctx.obj = app
    ctx.call_on_close(app.close)


cli.params[:0] = [option.on_group() for option in GLOBAL_OPTIONS]


def _register() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        for command in module.COMMANDS:
            _add_global_options(command)
            cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI, translating library errors into one line and an exit code."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        return cli.main(args=argv, prog_name="sapbridge", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(EXIT_ERROR)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except SapBridgeError as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(exit_code_of(exc))
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        click.echo(f"error: unexpected {type(exc).__name__}: {first_line} (--debug shows where)", err=True)
        sys.exit(EXIT_ERROR)
