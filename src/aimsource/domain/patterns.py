"""Repository patterns: `filters[].image` with `*`, as AMD's operator documents wildcard discovery.

`amdenterpriseai/aim-*` names every repository of the `amdenterpriseai` namespace whose name starts
with `aim-`; `*` matches any run of characters, `/` included (AMD's meaning), so `team/*` also
matches `team/a/b`. What AMD accepts and then silently matches nothing with is refused here, each
with a message naming the reference and what to write instead:
- a wildcard in the registry host (`*.example.com/x`): a source lists one registry;
- a wildcard with a tag or digest (`org/aim-*:0.8.5`): write the tag as `versions: ["0.8.5"]`;
- on registries whose repository listing is per namespace (Docker Hub, GHCR), a wildcard in the
  first path segment as written (`*/aim-x`, and `aim-*`, which Docker Hub would read as an
  official image): name the namespace.
`exclude` entries may be patterns too (`amdenterpriseai/aim-base*`), compared with the repository.
"""

from __future__ import annotations

from dataclasses import dataclass

from aimsource.domain.errors import InvalidReferenceError
from aimsource.domain.references import DOCKER_HUB, MAX_REFERENCE_LENGTH, parse_reference

WILDCARD = "*"
GHCR = "ghcr.io"
PER_NAMESPACE = frozenset({DOCKER_HUB, GHCR})
"""Registries whose repository listing API is per namespace (Docker Hub's, GitHub's packages)."""

_PROBE = "x"  # stands in for `*` so that the rest of the reference is checked by the usual grammar


@dataclass(frozen=True)
class RepositoryPattern:
    """A normalised repository pattern: `registry` plus a `pattern` over repository names."""

    registry: str
    pattern: str
    """The repository with `*`, `library/` added for a one-component Docker Hub pattern."""

    @property
    def key(self) -> str:
        return f"{self.registry}/{self.pattern}"

    @property
    def prefix(self) -> str:
        """The literal text before the first `*`: what a listing may be narrowed to."""
        return self.pattern.split(WILDCARD, 1)[0]

    @property
    def namespace(self) -> str | None:
        """The first path segment when it is literal (`amdenterpriseai`), else None."""
        first = self.pattern.split("/", 1)[0]
        return None if WILDCARD in first or "/" not in self.pattern else first

    def matches(self, repository: str) -> bool:
        return glob_match(self.pattern, repository)

    def __str__(self) -> str:
        return self.key


def glob_match(pattern: str, text: str) -> bool:
    """Whether `text` is `pattern` with each `*` standing for any run of characters (`/` included).

    Not a regular expression: `.*a.*a.*a...` backtracks exponentially, and a spec may hold a
    pattern of 512 characters. This walk keeps only the last `*` to fall back to, so it costs at
    most len(pattern) x len(text) steps whatever is written.
    """
    p = t = 0
    star = mark = -1
    while t < len(text):
        if p < len(pattern) and pattern[p] == WILDCARD:
            star, mark = p, t
            p += 1
        elif p < len(pattern) and pattern[p] == text[t]:
            p += 1
            t += 1
        elif star >= 0:
            p, mark = star + 1, mark + 1
            t = mark
        else:
            return False
    return all(c == WILDCARD for c in pattern[p:])


def is_pattern(text: str) -> bool:
    return WILDCARD in text


def parse_pattern(text: str, *, default_registry: str = DOCKER_HUB) -> RepositoryPattern:
    """Parse `[registry/]repository-with-*`; raises InvalidReferenceError naming `text`."""
    shown = text if len(text) <= 200 else text[:200] + "..."

    def fail(why: str) -> InvalidReferenceError:
        return InvalidReferenceError(f'invalid image pattern "{shown}": {why}')

    if len(text) > MAX_REFERENCE_LENGTH:
        raise fail(f"longer than {MAX_REFERENCE_LENGTH} characters")
    if "@" in text:
        raise fail('a pattern names repositories, not a digest; write versions: ["<tag>"] to pick tags')
    if _is_host(text) and WILDCARD in text.partition("/")[0]:
        raise fail("the registry host cannot hold a wildcard; name one registry and put * in the repository")
    last = text.rsplit("/", 1)[-1]
    if ":" in last:
        tag = last.split(":", 1)[1]
        raise fail(
            f'a pattern cannot carry a tag; drop ":{tag}" and write versions: ["{tag}"] to select that '
            "version in every matched repository"
        )
    try:
        probe = parse_reference(_probe(text), default_registry=default_registry)
    except InvalidReferenceError as exc:
        raise fail(str(exc).split(": ", 1)[-1]) from exc
    pattern = _pattern_of(text, probe.registry)
    written = text.split("/", 1)[1] if _is_host(text) else text
    if probe.registry in PER_NAMESPACE and WILDCARD in written.split("/", 1)[0]:
        raise fail(
            f"{probe.registry} lists repositories one namespace at a time: name the namespace "
            "(e.g. amdenterpriseai/aim-*), not a wildcard, in the first path segment"
        )
    return RepositoryPattern(registry=probe.registry, pattern=pattern)


def excludes(entry: str, repository: str) -> bool:
    """Whether one `exclude` entry (a repository, exact or with `*`) names `repository`."""
    return glob_match(entry, repository) if WILDCARD in entry else entry == repository


def _probe(text: str) -> str:
    """`text` with each `*` as a letter, so that the rest is checked by the reference grammar."""
    return text.replace(WILDCARD, _PROBE)


def _pattern_of(text: str, registry: str) -> str:
    """The repository as written (host dropped), `library/` added as for any Docker Hub reference."""
    written = text.split("/", 1)[1] if _is_host(text) else text
    if registry == DOCKER_HUB and "/" not in written:
        written = f"library/{written}"
    return written


def _is_host(text: str) -> bool:
    """Docker's rule: the first component is a registry when it has "." or ":" or is localhost."""
    head, _, rest = text.partition("/")
    return bool(rest) and ("." in head or ":" in head or head == "localhost")
