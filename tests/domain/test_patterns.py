"""Wildcard patterns in `filters[].image`: AMD's meaning of `*`, and what is refused with a message
saying what to write instead (`domain/patterns.py`)."""

from __future__ import annotations

import pytest

from aimsource.domain.errors import InvalidReferenceError
from aimsource.domain.patterns import excludes, parse_pattern


@pytest.mark.parametrize(
    ("written", "registry", "pattern", "namespace", "prefix"),
    [
        (
            "amdenterpriseai/aim-*",
            "docker.io",
            "amdenterpriseai/aim-*",
            "amdenterpriseai",
            "amdenterpriseai/aim-",
        ),
        ("ghcr.io/org/aim-*", "ghcr.io", "org/aim-*", "org", "org/aim-"),
        ("localhost:5000/team/*", "localhost:5000", "team/*", "team", "team/"),
        ("registry.example.com/*", "registry.example.com", "*", None, ""),
        ("index.docker.io/org/*-llm", "docker.io", "org/*-llm", "org", "org/"),
    ],
    ids=["docker-hub", "ghcr", "local-port", "whole-catalog", "hub-alias"],
)
def test_a_pattern_is_normalised_like_a_reference(
    written: str, registry: str, pattern: str, namespace: str | None, prefix: str
) -> None:
    parsed = parse_pattern(written)
    assert (parsed.registry, parsed.pattern, parsed.namespace, parsed.prefix) == (
        registry,
        pattern,
        namespace,
        prefix,
    )


@pytest.mark.parametrize(
    ("pattern", "repository", "matches"),
    [
        ("amdenterpriseai/aim-*", "amdenterpriseai/aim-qwen-qwen3-32b", True),
        ("amdenterpriseai/aim-*", "amdenterpriseai/aim-", True),
        ("amdenterpriseai/aim-*", "amdenterpriseai/other", False),
        ("amdenterpriseai/aim-*", "x/amdenterpriseai/aim-a", False),
        ("team/*", "team/a/b", True),
        ("team/*-llm", "team/big/x-llm", True),
        ("team/a.b*", "team/aXb", False),
    ],
    ids=["prefix", "empty-run", "other", "anchored", "slash", "inner-star", "dot-literal"],
)
def test_star_matches_any_run_of_characters_including_slashes(
    pattern: str, repository: str, matches: bool
) -> None:
    assert parse_pattern(f"registry.example.com/{pattern}").matches(repository) is matches


@pytest.mark.parametrize(
    ("written", "fragment"),
    [
        ("org/aim-*:0.8.5", 'drop ":0.8.5" and write versions: ["0.8.5"]'),
        ("org/aim-*@sha256:" + "0" * 64, "a pattern names repositories, not a digest"),
        ("*.example.com/team/x", "the registry host cannot hold a wildcard"),
        ("localhost:*/team/x", "the registry host cannot hold a wildcard"),
        ("*/aim-x", "docker.io lists repositories one namespace at a time"),
        ("ghcr.io/*/aim-x", "ghcr.io lists repositories one namespace at a time"),
        ("aim-*", "docker.io lists repositories one namespace at a time"),
        ("Org/aim-*", 'repository must be lower-case ("Org")'),
        ("org//aim-*", "empty path component"),
    ],
    ids=[
        "tag",
        "digest",
        "host",
        "port",
        "hub-namespace",
        "ghcr-namespace",
        "official",
        "upper-case",
        "empty",
    ],
)
def test_what_amd_silently_matches_nothing_with_is_refused_by_name(written: str, fragment: str) -> None:
    with pytest.raises(InvalidReferenceError) as caught:
        parse_pattern(written)
    message = str(caught.value)
    assert message.startswith(f'invalid image pattern "{written}": ')
    assert fragment in message
    assert "\n" not in message


def test_a_wildcard_in_the_first_segment_is_fine_where_a_catalog_lists_everything() -> None:
    assert parse_pattern("registry.example.com/*/aim-x").matches("team/aim-x")


@pytest.mark.parametrize(
    ("entry", "repository", "excluded"),
    [
        ("amdenterpriseai/aim-base", "amdenterpriseai/aim-base", True),
        ("amdenterpriseai/aim-base", "amdenterpriseai/aim-base-2", False),
        ("amdenterpriseai/aim-base*", "amdenterpriseai/aim-base-2", True),
        ("*/aim-base", "amdenterpriseai/aim-base", True),
    ],
)
def test_exclude_entries_are_exact_names_or_patterns(entry: str, repository: str, excluded: bool) -> None:
    assert excludes(entry, repository) is excluded


def test_a_pattern_of_many_stars_is_matched_in_bounded_time() -> None:
    """A regular expression would backtrack for ever on this; the walk takes microseconds."""
    import time

    hostile = parse_pattern("registry.example.com/" + "*a" * 100 + "*b")
    started = time.perf_counter()
    assert not hostile.matches("a" * 255)
    assert hostile.matches("a" * 100 + "b")
    assert time.perf_counter() - started < 1.0
