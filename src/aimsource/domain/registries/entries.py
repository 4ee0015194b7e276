"""Per-registry settings as frozen values, and the rules for which entry applies to what.

A `Registries` value holds one `RegistryEntry` per registry named in the file (keys normalised
like references: `index.docker.io` is `docker.io`) and maybe the `"*"` entry for every other one.
Precedence, for each setting of a registry: its own entry, else the `"*"` entry, else the command
line flag (`--registry-rate`, `--max-concurrency-per-host`, `--ca-file`, `--insecure-registry`),
else the built-in default. `RegistryEntry` fields are None where the file does not set them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from aimsource.domain.references import DOCKER_HUB, normalize_registry

WILDCARD = "*"
DISCOVERY_KINDS = ("dockerhub", "github", "catalog", "none")
"""How a registry's repositories are found (used by wildcard discovery): Docker Hub's API,
GitHub's packages API, the distribution `_catalog`, or not at all."""

REGISTRIES_HELP = (
    'registries file: per registry (or "*" for every other one) its mirrors {url, caFile}, '
    "fallback, repositoryDiscovery, discoveryURL, requestsPerSecond, maxConcurrency, pageSize, "
    'insecure and caFile; an entry overrides the flags, which are the "*" entry\'s defaults '
    "(docs/registries.md)"
)
"""The help of `--registries`, for `run`, `preview`, `sync` and `check` alike."""

_DISCOVERY_BY_HOST = {DOCKER_HUB: "dockerhub", "ghcr.io": "github"}
_DISCOVERY_URL_BY_KIND = {"dockerhub": "https://hub.docker.com", "github": "https://api.github.com"}


@dataclass(frozen=True)
class Mirror:
    """One place to list a registry's repositories instead of the registry itself."""

    url: str
    """`https://host[:port]` or `http://host[:port]` (plain HTTP for this mirror only)."""
    host: str
    """`host[:port]`, lower-case, the port written only when it is not the scheme's default:
    the key of its credentials (pull secrets), limits, token cache and metrics."""
    ca_file: str | None = None
    """A PEM bundle trusted for this mirror, in addition to the public CAs and `--ca-file`."""

    @property
    def plain_http(self) -> bool:
        return self.url.startswith("http://")


@dataclass(frozen=True)
class RegistryEntry:
    """The settings of one registry (or of every other one, `key == "*"`); None: not set here."""

    key: str
    mirrors: tuple[Mirror, ...] = ()
    """Listed and HEADed instead of the registry, in order; models keep the registry's names."""
    fallback: bool | None = None
    """Whether the registry itself is asked after every mirror failed (default true)."""
    repository_discovery: str | None = None
    """One of `DISCOVERY_KINDS`; None: chosen by host (see `Registries.discovery`)."""
    discovery_url: str | None = None
    """Base URL of the discovery API (Docker Hub's, GitHub's or GitHub Enterprise's)."""
    requests_per_second: float | None = None
    """Request budget per endpoint host of this registry (each mirror has its own); 0: none."""
    max_concurrency: int | None = None
    """Requests in flight at once per endpoint host of this registry."""
    page_size: int | None = None
    """`n` asked for on the first tags page."""
    insecure: bool | None = None
    """Whether the registry itself may be spoken to over plain HTTP (HTTPS is tried first)."""
    ca_file: str | None = None
    """A PEM bundle trusted for the registry itself (for `"*"`: for every host, like `--ca-file`)."""
    line: int = 0
    """Line of the entry's key in the file (0 when not read from a file), for messages."""


@dataclass(frozen=True)
class Registries:
    """Every entry of a registries file, by normalised registry; `"*"` for every other registry."""

    entries: Mapping[str, RegistryEntry] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", MappingProxyType(dict(self.entries)))

    def __bool__(self) -> bool:
        return bool(self.entries)

    def __hash__(self) -> int:
        return hash(tuple(self.entries.items()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Registries) and dict(self.entries) == dict(other.entries)

    @property
    def wildcard(self) -> RegistryEntry:
        """The `"*"` entry (an empty one when the file has none)."""
        return self.entries.get(WILDCARD) or RegistryEntry(WILDCARD)

    def own(self, registry: str) -> RegistryEntry | None:
        """The entry keyed by this registry itself, if the file has one."""
        return self.entries.get(normalize_registry(registry))

    def mirrors(self, registry: str) -> tuple[Mirror, ...]:
        own = self.own(registry)
        return own.mirrors if own is not None else ()

    def fallback(self, registry: str) -> bool:
        own = self.own(registry)
        return own is None or own.fallback is not False

    def setting(self, registry: str, name: str) -> object:
        """A setting for `registry`: its own entry's, else the `"*"` entry's; None when neither."""
        own = self.own(registry)
        value = getattr(own, name) if own is not None else None
        return value if value is not None else getattr(self.wildcard, name)

    def discovery(self, registry: str) -> str:
        """How repositories of `registry` are found: the file's choice, else by host."""
        chosen = self.setting(registry, "repository_discovery")
        if isinstance(chosen, str):
            return chosen
        return _DISCOVERY_BY_HOST.get(normalize_registry(registry), "catalog")

    def discovery_url(self, registry: str) -> str | None:
        """The discovery API's base URL: the file's, else the public one of the kind (None for
        `catalog` and `none`, which use the registry's own endpoints)."""
        own = self.own(registry)
        if own is not None and own.discovery_url is not None:
            return own.discovery_url
        return _DISCOVERY_URL_BY_KIND.get(self.discovery(registry))

    def registry_of_mirror(self, host: str) -> str | None:
        """The registry a mirror host (`host[:port]`) stands in for; the first entry naming it."""
        wanted = host.strip().lower()
        for key, entry in self.entries.items():
            if any(m.host == wanted for m in entry.mirrors):
                return key
        return None

    def entry_for_endpoint(self, host: str) -> tuple[str, RegistryEntry | None] | None:
        """For a mirror host: (its registry, that registry's entry); None when `host` is no mirror."""
        registry = self.registry_of_mirror(host)
        return None if registry is None else (registry, self.entries.get(registry))


NO_REGISTRIES = Registries()
