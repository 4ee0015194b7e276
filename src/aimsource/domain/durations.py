"""Go duration strings (`15m`, `1h`, `2h30m`, `1.5h`, `300ms`) as seconds, and back.

`spec.syncInterval` is written in Go's `time.ParseDuration` syntax because the reference operator is
written in Go and users copy manifests between the two. We follow that grammar exactly: an optional
sign, then one or more `<number><unit>` parts where the number may have a fraction (`1.5h`, `.5h`,
`1.h`) and the unit is one of ns, us, µs, μs, ms, s, m, h; `0` alone is also a duration. Unlike Go we
do not reject durations beyond ~292 years (Go's int64 nanoseconds): the CRD pattern cannot express
that bound, and a source that syncs once a millennium harms no one.
"""

from __future__ import annotations

import re

from aimsource.domain.errors import DomainError

_UNIT_SECONDS: dict[str, float] = {
    "ns": 1e-9,
    "us": 1e-6,
    "\u00b5s": 1e-6,  # micro sign, as Go accepts
    "\u03bcs": 1e-6,  # Greek small letter mu, as Go accepts
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}

# One part: digits with an optional fraction, then the unit: as in Go, every character up to the
# next digit or dot, so that "1hour" is an unknown unit "hour" rather than "1h" followed by junk.
_PART = re.compile(r"(\d*)(?:\.(\d*))?([^\d.]*)")
_UNITS_HINT = "use ns, us, ms, s, m or h"


class InvalidDurationError(DomainError):
    """A string that is not a Go duration; the message names the string."""


def parse_duration(text: str) -> float:
    """Return the seconds that the Go duration `text` denotes; raise InvalidDurationError if it is not one."""
    if not isinstance(text, str):
        raise InvalidDurationError(f"invalid duration {text!r}: not a string")
    rest = text
    sign = 1.0
    if rest[:1] in ("-", "+"):
        sign = -1.0 if rest[0] == "-" else 1.0
        rest = rest[1:]
    if rest == "0":
        return 0.0
    if not rest:
        raise InvalidDurationError(f"invalid duration {text!r}: expected a number and a unit, like 15m or 1h")
    total = 0.0
    pos = 0
    while pos < len(rest):
        match = _PART.match(rest, pos)
        assert match is not None  # every group may be empty, so the pattern always matches
        whole, fraction, unit = match.group(1), match.group(2), match.group(3)
        if not whole and not fraction:
            raise InvalidDurationError(
                f"invalid duration {text!r}: expected a number before {rest[pos:]!r}, like 15m or 1h"
            )
        if not unit:
            raise InvalidDurationError(f"invalid duration {text!r}: missing unit ({_UNITS_HINT})")
        if unit not in _UNIT_SECONDS:
            raise InvalidDurationError(f"invalid duration {text!r}: unknown unit {unit!r} ({_UNITS_HINT})")
        total += float(f"{whole or '0'}.{fraction or '0'}") * _UNIT_SECONDS[unit]
        pos = match.end()
    return sign * total


def format_duration(seconds: float) -> str:
    """Write `seconds` compactly in Go syntax: 3600 -> "1h", 9000 -> "2h30m", 0.3 -> "300ms".

    `parse_duration(format_duration(x))` equals `x` for whole milliseconds; below a second the value is
    rounded to the nanosecond.
    """
    if seconds == 0:
        return "0s"
    sign = "-" if seconds < 0 else ""
    nanos = round(abs(seconds) * 1e9)
    if nanos < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("us", 1_000), ("ns", 1)):
            if nanos >= size:
                return f"{sign}{_trim(nanos / size)}{unit}"
    hours, nanos = divmod(nanos, 3600 * 1_000_000_000)
    minutes, nanos = divmod(nanos, 60 * 1_000_000_000)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    if nanos:
        parts.append(f"{_trim(nanos / 1e9)}s")
    return sign + "".join(parts)


def _trim(value: float) -> str:
    """Print a number without a useless ".0" or trailing zeros: 1.0 -> "1", 1.50 -> "1.5"."""
    text = f"{value:.9f}".rstrip("0").rstrip(".")
    return text or "0"
