"""The registry test infrastructure itself works: real registries in each mode, the token flow, TLS,
the paginating front and every fault of the fault-injecting front, checked with plain httpx.

If these fail, the client's tests against them mean nothing; so they check what the client relies on
(challenge headers, digests, pages, fault shapes), not just that servers start.
"""

from __future__ import annotations

import base64
import email.utils
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.support.faults import Fault, FaultFront, RecordingServer
from tests.support.fronts import PaginatingFront
from tests.support.images import MANIFEST_MEDIA_TYPES, ManifestKind
from tests.support.registry_fixtures import BIG_REPOSITORY, BIG_TAGS, PRIVATE_REPOSITORY, STANDARD_IMAGES
from tests.support.registry_server import RunningRegistry
from tests.support.serving import free_port
from tests.support.tls import make_signing_key
from tests.support.token_server import TokenServer

pytestmark = pytest.mark.registry

QWEN = "amdenterpriseai/aim-qwen-qwen3-32b"


def _tags(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(response.json()["tags"])


def _challenge(response: httpx.Response) -> dict[str, str]:
    scheme, _, rest = response.headers["WWW-Authenticate"].partition(" ")
    params = dict(part.split("=", 1) for part in rest.split(","))
    return {"scheme": scheme, **{k: v.strip('"') for k, v in params.items()}}


# -- registries in each mode ---------------------------------------------------------------------


def test_anonymous_registry_lists_seeded_tags_without_credentials(
    anonymous_registry: RunningRegistry,
) -> None:
    response = httpx.get(f"{anonymous_registry.base_url}/v2/{QWEN}/tags/list")
    assert _tags(response) == sorted(STANDARD_IMAGES[QWEN])
    assert anonymous_registry.docker_config() == {"auths": {}}


@pytest.mark.parametrize(
    ("credentials", "expected"),
    [
        pytest.param(None, 401, id="no-credentials"),
        pytest.param(("aim-robot", "wrong-password"), 401, id="wrong-password"),
        pytest.param(("nobody", "x"), 401, id="unknown-user"),
        pytest.param("right", 200, id="right-credentials"),
    ],
)
def test_htpasswd_registry_requires_basic_credentials(
    htpasswd_registry: RunningRegistry, credentials: tuple[str, str] | str | None, expected: int
) -> None:
    auth = htpasswd_registry.auth() if credentials == "right" else credentials
    response = httpx.get(f"{htpasswd_registry.base_url}/v2/{QWEN}/tags/list", auth=auth)  # type: ignore[arg-type]
    assert response.status_code == expected
    if expected == 401:
        assert _challenge(response)["scheme"] == "Basic"
    else:
        assert _tags(response) == sorted(STANDARD_IMAGES[QWEN])


def test_docker_config_holds_credentials_the_registry_accepts(htpasswd_registry: RunningRegistry) -> None:
    entry = htpasswd_registry.docker_config()["auths"][htpasswd_registry.host]
    response = httpx.get(
        f"{htpasswd_registry.base_url}/v2/", headers={"Authorization": f"Basic {entry['auth']}"}
    )
    assert response.status_code == 200


def test_registry_log_is_captured(anonymous_registry: RunningRegistry) -> None:
    httpx.get(f"{anonymous_registry.base_url}/v2/{QWEN}/tags/list")
    assert "/v2/amdenterpriseai/aim-qwen-qwen3-32b/tags/list" in anonymous_registry.log_text()


def test_secret_strings_name_the_forms_a_basic_header_carries(htpasswd_registry: RunningRegistry) -> None:
    pair = f"{htpasswd_registry.username}:{htpasswd_registry.password}"
    header = "Basic " + base64.b64encode(pair.encode()).decode()
    password, encoded = htpasswd_registry.secret_strings()
    assert password == htpasswd_registry.password
    assert header == f"Basic {encoded}"
    # (No check of docker-registry's own log: no code of ours writes it. The tests that use these
    # strings search what we write: the CLI's output, the operator's log, statuses and events.)


def test_an_anonymous_registry_has_no_secret_strings(anonymous_registry: RunningRegistry) -> None:
    assert anonymous_registry.secret_strings() == ()


# -- token flow ----------------------------------------------------------------------------------


def _token(
    registry: RunningRegistry, challenge: dict[str, str], auth: httpx.BasicAuth | None
) -> httpx.Response:
    return httpx.get(
        challenge["realm"],
        params={"service": challenge["service"], "scope": challenge["scope"]},
        auth=auth,
        verify=registry.verify,
    )


@pytest.mark.parametrize(
    ("repository", "with_credentials", "expected"),
    [
        pytest.param(QWEN, False, 200, id="public-anonymous"),
        pytest.param(QWEN, True, 200, id="public-with-credentials"),
        pytest.param(PRIVATE_REPOSITORY, False, 401, id="private-anonymous-gets-no-access"),
        pytest.param(PRIVATE_REPOSITORY, True, 200, id="private-with-credentials"),
    ],
)
def test_token_flow_end_to_end(
    token_registry: RunningRegistry, repository: str, with_credentials: bool, expected: int
) -> None:
    assert token_registry.token_server is not None
    url = f"{token_registry.base_url}/v2/{repository}/tags/list"
    first = httpx.get(url)
    assert first.status_code == 401
    challenge = _challenge(first)
    assert challenge == {
        "scheme": "Bearer",
        "realm": token_registry.token_server.realm,
        "service": token_registry.token_server.service,
        "scope": f"repository:{repository}:pull",
    }
    token_response = _token(token_registry, challenge, token_registry.auth() if with_credentials else None)
    assert token_response.status_code == 200
    body = token_response.json()
    assert body["token"] == body["access_token"]
    assert body["expires_in"] == 300
    second = httpx.get(url, headers={"Authorization": f"Bearer {body['token']}"})
    assert second.status_code == expected
    if expected == 200:
        assert second.json()["name"] == repository


def test_token_server_rejects_wrong_credentials_and_records_what_it_saw(
    token_registry: RunningRegistry,
) -> None:
    server = token_registry.token_server
    assert server is not None
    server.reset()
    challenge = _challenge(httpx.get(f"{token_registry.base_url}/v2/{QWEN}/tags/list"))
    wrong = httpx.BasicAuth("aim-robot", "not-the-password")
    assert _token(token_registry, challenge, wrong).status_code == 401
    assert _token(token_registry, challenge, None).status_code == 200
    seen = server.authorizations()
    assert len(seen) == 2
    assert seen[0] is not None
    assert seen[0].startswith("Basic ")
    assert seen[1] is None
    assert [r.status for r in server.requests] == [401, 200]
    assert server.requests[1].granted == ((QWEN, ("pull",)),)


def test_token_server_can_fail_on_demand_and_omit_expiry(token_registry: RunningRegistry) -> None:
    server = token_registry.token_server
    assert server is not None
    challenge = _challenge(httpx.get(f"{token_registry.base_url}/v2/{QWEN}/tags/list"))
    server.policy.fail_next.append(503)
    server.policy.expires_in = None
    try:
        assert _token(token_registry, challenge, None).status_code == 503
        body = _token(token_registry, challenge, None).json()
        assert "expires_in" not in body
    finally:
        server.policy.expires_in = 300
    assert (
        httpx.get(
            f"{token_registry.base_url}/v2/{QWEN}/tags/list",
            headers={"Authorization": f"Bearer {body['token']}"},
        ).status_code
        == 200
    )


def test_token_server_realm_can_name_another_host(tmp_path: Path) -> None:
    key = make_signing_key(tmp_path)
    with TokenServer(signing_key=key, service="svc", hostname="localhost") as server:
        assert server.realm.startswith("http://localhost:")
        response = httpx.get(server.realm, params={"service": "svc", "scope": "repository:a/b:pull"})
        assert response.status_code == 200


# -- TLS -----------------------------------------------------------------------------------------


def test_tls_registry_verifies_with_its_ca_file(tls_registry: RunningRegistry) -> None:
    assert tls_registry.scheme == "https"
    assert tls_registry.ca_file is not None
    response = httpx.get(
        f"{tls_registry.base_url}/v2/{QWEN}/tags/list", verify=tls_registry.verify, auth=tls_registry.auth()
    )
    assert _tags(response) == sorted(STANDARD_IMAGES[QWEN])


def test_tls_registry_fails_verification_without_its_ca_file(tls_registry: RunningRegistry) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{tls_registry.base_url}/v2/")


def test_tls_token_registry_realm_is_another_https_host(tls_token_registry: RunningRegistry) -> None:
    url = f"{tls_token_registry.base_url}/v2/{PRIVATE_REPOSITORY}/tags/list"
    challenge = _challenge(httpx.get(url, verify=tls_token_registry.verify))
    assert challenge["realm"].startswith("https://localhost:")
    token = _token(tls_token_registry, challenge, tls_token_registry.auth()).json()["token"]
    response = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, verify=tls_token_registry.verify)
    assert _tags(response) == ["1.0.0"]


