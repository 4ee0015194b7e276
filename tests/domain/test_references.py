"""Image references: parsing, normalisation and the two renderings (spec.image, canonical)."""

from __future__ import annotations

import pytest

from aimsource.domain.errors import InvalidReferenceError
from aimsource.domain.references import (
    WILDCARD_MESSAGE,
    ImageRef,
    canonical_image,
    model_image,
    normalize_registry,
    parse_reference,
)

PARSED = [
    ("org/repo:tag", "docker.io", "docker.io", "org/repo", "tag"),
    ("org/repo", "docker.io", "docker.io", "org/repo", None),
    ("ubuntu", "docker.io", "docker.io", "library/ubuntu", None),
    ("ubuntu:22.04", "docker.io", "docker.io", "library/ubuntu", "22.04"),
    ("docker.io/ubuntu:22.04", "docker.io", "docker.io", "library/ubuntu", "22.04"),
    ("index.docker.io/library/ubuntu", "docker.io", "docker.io", "library/ubuntu", None),
    ("registry-1.docker.io/org/repo:1", "docker.io", "docker.io", "org/repo", "1"),
    (
        "ghcr.io/silogen/aim-google-gemma-3-1b-it:0.8.1-rc1",
        "docker.io",
        "ghcr.io",
        "silogen/aim-google-gemma-3-1b-it",
        "0.8.1-rc1",
    ),
    ("org/repo:0.8.5", "ghcr.io", "ghcr.io", "org/repo", "0.8.5"),
    ("ubuntu", "ghcr.io", "ghcr.io", "ubuntu", None),
    ("ubuntu", "index.docker.io", "docker.io", "library/ubuntu", None),
    ("org/repo", "GHCR.IO", "ghcr.io", "org/repo", None),
    ("GHCR.io/org/repo", "docker.io", "ghcr.io", "org/repo", None),
    ("localhost/repo:dev", "docker.io", "localhost", "repo", "dev"),
    ("localhost:5000/repo:dev", "docker.io", "localhost:5000", "repo", "dev"),
    (
        "Registry.Example.COM:8443/team/sub/repo:v1",
        "docker.io",
        "registry.example.com:8443",
        "team/sub/repo",
        "v1",
    ),
    ("127.0.0.1:5000/repo", "docker.io", "127.0.0.1:5000", "repo", None),
    ("[::1]:5000/repo:1", "docker.io", "[::1]:5000", "repo", "1"),
    ("org/repo", "localhost:5000", "localhost:5000", "org/repo", None),
    ("org/my_repo.name__x--y:Tag_1.A-b", "docker.io", "docker.io", "org/my_repo.name__x--y", "Tag_1.A-b"),
    ("a/b/c/d:latest", "docker.io", "docker.io", "a/b/c/d", "latest"),
    ("org/repo:" + "t" * 128, "docker.io", "docker.io", "org/repo", "t" * 128),
    ("org/repo:_underscore-first", "docker.io", "docker.io", "org/repo", "_underscore-first"),
]


@pytest.mark.parametrize(
    ("text", "default", "registry", "repository", "tag"), PARSED, ids=[f"{p[0]}@{p[1]}" for p in PARSED]
)
def test_parse_reference_normalises(
    text: str, default: str, registry: str, repository: str, tag: str | None
) -> None:
    assert parse_reference(text, default_registry=default) == ImageRef(registry, repository, tag)


REJECTED = [
    ("wildcard-repo", "amdenterpriseai/aim-*", WILDCARD_MESSAGE),
    ("wildcard-tag", "org/repo:0.8.*", WILDCARD_MESSAGE),
    ("wildcard-only", "*", WILDCARD_MESSAGE),
    ("wildcard-registry", "*.io/org/repo", WILDCARD_MESSAGE),
    ("digest", "org/repo@sha256:" + "a" * 64, "digests"),
    ("tag-and-digest", "org/repo:1.0@sha256:" + "a" * 64, "digests"),
    ("upper-case-repository", "AmdEnterpriseAI/model", "lower-case"),
    ("upper-case-last-component", "org/Model:1.0", "lower-case"),
    ("empty", "", "empty"),
    ("leading-slash", "/org/repo", "empty path component"),
    ("trailing-slash", "org/repo/", "empty path component"),
    ("double-slash", "org//repo", "empty path component"),
    ("registry-only", "ghcr.io/", "empty path component"),
    ("empty-tag", "org/repo:", "tag"),
    ("tag-starting-with-dot", "org/repo:.hidden", "tag"),
    ("tag-starting-with-dash", "org/repo:-x", "tag"),
    ("tag-too-long", "org/repo:" + "t" * 129, "tag"),
    ("tag-with-plus", "org/repo:1.0.0+build", "tag"),
    ("space-inside", "org/re po", "invalid repository component"),
    ("leading-space", " org/repo", "whitespace"),
    ("trailing-newline", "org/repo\n", "whitespace"),
    ("separator-at-start", "org/-repo", "invalid repository component"),
    ("separator-at-end", "org/repo_", "invalid repository component"),
    ("triple-underscore", "org/a___b", "invalid repository component"),
    ("non-ascii", "org/répo", "invalid repository component"),
    ("scheme", "https://ghcr.io/org/repo", "scheme"),
    ("bad-port", "ghcr.io:99999/org/repo", "host"),
    ("bad-host-label", "-bad.io/org/repo", "host"),
    ("too-long-text", "org/" + "a" * 520, "longer than 512"),
    ("too-long-name", "org/" + "/".join(["a" * 60] * 5), "longer than 255"),
]


