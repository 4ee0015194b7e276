"""The Docker Hub front (tests/support/docker_hub_front.py) answers as Docker Hub does on rate limits:
the quota headers on every answer, the first `throttle` tag listings refused with 429, then the real
registry's answers. The monitoring end-to-end test relies on both for its quota and wait metrics."""

from __future__ import annotations

import httpx
import pytest

from tests.support.docker_hub_front import LIMIT, REMAINING, docker_hub_front
from tests.support.registry_fixtures import STANDARD_IMAGES
from tests.support.registry_server import RunningRegistry

pytestmark = pytest.mark.registry
QWEN = "amdenterpriseai/aim-qwen-qwen3-32b"


def test_the_first_listings_are_throttled_then_the_registry_answers(
    anonymous_registry: RunningRegistry,
) -> None:
    with docker_hub_front(anonymous_registry.base_url, throttle=2) as front:
        answers = [httpx.get(f"{front.url}/v2/{QWEN}/tags/list") for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "0"
    assert answers[0].json()["errors"][0]["code"] == "TOOMANYREQUESTS"
    assert sorted(answers[2].json()["tags"]) == sorted(STANDARD_IMAGES[QWEN])
    for answer in answers:
        assert answer.headers["ratelimit-limit"] == f"{LIMIT};w=21600"
        assert answer.headers["ratelimit-remaining"] == f"{REMAINING};w=21600"


def test_other_requests_are_never_throttled(anonymous_registry: RunningRegistry) -> None:
    with docker_hub_front(anonymous_registry.base_url, throttle=5) as front:
        head = httpx.head(
            f"{front.url}/v2/{QWEN}/manifests/0.8.5",
            headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        )
        base = httpx.get(f"{front.url}/v2/")
    assert (head.status_code, base.status_code) == (200, 200)
    assert head.headers["Docker-Content-Digest"].startswith("sha256:")
    assert head.headers["ratelimit-remaining"] == f"{REMAINING};w=21600"