# -- images --------------------------------------------------------------------------------------


def test_manifest_head_without_accept_is_not_the_pushed_digest(anonymous_registry: RunningRegistry) -> None:
    """distribution 2.8 converts to schema 1 for clients that accept nothing better, as for real images:
    a client must send Accept with every manifest media type to see the real digest."""
    with anonymous_registry.pusher() as pusher:
        image = pusher.push_image("infra/accept", "1.0.0")
    response = httpx.head(f"{anonymous_registry.base_url}/v2/infra/accept/manifests/1.0.0")
    assert response.status_code == 200
    assert response.headers["Docker-Content-Digest"] != image.digest


@pytest.mark.parametrize("kind", ["docker", "oci", "oci-index", "docker-list"])
def test_pushed_manifest_head_returns_its_digest_and_media_type(
    anonymous_registry: RunningRegistry, kind: ManifestKind
) -> None:
    repository = f"infra/kinds-{kind}"
    with anonymous_registry.pusher() as pusher:
        image = pusher.push_image(repository, ["1.0.0", "1.0.1"], kind=kind)
    for tag in image.tags:
        response = httpx.head(
            f"{anonymous_registry.base_url}/v2/{repository}/manifests/{tag}",
            headers={"Accept": ", ".join(MANIFEST_MEDIA_TYPES)},
        )
        assert response.status_code == 200
        assert response.headers["Docker-Content-Digest"] == image.digest
        assert response.headers["Content-Type"] == image.media_type


