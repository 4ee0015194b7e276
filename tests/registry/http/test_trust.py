"""registry/http/trust.py: the public CA context, built ahead in a thread or on demand."""

from __future__ import annotations

import ssl
import threading

import certifi
import pytest

from aimsource.registry.http import trust


def _trusted_cas(context: ssl.SSLContext) -> int:
    return context.cert_store_stats()["x509_ca"]


@pytest.fixture(autouse=True)
def nothing_warmed() -> None:
    """A context another test warmed up (`aimsource sync` from a tags file reads no registry) is
    taken first, so that each test starts its own warm-up."""
    trust.public_ca_context()


def test_a_warmed_up_context_is_handed_over_once_and_verifies(monkeypatch: pytest.MonkeyPatch) -> None:
    built_in: list[str] = []
    build = trust._build

    def recorded() -> ssl.SSLContext:
        built_in.append(threading.current_thread().name)
        return build()

    monkeypatch.setattr(trust, "_build", recorded)
    trust.warm_up()
    first = trust.public_ca_context()
    assert built_in == ["aimsource-trust-store"]  # built by the warm-up's thread, then handed over
    second = trust.public_ca_context()  # nothing warmed any more: built on demand, here
    assert built_in == ["aimsource-trust-store", threading.current_thread().name]
    assert first is not second
    for context in (first, second):
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname
        assert _trusted_cas(context) > 100  # certifi's bundle, not an empty store


def test_a_bundle_that_cannot_be_read_fails_in_the_callers_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(certifi, "where", lambda: "/nonexistent/cacert.pem")
    trust.warm_up()  # fails in its thread; the caller gets the error, raised again by its own build
    with pytest.raises(FileNotFoundError):
        trust.public_ca_context()
    monkeypatch.undo()
    assert _trusted_cas(trust.public_ca_context()) > 100
