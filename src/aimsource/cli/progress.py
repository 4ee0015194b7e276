"""Progress lines for long listings, shown only to a person at a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable


def progress_printer(wanted: bool) -> Callable[[str], None] | None:
    """A callback writing to stderr when it is a terminal and the output is for people; else None."""
    if not wanted or not sys.stderr.isatty():
        return None

    def show(line: str) -> None:
        print(f"  … {line}", file=sys.stderr, flush=True)

    return show
