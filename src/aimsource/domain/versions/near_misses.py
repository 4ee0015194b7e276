"""Why a tag that looks like a version is not one: `2026.08.0-preview` has a leading zero in its minor.

Such tags are skipped whenever constraints apply, like `latest`, but a user who tagged
`2026.08.0-preview` meant a version and needs to know which rule it breaks to fix the tag or the
constraint. `version_defects` names the defects; it is only called for tags that failed
`parse_version`, and only when a reason is rendered (a preview row), never on a sync's hot path.

A tag *looks like* a version when it starts with a digit, optionally after a `v` or `V`. Anything
else (`latest`, `main-3f2a`, `sha-1234`) is simply not a version and gets no explanation.
"""

from __future__ import annotations

import re

from aimsource.domain.versions.semver import parse_version

_LOOKS_LIKE = re.compile(r"[vV]?[0-9]")
_CORE = re.compile(r"[0-9.]*")
_IDENT = re.compile(r"[0-9A-Za-z-]+")
_POSITIONS = ("major", "minor", "patch")
_COUNT_WORDS = {4: "four", 5: "five", 6: "six"}


def looks_like_version(tag: str) -> bool:
    """Whether the tag starts as a version does: a digit, or `v` / `V` and a digit."""
    return _LOOKS_LIKE.match(tag) is not None


def version_defects(tag: str) -> list[str]:
    """What keeps a version-looking tag from being SemVer 2.0, one phrase per defect, in the order
    they appear in the tag; empty when the tag is a version or does not look like one."""
    if not looks_like_version(tag) or parse_version(tag) is not None:
        return []
    defects: list[str] = []
    text = tag
    if text[0] == "V":
        defects.append('upper-case "V" (only a lower-case "v" may precede the version)')
    if text[0] in "vV":
        text = text[1:]
    core = _CORE.match(text)
    assert core is not None  # the pattern also matches the empty string
    numbers = core.group().split(".")
    rest = text[core.end() :]
    defects += _core_defects(numbers)
    defects += _tail_defects(rest)
    if not defects:
        # Every part is well-formed, yet the tag did not parse: only a number too long to read.
        defects.append("a number too long to read")
    return defects


def explain_not_version(tag: str) -> str:
    """The reason shown for a tag skipped as not a version, naming its defects when it looks like one."""
    defects = version_defects(tag)
    return "not a SemVer version: " + "; ".join(defects) if defects else "not a SemVer version"


def _core_defects(numbers: list[str]) -> list[str]:
    defects: list[str] = []
    if any(not n for n in numbers):
        defects.append("an empty number (two dots in a row, or a dot at an end)")
    filled = [n for n in numbers if n]
    for position, number in zip(_POSITIONS, filled, strict=False):
        if len(number) > 1 and number[0] == "0":
            defects.append(f'leading zero in {position} "{number}"')
    count = len(filled)
    if count == 1:
        defects.append("missing minor and patch (a version is MAJOR.MINOR.PATCH)")
    elif count == 2:
        defects.append("missing patch (a version is MAJOR.MINOR.PATCH)")
    elif count > 3:
        word = _COUNT_WORDS.get(count, str(count))
        defects.append(f"{word} numbers (a version has three: MAJOR.MINOR.PATCH)")
    return defects


def _tail_defects(rest: str) -> list[str]:
    """Defects of what follows the numbers: `-pre-release`, `+build`, or something else."""
    if not rest:
        return []
    if rest[0] not in "-+":
        return [
            f'unexpected "{rest[0]}" after the numbers '
            '(a pre-release starts with "-", build metadata with "+")'
        ]
    defects: list[str] = []
    pre, plus, build = rest.partition("+")
    if pre:  # starts with "-"
        defects += _identifier_defects(pre[1:], "pre-release", numeric_rule=True)
    if plus:
        defects += _identifier_defects(build, "build metadata", numeric_rule=False)
    return defects


def _identifier_defects(text: str, what: str, *, numeric_rule: bool) -> list[str]:
    if not text:
        return [f'empty {what} (nothing after "{"-" if what == "pre-release" else "+"}")']
    defects: list[str] = []
    for ident in text.split("."):
        if not ident:
            defects.append(f"an empty {what} identifier (two dots in a row, or a dot at an end)")
        elif not _IDENT.fullmatch(ident):
            bad = next(c for c in ident if not (c.isascii() and (c.isalnum() or c == "-")))
            defects.append(f'"{bad}" in {what} "{text}" (only letters, digits and "-" are allowed)')
        elif numeric_rule and ident.isdigit() and len(ident) > 1 and ident[0] == "0":
            defects.append(f'leading zero in numeric pre-release identifier "{ident}"')
    return defects
