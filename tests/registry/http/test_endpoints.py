"""Which host answers for a registry, and which URLs the client may follow: `registry/http/endpoints.py`."""

from __future__ import annotations

import pytest
from yarl import URL

from aimsource.registry.http.endpoints import (
    MAX_PLAIN_HOSTS,
    Schemes,
    api_host,
    is_internal,
    is_loopback,
    plain_http_allowed,
    redirect_allowed,
    same_origin,
    scheme_allowed,
)
from aimsource.registry.settings import RegistrySettings


@pytest.mark.parametrize(
    ("registry", "host"),
    [
        pytest.param("docker.io", "registry-1.docker.io", id="docker-hub"),
        pytest.param("index.docker.io", "registry-1.docker.io", id="docker-hub-alias"),
        pytest.param("ghcr.io", "ghcr.io", id="ghcr"),
        pytest.param("localhost:5000", "localhost:5000", id="port-kept"),
    ],
)
def test_api_host(registry: str, host: str) -> None:
    assert api_host(registry) == host


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("localhost", True), ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True),
     ("128.0.0.1", False), ("ghcr.io", False), ("localhost.example", False), ("10.0.0.1", False)],
)  # fmt: skip
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("url", "insecure", "allowed"),
    [
        pytest.param("https://ghcr.io/v2/", set(), True, id="https-anywhere"),
        pytest.param("http://ghcr.io/v2/", set(), False, id="http-public-refused"),
        pytest.param("http://127.0.0.1:5000/v2/", set(), True, id="http-loopback"),
        pytest.param("http://[::1]:5000/v2/", set(), True, id="http-ipv6-loopback"),
        pytest.param("http://reg.lan:5000/v2/", {"reg.lan"}, True, id="insecure-host-any-port"),
        pytest.param("http://reg.lan:5000/v2/", {"reg.lan:5000"}, True, id="insecure-host-port"),
        pytest.param("http://reg.lan:5001/v2/", {"reg.lan:5000"}, False, id="insecure-other-port"),
        pytest.param("ftp://127.0.0.1/", set(), False, id="other-scheme"),
    ],
)
def test_scheme_allowed(url: str, insecure: set[str], allowed: bool) -> None:
    settings = RegistrySettings(insecure=frozenset(insecure))
    assert scheme_allowed(URL(url), settings) is allowed


def test_insecure_entries_are_normalised() -> None:
    settings = RegistrySettings(insecure=frozenset({" Reg.LAN:5000 "}))
    assert plain_http_allowed(URL("http://reg.lan:5000/"), settings)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        pytest.param("https://localhost/v2/x", "http://localhost/v2/y", True, id="downgrade-no-port"),
        pytest.param("https://h:5000/a", "http://h:5000/b", True, id="downgrade-port"),
        pytest.param("https://h:5000/a", "https://h:5001/a", False, id="other-port"),
        pytest.param("https://h/a", "https://H/a", True, id="host-case"),
        pytest.param("https://h/a", "https://evil.h/a", False, id="other-host"),
    ],
)
def test_same_origin(a: str, b: str, same: bool) -> None:
    assert same_origin(URL(a), URL(b)) is same


@pytest.mark.parametrize(
    ("host", "internal"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("169.254.169.254", True), ("fe80::1", True),
     ("[fe80::1]", True), ("10.0.0.1", False), ("ghcr.io", False), ("192.0.2.2", False)],
)  # fmt: skip
def test_is_internal(host: str, internal: bool) -> None:
    assert is_internal(host) is internal


@pytest.mark.parametrize(
    ("origin", "target", "allowed"),
    [
        ("https://ghcr.io/v2/", "https://pkg-containers.githubusercontent.com/x", True),
        ("https://ghcr.io/v2/", "http://127.0.0.1:8080/x", False),
        ("https://ghcr.io/v2/", "http://localhost/x", False),
        ("https://ghcr.io/v2/", "http://169.254.169.254/latest/meta-data/", False),
        ("https://ghcr.io/v2/", "http://[fe80::1]/x", False),
        ("http://127.0.0.1:5000/v2/", "http://127.0.0.1:5001/x", True),  # a loopback registry may
        ("http://[::1]:5000/v2/", "http://169.254.1.1/x", True),
    ],
)
def test_redirect_allowed(origin: str, target: str, allowed: bool) -> None:
    assert redirect_allowed(URL(origin), URL(target)) is allowed


def test_the_plain_http_table_is_bounded_and_keeps_the_latest() -> None:
    schemes = Schemes(RegistrySettings())
    for port in range(10_000, 10_000 + 3 * MAX_PLAIN_HOSTS):
        schemes.downgrade(URL(f"https://127.0.0.1:{port}/v2/"))
    assert len(schemes) == MAX_PLAIN_HOSTS
    assert schemes.base_url(f"127.0.0.1:{10_000 + 3 * MAX_PLAIN_HOSTS - 1}").scheme == "http"
    assert schemes.base_url("127.0.0.1:10000").scheme == "https"  # forgotten: probed again