def test_pushed_config_carries_aim_labels(anonymous_registry: RunningRegistry) -> None:
    with anonymous_registry.pusher() as pusher:
        image = pusher.push_image("infra/aim-meta-llama-3-8b", "0.1.0")
    blob = httpx.get(
        f"{anonymous_registry.base_url}/v2/infra/aim-meta-llama-3-8b/blobs/{image.config_digest}"
    )
    labels = json.loads(blob.content)["config"]["Labels"]
    assert labels["com.amd.aim.model.canonicalName"] == "meta/llama-3-8b"


# -- paginating front ----------------------------------------------------------------------------


def _follow(front: PaginatingFront, first: str) -> tuple[list[str], int]:
    """A minimal link follower accepting every Link style the front produces."""
    url: str | None = first
    tags: list[str] = []
    pages = 0
    with httpx.Client(base_url=front.base_url) as client:
        while url:
            response = client.get(url)
            pages += 1
            tags.extend(response.json()["tags"])
            link = response.headers.get("Link")
            url = link.split(";")[0].strip().strip("<>") if link else None
    return tags, pages


@pytest.mark.parametrize("link_style", ["relative", "absolute", "relative-bare", "absolute-bare"])
def test_paginating_front_pages_through_1000_tags(
    big_registry: RunningRegistry, make_paginating_front: Callable[..., PaginatingFront], link_style: str
) -> None:
    front = make_paginating_front(big_registry, link_style=link_style)
    tags, pages = _follow(front, f"/v2/{BIG_REPOSITORY}/tags/list?n=1000")
    assert sorted(tags) == sorted(BIG_TAGS)
    assert len(set(tags)) == len(tags)
    assert pages == 10 == PaginatingFront.pages_needed(1000, 100)
    assert front.log.count(path=f"/v2/{BIG_REPOSITORY}/tags/list") == 10


