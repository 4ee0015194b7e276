"""The command line: `check`, `preview`, `sync` and `run`.

This is the only layer that formats for people. Each subcommand lives in its own module and
exposes `add_parser(subparsers)` and `run(args) -> int`; imports of heavy dependencies stay inside
the subcommand so that `aimsource check` starts fast.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any


class CliError(Exception):
    """A problem to report as one line on stderr, with an exit code."""

    def __init__(self, message: str, *, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@contextmanager
def few_collections() -> Iterator[None]:
    """Collect the young generation less often while a sync runs, then as before.

    Deciding and planning a listing of tens of thousands of tags makes that many short-lived
    objects and almost no reference cycles; the default threshold (700) runs a collection every
    few hundred of them, for a tenth of the sync's time and nothing to free.
    """
    before = gc.get_threshold()
    gc.set_threshold(50_000, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


COMMANDS = {"check": "check", "preview": "preview", "sync": "syncdir", "run": "run"}
"""Each command and the module of `aimsource.cli` that serves it, in the order help lists them."""


def installed_version() -> str:
    """The version pip installed (pyproject.toml's `version`), from the package metadata, read only
    when asked: importing importlib.metadata would cost every other command start-up time."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("aimsource")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (aimsource is not installed as a package)"


class VersionAction(argparse.Action):
    """`aimsource --version`: prints `aimsource VERSION` on stdout and exits 0, like argparse's own
    `version` action, whose text would have to be computed for every command line."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        sys.stdout.write(f"aimsource {installed_version()}\n")
        parser.exit()


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or only of `command` when it names one: a command line that
    starts with a command needs no other, and `run`'s parser loads the operator (a kube client,
    leases, ...) that `sync` and `preview` never use, a fifth of their start-up."""
    names = [command] if command in COMMANDS else list(COMMANDS)
    parser = argparse.ArgumentParser(
        prog="aimsource",
        description="Discover model images in OCI registries and create AIMClusterModels for them.",
    )
    parser.add_argument("--version", action=VersionAction, help="print aimsource's version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in names:
        importlib.import_module(f"aimsource.cli.{COMMANDS[name]}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv` (default: this process's arguments) in this process, leaving
    its garbage collector as it was: tests and embedders call this."""
    return _run(list(sys.argv[1:] if argv is None else argv), own_process=False)


def entry_point() -> int:
    """The `aimsource` executable and `python -m aimsource`: a process that is all ours."""
    return _run(sys.argv[1:], own_process=True)


def _run(words: list[str], *, own_process: bool) -> int:
    if words and words[0] in ("preview", "sync"):
        from aimsource.registry.http.trust import warm_up

        warm_up()  # the trust store is read while the command's modules are imported
    with few_collections():  # importing makes tens of thousands of objects and no garbage
        parser = build_parser(words[0] if words else None)
        if own_process:
            # What the imports made lives as long as the process: no later collection needs to
            # walk it again. A short sync spent a fortieth of its time doing so.
            gc.freeze()
    args = parser.parse_args(words)
    try:
        code: int = args.handler(args)
    except CliError as exc:
        print(f"aimsource {args.command}: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `aimsource preview ... | head`: the reader left; quietly stop writing, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    return code
