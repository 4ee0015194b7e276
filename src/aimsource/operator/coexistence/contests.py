"""Sources that another controller manages: when aimsource stands down, and what it says once.

The reconciler asks `Contests.check` before every sync and before every status write. A source
whose status another field manager wrote recently (`field_managers.competitor`) is contested: the
sync does nothing - no listing, no model creates, no status write - and the source is checked
again when the other controller's claim would lapse. Entering a contest is announced once (a
Warning event `CompetingController` naming the other manager, and a log line); further syncs of the
same contest say nothing above DEBUG. When the other manager's writes have stopped for longer than
the window, the source is taken back (a log line) and syncs as before.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aimsource.domain.times import format_time
from aimsource.operator.coexistence.field_managers import Competitor, competitor, window_for
from aimsource.operator.reporting import EventSpec
from aimsource.operator.scheduling.sources import interval_of

log = logging.getLogger("aimsource.operator")

EVENT_REASON = "CompetingController"
DEFAULT_WINDOW = 600.0
"""Seconds: the floor of the window (`OperatorSettings.competing_controller_window`)."""


@dataclass(frozen=True)
class Verdict:
    """What `check` decided for one source."""

    competitor: Competitor | None
    """The other controller, when the source is contested."""

    until: float | None = None
    """Epoch seconds at which the contest lapses if the other controller writes no more."""

    event: EventSpec | None = None
    """The announcement, only on entering a contest."""

    @property
    def contested(self) -> bool:
        return self.competitor is not None


FREE = Verdict(None)


class Contests:
    """The contest state of every source (leader-local memory: a new leader announces again)."""

    def __init__(
        self,
        *,
        ours: str,
        window: float = DEFAULT_WINDOW,
        enabled: bool = True,
        on_count: Callable[[int], None] = lambda _: None,
    ) -> None:
        self._ours = ours
        self._window = window
        self._enabled = enabled
        self._on_count = on_count
        self._current: dict[str, Competitor] = {}
        self._until: dict[str, float] = {}

    def check(self, name: str, body: Mapping[str, Any], now: float) -> Verdict:
        """Whether another controller manages the source `body` at epoch second `now`."""
        if not self._enabled:
            return FREE
        window = window_for(self._window, interval_of(body))
        found = self._find(body, now, window)
        before = self._current.get(name)
        if found is None:
            if before is not None:
                del self._current[name]
                self._until.pop(name, None)
                self._on_count(len(self._current))
                log.info(
                    "competing controller stopped writing: aimsource manages the source again",
                    extra={"source": name, "manager": before.manager, "window_seconds": window},
                )
            return FREE
        self._current[name] = found
        until = self._until[name] = found.until(window).timestamp()
        if before is not None and before.manager == found.manager:
            log.debug(
                "source managed by another controller: sync skipped",
                extra={"source": name, "manager": found.manager},
            )
            return Verdict(found, until)
        self._on_count(len(self._current))
        log.warning(
            "source managed by another controller: aimsource stands down",
            extra={
                "source": name,
                "manager": found.manager,
                "last_write": format_time(found.last_write),
                "window_seconds": window,
            },
        )
        return Verdict(found, until, _announcement(found, window))

    def fresh(self, name: str, body: Mapping[str, Any], now: float) -> bool:
        """Whether `body` shows a contest not yet announced (read only: `check` announces it)."""
        if not self._enabled:
            return False
        found = self._find(body, now, window_for(self._window, interval_of(body)))
        before = self._current.get(name)
        return found is not None and (before is None or before.manager != found.manager)

    def _find(self, body: Mapping[str, Any], now: float, window: float) -> Competitor | None:
        moment = datetime.datetime.fromtimestamp(now, tz=datetime.UTC)
        return competitor(
            (body.get("metadata") or {}).get("managedFields"), now=moment, ours=self._ours, window=window
        )

    def forget(self, name: str) -> None:
        """The source is gone."""
        self._until.pop(name, None)
        if self._current.pop(name, None) is not None:
            self._on_count(len(self._current))

    def recheck_at(self, name: str) -> float | None:
        """When a contested source's claim lapses (it is checked again then); None when free."""
        return self._until.get(name)


def _announcement(found: Competitor, window: float) -> EventSpec:
    manager = "".join(c if c.isprintable() else "?" for c in found.manager)
    return EventSpec(
        "Warning",
        EVENT_REASON,
        (
            f'Field manager "{manager}" (another controller, e.g. AIM\'s own source controller) wrote '
            f"this source's status at {format_time(found.last_write)}. aimsource stands down for this "
            "source: it creates no models and leaves the status alone until that manager has "
            f'stopped writing for {_duration(window)}. See docs/install.md, "On a cluster that runs '
            "AIM's operator\"."
        ),
    )


def _duration(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{secs}s" if secs else ""]
    return "".join(parts) or "0s"
