"""registry/trust.py: the public CA context, built ahead in a thread or on demand."""

from __future__ import annotations

import ssl

import certifi
import pytest

from aimsource.registry import trust


def _trusted_cas(context: ssl.SSLContext) -> int:
    return context.cert_store_stats()["x509_ca"]


def test_a_warmed_up_context_is_handed_over_once_and_verifies() -> None:
    trust.warm_up()
    first = trust.public_ca_context()
    second = trust.public_ca_context()  # nothing warmed any more: built on demand
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
