"""`WWW-Authenticate` parsing (registry/auth/challenges.py): every challenge with its parameters, in order,
whatever quoting, spacing and junk a registry sends, and which challenge the auth flow answers.

The flow that acts on a challenge is tested in test_flow.py (driven step by step) and
test_client_auth.py (against real registries).
"""

from __future__ import annotations

import pytest

from aimsource.registry.auth.challenges import Challenge, parse_challenges, preferred_challenge

REALM = "https://auth.example/token"
BEARER = f'Bearer realm="{REALM}",service="registry.example",scope="repository:org/repo:pull"'


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(
            BEARER,
            [
                (
                    "bearer",
                    {"realm": REALM, "service": "registry.example", "scope": "repository:org/repo:pull"},
                )
            ],
            id="docker-hub-style",
        ),
        pytest.param(
            'Bearer realm="https://a/t",scope="repository:a/b:pull,push"',
            [("bearer", {"realm": "https://a/t", "scope": "repository:a/b:pull,push"})],
            id="quoted-value-with-comma",
        ),
        pytest.param(
            "Bearer realm=https://a/t, service=reg",
            [("bearer", {"realm": "https://a/t", "service": "reg"})],
            id="unquoted-values",
        ),
        pytest.param('Basic realm="Registry Realm"', [("basic", {"realm": "Registry Realm"})], id="basic"),
        pytest.param(
            'Bearer realm="https://a/t", Basic realm="x"',
            [("bearer", {"realm": "https://a/t"}), ("basic", {"realm": "x"})],
            id="two-challenges",
        ),
        pytest.param(
            'Negotiate abc==, Basic realm="x"',
            [("negotiate", {}), ("basic", {"realm": "x"})],
            id="token68-skipped",
        ),
        pytest.param(
            'Bearer realm="a\\"b", error="insufficient_scope"',
            [("bearer", {"realm": 'a"b', "error": "insufficient_scope"})],
            id="escaped-quote",
        ),
        pytest.param(
            'BEARER Realm = "x" , Service = "y"',
            [("bearer", {"realm": "x", "service": "y"})],
            id="case-and-spaces",
        ),
        pytest.param("", [], id="empty"),
        pytest.param("Basic", [("basic", {})], id="scheme-without-parameters"),
        pytest.param(
            'Negotiate abc, Basic realm="x"',
            [("negotiate", {}), ("basic", {"realm": "x"})],
            id="token68-without-padding-skipped",
        ),
        pytest.param(
            'Bearer error="invalid_token",error_description="The access token expired"',
            [("bearer", {"error": "invalid_token", "error_description": "The access token expired"})],
            id="error-parameters-kept",
        ),
        pytest.param(
            'Bearer\trealm="a",\tservice="b"',
            [("bearer", {"realm": "a", "service": "b"})],
            id="tabs",
        ),
        pytest.param(', , Bearer realm="a"', [("bearer", {"realm": "a"})], id="leading-empty-elements"),
        pytest.param(
            'Bearer realm="a",,service="s"',
            [("bearer", {"realm": "a", "service": "s"})],
            id="empty-element-between-parameters",
        ),
        pytest.param(
            'Bearer realm="a", realm="b"', [("bearer", {"realm": "a"})], id="repeated-parameter-first-wins"
        ),
        pytest.param(
            'Bearer realm="a" junk, service="s"',
            [("bearer", {"realm": "a", "service": "s"})],
            id="junk-after-a-value-skipped-to-the-comma",
        ),
        pytest.param(
            'Bearer realm="a"="b", service="s"',
            [("bearer", {"realm": "a", "service": "s"})],
            id="stray-equals-after-a-value",
        ),
        pytest.param(
            'Bearer realm="abc', [("bearer", {"realm": "abc"})], id="unterminated-quote-ends-with-the-header"
        ),
    ],
)
def test_challenge_parsing(header: str, expected: list[tuple[str, dict[str, str]]]) -> None:
    parsed = parse_challenges([header])
    assert [(c.scheme, dict(c.params)) for c in parsed] == expected


def test_challenges_of_several_headers_come_in_order() -> None:
    parsed = parse_challenges(['Basic realm="x"', 'Bearer realm="y", Basic realm="z"'])
    assert [(c.scheme, c.realm) for c in parsed] == [("basic", "x"), ("bearer", "y"), ("basic", "z")]


def test_named_parameters_are_read_from_the_parsed_challenge() -> None:
    [bearer] = parse_challenges([BEARER])
    assert (bearer.realm, bearer.service, bearer.scope) == (
        REALM,
        "registry.example",
        "repository:org/repo:pull",
    )
    [basic] = parse_challenges(["Basic"])
    assert (basic.realm, basic.service, basic.scope) == (None, None, None)


def test_parameters_of_a_challenge_cannot_be_changed() -> None:
    [bearer] = parse_challenges([BEARER])
    with pytest.raises(TypeError):
        bearer.params["realm"] = "https://attacker.example/token"  # type: ignore[index]


def test_bearer_is_preferred_over_basic_across_headers() -> None:
    chosen = preferred_challenge(parse_challenges(['Basic realm="x"', 'Bearer realm="https://a/t"']))
    assert chosen is not None
    assert chosen.scheme == "bearer"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param(['Basic realm="x"'], ("basic", "x"), id="basic-alone"),
        pytest.param(['Negotiate abc==, Basic realm="x"'], ("basic", "x"), id="unknown-schemes-passed-over"),
        pytest.param(
            ['Bearer realm="https://first/t"', 'Bearer realm="https://second/t"'],
            ("bearer", "https://first/t"),
            id="the-first-of-a-scheme",
        ),
        pytest.param(["Negotiate abc==", 'Digest realm="x"'], None, id="nothing-we-speak"),
        pytest.param([], None, id="no-challenge"),
    ],
)
def test_preferred_challenge(headers: list[str], expected: tuple[str, str] | None) -> None:
    chosen = preferred_challenge(parse_challenges(headers))
    assert (None if chosen is None else (chosen.scheme, chosen.realm)) == expected


def test_a_challenge_built_directly_has_no_parameters() -> None:
    assert Challenge("basic").params == {}
