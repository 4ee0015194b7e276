"""`aimsource preview` (placeholder until its issue lands)."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("preview", help="not built yet")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    print("not built yet")
    return 2