@pytest.mark.parametrize(
    ("n", "expected_pages"),
    [pytest.param(30, 34, id="smaller-n-honoured"), pytest.param(5000, 10, id="larger-n-capped")],
)
def test_paginating_front_page_size(paginating_front: PaginatingFront, n: int, expected_pages: int) -> None:
    tags, pages = _follow(paginating_front, f"/v2/{BIG_REPOSITORY}/tags/list?n={n}")
    assert len(tags) == 1000
    assert pages == expected_pages


@pytest.mark.parametrize(
    ("cache_seconds", "sees_new_tag"),
    [pytest.param(0.0, True, id="no-cache-lists-new-tags-at-once"), pytest.param(600.0, False, id="cached")],
)
def test_paginating_front_caches_listings_only_when_asked(
    anonymous_registry: RunningRegistry,
    make_paginating_front: Callable[..., PaginatingFront],
    cache_seconds: float,
    sees_new_tag: bool,
) -> None:
    repository = f"infra/cache-{int(cache_seconds)}"
    front = make_paginating_front(anonymous_registry, cache_seconds=cache_seconds)
    with anonymous_registry.pusher() as pusher:
        pusher.push_image(repository, "1.0.0")
        assert _tags(httpx.get(f"{front.base_url}/v2/{repository}/tags/list")) == ["1.0.0"]
        pusher.push_image(repository, "1.0.1")
    listed = _tags(httpx.get(f"{front.base_url}/v2/{repository}/tags/list"))
    assert ("1.0.1" in listed) is sees_new_tag


def test_paginating_front_cursor_is_opaque_and_can_use_a_token_param(
    big_registry: RunningRegistry, make_paginating_front: Callable[..., PaginatingFront]
) -> None:
    front = make_paginating_front(big_registry, cursor_param="next_page")
    first = httpx.get(f"{front.base_url}/v2/{BIG_REPOSITORY}/tags/list")
    last_tag = first.json()["tags"][-1]
    assert "next_page=" in first.headers["Link"]
    assert last_tag not in first.headers["Link"]
    guessed = httpx.get(f"{front.base_url}/v2/{BIG_REPOSITORY}/tags/list", params={"next_page": last_tag})
    assert guessed.status_code == 400


def test_paginating_front_passes_challenges_and_manifest_heads_through(
    token_registry: RunningRegistry, make_paginating_front: Callable[..., PaginatingFront]
) -> None:
    front = make_paginating_front(token_registry)
    url = f"{front.base_url}/v2/{QWEN}/tags/list"
    challenge = _challenge(httpx.get(url))
    assert token_registry.token_server is not None
    assert challenge["realm"] == token_registry.token_server.realm
    token = _token(token_registry, challenge, None).json()["token"]
    auth = {"Authorization": f"Bearer {token}", "Accept": ", ".join(MANIFEST_MEDIA_TYPES)}
    assert _tags(httpx.get(url, headers=auth)) == sorted(STANDARD_IMAGES[QWEN])
    direct = httpx.head(f"{token_registry.base_url}/v2/{QWEN}/manifests/0.8.5", headers=auth)
    through = httpx.head(f"{front.base_url}/v2/{QWEN}/manifests/0.8.5", headers=auth)
    assert through.status_code == 200
    assert through.headers["Docker-Content-Digest"] == direct.headers["Docker-Content-Digest"]
    assert through.headers["Content-Length"] == direct.headers["Content-Length"]
    assert front.log.per_path()[f"/v2/{QWEN}/tags/list"] == 2


# -- fault front ---------------------------------------------------------------------------------

TAGS_PATH = f"/v2/{QWEN}/tags/list"


