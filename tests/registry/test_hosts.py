"""The registries file as per-host tables: the precedence entry > "*" > flag > default, per endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from aimsource.domain.registries.parsing import parse_registries
from aimsource.registry.errors import TLSFailure
from aimsource.registry.hosts import host_tables
from aimsource.registry.http.limits import Budget
from aimsource.registry.settings import RegistrySettings
from tests.support.tls import CertificateAuthority

FLAGS = RegistrySettings(
    max_concurrency_per_host=3, insecure=frozenset({"old.example"}), ca_file=None
).with_rate(7)


def tables(text: str, flags: RegistrySettings = FLAGS):  # type: ignore[no-untyped-def]
    return host_tables(flags, parse_registries(text, origin="t"))


def test_without_a_file_the_flags_apply_to_every_host() -> None:
    found = tables("")
    assert found.default_budget == Budget(concurrency=3, rate=7.0, burst=14)
    assert found.budgets == {}
    assert found.settings == FLAGS
    assert (found.default_page_size, found.default_ca) == (1000, None)


def test_an_entry_overrides_the_wildcard_which_overrides_the_flags() -> None:
    found = tables(
        "registries:\n"
        "  docker.io:\n    requestsPerSecond: 10\n    pageSize: 500\n"
        "  ghcr.io:\n    maxConcurrency: 1\n"
        '  "*":\n    requestsPerSecond: 2\n'
    )
    assert found.default_budget == Budget(concurrency=3, rate=2.0, burst=4)  # "*" rate, flag concurrency
    assert found.budgets["registry-1.docker.io"] == Budget(concurrency=3, rate=10.0, burst=20)
    assert found.budgets["ghcr.io"] == Budget(concurrency=1, rate=2.0, burst=4)
    assert found.page_sizes == {"registry-1.docker.io": 500}


def test_each_mirror_gets_its_registrys_settings_and_a_budget_of_its_own() -> None:
    found = tables(
        "registries:\n"
        "  docker.io:\n    mirrors: [https://m.example, http://10.0.0.7:5000]\n"
        "    requestsPerSecond: 5\n    maxConcurrency: 2\n    pageSize: 200\n"
        "  m.example:\n    requestsPerSecond: 1\n"
    )
    assert found.budgets["10.0.0.7:5000"] == Budget(concurrency=2, rate=5.0, burst=10)
    assert found.budgets["m.example"] == Budget(concurrency=3, rate=1.0, burst=2)  # its own entry wins
    assert found.page_sizes["10.0.0.7:5000"] == 200
    # The http:// mirror may be spoken to over plain HTTP; no other host was added.
    assert found.settings.insecure == {"old.example", "10.0.0.7:5000"}


def test_insecure_entries_add_and_remove_plain_http_hosts() -> None:
    found = tables(
        "registries:\n  new.example:5000:\n    insecure: true\n  old.example:\n    insecure: false\n"
    )
    assert found.settings.insecure == {"new.example:5000"}


def test_ca_files_per_host_and_for_every_host(tmp_path: Path, registry_ca: CertificateAuthority) -> None:
    ca = str(registry_ca.ca_file)
    found = tables(
        "registries:\n"
        f"  docker.io:\n    mirrors:\n      - url: https://m.example\n        caFile: {ca}\n"
        f"  private.example:\n    caFile: {ca}\n"
        f'  "*":\n    caFile: {ca}\n'
    )
    assert found.own_cas == {"m.example": ca, "private.example": ca}
    assert found.default_ca == ca
    own, default = found.contexts()
    assert set(own) == {"m.example", "private.example"}
    assert default is not None  # the "*" CA differs from --ca-file: every host gets it
    not_pem = tmp_path / "x.pem"
    not_pem.write_text("nope")
    with pytest.raises(TLSFailure, match="not a PEM certificate bundle"):
        tables(f"registries:\n  x.example:\n    caFile: {not_pem}\n").contexts()


def test_a_wildcard_rate_of_zero_means_no_budget_for_every_other_host() -> None:
    found = tables('registries:\n  "*":\n    requestsPerSecond: 0\n')
    assert found.default_budget.rate == 0.0
    assert found.default_budget.concurrency == 3


def test_githubs_api_hosts_get_at_most_four_requests_in_flight_unless_an_entry_says_otherwise() -> None:
    many = RegistrySettings(max_concurrency_per_host=16).with_rate(7)
    found = tables("", many)
    assert found.budgets["api.github.com"] == Budget(concurrency=4, rate=7.0, burst=14)
    assert "hub.docker.com" not in found.budgets  # Docker Hub's API: the flags' budget
    enterprise = tables(
        "registries:\n  ghe.example.com:\n    repositoryDiscovery: github\n"
        "    discoveryURL: https://ghe.example.com/api/v3\n",
        many,
    )
    assert enterprise.budgets["ghe.example.com"].concurrency == 4
    own = tables('registries:\n  "api.github.com":\n    maxConcurrency: 8\n', many)
    assert own.budgets["api.github.com"].concurrency == 8
