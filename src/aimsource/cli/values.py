"""Flag and variable values as the CLI reports them: the domain's parsers (`domain.options.values`)
with the origin added to their reason.

`read` names the origin (`--workers: ...`, `$AIMSOURCE_WORKERS: ...`) and makes a bad value a
one-line `CliError`, for `aimsource run` and for the variables the other commands read;
`flag_type` gives the same parser to argparse, which names the flag itself (`argument --max-tags:
...`). `show_duration` writes a default for a help text.
"""

from __future__ import annotations

import argparse
from typing import TypeVar

from aimsource.cli import CliError
from aimsource.domain.durations import format_duration
from aimsource.domain.options.values import InvalidValueError, Parser

T = TypeVar("T")


def read(parse: Parser[T], text: str, origin: str) -> T:
    """`parse(text)`, or a CliError naming `origin` (the flag, or `$` and the variable)."""
    try:
        return parse(text)
    except InvalidValueError as exc:
        raise CliError(f"{origin}: {exc}") from exc


def flag_type(parse: Parser[T]) -> Parser[T]:
    """`parse` as an argparse `type=`: argparse reports the reason after the flag's name."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except InvalidValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc

    convert.__name__ = parse.__name__  # argparse names the type in some messages
    return convert


def show_duration(seconds: float) -> str:
    """A duration default as a help text shows it: 30s, 10m, 24h."""
    return format_duration(seconds)