@pytest.mark.parametrize(
    ("fault", "status", "retry_after"),
    [
        pytest.param(Fault.rate_limited(retry_after=2), 429, "2", id="429-retry-after-seconds"),
        pytest.param(Fault.rate_limited(), 429, None, id="429-without-retry-after"),
        pytest.param(Fault.error(500), 500, None, id="500"),
        pytest.param(Fault.error(503), 503, None, id="503"),
    ],
)
def test_fault_front_status_faults_fire_then_pass_through(
    fault_front: FaultFront, fault: Fault, status: int, retry_after: str | None
) -> None:
    fault_front.inject(fault, path="/tags/list", times=2)
    url = f"{fault_front.base_url}{TAGS_PATH}"
    for _ in range(2):
        response = httpx.get(url)
        assert response.status_code == status
        assert response.headers.get("Retry-After") == retry_after
    assert _tags(httpx.get(url)) == sorted(STANDARD_IMAGES[QWEN])
    assert fault_front.pending == 0
    assert [r.status for r in fault_front.log.requests] == [status, status, 200]


def test_fault_front_retry_after_as_http_date(fault_front: FaultFront) -> None:
    fault_front.inject(Fault.rate_limited(retry_after_date_in=30))
    response = httpx.get(f"{fault_front.base_url}{TAGS_PATH}")
    assert response.status_code == 429
    when = email.utils.parsedate_to_datetime(response.headers["Retry-After"]).timestamp()
    assert 25 <= when - time.time() <= 31


def test_fault_front_only_hits_matching_path_and_method(fault_front: FaultFront) -> None:
    fault_front.inject(Fault.error(503), path="/manifests/", method="HEAD")
    assert httpx.get(f"{fault_front.base_url}{TAGS_PATH}").status_code == 200
    assert httpx.head(f"{fault_front.base_url}/v2/{QWEN}/manifests/0.8.5").status_code == 503


def test_fault_front_stall_outlasts_a_client_timeout(fault_front: FaultFront) -> None:
    fault_front.inject(Fault.stall(5))
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{fault_front.base_url}{TAGS_PATH}", timeout=0.3)


def test_fault_front_stall_shorter_than_timeout_answers(fault_front: FaultFront) -> None:
    fault_front.inject(Fault.stall(0.2))
    assert httpx.get(f"{fault_front.base_url}{TAGS_PATH}", timeout=5).status_code == 200


def test_fault_front_malformed_json(fault_front: FaultFront) -> None:
    fault_front.inject(Fault.malformed_json())
    response = httpx.get(f"{fault_front.base_url}{TAGS_PATH}")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_fault_front_oversized_body(fault_front: FaultFront) -> None:
    fault_front.inject(Fault.oversized(2 * 1024 * 1024))
    with httpx.stream("GET", f"{fault_front.base_url}{TAGS_PATH}") as response:
        assert "Content-Length" not in response.headers
        size = sum(len(chunk) for chunk in response.iter_bytes())
    assert size > 2 * 1024 * 1024


def test_fault_front_disconnect(fault_front: FaultFront) -> None:
    fault_front.inject(Fault.disconnect())
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{fault_front.base_url}{TAGS_PATH}")


def test_fault_front_link_to_another_host(fault_front: FaultFront, recording_server: RecordingServer) -> None:
    target = f"{recording_server.base_url}/v2/{QWEN}/tags/list?last=x"
    fault_front.inject(Fault.link_to(target))
    response = httpx.get(f"{fault_front.base_url}{TAGS_PATH}")
    assert _tags(response) == sorted(STANDARD_IMAGES[QWEN])
    assert response.headers["Link"] == f'<{target}>; rel="next"'


def test_fault_front_redirect_to_another_host(
    fault_front: FaultFront, recording_server: RecordingServer
) -> None:
    target = f"{recording_server.base_url}{TAGS_PATH}"
    fault_front.inject(Fault.redirect_to(target, status=302))
    response = httpx.get(f"{fault_front.base_url}{TAGS_PATH}")
    assert response.status_code == 302
    assert response.headers["Location"] == target


