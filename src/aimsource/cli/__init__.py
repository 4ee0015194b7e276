"""The command line: `check`, `preview`, `sync` and `run`.

This is the only layer that formats for people. Each subcommand lives in its own module and
exposes `add_parser(subparsers)` and `run(args) -> int`; imports of heavy dependencies stay inside
the subcommand so that `aimsource check` starts fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


class CliError(Exception):
    """A problem to report as one line on stderr, with an exit code."""

    def __init__(self, message: str, *, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def build_parser() -> argparse.ArgumentParser:
    from aimsource.cli import check, preview, run, syncdir

    parser = argparse.ArgumentParser(
        prog="aimsource",
        description="Discover model images in OCI registries and create AIMClusterModels for them.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (check, preview, syncdir, run):
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
