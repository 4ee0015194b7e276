"""The chart's `registries` value: rendered into the ConfigMap the operator reads, checked by
values.schema.json, and the same file `deploy/` ships when left empty."""

from __future__ import annotations

from typing import Any

from aimsource.domain.registries.parsing import parse_registries
from tests.deploy.helm import CHART, helm, helm_template, set_args
from tests.deploy.manifests import DEPLOY, render

MIRRORED = {
    "docker.io": {
        "mirrors": [
            {"url": "https://mirror.corp.example:5000", "caFile": "/etc/aimsource/registry-ca/ca.crt"},
            "http://10.0.0.7:5000",
        ],
        "fallback": False,
        "requestsPerSecond": 10,
        "maxConcurrency": 4,
        "pageSize": 1000,
        "repositoryDiscovery": "dockerhub",
        "discoveryURL": "https://hub.docker.com",
    },
    "ghcr.io": {"insecure": False, "caFile": "/etc/aimsource/registry-ca/ca.crt"},
    "*": {"requestsPerSecond": 20},
}


def configmap(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (found,) = [
        o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "aimsource-registries"
    ]
    return found


def test_the_value_is_the_file_the_operator_reads() -> None:
    text = configmap(helm_template({"registries": MIRRORED}))["data"]["registries.yaml"]
    rendered = parse_registries(text, origin="chart")
    assert [m.url for m in rendered.mirrors("docker.io")] == [
        "https://mirror.corp.example:5000",
        "http://10.0.0.7:5000",
    ]
    assert not rendered.fallback("docker.io")
    assert rendered.wildcard.requests_per_second == 20.0
    assert rendered.entries["ghcr.io"].insecure is False


def test_left_empty_it_is_the_configmap_of_deploy() -> None:
    chart = configmap(helm_template())
    shipped = configmap(render(DEPLOY))
    assert chart["data"] == shipped["data"] == {"registries.yaml": "registries: {}\n"}


def test_the_schema_refuses_what_the_operator_would() -> None:
    for bad, why in (
        ({"docker.io": {"mirors": []}}, "mirors"),
        ({"docker.io": {"mirrors": [{"url": "ftp://m"}]}}, "url"),
        ({"docker.io": {"mirrors": [{"url": "https://m", "cafile": "/x"}]}}, "cafile"),
        ({"docker.io": {"fallback": "no"}}, "fallback"),
        ({"docker.io": {"repositoryDiscovery": "hub"}}, "repositoryDiscovery"),
        ({"docker.io": {"maxConcurrency": 0}}, "maxConcurrency"),
        ({"not a host": {}}, "not a host"),
    ):
        result = helm("template", "x", str(CHART), *set_args({"registries": bad}), check=False)
        assert result.returncode != 0, bad
        assert "values don't meet the specifications of the schema" in result.stderr, result.stderr
        assert why in result.stderr, result.stderr
