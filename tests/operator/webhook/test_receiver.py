"""The push-event receiver over real HTTP: every refusal, the order of checks, metrics and logs."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from aimsource.domain.pushes.payloads import Push
from aimsource.operator.endpoints import start_endpoints, stop_endpoints
from aimsource.operator.metrics import Metrics
from aimsource.operator.webhook import receiver as webhook
from aimsource.operator.webhook.connections import ConnectionLimits
from aimsource.operator.webhook.receiver import MAX_BODY, ClientBuckets, Receiver, ReceiverSettings
from tests.support.serving import free_port

TOKEN = "wh-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
GENERIC = {"registry": "ghcr.io", "repository": "amd/llama", "tag": "1.2.0"}


@dataclass
class Harness:
    client: httpx.AsyncClient
    metrics: Metrics
    pushes: list[Push] = field(default_factory=list)
    leading: bool = True
    token: bytes | None = TOKEN.encode()
    now: float = 0.0

    def count(self, provider: str, outcome: str) -> float:
        value = self.metrics.registry.get_sample_value(
            "aimsource_webhook_requests_total", {"provider": provider, "outcome": outcome}
        )
        return value or 0.0


@pytest.fixture
async def hook() -> AsyncIterator[Harness]:
    metrics = Metrics()
    port = free_port()
    harness: Harness

    def on_pushes(pushes: Sequence[Push]) -> int:
        harness.pushes.extend(pushes)
        return 1

    receiver = Receiver(
        token=lambda: harness.token,
        leading=lambda: harness.leading,
        on_pushes=on_pushes,
        count=metrics.webhook_request,
        settings=ReceiverSettings(
            rate=1.0,
            burst=5,
            failed_rate=1.0,
            failed_burst=3,
            max_clients=8,
            connections=ConnectionLimits(header_timeout=5, body_timeout=5, idle_timeout=5),
        ),
        clock=lambda: harness.now,
    )
    app = receiver.app()
    runners = await start_endpoints({port: app}, host="127.0.0.1", guarded={port: receiver.guards})
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        harness = Harness(client=client, metrics=metrics)
        try:
            yield harness
        finally:
            await stop_endpoints(runners)


async def post(h: Harness, provider: str, body: Any, *, token: str = TOKEN, **kw: Any) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await h.client.post(f"/hooks/{provider}/{token}", content=content, **kw)


async def test_a_generic_push_is_accepted_and_handed_on(hook: Harness) -> None:
    answer = await post(hook, "generic", GENERIC)
    assert answer.status_code == 202
    assert hook.pushes == [Push("ghcr.io", "amd/llama", "1.2.0")]
    assert hook.count("generic", "accepted") == 1


@pytest.mark.parametrize("token", ["wrong", TOKEN[:-1], TOKEN + "x", TOKEN.upper()])
async def test_a_wrong_token_is_401_and_triggers_nothing(hook: Harness, token: str) -> None:
    answer = await post(hook, "generic", GENERIC, token=token)
    assert answer.status_code == 401
    assert hook.pushes == []
    assert hook.count("generic", "unauthorized") == 1


@pytest.mark.parametrize("path", ["/hooks/generic", "/hooks/generic/"])
async def test_a_missing_token_is_401(hook: Harness, path: str) -> None:
    answer = await hook.client.post(path, content=json.dumps(GENERIC).encode())
    assert answer.status_code == 401
    assert hook.pushes == []


async def test_tokens_are_compared_in_constant_time(hook: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(webhook.hmac, "compare_digest", spy)
    assert (await post(hook, "generic", GENERIC, token="nope")).status_code == 401
    assert (b"nope", TOKEN.encode()) in calls


async def test_an_unknown_provider_is_404(hook: Harness) -> None:
    answer = await post(hook, "gitlab", GENERIC)
    assert answer.status_code == 404
    assert hook.count("unknown", "unknown_provider") == 1


async def test_a_body_over_one_mib_is_413_by_content_length(hook: Harness) -> None:
    answer = await post(hook, "generic", b"{" + b" " * MAX_BODY + b"}")
    assert answer.status_code == 413
    assert hook.pushes == []
    assert hook.count("generic", "too_large") == 1


async def test_a_chunked_body_over_one_mib_is_413_while_reading(hook: Harness) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b" " * 65536

    answer = await hook.client.post(f"/hooks/generic/{TOKEN}", content=chunks())
    assert answer.status_code == 413


async def test_a_big_body_with_a_wrong_token_is_401_without_reading_it(hook: Harness) -> None:
    answer = await post(hook, "generic", b" " * (MAX_BODY + 10), token="wrong")
    assert answer.status_code == 401


@pytest.mark.parametrize(
    ("provider", "body", "says"),
    [
        ("generic", b"{not json", "not JSON"),
        ("generic", {"repository": "a/b"}, "registry is missing"),
        ("distribution", {"events": "x"}, "events is not a list"),
        ("generic", b"[" * 100000, "not JSON"),
    ],
    ids=["not-json", "generic-no-registry", "distribution-bad-events", "deep-nesting"],
)
async def test_a_malformed_body_is_400_naming_what_is_wrong(
    hook: Harness, provider: str, body: Any, says: str
) -> None:
    answer = await post(hook, provider, body)
    assert answer.status_code == 400
    assert says in answer.text
    assert hook.pushes == []


async def test_a_notification_that_is_not_a_push_is_ignored(hook: Harness) -> None:
    answer = await post(hook, "distribution", {"events": [{"action": "pull", "target": {}, "request": {}}]})
    assert answer.status_code == 200
    assert hook.count("distribution", "ignored") == 1


async def test_ghcr_needs_the_hmac_signature_of_the_body(hook: Harness) -> None:
    body = json.dumps(
        {
            "action": "published",
            "package": {
                "namespace": "amd",
                "name": "llama",
                "package_type": "CONTAINER",
                "package_version": {"container_metadata": {"tag": {"name": "1.2.0", "digest": ""}}},
            },
        }
    ).encode()
    good = "sha256=" + hmac.new(TOKEN.encode(), body, hashlib.sha256).hexdigest()
    bad = "sha256=" + hmac.new(b"other", body, hashlib.sha256).hexdigest()
    assert (await post(hook, "ghcr", body)).status_code == 401
    assert (await post(hook, "ghcr", body, headers={"X-Hub-Signature-256": bad})).status_code == 401
    assert hook.pushes == []
    answer = await post(hook, "ghcr", body, headers={"X-Hub-Signature-256": good})
    assert answer.status_code == 202
    assert hook.pushes == [Push("ghcr.io", "amd/llama", "1.2.0")]


async def test_requests_beyond_a_providers_burst_are_429_until_the_bucket_refills(hook: Harness) -> None:
    codes = [(await post(hook, "generic", GENERIC)).status_code for _ in range(7)]
    assert codes == [202] * 5 + [429] * 2
    answer = await post(hook, "generic", GENERIC)
    assert (answer.status_code, answer.headers.get("Retry-After")) == (429, "10")
    hook.now += 1.0  # one token back at one request per second
    assert (await post(hook, "generic", GENERIC)).status_code == 202
    assert hook.count("generic", "rate_limited") == 3


async def test_failed_requests_have_a_small_budget_of_their_own(hook: Harness) -> None:
    codes = [(await post(hook, "generic", GENERIC, token="wrong")).status_code for _ in range(5)]
    assert codes == [401] * 3 + [429] * 2
    assert (await post(hook, "gitlab", GENERIC)).status_code == 429  # unknown providers spend it too
    assert hook.count("generic", "rate_limited_failed") == 2
    hook.now += 1.0
    assert (await post(hook, "generic", GENERIC, token="wrong")).status_code == 401


async def test_a_flood_of_wrong_tokens_from_one_address_does_not_refuse_the_right_one(hook: Harness) -> None:
    """Behind an Ingress every request comes from one address: strangers must not spend the budget."""
    codes = [(await post(hook, "generic", GENERIC, token=f"guess-{i}")).status_code for i in range(200)]
    assert codes.count(401) == 3
    assert codes.count(429) == 197
    answer = await post(hook, "generic", GENERIC)
    assert answer.status_code == 202
    assert hook.pushes == [Push("ghcr.io", "amd/llama", "1.2.0")]


async def test_one_providers_noise_does_not_starve_another(hook: Harness) -> None:
    for _ in range(6):
        await post(hook, "generic", GENERIC)
    assert (await post(hook, "generic", GENERIC)).status_code == 429
    pull = {"events": [{"action": "pull", "target": {}, "request": {}}]}
    assert (await post(hook, "distribution", pull)).status_code == 200


async def test_a_standby_answers_503_so_the_sender_retries(hook: Harness) -> None:
    hook.leading = False
    answer = await post(hook, "generic", GENERIC)
    assert (answer.status_code, answer.headers.get("Retry-After")) == (503, "10")
    assert hook.pushes == []
    assert hook.count("generic", "not_leader") == 1


async def test_without_a_readable_token_every_request_is_503(hook: Harness) -> None:
    hook.token = None
    assert (await post(hook, "generic", GENERIC)).status_code == 503
    assert hook.pushes == []


async def test_the_token_never_reaches_a_log_line(hook: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("aiohttp.access").setLevel(logging.DEBUG)
    await post(hook, "generic", GENERIC)
    await post(hook, "generic", GENERIC, token=TOKEN[:-2] + "zz")  # a near miss is as secret
    await post(hook, "generic", b"{", token=TOKEN)
    assert [r.getMessage() for r in caplog.records if r.name == "aimsource.operator"].count(
        "webhook request"
    ) == 3
    server_side = [
        r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))
    ]  # not the sender
    for record in server_side:
        text = record.getMessage() + repr(record.__dict__)
        assert TOKEN[:-2] not in text


def test_the_client_table_is_bounded_and_forgets_the_least_recent() -> None:
    buckets = ClientBuckets(rate=1.0, burst=1, max_clients=3, clock=lambda: 0.0)
    for client in ("a", "b", "c", "d"):
        assert buckets.take(client)
    assert len(buckets) == 3
    assert buckets.take("a")  # forgotten, so a fresh bucket
    assert not buckets.take("d")
