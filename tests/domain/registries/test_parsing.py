"""The registries file: every key read, every mistake a one-line error naming the key and the line."""

from __future__ import annotations

import pytest

from aimsource.domain.registries.entries import Mirror, RegistryEntry
from aimsource.domain.registries.parsing import InvalidRegistriesError, parse_registries

FULL = """\
registries:
  index.docker.io:
    mirrors:
      - url: https://Mirror.Corp.Example:5000/
        caFile: /etc/aimsource/ca/corp.pem
      - http://10.0.0.7:5000
      - https://harbor.corp.example:443
    fallback: false
    repositoryDiscovery: dockerhub
    discoveryURL: https://hub.docker.com
    requestsPerSecond: 10
    maxConcurrency: 4
    pageSize: 1000
  ghcr.io:
    insecure: false
    caFile: /etc/aimsource/ca/ghe.pem
    repositoryDiscovery: github
    discoveryURL: https://github.corp.example/api/v3
  "*":
    requestsPerSecond: 2.5
    maxConcurrency: 2
    pageSize: 100
    repositoryDiscovery: none
    caFile: /etc/aimsource/ca/all.pem
"""


def parse(text: str, *, files: tuple[str, ...] | None = None) -> object:
    exists = None if files is None else (lambda path: path in files)
    return parse_registries(text, origin="reg.yaml", file_exists=exists)


def test_every_key_is_read_and_names_are_normalised() -> None:
    registries = parse_registries(FULL, origin="reg.yaml")
    assert list(registries.entries) == ["docker.io", "ghcr.io", "*"]
    docker = registries.entries["docker.io"]
    assert docker == RegistryEntry(
        key="docker.io",
        mirrors=(
            Mirror(
                "https://mirror.corp.example:5000", "mirror.corp.example:5000", "/etc/aimsource/ca/corp.pem"
            ),
            Mirror("http://10.0.0.7:5000", "10.0.0.7:5000"),
            Mirror("https://harbor.corp.example", "harbor.corp.example"),  # :443 is https's own port
        ),
        fallback=False,
        repository_discovery="dockerhub",
        discovery_url="https://hub.docker.com",
        requests_per_second=10.0,
        max_concurrency=4,
        page_size=1000,
        line=2,
    )
    assert docker.mirrors[1].plain_http
    assert not docker.mirrors[0].plain_http
    ghcr = registries.entries["ghcr.io"]
    assert (ghcr.insecure, ghcr.ca_file, ghcr.discovery_url) == (
        False,
        "/etc/aimsource/ca/ghe.pem",
        "https://github.corp.example/api/v3",
    )
    wildcard = registries.wildcard
    assert (wildcard.requests_per_second, wildcard.max_concurrency, wildcard.page_size) == (2.5, 2, 100)


