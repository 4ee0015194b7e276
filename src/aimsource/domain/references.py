"""Image references: `[registry/]repository[:tag]`, parsed strictly and normalised once.

Everything downstream (model names, "does a model for this image already exist", the tags-file
keys) compares references as strings, so two spellings of the same image must become one value
here: Docker Hub's aliases become `docker.io`, its one-component repositories get `library/`, and
registry hosts are lower-cased. The grammar is distribution's (`distribution/reference`), narrowed
to what a source may name: no digests (a digest is not something to list tags for) and no `*`
(the reference implementation once matched wildcards; the seed documentation now rejects them).
Errors are `InvalidReferenceError` whose message names the reference, never a library's exception.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from aimsource.domain.errors import InvalidReferenceError

DOCKER_HUB = "docker.io"
DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
WILDCARD_MESSAGE = (
    "Wildcard syntax (*) is supported only in filters[].image; list images explicitly, or write a filter"
)

# CRD limit for one `images` entry or `filters[].image`.
MAX_REFERENCE_LENGTH = 512
# distribution/reference's NameTotalLengthMax: "registry/repository" without the tag.
MAX_NAME_LENGTH = 255

# One path component of a repository (distribution's `path-component`): lower-case alphanumerics
# separated by ".", "_", "__" or runs of "-".
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_HOST_LABEL = r"(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])"
_Fail = Callable[[str], InvalidReferenceError]
_HOST = re.compile(rf"(?:{_HOST_LABEL}(?:\.{_HOST_LABEL})*|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]+))?")


@dataclass(frozen=True)
class ImageRef:
    """A normalised image reference; `str()` always writes the registry."""

    registry: str
    """Lower-case `host[:port]`; Docker Hub's aliases are written `docker.io`."""
    repository: str
    """Path inside the registry; `library/` added for one-component Docker Hub repositories only."""
    tag: str | None = None
    """None for a selector that lists tags; set for a pinned selector and for every selected image."""

    @property
    def pinned(self) -> bool:
        return self.tag is not None

    @property
    def key(self) -> str:
        """`registry/repository`: the key of a repository in `--tags-file` and in caches."""
        return f"{self.registry}/{self.repository}"

    def with_tag(self, tag: str) -> ImageRef:
        return ImageRef(self.registry, self.repository, tag)

    def __str__(self) -> str:
        return self.key if self.tag is None else f"{self.key}:{self.tag}"


def normalize_registry(host: str) -> str:
    """Lower-case a registry host and write Docker Hub's aliases as `docker.io`; the port is kept."""
    lowered = host.strip().lower()
    return DOCKER_HUB if lowered in DOCKER_HUB_ALIASES else lowered


def is_valid_tag(tag: str) -> bool:
    """Whether `tag` follows the OCI tag grammar `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`."""
    return _TAG.fullmatch(tag) is not None


def parse_reference(text: str, *, default_registry: str = DOCKER_HUB) -> ImageRef:
    """Parse `[registry/]repository[:tag]`; the registry defaults to `default_registry`.

    The first path component is a registry when it contains "." or ":" or is "localhost" (Docker's
    rule); otherwise the whole path is the repository. Raises InvalidReferenceError naming `text`.
    """
    if not isinstance(text, str):
        raise InvalidReferenceError(f"image reference must be a string, not {type(text).__name__}")

    def fail(why: str) -> InvalidReferenceError:
        return InvalidReferenceError(f'invalid image reference "{_shorten(text)}": {why}')

    if "*" in text:
        raise InvalidReferenceError(f'image reference "{_shorten(text)}": {WILDCARD_MESSAGE}')
    if not text:
        raise fail("it is empty")
    if len(text) > MAX_REFERENCE_LENGTH:
        raise fail(f"longer than {MAX_REFERENCE_LENGTH} characters")
    if "@" in text:
        raise fail("digests (@sha256:...) are not supported; name a tag, or no tag to list them")
    if text != text.strip():
        raise fail("it has leading or trailing whitespace")
    if "://" in text:
        raise fail("write the registry without a scheme (e.g. ghcr.io/org/repo)")

    name, tag = _split_tag(text)
    if tag is not None and not is_valid_tag(tag):
        raise fail(
            f'tag "{tag}" is invalid (letters, digits, "_", "." and "-", not starting with "." or "-", '
            "at most 128 characters)"
        )

    components = name.split("/")
    first = components[0]
    if len(components) > 1 and ("." in first or ":" in first or first == "localhost"):
        registry = _check_host(first, fail)
        path = components[1:]
    else:
        registry = _check_host(default_registry, fail, default=True)
        path = components

    for component in path:
        if not component:
            raise fail('empty path component (a leading, trailing or doubled "/")')
        if component != component.lower() and _COMPONENT.fullmatch(component.lower()):
            raise fail(f'repository must be lower-case ("{component}")')
        if not _COMPONENT.fullmatch(component):
            raise fail(
                f'invalid repository component "{component}" (lower-case letters and digits, '
                'separated by ".", "_", "__" or "-")'
            )

    if registry == DOCKER_HUB and len(path) == 1:
        path = ["library", *path]
    repository = "/".join(path)
    if len(registry) + 1 + len(repository) > MAX_NAME_LENGTH:
        raise fail(f"registry and repository together are longer than {MAX_NAME_LENGTH} characters")
    return ImageRef(registry=registry, repository=repository, tag=tag)


def model_image(ref: ImageRef) -> str:
    """The model's `spec.image`: `repo:tag` on Docker Hub (as users write it), `registry/repo:tag` else."""
    base = ref.repository if ref.registry == DOCKER_HUB else ref.key
    return base if ref.tag is None else f"{base}:{ref.tag}"


CANONICAL_CACHE = 4096
"""Canonical forms kept: every image the operator creates is made canonical twice (the create,
then the model's watch event), and a first sync creates thousands."""
CACHED_LENGTH = 512
"""Longer images are not kept (one is at most 1.5 MiB in etcd), so the cache stays a few MiB."""


def canonical_image(spec_image: str) -> str:
    """Any `spec.image` as `registry/repository:tag`, so that different spellings compare equal.

    An image without a tag means `:latest` to a container runtime, so it is written with it. Input
    that does not parse (a digest, a typo) comes back unchanged: it then matches only itself.
    """
    if len(spec_image) <= CACHED_LENGTH:
        return _cached_canonical(spec_image)
    return _canonical(spec_image)


def _canonical(spec_image: str) -> str:
    try:
        ref = parse_reference(spec_image)
    except InvalidReferenceError:
        return spec_image
    return str(ref if ref.pinned else ref.with_tag("latest"))


_cached_canonical = functools.lru_cache(maxsize=CANONICAL_CACHE)(_canonical)


def _split_tag(text: str) -> tuple[str, str | None]:
    """Split off `:tag`: a ":" after the last "/" (an earlier ":" is a registry port)."""
    slash = text.rfind("/")
    colon = text.rfind(":")
    if colon > slash:
        return text[:colon], text[colon + 1 :]
    return text, None


def _check_host(host: str, fail: _Fail, *, default: bool = False) -> str:
    match = _HOST.fullmatch(host)
    port = match.group("port") if match else None
    if match is None or (port is not None and not 0 < int(port) < 65536):
        where = "spec.registry" if default else "registry"
        raise fail(f'{where} "{_shorten(host)}" is not a valid host[:port]')
    return normalize_registry(host)


def _shorten(text: str, limit: int = 200) -> str:
    """Keep error messages bounded when someone pastes a huge string."""
    return text if len(text) <= limit else text[:limit] + "..."
