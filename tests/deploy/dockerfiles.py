"""Just enough of the Dockerfile and .dockerignore languages to check what we ship.

No container engine runs on these machines, so the image cannot be built here; these readers let the
tests check its shape (stages, base tags, user, entrypoint) and what the build context contains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper-case: FROM, RUN, USER, ...
    arguments: str  # the rest of the logical line, continuations joined with spaces


@dataclass(frozen=True)
class Stage:
    base: str  # the FROM image with build arguments substituted
    name: str | None
    instructions: tuple[Instruction, ...] = field(default=())

    def last(self, keyword: str) -> Instruction | None:
        found = [ins for ins in self.instructions if ins.keyword == keyword]
        return found[-1] if found else None


def instructions(text: str) -> list[Instruction]:
    """Logical lines: comments dropped, backslash continuations joined."""
    result: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical = (pending + line).strip()
        pending = ""
        if logical:
            keyword, _, arguments = logical.partition(" ")
            result.append(Instruction(keyword.upper(), arguments.strip()))
    return result


def stages(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the build stages, each with its base image resolved."""
    args: dict[str, str] = {}
    found: list[Stage] = []
    current: list[Instruction] | None = None
    for ins in instructions(text):
        if ins.keyword == "ARG" and current is None:
            name, _, default = ins.arguments.partition("=")
            args[name.strip()] = default.strip().strip('"')
        elif ins.keyword == "FROM":
            words = [w for w in ins.arguments.split() if not w.startswith("--")]
            base = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), words[0])
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            current = []
            found.append(Stage(base, name, ()))
        elif current is not None:
            current.append(ins)
            found[-1] = Stage(found[-1].base, found[-1].name, tuple(current))
    return args, found


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out)


def ignored(path: str, dockerignore: Path) -> bool:
    """Whether the build context leaves PATH out: the last matching pattern wins; a pattern that
    matches a parent directory matches everything below it (Docker's rules)."""
    verdict = False
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    for raw in dockerignore.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = _pattern_regex(line.lstrip("!").strip("/"))
        if any(pattern.fullmatch(prefix) for prefix in prefixes):
            verdict = not negate
    return verdict
