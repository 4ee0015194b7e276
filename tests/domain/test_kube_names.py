"""domain/kube_names.py: Kubernetes' DNS-1123 name rules, as the API server applies them."""

from __future__ import annotations

import pytest

from aimsource.domain.kube_names import LABEL_MAX, SUBDOMAIN_MAX, is_label, is_subdomain


@pytest.mark.parametrize(
    "name", ["a", "regcred", "team-a.pull-secret", "0", "a1-b2.c3", "a" * SUBDOMAIN_MAX, "x." * 126 + "y"]
)
def test_subdomains_kubernetes_accepts(name: str) -> None:
    assert is_subdomain(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "-a",
        "a-",
        "a..b",  # an empty label
        ".a",
        "a.",
        "A",
        "a_b",
        "a b",
        "../../kube-system/secrets/regcred",
        "a" * (SUBDOMAIN_MAX + 1),
        "café",
    ],
)
def test_names_kubernetes_refuses_are_no_subdomains(name: str) -> None:
    assert not is_subdomain(name)


def test_a_label_has_no_dots_and_at_most_63_characters() -> None:
    assert is_label("aim-system")
    assert is_label("a" * LABEL_MAX)
    assert not is_label("a" * (LABEL_MAX + 1))
    assert not is_label("aim.system")
    assert not is_label("")