@pytest.mark.parametrize(
    "text", ["", "# nothing yet\n", "registries:\n", "registries: {}\n", "registries:\n  x.io:\n"]
)
def test_an_empty_file_is_valid(text: str) -> None:
    registries = parse_registries(text, origin="reg.yaml")
    assert all(not e.mirrors for e in registries.entries.values())


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("mirrors: []\n", "reg.yaml:1: mirrors: unknown key (known: registries)"),
        ("registries: []\n", "reg.yaml:1: registries: must be a mapping"),
        (
            "registries:\n  docker.io:\n    mirors: []\n",
            "reg.yaml:3: registries.docker.io.mirors: unknown key",
        ),
        (
            "registries:\n  docker.io:\n    mirrors:\n      - url: ftp://m\n",
            'reg.yaml:4: registries.docker.io.mirrors[0].url: "ftp://m" must start with https://',
        ),
        (
            "registries:\n  docker.io:\n    mirrors:\n      - url: https://m/v2/proxy\n",
            'mirrors[0].url: "https://m/v2/proxy": a mirror is host[:port] only',
        ),
        (
            "registries:\n  docker.io:\n    mirrors:\n      - url: https://u:p@m\n",
            "reg.yaml:4: registries.docker.io.mirrors[0].url: credentials do not belong in the URL",
        ),
        ("registries:\n  docker.io:\n    mirrors:\n      - url: https://m:99999\n", "is not a valid URL"),
        ("registries:\n  docker.io:\n    mirrors:\n      - url: https://\n", "names no host"),
        ("registries:\n  docker.io:\n    mirrors:\n      - url: https://m?x=1\n", "must not have a query"),
        (
            "registries:\n  docker.io:\n    mirrors:\n      - caFile: /x\n",
            "reg.yaml:4: registries.docker.io.mirrors[0].url: required",
        ),
        (
            "registries:\n  docker.io:\n    mirrors:\n      - url: https://m\n        ca: /x\n",
            "reg.yaml:5: registries.docker.io.mirrors[0].ca: unknown key (known: url, caFile)",
        ),
        ("registries:\n  docker.io:\n    mirrors: [https://m, https://m:443]\n", "m is listed twice"),
        ("registries:\n  docker.io:\n    mirrors: [https://registry-1.docker.io]\n", "is docker.io itself"),
        ("registries:\n  docker.io:\n    mirrors: https://m\n", "must be a list of mirrors"),
        (
            "registries:\n  docker.io:\n    fallback: maybe\n",
            "reg.yaml:3: registries.docker.io.fallback: must be true or false",
        ),
        (
            "registries:\n  docker.io:\n    repositoryDiscovery: hub\n",
            '"hub" is not one of dockerhub, github, catalog, none',
        ),
        ("registries:\n  docker.io:\n    discoveryURL: hub.docker.com\n", "must start with https://"),
        ("registries:\n  docker.io:\n    requestsPerSecond: -1\n", "0 or more"),
        ("registries:\n  docker.io:\n    requestsPerSecond: .nan\n", "0 or more"),
        ("registries:\n  docker.io:\n    requestsPerSecond: true\n", "must be a number, not true"),
        ("registries:\n  docker.io:\n    maxConcurrency: 0\n", "maxConcurrency: must be between 1 and 1000"),
        ("registries:\n  docker.io:\n    pageSize: 1.5\n", "pageSize: must be a whole number"),
        ("registries:\n  docker.io:\n    pageSize: 100000\n", "between 1 and 10000"),
        ("registries:\n  docker.io:\n    insecure: yes please\n", "insecure: must be true or false"),
        ("registries:\n  docker.io:\n    caFile: [a]\n", "caFile: must be a file path"),
        (
            "registries:\n  docker.io: {}\n  Index.Docker.io: {}\n",
            "reg.yaml:3: registries.Index.Docker.io: names docker.io again (line 2)",
        ),
        (
            "registries:\n  docker.io: {}\n  docker.io: {}\n",
            "reg.yaml:3: registries.docker.io: written twice",
        ),
        ("registries:\n  myregistry: {}\n", "reg.yaml:2: registries.myregistry: not a registry host"),
        ("registries:\n  https://ghcr.io: {}\n", "without scheme or path"),
        ("registries:\n  bad_host.io:5000: {}\n", "not a valid host[:port]"),
        (
            'registries:\n  "*":\n    mirrors: [https://m]\n',
            'reg.yaml:3: registries."*".mirrors: only for a named registry',
        ),
        ('registries:\n  "*":\n    fallback: false\n', "only for a named registry"),
        ('registries:\n  "*":\n    insecure: true\n', "only for a named registry"),
        ("registries:\n  docker.io: [\n", "reg.yaml:3: not valid YAML"),
        ("registries: {}\n---\nregistries: {}\n", "not valid YAML"),
        (
            "registries:\n  docker.io:\n    mirrors:\n"
            + "      - https://m{i}\n" * 0
            + "".join(f"      - https://m{i}\n" for i in range(11)),
            "at most 10 mirrors",
        ),
    ],
)
def test_mistakes_are_one_line_errors_naming_key_and_line(text: str, error: str) -> None:
    with pytest.raises(InvalidRegistriesError) as info:
        parse_registries(text, origin="reg.yaml")
    message = str(info.value)
    assert error in message
    assert "\n" not in message
    assert message.startswith("reg.yaml")


def test_a_missing_ca_file_is_an_error_when_files_are_checked() -> None:
    text = "registries:\n  docker.io:\n    mirrors:\n      - url: https://m\n        caFile: /nope.pem\n"
    with pytest.raises(
        InvalidRegistriesError,
        match=r"^reg.yaml:5: registries.docker.io.mirrors\[0\].caFile: /nope.pem: no such file$",
    ):
        parse(text, files=())
    assert parse(text, files=("/nope.pem",))
    with pytest.raises(
        InvalidRegistriesError, match=r"^reg.yaml:3: registries.x.io.caFile: /ca.pem: no such file$"
    ):
        parse("registries:\n  x.io:\n    caFile: /ca.pem\n", files=())


def test_a_password_written_in_a_url_is_never_shown() -> None:
    for url in ("https://user:hunter2@m:99999", "ftp://user:hunter2@m", "https://user:hunter2@m/path?q"):
        with pytest.raises(InvalidRegistriesError) as info:
            parse_registries(f"registries:\n  docker.io:\n    mirrors: [{url}]\n", origin="reg.yaml")
        assert "hunter2" not in str(info.value)


def test_deeply_nested_yaml_is_an_error_not_a_traceback() -> None:
    with pytest.raises(InvalidRegistriesError, match="not valid YAML"):
        parse_registries("registries: " + "[" * 5000, origin="reg.yaml")
