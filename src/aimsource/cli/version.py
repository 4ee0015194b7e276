"""`aimsource --version`: the version of the installed distribution, from its package metadata.

Read only when asked: importing importlib.metadata would cost every other command start-up time.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any


def installed_version() -> str:
    """The version pip installed (pyproject.toml's `version`), or why there is none."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("aimsource")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (aimsource is not installed as a package)"


class VersionAction(argparse.Action):
    """Prints `aimsource VERSION` on stdout and exits 0, like argparse's own `version` action."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        kwargs.setdefault("help", "print aimsource's version and exit")
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
