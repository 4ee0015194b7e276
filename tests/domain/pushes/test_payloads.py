"""Each provider's push payload, read into `Push` values: tables of samples from each provider's docs.

The samples follow the providers' documented examples (distribution's notification envelope,
Docker Hub's webhook example, GitHub's `package` / `registry_package` event schema, Quay's
"Repository Push" notification in both its current and older form, Harbor's PUSH_ARTIFACT default
payload), trimmed of fields we do not read.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from aimsource.domain.pushes.payloads import MAX_ENTRIES, MAX_PUSHES, MalformedPayload, Push, parse_payload

DIGEST = "sha256:" + "ab" * 32

DISTRIBUTION_PUSH = {
    "events": [
        {
            "id": "320678d8-ca14-430f-8bb6-4ca139cd83f7",
            "timestamp": "2016-03-09T14:44:26.402973972-08:00",
            "action": "push",
            "target": {
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "size": 708,
                "digest": DIGEST,
                "length": 708,
                "repository": "amd/llama",
                "url": "http://127.0.0.1:5000/v2/amd/llama/manifests/" + DIGEST,
                "tag": "1.2.0",
            },
            "request": {
                "id": "6df24a34-0959-4923-81ca-14f09767db19",
                "addr": "192.168.64.11:42961",
                "host": "127.0.0.1:5000",
                "method": "PUT",
                "useragent": "curl/7.38.0",
            },
            "actor": {},
            "source": {"addr": "xtal.local:5000", "instanceID": "a53db899"},
        }
    ]
}
DISTRIBUTION_MIXED = {
    "events": [
        {
            "action": "pull",
            "target": {"repository": "amd/llama", "tag": "1.0.0"},
            "request": {"host": "r:5000"},
        },
        {
            "action": "push",
            "target": {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "repository": "amd/llama",
                "digest": DIGEST,
            },
            "request": {"host": "r:5000"},
        },
        {
            "action": "push",
            "target": {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "repository": "amd/llama",
                "digest": DIGEST,
            },
            "request": {"host": "r:5000"},
        },
    ]
}
DOCKERHUB = {
    "callback_url": "https://registry.hub.docker.com/u/svendowideit/testhook/hook/2141b5bi5i5b02bec211i4eeih0242eg11000a/",
    "push_data": {"pushed_at": 1417566161, "pusher": "trustedbuilder", "tag": "latest"},
    "repository": {
        "comment_count": 0,
        "date_created": 1417494799,
        "description": "",
        "is_official": False,
        "is_private": True,
        "name": "testhook",
        "namespace": "svendowideit",
        "owner": "svendowideit",
        "repo_name": "svendowideit/testhook",
        "repo_url": "https://registry.hub.docker.com/u/svendowideit/testhook/",
        "status": "Active",
    },
}
GHCR_PACKAGE = {
    "action": "published",
    "package": {
        "id": 1,
        "name": "llama",
        "namespace": "amd",
        "ecosystem": "CONTAINER",
        "package_type": "CONTAINER",
        "html_url": "https://github.com/orgs/amd/packages/container/package/llama",
        "package_version": {
            "id": 2,
            "name": DIGEST,
            "package_url": "ghcr.io/amd/llama:1.2.0",
            "container_metadata": {"tag": {"name": "1.2.0", "digest": DIGEST}, "labels": {}, "manifest": {}},
        },
        "registry": {
            "about_url": "https://docs.github.com/packages",
            "name": "GitHub CONTAINER registry",
            "type": "CONTAINER",
            "url": "https://ghcr.io",
            "vendor": "GitHub Inc",
        },
    },
    "repository": {"full_name": "amd/llama"},
    "sender": {"login": "someone"},
}
GHCR_REGISTRY_PACKAGE = {
    "action": "published",
    "registry_package": {
        "name": "Llama",
        "namespace": "AMD",
        "ecosystem": "CONTAINER",
        "package_type": "CONTAINER",
        "package_version": {"container_metadata": {"tag": {"name": "", "digest": DIGEST}}},
        "registry": {"url": "https://ghcr.io"},
    },
}
QUAY = {
    "name": "repository",
    "repository": "dgangaia/test",
    "namespace": "dgangaia",
    "docker_url": "quay.io/dgangaia/test",
    "homepage": "https://quay.io/repository/dgangaia/repository",
    "updated_tags": ["latest", "1.0.0"],
}
QUAY_OLD = {
    "pushed_image_count": 2,
    "name": "ubuntu",
    "repository": "devtable/ubuntu",
    "docker_url": "quay.io/devtable/ubuntu",
    "updated_tags": {"latest": "b750fe79269d2ec9a3c593ef05b4332b1d1a02a62b4accb2c21d589ff2f5f2dc"},
    "namespace": "devtable",
    "visibility": "private",
    "homepage": "https://quay.io/repository/devtable/ubuntu",
}
HARBOR = {
    "type": "PUSH_ARTIFACT",
    "occur_at": 1737446601,
    "operator": "admin",
    "event_data": {
        "resources": [
            {"digest": DIGEST, "tag": "v1", "resource_url": "harbor.example.com/library/rumput:v1"}
        ],
        "repository": {
            "date_created": 1737446600,
            "name": "rumput",
            "namespace": "library",
            "repo_full_name": "library/rumput",
            "repo_type": "public",
        },
    },
}
HARBOR_BY_DIGEST = {
    "type": "PUSH_ARTIFACT",
    "event_data": {
        "resources": [
            {"digest": DIGEST, "tag": DIGEST, "resource_url": f"harbor.example.com/ml/llama@{DIGEST}"}
        ],
        "repository": {"repo_full_name": "ml/llama"},
    },
}

PUSHES: list[tuple[str, str, Any, list[Push]]] = [
    (
        "distribution-push",
        "distribution",
        DISTRIBUTION_PUSH,
        [Push("127.0.0.1:5000", "amd/llama", "1.2.0", DIGEST)],
    ),
    (
        "distribution-skips-pulls-and-blobs",
        "distribution",
        DISTRIBUTION_MIXED,
        [Push("r:5000", "amd/llama", None, DIGEST)],
    ),
    ("distribution-empty-envelope", "distribution", {"events": []}, []),
    ("dockerhub-push", "dockerhub", DOCKERHUB, [Push("docker.io", "svendowideit/testhook", "latest")]),
    (
        "dockerhub-official-image-gets-library",
        "dockerhub",
        {"push_data": {"tag": "24.04"}, "repository": {"repo_name": "ubuntu"}},
        [Push("docker.io", "library/ubuntu", "24.04")],
    ),
    ("ghcr-package-event", "ghcr", GHCR_PACKAGE, [Push("ghcr.io", "amd/llama", "1.2.0", DIGEST)]),
    (
        "ghcr-registry-package-untagged",
        "ghcr",
        GHCR_REGISTRY_PACKAGE,
        [Push("ghcr.io", "amd/llama", None, DIGEST)],
    ),
    ("ghcr-ping-ignored", "ghcr", {"zen": "Design for failure.", "hook_id": 1}, []),
    ("ghcr-npm-ignored", "ghcr", {"action": "published", "package": {"package_type": "npm"}}, []),
    ("ghcr-deleted-ignored", "ghcr", {"action": "deleted", "package": {"package_type": "container"}}, []),
    (
        "quay-push",
        "quay",
        QUAY,
        [Push("quay.io", "dgangaia/test", "latest"), Push("quay.io", "dgangaia/test", "1.0.0")],
    ),
    ("quay-old-mapping-of-tags", "quay", QUAY_OLD, [Push("quay.io", "devtable/ubuntu", "latest")]),
    (
        "quay-no-tags",
        "quay",
        {"docker_url": "quay.io/ns/repo", "updated_tags": []},
        [Push("quay.io", "ns/repo")],
    ),
    ("harbor-push", "harbor", HARBOR, [Push("harbor.example.com", "library/rumput", "v1", DIGEST)]),
    (
        "harbor-push-by-digest",
        "harbor",
        HARBOR_BY_DIGEST,
        [Push("harbor.example.com", "ml/llama", None, DIGEST)],
    ),
    ("harbor-scan-ignored", "harbor", {"type": "SCANNING_COMPLETED", "event_data": {}}, []),
    (
        "generic-with-tag",
        "generic",
        {"registry": "Registry-1.Docker.IO", "repository": "rocm/vllm", "tag": "1.0.0"},
        [Push("docker.io", "rocm/vllm", "1.0.0")],
    ),
    (
        "generic-without-tag",
        "generic",
        {"registry": "ghcr.io", "repository": "amd/llama"},
        [Push("ghcr.io", "amd/llama")],
    ),
    (
        "generic-index-docker-io-alias",
        "generic",
        {"registry": "index.docker.io", "repository": "ubuntu"},
        [Push("docker.io", "library/ubuntu")],
    ),
]


@pytest.mark.parametrize(
    ("provider", "payload", "expected"), [p[1:] for p in PUSHES], ids=[p[0] for p in PUSHES]
)
def test_payload_yields_pushes(provider: str, payload: Any, expected: list[Push]) -> None:
    assert parse_payload(provider, payload) == expected


MALFORMED: list[tuple[str, str, Any, str]] = [
    ("distribution-not-object", "distribution", [1, 2], "not a JSON object"),
    ("distribution-no-events", "distribution", {}, "events is missing"),
    ("distribution-events-not-list", "distribution", {"events": {}}, "events is not a list"),
    (
        "distribution-push-without-host",
        "distribution",
        {"events": [{"action": "push", "target": {"repository": "a/b", "tag": "1"}, "request": {}}]},
        "events[0].request.host is missing",
    ),
    (
        "distribution-bad-repository",
        "distribution",
        {
            "events": [
                {"action": "push", "target": {"repository": "A/../b", "tag": "1"}, "request": {"host": "r"}}
            ]
        },
        "invalid",
    ),
    ("dockerhub-no-repository", "dockerhub", {"push_data": {"tag": "1"}}, "repository is missing"),
    (
        "dockerhub-bad-tag",
        "dockerhub",
        {"push_data": {"tag": "-x"}, "repository": {"repo_name": "a/b"}},
        "invalid tag",
    ),
    (
        "ghcr-no-namespace",
        "ghcr",
        {"action": "published", "package": {"package_type": "container", "name": "x"}},
        "package.namespace is missing",
    ),
    ("quay-url-without-repository", "quay", {"docker_url": "quay.io"}, "names no repository"),
    ("quay-tags-not-list", "quay", {"docker_url": "quay.io/a/b", "updated_tags": "latest"}, "not a list"),
    (
        "harbor-no-resources",
        "harbor",
        {"type": "PUSH_ARTIFACT", "event_data": {"repository": {"repo_full_name": "a/b"}}},
        "event_data.resources is missing",
    ),
    (
        "harbor-registry-with-scheme",
        "harbor",
        {
            "type": "PUSH_ARTIFACT",
            "event_data": {
                "repository": {"repo_full_name": "a/b"},
                "resources": [{"resource_url": "https:"}],
            },
        },
        'registry "https:" is not a valid',
    ),
    ("generic-no-registry", "generic", {"repository": "a/b"}, "registry is missing"),
    (
        "generic-tag-not-string",
        "generic",
        {"registry": "r.io", "repository": "a/b", "tag": 5},
        "tag is not a string",
    ),
    ("generic-wildcard", "generic", {"registry": "r.io", "repository": "a/*"}, "Wildcard"),
]


@pytest.mark.parametrize(
    ("provider", "payload", "message"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_malformed_payload_names_the_field(provider: str, payload: Any, message: str) -> None:
    with pytest.raises(MalformedPayload, match=re.escape(message)):
        parse_payload(provider, payload)


def test_unknown_provider_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        parse_payload("gitlab", {})


def test_too_many_pushes_in_one_payload_is_malformed() -> None:
    payload = {"docker_url": "quay.io/a/b", "updated_tags": [f"t{i}" for i in range(MAX_PUSHES + 1)]}
    with pytest.raises(MalformedPayload, match=f"more than {MAX_PUSHES} pushes"):
        parse_payload("quay", payload)


def test_parsing_stops_at_the_cap() -> None:
    """6,000 push events: the first past the cap ends it; the 5,000th (broken) is never read."""
    event = DISTRIBUTION_PUSH["events"][0]
    events: list[Any] = [
        {**event, "target": {**event["target"], "tag": f"1.0.{i}"}} for i in range(MAX_ENTRIES)
    ]
    events[-1] = "not an event"
    with pytest.raises(MalformedPayload, match=f"more than {MAX_PUSHES} pushes"):
        parse_payload("distribution", {"events": events})
    harbor = {
        "type": "PUSH_ARTIFACT",
        "event_data": {
            "repository": {"repo_full_name": "a/b"},
            "resources": [{"resource_url": f"h/a/b:{i}", "tag": str(i)} for i in range(MAX_PUSHES + 1)]
            + ["broken"],
        },
    }
    with pytest.raises(MalformedPayload, match=f"more than {MAX_PUSHES} pushes"):
        parse_payload("harbor", harbor)


def test_a_list_longer_than_the_entry_cap_is_refused_before_it_is_read() -> None:
    events = ["never read"] * (MAX_ENTRIES + 1)
    with pytest.raises(MalformedPayload, match=f"events holds {MAX_ENTRIES + 1} entries"):
        parse_payload("distribution", {"events": events})


def test_repeated_events_in_one_envelope_count_once() -> None:
    event = DISTRIBUTION_PUSH["events"][0]
    assert len(parse_payload("distribution", {"events": [event, event]})) == 1


def test_a_digest_hint_of_the_wrong_shape_is_dropped() -> None:
    payload = {
        "events": [
            {
                "action": "push",
                "target": {"repository": "a/b", "tag": "1", "digest": "md5:x"},
                "request": {"host": "r.io"},
            }
        ]
    }
    assert parse_payload("distribution", payload) == [Push("r.io", "a/b", "1", None)]
