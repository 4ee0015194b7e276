"""`.dockerconfigjson` parsing: every key spelling finds its registry; malformed documents say where."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest

from aimsource.registry.auth.credentials import (
    EMPTY_CREDENTIALS,
    Credential,
    InvalidDockerConfigError,
    parse_docker_config,
    registry_of_key,
)

SECRET = "pa:ss:word-XYZZY"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def config(auths: dict[str, Any]) -> str:
    return json.dumps({"auths": auths})


@pytest.mark.parametrize(
    ("key", "lookup"),
    [
        pytest.param("ghcr.io", "ghcr.io", id="bare-host"),
        pytest.param("https://ghcr.io", "ghcr.io", id="https-scheme"),
        pytest.param("http://ghcr.io/", "ghcr.io", id="http-scheme-trailing-slash"),
        pytest.param("https://ghcr.io/v2/", "ghcr.io", id="with-path"),
        pytest.param("GHCR.IO", "ghcr.io", id="upper-case"),
        pytest.param("https://index.docker.io/v1/", "docker.io", id="docker-hub-legacy-key"),
        pytest.param("index.docker.io", "docker.io", id="docker-hub-index-alias"),
        pytest.param("registry-1.docker.io", "docker.io", id="docker-hub-api-host"),
        pytest.param("docker.io", "docker.io", id="docker-hub-name"),
        pytest.param("docker.io", "registry-1.docker.io", id="lookup-by-alias"),
        pytest.param("localhost:5000", "localhost:5000", id="host-and-port"),
        pytest.param("https://127.0.0.1:5000/v2/", "127.0.0.1:5000", id="ip-port-path"),
    ],
)
def test_key_spellings_find_the_registry(key: str, lookup: str) -> None:
    store = parse_docker_config(config({key: {"auth": b64("user:pw")}}), origin="secret ns/pull")
    assert store.for_registry(lookup) == Credential("user", "pw")


def test_port_is_part_of_the_registry() -> None:
    store = parse_docker_config(config({"localhost:5000": {"auth": b64("u:p")}}), origin="o")
    assert store.for_registry("localhost") is None
    assert store.for_registry("localhost:5001") is None


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        pytest.param(
            {"auth": b64(f"robot:{SECRET}")}, Credential("robot", SECRET), id="auth-password-with-colons"
        ),
        pytest.param(
            {"username": "robot", "password": SECRET}, Credential("robot", SECRET), id="username-password"
        ),
        pytest.param(
            {"auth": b64("a:b"), "username": "x", "password": "y"}, Credential("a", "b"), id="auth-wins"
        ),
        pytest.param(
            {"auth": "", "username": "x", "password": "y"}, Credential("x", "y"), id="empty-auth-ignored"
        ),
        pytest.param({"auth": b64("robot:")}, Credential("robot", ""), id="empty-password"),
        pytest.param({"identitytoken": "refresh-token"}, None, id="identitytoken-only-gives-nothing"),
        pytest.param({}, None, id="empty-entry"),
    ],
)
def test_entry_forms(entry: dict[str, Any], expected: Credential | None) -> None:
    store = parse_docker_config(config({"ghcr.io": entry}), origin="o")
    assert store.for_registry("ghcr.io") == expected


def test_first_key_for_a_registry_wins() -> None:
    raw = config(
        {"https://index.docker.io/v1/": {"auth": b64("first:1")}, "docker.io": {"auth": b64("second:2")}}
    )
    assert parse_docker_config(raw, origin="o").for_registry("docker.io") == Credential("first", "1")


def test_document_without_auths_is_empty() -> None:
    store = parse_docker_config(b'{"credsStore": "desktop"}', origin="~/.docker/config.json")
    assert store.for_registry("docker.io") is None


def test_keys_that_are_not_registries_are_skipped() -> None:
    store = parse_docker_config(
        config({"not a host!": {"auth": b64("u:p")}, "ghcr.io": {"auth": b64("a:b")}}), origin="o"
    )
    assert store.entries.keys() == {"ghcr.io"}


def test_merged_prefers_self() -> None:
    mine = parse_docker_config(config({"ghcr.io": {"auth": b64("mine:1")}}), origin="a")
    theirs = parse_docker_config(
        config({"ghcr.io": {"auth": b64("theirs:2")}, "quay.io": {"auth": b64("q:3")}}), origin="b"
    )
    merged = mine.merged(theirs)
    assert merged.for_registry("ghcr.io") == Credential("mine", "1")
    assert merged.for_registry("quay.io") == Credential("q", "3")
    assert EMPTY_CREDENTIALS.merged(mine).for_registry("ghcr.io") == Credential("mine", "1")


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        pytest.param(b"{not json " + SECRET.encode(), "not valid JSON", id="not-json"),
        pytest.param(b"\xff\xfe" + SECRET.encode(), "not valid JSON", id="not-utf8"),
        pytest.param(json.dumps([SECRET]), "not a JSON object", id="not-object"),
        pytest.param(json.dumps({"auths": [SECRET]}), '"auths" is not an object', id="auths-not-object"),
        pytest.param(
            config({"ghcr.io": SECRET}), r"entry #1 \(ghcr.io\) is not an object", id="entry-not-object"
        ),
        pytest.param(config({"ghcr.io": {"auth": SECRET + "!!"}}), "not base64", id="auth-not-base64"),
        pytest.param(
            config({"ghcr.io": {"auth": base64.b64encode(b"\xff" + SECRET.encode()).decode()}}),
            "not base64",
            id="auth-not-utf8",
        ),
        pytest.param(
            config({"ghcr.io": {"auth": b64(SECRET.replace(":", ""))}}),
            'not decode to "username:password"',
            id="auth-without-colon",
        ),
        pytest.param(config({"ghcr.io": {"auth": 42}}), '"auth" is not a string', id="auth-not-string"),
        pytest.param(
            config({"ghcr.io": {"username": "u", "password": 7}}),
            "must both be strings",
            id="password-not-string",
        ),
        pytest.param(
            config({"ghcr.io": {"username": "", "password": SECRET}}),
            '"username" is empty',
            id="empty-username",
        ),
    ],
)
def test_malformed_documents_name_the_origin_never_the_content(
    raw: str | bytes, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(InvalidDockerConfigError, match=why) as info:
        parse_docker_config(raw, origin="secret aimsource/pull")
    message = str(info.value)
    assert message.startswith("invalid .dockerconfigjson in secret aimsource/pull: ")
    assert "XYZZY" not in message
    # No chained exception that could carry the document's text into a traceback.
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__
    # Nor in the DEBUG line that says a cause was dropped.
    assert "XYZZY" not in caplog.text


def test_credential_repr_hides_the_password() -> None:
    credential = Credential("robot", SECRET)
    assert SECRET not in repr(credential)
    store = parse_docker_config(config({"ghcr.io": {"auth": b64(f"robot:{SECRET}")}}), origin="o")
    assert SECRET not in repr(store)
    assert SECRET not in credential.identity


@pytest.mark.parametrize(
    ("key", "registry"),
    [
        pytest.param("ftp://ghcr.io", None, id="other-scheme"),
        pytest.param("", None, id="empty"),
        pytest.param("[::1]:5000", "[::1]:5000", id="ipv6"),
    ],
)
def test_registry_of_key_edge_cases(key: str, registry: str | None) -> None:
    assert registry_of_key(key) == registry
