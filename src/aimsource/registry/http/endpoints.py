"""Where a registry lives on the network and which URL schemes we may use to reach it.

`docker.io` is a name, not a host: its API answers at `registry-1.docker.io`. Everything else is
reached at the `host[:port]` written in the reference. HTTPS is the rule; plain HTTP is allowed
only for loopback hosts (a registry on 127.0.0.1 in a demo or a test) and hosts the operator was
told to treat as insecure. For those we still try HTTPS first and fall back to HTTP only when the
server does not speak TLS at all (Docker does the same), and we remember the answer per host so the
probe costs one failed handshake per process, not one per request.
"""

from __future__ import annotations

import functools
import ipaddress
from collections import OrderedDict

from yarl import URL

from aimsource.domain.references import DOCKER_HUB, normalize_registry
from aimsource.registry.settings import RegistrySettings

DOCKER_HUB_API_HOST = "registry-1.docker.io"


def api_host(registry: str) -> str:
    """The `host[:port]` serving the registry API for `registry` (as written in `ImageRef.registry`)."""
    registry = normalize_registry(registry)
    return DOCKER_HUB_API_HOST if registry == DOCKER_HUB else registry


@functools.lru_cache(maxsize=256)  # asked on every request and redirect; parsing an address is not free
def is_loopback(host: str) -> bool:
    """Whether a bare host name (no port, no brackets) is this machine: localhost, 127/8, ::1."""
    host = host.lower().strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@functools.lru_cache(maxsize=256)
def is_internal(host: str) -> bool:
    """Whether a bare host name is this machine or its link (loopback, link-local such as a cloud's
    metadata service at 169.254.169.254): where a registry may not send us unless it is there too."""
    if is_loopback(host):
        return True
    try:
        return ipaddress.ip_address(host.lower().strip("[]")).is_link_local
    except ValueError:
        return False


def redirect_allowed(origin: URL, target: URL) -> bool:
    """A registry on the network may not redirect to loopback or link-local addresses (written as
    such; a name is not resolved here); a registry on one of them may."""
    return not is_internal((target.host or "").lower()) or is_internal((origin.host or "").lower())


MAX_PLAIN_HOSTS = 256
"""Hosts remembered as plain HTTP; the least recently learnt is probed again when forgotten."""

_DEFAULT_PORTS = {"http": 80, "https": 443}


def written_port(url: URL) -> int | None:
    """The port of `url` as written, None when it is the scheme's default (`https://h:443` is `h`)."""
    port = url.explicit_port
    return None if port is None or _DEFAULT_PORTS.get(url.scheme) == port else port


def netloc(url: URL) -> str:
    """`host[:port]` of a URL, lower-case, the way `insecure` entries and our host keys are written."""
    host = (url.host or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = written_port(url)
    return host if port is None else f"{host}:{port}"


def plain_http_allowed(url: URL, settings: RegistrySettings) -> bool:
    """Whether plain HTTP may be used for the host of `url`."""
    host = (url.host or "").lower()
    return is_loopback(host) or host in settings.insecure or netloc(url) in settings.insecure


def scheme_allowed(url: URL, settings: RegistrySettings) -> bool:
    """Whether we may send a request to `url` at all: https anywhere, http only where allowed."""
    if url.scheme == "https":
        return True
    return url.scheme == "http" and plain_http_allowed(url, settings)


def same_origin(a: URL, b: URL) -> bool:
    """Same host and same port as written (default ports count as unwritten, so `https://h` and
    `http://h` compare equal: that is our own HTTPS-to-HTTP probe, not another server; callers that
    care about the scheme check it themselves)."""
    return (a.host or "").lower() == (b.host or "").lower() and written_port(a) == written_port(b)


class Schemes:
    """Remembers, per API host, whether it turned out to speak only plain HTTP."""

    def __init__(self, settings: RegistrySettings) -> None:
        self._settings = settings
        self._plain: OrderedDict[str, None] = OrderedDict()

    def retune(self, settings: RegistrySettings) -> None:
        """Use `settings` (a reloaded registries file changes which hosts may be plain HTTP)."""
        self._settings = settings

    def base_url(self, host: str) -> URL:
        """`https://host[:port]`, or `http://...` once the host proved to be plain HTTP."""
        scheme = "http" if host in self._plain else "https"
        return URL(f"{scheme}://{host}", encoded=True)

    def may_downgrade(self, url: URL) -> bool:
        return url.scheme == "https" and plain_http_allowed(url, self._settings)

    def downgrade(self, url: URL) -> URL:
        """Remember that the host of `url` speaks plain HTTP and return `url` with that scheme.

        An explicit port is kept (a test registry on 127.0.0.1:5000 is plain HTTP on 5000); without
        one the default ports apply, as with Docker's insecure registries."""
        host = netloc(url)
        self._plain.pop(host, None)
        self._plain[host] = None
        while len(self._plain) > MAX_PLAIN_HOSTS:  # one per loopback port a redirect may name
            self._plain.popitem(last=False)
        return url.with_scheme("http")

    def __len__(self) -> int:
        return len(self._plain)
