"""Which sources a push reaches: exact repositories by index, wildcard patterns by registry."""

from __future__ import annotations

from typing import Any

from aimsource.operator.webhook.routes import PushRoutes


def body(*filters: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModelSource",
        "metadata": {"name": "x", "uid": "u", "generation": 1},
        "spec": {"filters": list(filters)},
    }


def test_a_push_reaches_the_sources_whose_exact_or_wildcard_filters_cover_it() -> None:
    routes = PushRoutes()
    routes.update("exact", body({"image": "reg.example.com/team/aim-llama"}))
    routes.update("wild", body({"image": "reg.example.com/team/aim-*", "exclude": ["team/aim-old*"]}))
    routes.update("hub", body({"image": "amdenterpriseai/aim-*"}))
    routes.update("broken", body({"image": "*/aim-x"}))

    assert routes.sources_for("reg.example.com", "team/aim-llama") == {"exact", "wild"}
    assert routes.sources_for("reg.example.com", "team/aim-new/nested") == {"wild"}
    assert routes.sources_for("reg.example.com", "team/aim-old-gpt") == frozenset()  # excluded
    assert routes.sources_for("reg.example.com", "other/aim-llama") == frozenset()
    assert routes.sources_for("other.example.com", "team/aim-llama") == frozenset()
    assert routes.sources_for("docker.io", "amdenterpriseai/aim-qwen") == {"hub"}


def test_a_changed_or_removed_source_no_longer_gets_pushes_it_stopped_covering() -> None:
    routes = PushRoutes()
    routes.update("wild", body({"image": "reg.example.com/team/*"}))
    assert routes.sources_for("reg.example.com", "team/a") == {"wild"}
    routes.update("wild", body({"image": "reg.example.com/lab/*"}))
    assert routes.sources_for("reg.example.com", "team/a") == frozenset()
    assert routes.sources_for("reg.example.com", "lab/a") == {"wild"}
    routes.remove("wild")
    assert routes.sources_for("reg.example.com", "lab/a") == frozenset()
