"""The auth flow, driven step by step: we send it the answers a registry would give.

`auth_flow` is a generator of our own (it yields requests, receives replies), so these tests run
the real thing without a network; the same generator meets real registries in test_client_auth.py.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Sequence

import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from aimsource.registry.auth.credentials import Credential
from aimsource.registry.auth.flow import AuthFlow, AuthScope, AuthState, auth_flow
from aimsource.registry.errors import AuthenticationFailed, BadResponse
from aimsource.registry.http.messages import Outgoing, Reply
from aimsource.registry.settings import RegistrySettings

REGISTRY = "registry.example:5000"
TAGS_URL = URL(f"https://{REGISTRY}/v2/org/repo/tags/list?n=1000")
REALM = "https://auth.example/token"
BEARER = f'Bearer realm="{REALM}",service="registry.example",scope="repository:org/repo:pull"'
CREDENTIAL = Credential("robot", "s3cr:et")
SETTINGS = RegistrySettings()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def scope(credential: Credential | None = None) -> AuthScope:
    return AuthScope(host=REGISTRY, registry=REGISTRY, repository="org/repo", credential=credential)


def reply(
    status: int, *, url: URL = TAGS_URL, headers: Sequence[tuple[str, str]] = (), body: bytes = b""
) -> Reply:
    return Reply(status=status, url=url, headers=CIMultiDictProxy(CIMultiDict(list(headers))), body=body)


def challenge(value: str = BEARER) -> Reply:
    return reply(401, headers=[("WWW-Authenticate", value)])


def token_reply(token: str = "tok-1", **extra: object) -> Reply:
    return reply(200, url=URL(REALM), body=json.dumps({"token": token, **extra}).encode())


def basic(credential: Credential) -> str:
    return "Basic " + base64.b64encode(f"{credential.username}:{credential.password}".encode()).decode()


class Driver:
    """Runs one flow: `first` is its first request; `answer(reply)` returns the next one or None."""

    def __init__(self, credential: Credential | None = None, *, state: AuthState | None = None) -> None:
        self.state = state or AuthState(SETTINGS, clock=Clock())
        self.flow: AuthFlow = auth_flow(
            Outgoing("GET", TAGS_URL), scope=scope(credential), state=self.state, settings=SETTINGS
        )
        self.first = next(self.flow)

    def answer(self, answer: Reply) -> Outgoing | None:
        try:
            return self.flow.send(answer)
        except StopIteration:
            return None


# -- the flow ---------------------------------------------------------------------------------------


def test_first_request_is_anonymous_and_a_200_ends_the_flow() -> None:
    driver = Driver(CREDENTIAL)
    assert driver.first.header("Authorization") is None
    assert driver.answer(reply(200)) is None


def test_bearer_challenge_fetches_token_from_the_realm_with_scope_and_service() -> None:
    driver = Driver()
    token_request = driver.answer(challenge())
    assert token_request is not None
    assert token_request.purpose == "token"
    assert token_request.url.with_query(None) == URL(REALM)
    assert token_request.url.query["scope"] == "repository:org/repo:pull"
    assert token_request.url.query["service"] == "registry.example"
    assert token_request.header("Authorization") is None  # anonymous token
    retried = driver.answer(token_reply("tok-1"))
    assert retried is not None
    assert retried.url == TAGS_URL
    assert retried.header("Authorization") == "Bearer tok-1"
    assert driver.answer(reply(200)) is None


def test_token_request_carries_basic_credentials_to_the_challenges_realm() -> None:
    driver = Driver(CREDENTIAL)
    token_request = driver.answer(challenge())
    assert token_request is not None
    assert token_request.header("Authorization") == basic(CREDENTIAL)


def test_access_token_field_is_accepted() -> None:
    driver = Driver()
    driver.answer(challenge())
    retried = driver.answer(reply(200, url=URL(REALM), body=b'{"access_token": "tok-a"}'))
    assert retried is not None
    assert retried.header("Authorization") == "Bearer tok-a"


def test_401_after_a_fresh_token_fails_instead_of_looping() -> None:
    driver = Driver(CREDENTIAL)
    driver.answer(challenge())
    driver.answer(token_reply())
    with pytest.raises(AuthenticationFailed, match="refused the supplied credentials") as info:
        driver.answer(challenge(BEARER + ',error="insufficient_scope"'))
    assert CREDENTIAL.password not in str(info.value)


def test_anonymous_refusal_hints_at_missing_repository_or_credentials() -> None:
    driver = Driver()
    driver.answer(challenge())
    driver.answer(token_reply())
    with pytest.raises(AuthenticationFailed, match="repository not found or access denied"):
        driver.answer(challenge())


@pytest.mark.parametrize("status", [401, 403])
def test_token_service_refusing_credentials_is_an_authentication_failure(status: int) -> None:
    driver = Driver(CREDENTIAL)
    driver.answer(challenge())
    with pytest.raises(AuthenticationFailed, match=r"token service auth\.example refused the credentials"):
        driver.answer(reply(status, url=URL(REALM)))


@pytest.mark.parametrize(
    ("body", "why"),
    [
        pytest.param(b"not json", "not valid JSON", id="not-json"),
        pytest.param(b"[]", "not a JSON object", id="not-object"),
        pytest.param(b'{"expires_in": 60}', 'no "token"', id="no-token"),
        pytest.param(b'{"token": "a\\nb"}', "not allowed in an HTTP header", id="header-injection"),
    ],
)
def test_malformed_token_answer_is_a_bad_response(body: bytes, why: str) -> None:
    driver = Driver()
    driver.answer(challenge())
    with pytest.raises(BadResponse, match=why):
        driver.answer(reply(200, url=URL(REALM), body=body))


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"token": "XYZZY-token", "expires_in": 6', id="cut-short"),
        pytest.param(b'{"token": "XYZZY-\xff-token"}', id="not-utf8"),
    ],
)
def test_a_token_answer_that_is_not_json_is_not_chained_nor_logged(
    body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """The decode error keeps the whole answer, which may hold a token: it is dropped (logged
    at DEBUG by its type and where decoding stopped only)."""
    caplog.set_level(logging.DEBUG)
    driver = Driver()
    driver.answer(challenge())
    with pytest.raises(BadResponse, match="not valid JSON") as info:
        driver.answer(reply(200, url=URL(REALM), body=body))
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__
    assert "cause dropped" in caplog.text
    assert "XYZZY" not in caplog.text
    assert all("XYZZY" not in str(vars(r)) for r in caplog.records)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param('Bearer service="x"', id="no-realm"),
        pytest.param('Bearer realm="ftp://auth.example/token"', id="not-http"),
        pytest.param('Bearer realm="http://auth.example/token"', id="plain-http-realm-on-public-host"),
    ],
)
def test_unusable_realm_is_refused_before_anything_is_sent(header: str) -> None:
    driver = Driver(CREDENTIAL)
    with pytest.raises(BadResponse):
        driver.answer(challenge(header))


def test_basic_challenge_resends_with_credentials_once() -> None:
    driver = Driver(CREDENTIAL)
    retried = driver.answer(challenge('Basic realm="r"'))
    assert retried is not None
    assert retried.header("Authorization") == basic(CREDENTIAL)
    with pytest.raises(AuthenticationFailed, match="refused the supplied credentials"):
        driver.answer(challenge('Basic realm="r"'))


def test_basic_challenge_without_credentials_fails_at_once() -> None:
    driver = Driver()
    with pytest.raises(AuthenticationFailed, match="anonymous access refused"):
        driver.answer(challenge('Basic realm="r"'))


def test_401_without_a_usable_challenge_is_an_authentication_failure() -> None:
    driver = Driver(CREDENTIAL)
    with pytest.raises(AuthenticationFailed, match="no Bearer or Basic challenge"):
        driver.answer(reply(401))


def test_401_from_another_host_after_a_redirect_is_not_answered_with_credentials() -> None:
    driver = Driver(CREDENTIAL)
    elsewhere = URL("https://elsewhere.example/v2/org/repo/tags/list")
    assert driver.answer(reply(401, url=elsewhere, headers=[("WWW-Authenticate", BEARER)])) is None
    assert driver.state.challenges == {}


def test_cached_token_is_reused_without_a_challenge_round_trip() -> None:
    state = AuthState(SETTINGS, clock=Clock())
    first = Driver(state=state)
    first.answer(challenge())
    first.answer(token_reply("tok-1", expires_in=300))
    first.answer(reply(200))
    second = Driver(state=state)
    assert second.first.header("Authorization") == "Bearer tok-1"
    assert second.answer(reply(200)) is None


def test_known_bearer_host_gets_a_token_before_the_first_request_for_a_new_scope() -> None:
    state = AuthState(SETTINGS, clock=Clock())
    first = Driver(state=state)
    first.answer(challenge())
    first.answer(token_reply("tok-anon"))
    first.answer(reply(200))
    # Same host, other credential identity: a token request comes first, no anonymous 401 round trip.
    second = Driver(CREDENTIAL, state=state)
    assert second.first.purpose == "token"
    assert second.first.header("Authorization") == basic(CREDENTIAL)


def test_tokens_are_cached_per_credential_identity() -> None:
    state = AuthState(SETTINGS, clock=Clock())
    anonymous = Driver(state=state)
    anonymous.answer(challenge())
    anonymous.answer(token_reply("tok-anon", expires_in=300))
    other = Credential("robot", "other-password")
    assert state.token(scope(CREDENTIAL).token_key) is None
    assert state.token(scope(other).token_key) is None
    assert state.token(scope().token_key) == "tok-anon"


@pytest.mark.parametrize(
    ("expires_in", "still_valid_at", "expired_at"),
    [
        pytest.param(None, 49.0, 50.0, id="absent-means-60s-minus-margin"),
        pytest.param(300, 289.0, 290.0, id="given-minus-margin"),
        pytest.param(10, 4.0, 5.0, id="short-lifetime-keeps-half"),
    ],
)
def test_token_expiry(expires_in: int | None, still_valid_at: float, expired_at: float) -> None:
    clock = Clock()
    state = AuthState(SETTINGS, clock=clock)
    driver = Driver(state=state)
    driver.answer(challenge())
    extra = {} if expires_in is None else {"expires_in": expires_in}
    driver.answer(token_reply("tok", **extra))
    start = clock.now
    clock.now = start + still_valid_at
    assert state.token(scope().token_key) == "tok"
    clock.now = start + expired_at
    assert state.token(scope().token_key) is None


def test_refused_cached_token_is_replaced_once() -> None:
    state = AuthState(SETTINGS, clock=Clock())
    first = Driver(state=state)
    first.answer(challenge())
    first.answer(token_reply("tok-old", expires_in=300))
    first.answer(reply(200))
    second = Driver(state=state)
    assert second.first.header("Authorization") == "Bearer tok-old"
    token_request = second.answer(challenge())  # the registry no longer accepts it (revoked)
    assert token_request is not None
    assert token_request.purpose == "token"
    retried = second.answer(token_reply("tok-new"))
    assert retried is not None
    assert retried.header("Authorization") == "Bearer tok-new"
    with pytest.raises(AuthenticationFailed):
        second.answer(challenge())


def test_known_basic_host_gets_credentials_on_the_first_request() -> None:
    state = AuthState(SETTINGS, clock=Clock())
    first = Driver(CREDENTIAL, state=state)
    first.answer(challenge('Basic realm="r"'))
    first.answer(reply(200))
    second = Driver(CREDENTIAL, state=state)
    assert second.first.header("Authorization") == basic(CREDENTIAL)


def test_outgoing_repr_hides_headers() -> None:
    outgoing = Outgoing("GET", TAGS_URL).with_header("Authorization", basic(CREDENTIAL))
    assert basic(CREDENTIAL) not in repr(outgoing)
    assert "s3cr" not in repr(scope(CREDENTIAL))
