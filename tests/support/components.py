"""What a test does when a real component it needs is not on this machine: it fails, naming it.

`make test` promises the whole suite, so a missing `docker-registry`, `kubectl`, `promtool`, the
Kubernetes testbed or Helm is an error that says what to install, never a quiet skip that lets the
run pass with half the tests unrun. `make unit` sets AIMSOURCE_ALLOW_MISSING=1 for a quick local run
without them: the same tests are then skipped, each with the same message in pytest's summary.
"""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest

ALLOW_MISSING = "AIMSOURCE_ALLOW_MISSING"
"""Set to 1 (by `make unit`) to skip instead of fail when a component is missing."""


def allow_missing() -> bool:
    return os.environ.get(ALLOW_MISSING, "") not in ("", "0")


def missing(what: str, how: str) -> NoReturn:
    """Fail the test (or skip it under `make unit`): `what` is not there, `how` gets it."""
    message = f"{what} is missing: {how}"
    if allow_missing():
        pytest.skip(message)
    pytest.fail(f"{message} (`make unit` runs the tests that need no real component)", pytrace=False)


def require_binary(name: str, package: str) -> str:
    """The path of the command `name`, which Debian's `package` installs."""
    path = shutil.which(name)
    if path is None:
        missing(f"the command {name}", f"apt-get install {package} (scripts/install-deps does it)")
    return path
