"""The registries file, re-read while the operator runs: a change applies without a restart.

Kubernetes updates a mounted ConfigMap by swapping a symlink, some seconds after the edit; there is
no event to wait for that works on every volume type, so the file is read every `interval`
seconds (a few KiB) and compared with the text last seen. A changed file that parses and whose CA
files load is handed to `apply` (the registry client's `configure`); one that does not keeps the
last good configuration in use, is logged once (not at every poll) and reported to `reported`
(the metrics: `aimsource_registries_file_valid` 0, `aimsource_registries_reloads{result}`). A
missing file is such a bad change too.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from pathlib import Path

from aimsource.domain.registries.entries import Registries
from aimsource.domain.registries.parsing import InvalidRegistriesError, parse_registries
from aimsource.registry.errors import RegistryError

log = logging.getLogger("aimsource.operator")

MAX_BYTES = 1024 * 1024
"""The largest registries file read (a ConfigMap holds at most 1 MiB)."""


def read_registries(path: str) -> tuple[str, Registries]:
    """The file's text and what it says; raises InvalidRegistriesError with a one-line message."""
    try:
        with Path(path).open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InvalidRegistriesError(f"{path}: {exc.strerror or 'cannot be read'}") from None
    if len(raw) > MAX_BYTES:
        raise InvalidRegistriesError(f"{path}: larger than {MAX_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRegistriesError(f"{path}: not UTF-8 text") from None
    return text, parse_registries(text, origin=path, file_exists=os.path.isfile)


class RegistriesFile:
    """Polls one registries file; applies each valid change, keeps the last good one otherwise."""

    def __init__(
        self,
        path: str,
        *,
        apply: Callable[[Registries], None],
        reported: Callable[[str], None],
        interval: float = 5.0,
        seen: str | None = None,
    ) -> None:
        """`seen`: the text already applied (read at start-up), so the first poll changes nothing."""
        self._path = path
        self._apply = apply
        self._reported = reported
        self._interval = interval
        self._seen = seen
        self._rejected: str | None = None  # the last error logged, to log each bad change once

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            self.poll()

    def poll(self) -> bool | None:
        """Read the file once: True when a change was applied, False when one was rejected, None
        when nothing changed."""
        try:
            text, registries = read_registries(self._path)
            if text == self._seen:
                self._recovered()
                return None
            self._apply(registries)
        except (InvalidRegistriesError, RegistryError) as exc:  # RegistryError: a CA file not PEM
            message = str(exc)
            if message != self._rejected:
                self._rejected = message
                log.error("registries file change not applied, the last good one stays in use: %s", message)
                self._reported("rejected")
            return False
        self._seen = text
        self._rejected = None
        log.info("registries file %s applied: %d entries", self._path, len(registries.entries))
        self._reported("applied")
        return True

    def _recovered(self) -> None:
        """The file is back to the text in use (a bad edit reverted): it is valid again."""
        if self._rejected is not None:
            self._rejected = None
            log.info("registries file %s is back to the configuration in use", self._path)
            self._reported("restored")
