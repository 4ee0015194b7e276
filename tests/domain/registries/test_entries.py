"""Which entry applies to a registry, discovery defaults by host, and mirrors' registries."""

from __future__ import annotations

from aimsource.domain.registries.entries import NO_REGISTRIES, Mirror, Registries, RegistryEntry
from aimsource.domain.registries.parsing import parse_registries

TEXT = """\
registries:
  docker.io:
    mirrors: [https://harbor.corp.example, http://10.0.0.7:5000]
    fallback: false
    requestsPerSecond: 10
  ghcr.io:
    mirrors: [https://harbor.corp.example]
    discoveryURL: https://github.corp.example/api/v3
  quay.io:
    repositoryDiscovery: none
  "*":
    requestsPerSecond: 20
    maxConcurrency: 2
    repositoryDiscovery: catalog
"""
REGISTRIES = parse_registries(TEXT, origin="t")


def test_own_entry_else_wildcard_else_nothing() -> None:
    assert REGISTRIES.setting("index.docker.io", "requests_per_second") == 10.0
    assert REGISTRIES.setting("docker.io", "max_concurrency") == 2  # from "*"
    assert REGISTRIES.setting("registry.example", "requests_per_second") == 20.0
    assert NO_REGISTRIES.setting("docker.io", "requests_per_second") is None
    assert not NO_REGISTRIES
    assert REGISTRIES


def test_mirrors_and_fallback() -> None:
    assert [m.host for m in REGISTRIES.mirrors("registry-1.docker.io")] == [
        "harbor.corp.example",
        "10.0.0.7:5000",
    ]
    assert not REGISTRIES.fallback("docker.io")
    assert REGISTRIES.fallback("ghcr.io")  # default true
    assert REGISTRIES.fallback("other.example")
    assert REGISTRIES.mirrors("other.example") == ()


def test_discovery_defaults_by_host_and_overrides() -> None:
    plain = Registries({})
    assert [plain.discovery(r) for r in ("docker.io", "ghcr.io", "localhost:5000")] == [
        "dockerhub",
        "github",
        "catalog",
    ]
    assert plain.discovery_url("docker.io") == "https://hub.docker.com"
    assert plain.discovery_url("ghcr.io") == "https://api.github.com"
    assert plain.discovery_url("localhost:5000") is None
    assert REGISTRIES.discovery("quay.io") == "none"
    assert REGISTRIES.discovery("example.org") == "catalog"  # the "*" entry's choice
    assert REGISTRIES.discovery_url("ghcr.io") == "https://github.corp.example/api/v3"


def test_a_mirror_host_names_the_first_registry_listing_it() -> None:
    assert REGISTRIES.registry_of_mirror("HARBOR.corp.example") == "docker.io"
    assert REGISTRIES.registry_of_mirror("10.0.0.7:5000") == "docker.io"
    assert REGISTRIES.registry_of_mirror("docker.io") is None
    assert REGISTRIES.entry_for_endpoint("10.0.0.7:5000") == ("docker.io", REGISTRIES.entries["docker.io"])
    assert REGISTRIES.entry_for_endpoint("nowhere") is None


def test_values_are_frozen_and_compare_by_content() -> None:
    again = parse_registries(TEXT, origin="elsewhere")
    assert again == REGISTRIES
    assert hash(again) == hash(REGISTRIES)
    assert Registries({"x.io": RegistryEntry("x.io")}) != REGISTRIES
    assert Mirror("http://a:1", "a:1").plain_http