@pytest.mark.parametrize(("text", "fragment"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED])
def test_parse_reference_rejects_with_a_message_naming_the_reference(text: str, fragment: str) -> None:
    with pytest.raises(InvalidReferenceError) as info:
        parse_reference(text)
    message = str(info.value)
    assert fragment in message
    assert text[:200] in message


def test_wildcard_message_is_the_documented_sentence() -> None:
    with pytest.raises(InvalidReferenceError) as info:
        parse_reference("amdenterpriseai/aim-*")
    assert str(info.value).endswith(
        "Wildcard syntax (*) is supported only in filters[].image; list images explicitly, or write a filter"
    )


@pytest.mark.parametrize(
    "default", ["not a host", "ghcr.io/org", "", "https://ghcr.io"], ids=["spaces", "path", "empty", "scheme"]
)
def test_invalid_default_registry_is_reported_as_spec_registry(default: str) -> None:
    with pytest.raises(InvalidReferenceError, match=r"spec\.registry"):
        parse_reference("org/repo", default_registry=default)


@pytest.mark.parametrize("value", [None, 5, b"org/repo"], ids=["none", "int", "bytes"])
def test_non_string_reference_is_an_invalid_reference(value: object) -> None:
    with pytest.raises(InvalidReferenceError, match="must be a string"):
        parse_reference(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("docker.io", "docker.io"),
        ("index.docker.io", "docker.io"),
        ("Registry-1.Docker.IO", "docker.io"),
        ("GHCR.io", "ghcr.io"),
        ("localhost:5000", "localhost:5000"),
        ("registry.example.com:443", "registry.example.com:443"),
    ],
    ids=["docker", "index-alias", "registry-1-alias-upper", "ghcr-upper", "port-kept", "port-443-kept"],
)
def test_normalize_registry(host: str, expected: str) -> None:
    assert normalize_registry(host) == expected


@pytest.mark.parametrize(
    ("ref", "text", "key", "pinned"),
    [
        (ImageRef("docker.io", "org/repo", "1.0"), "docker.io/org/repo:1.0", "docker.io/org/repo", True),
        (ImageRef("ghcr.io", "org/repo"), "ghcr.io/org/repo", "ghcr.io/org/repo", False),
        (ImageRef("localhost:5000", "repo", "x"), "localhost:5000/repo:x", "localhost:5000/repo", True),
    ],
    ids=["docker-pinned", "ghcr-unpinned", "port"],
)
def test_str_key_and_pinned(ref: ImageRef, text: str, key: str, pinned: bool) -> None:
    assert (str(ref), ref.key, ref.pinned) == (text, key, pinned)


def test_with_tag_pins_a_copy() -> None:
    ref = ImageRef("ghcr.io", "org/repo")
    assert ref.with_tag("1.0") == ImageRef("ghcr.io", "org/repo", "1.0")
    assert ref.tag is None


@pytest.mark.parametrize(
    ("text", "default", "image"),
    [
        ("amdenterpriseai/aim-qwen-qwen3-32b:0.8.5", "docker.io", "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"),
        ("docker.io/org/repo:1", "docker.io", "org/repo:1"),
        ("index.docker.io/org/repo:1", "docker.io", "org/repo:1"),
        ("ubuntu:22.04", "docker.io", "library/ubuntu:22.04"),
        ("org/repo:1", "ghcr.io", "ghcr.io/org/repo:1"),
        ("ghcr.io/silogen/x:0.8.1-rc1", "docker.io", "ghcr.io/silogen/x:0.8.1-rc1"),
        ("localhost:5000/repo:dev", "docker.io", "localhost:5000/repo:dev"),
    ],
    ids=[
        "docker-hub",
        "docker-hub-explicit",
        "docker-hub-alias",
        "official",
        "ghcr-default",
        "ghcr",
        "local",
    ],
)
def test_model_image_omits_docker_hub_only(text: str, default: str, image: str) -> None:
    assert model_image(parse_reference(text, default_registry=default)) == image


@pytest.mark.parametrize(
    ("spec_image", "canonical"),
    [
        ("org/repo:1", "docker.io/org/repo:1"),
        ("docker.io/org/repo:1", "docker.io/org/repo:1"),
        ("index.docker.io/org/repo:1", "docker.io/org/repo:1"),
        ("ubuntu:22.04", "docker.io/library/ubuntu:22.04"),
        ("docker.io/library/ubuntu:22.04", "docker.io/library/ubuntu:22.04"),
        ("ubuntu", "docker.io/library/ubuntu:latest"),
        ("GHCR.io/org/repo:1", "ghcr.io/org/repo:1"),
        ("org/repo@sha256:" + "a" * 64, "org/repo@sha256:" + "a" * 64),
        ("Not A Reference", "Not A Reference"),
    ],
    ids=[
        "short",
        "explicit",
        "alias",
        "official",
        "official-explicit",
        "untagged-means-latest",
        "upper-host",
        "digest-unchanged",
        "garbage-unchanged",
    ],
)
def test_canonical_image(spec_image: str, canonical: str) -> None:
    assert canonical_image(spec_image) == canonical


def test_canonical_image_of_model_image_is_str_of_ref() -> None:
    # The planner looks existing models up by canonical_image(spec.image) using str(ref).
    for text, default in [("org/r:1", "docker.io"), ("ubuntu:1", "docker.io"), ("o/r:1", "ghcr.io")]:
        ref = parse_reference(text, default_registry=default)
        assert canonical_image(model_image(ref)) == str(ref)