def test_fault_front_realm_on_another_host(
    fault_front: FaultFront, recording_server: RecordingServer
) -> None:
    fault_front.inject(Fault.realm_on(f"{recording_server.base_url}/token"))
    challenge = _challenge(httpx.get(f"{fault_front.base_url}{TAGS_PATH}"))
    assert challenge["realm"] == f"{recording_server.base_url}/token"
    assert challenge["scope"] == f"repository:{QWEN}:pull"


def test_recording_server_catches_a_leaked_credential(recording_server: RecordingServer) -> None:
    httpx.get(f"{recording_server.base_url}{TAGS_PATH}")
    assert recording_server.credentials_seen() == []
    leaked = httpx.get(f"{recording_server.base_url}{TAGS_PATH}", auth=("user", "secret"))
    assert leaked.json()["tags"] == ["from-another-host"]
    assert recording_server.credentials_seen() == ["Basic " + base64.b64encode(b"user:secret").decode()]


def test_fault_front_records_authorization_per_request(
    htpasswd_registry: RunningRegistry,
    make_fault_front: Callable[[RunningRegistry | PaginatingFront], FaultFront],
) -> None:
    front = make_fault_front(htpasswd_registry)
    assert httpx.get(f"{front.base_url}{TAGS_PATH}").status_code == 401
    assert _tags(httpx.get(f"{front.base_url}{TAGS_PATH}", auth=htpasswd_registry.auth()))
    seen = front.log.authorizations()
    assert seen[0] is None
    assert seen[1] is not None
    assert seen[1].startswith("Basic ")


def test_fault_front_over_paginating_front(
    big_registry: RunningRegistry,
    make_paginating_front: Callable[..., PaginatingFront],
    make_fault_front: Callable[[RunningRegistry | PaginatingFront], FaultFront],
) -> None:
    front = make_fault_front(make_paginating_front(big_registry))
    front.inject(Fault.rate_limited(retry_after=1), path="/tags/list")
    url = f"{front.base_url}/v2/{BIG_REPOSITORY}/tags/list"
    assert httpx.get(url).status_code == 429
    page = httpx.get(url)
    assert len(page.json()["tags"]) == 100
    assert page.headers["Link"].startswith(f"</v2/{BIG_REPOSITORY}/tags/list?")


@pytest.mark.parametrize("front_type", [PaginatingFront, FaultFront])
def test_fronts_answer_502_when_the_registry_behind_is_gone(
    front_type: type[PaginatingFront | FaultFront],
) -> None:
    with front_type(f"http://127.0.0.1:{free_port()}") as front:
        response = httpx.get(f"{front.base_url}{TAGS_PATH}")
    assert response.status_code == 502
    assert response.json()["errors"][0]["code"] == "UNAVAILABLE"


# -- the scripts built on this infrastructure ----------------------------------------------------

ROOT = Path(__file__).resolve().parents[3]


def test_demo_syncs_six_models_from_its_local_registry() -> None:
    """`make demo`: the README's first command works against a registry of its own."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py")],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "== Created 6 model manifests" in result.stdout
    assert "amdenterpriseai-aim-qwen-qwen3-32b-0-9-0-rc1-" in result.stdout
    assert "== Stopped the registry" in result.stdout


def test_benchmark_ideal_client_makes_the_minimum_requests() -> None:
    """The benchmark's harness at a tiny size, so that it does not rot between runs."""
    result = subprocess.run(
        [
            sys.executable, str(ROOT / "benchmarks" / "registry_listing.py"),
            "--repos", "2", "--tags", "150", "--latency-ms", "0", "--max-models", "1", "--legs", "ideal",
        ],
        capture_output=True, text=True, timeout=50, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    ideal = next(line.split() for line in result.stdout.splitlines() if line.startswith("ideal "))
    assert ideal[2:6] == ["4", "1", "0", "5"]  # 2 repositories x 2 pages, 1 HEAD, nothing else
