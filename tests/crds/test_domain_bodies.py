"""What the domain writes to the cluster is admitted by our CRDs: model bodies and source statuses.

The API server silently prunes fields a schema does not declare, so a status field named
differently here and in domain/status/build.py would vanish without an error; these tests run the real
domain functions and judge their output by the CRDs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aimsource.domain.models import model_body
from aimsource.domain.references import parse_reference
from aimsource.domain.selection.planning import candidate_for, plan_sync
from aimsource.domain.selection.selectors import SelectorError, SelectorOutcome, build_selectors, decide_tags
from aimsource.domain.spec.source import Problem, parse_source
from aimsource.domain.status.build import build_status, initial_status
from tests.crds.samples import source
from tests.support.crd_schema import MODELS_CRD, SOURCES_CRD, admit

NOW = datetime(2025, 1, 15, 10, 30, tzinfo=UTC)


def with_status(status: dict[str, Any]) -> dict[str, Any]:
    return {**source({"images": ["org/model"]}), "status": status}


def test_model_body_is_admitted_and_keeps_every_field() -> None:
    ref = parse_reference("ghcr.io/org/model:1.0.0")
    body = model_body(
        candidate_for(ref, selector_index=0, selector="ghcr.io/org/model:1.0.0"),
        source_name="amd-models",
        source_uid="uid-1",
        digest="sha256:" + "a" * 64,
        image_pull_secrets=["creds"],
    )
    stored, errors = admit(body, MODELS_CRD)
    assert errors == []
    assert stored == body  # nothing pruned, nothing defaulted that the body did not say already


def test_model_discovery_is_enabled_by_default() -> None:
    stored, errors = admit({"metadata": {"name": "m"}, "spec": {"image": "org/model:1.0.0"}}, MODELS_CRD)
    assert errors == []
    assert stored["spec"]["discovery"] == {"extractMetadata": True, "createServiceTemplates": True}


def test_model_requires_an_image_and_leaves_status_open() -> None:
    assert admit({"metadata": {"name": "m"}, "spec": {}}, MODELS_CRD)[1] != []
    open_status = {
        "metadata": {"name": "m"},
        "spec": {"image": "a/b:1"},
        "status": {"anything": [1, {"x": 2}]},
    }
    assert admit(open_status, MODELS_CRD)[1] == []


def test_initial_status_is_admitted() -> None:
    assert admit(with_status(initial_status()), SOURCES_CRD)[1] == []


def test_status_after_a_sync_is_admitted() -> None:
    spec = parse_source(source({"images": ["org/model", "org/gone"], "versions": [">=1.0.0"]})).spec
    listed, failed = build_selectors(spec)
    outcomes = [
        SelectorOutcome(
            selector=listed,
            decisions=tuple(decide_tags(listed, ["1.0.0", "1.1.0", "latest", "0.9.0"])),
            listed=4,
            reached_registry=True,
        ),
        SelectorOutcome(
            selector=failed,
            error=SelectorError(reason="RepositoryNotFound", message="docker.io/org/gone: not found"),
            reached_registry=True,
        ),
    ]
    plan = plan_sync(outcomes, source_name="sample", existing_by_image={}, owned=0, max_models=1)
    status = build_status(outcomes=outcomes, plan=plan, created=1, generation=2, previous=None, now=NOW)
    assert status["selectors"][1]["error"]["reason"] == "RepositoryNotFound"
    stored, errors = admit(with_status(status), SOURCES_CRD)
    assert errors == []
    assert stored["status"] == status


def test_status_of_an_invalid_spec_is_admitted() -> None:
    problems = [Problem("spec.maxModels", "must be between 1 and 10000 (is 0)")]
    status = build_status(
        outcomes=[], plan=None, created=0, problems=problems, generation=1, previous=None, now=NOW
    )
    assert admit(with_status(status), SOURCES_CRD)[1] == []


def test_status_with_the_most_conflicts_and_refusals_is_admitted_and_kept_whole() -> None:
    """`conflicts` and `refused` at their bounds (count, message length) fit the schema, and the
    API would keep them rather than prune them."""
    from dataclasses import replace

    from aimsource.domain.selection.planning import ExistingModel, refused
    from aimsource.domain.status.build import MAX_LISTED

    repos = [f"org/m{i}" for i in range(3)]
    spec = parse_source(source({"images": repos})).spec
    outcomes = [
        SelectorOutcome(
            selector=s,
            decisions=tuple(decide_tags(s, [f"1.{j}.0" for j in range(30)])),
            listed=30,
            reached_registry=True,
        )
        for s in build_selectors(spec)
    ]
    first = plan_sync(outcomes, source_name="sample", existing_by_image={}, owned=0, max_models=100)
    # Squat the first 25 names with models of other images; refuse every remaining create.
    squatted = first.to_create[:25]
    existing = {
        f"evil.example/x/{i}:1": ExistingModel(c.name, f"evil.example/x/{i}:1", None)
        for i, c in enumerate(squatted)
    }
    plan = plan_sync(outcomes, source_name="sample", existing_by_image=existing, owned=0, max_models=100)
    plan = replace(
        plan,
        to_create=(),
        not_created=plan.not_created
        + tuple(refused(c, "InternalError" + "x" * 100, "y" * 5000) for c in plan.to_create),
    )
    status = build_status(outcomes=outcomes, plan=plan, created=0, generation=1, previous=None, now=NOW)
    conflicts = [e for s in status["selectors"] for e in s.get("conflicts", [])]
    refusals = [e for s in status["selectors"] for e in s.get("refused", [])]
    assert (len(conflicts), len(refusals)) == (MAX_LISTED, MAX_LISTED)
    stored, errors = admit(with_status(status), SOURCES_CRD)
    assert errors == []
    assert stored["status"] == status


def test_status_with_a_stale_selector_and_moved_tags_is_admitted_and_kept_whole() -> None:
    """`stale`, `listedAt` and `moved` (at its bound) are declared: the API would not prune them."""
    from aimsource.domain.selection.listings import StaleListing
    from aimsource.domain.selection.moved import MovedTag
    from aimsource.domain.status.build import MAX_LISTED

    spec = parse_source(source({"images": ["org/model", "org/pinned:1.0.0"]})).spec
    listed, pinned = build_selectors(spec)
    stale = StaleListing(
        listed_at=NOW, reason="RateLimited", message="rate limited by docker.io", answered=True
    )
    outcomes = [
        SelectorOutcome(
            selector=listed,
            decisions=tuple(decide_tags(listed, ["1.0.0"])),
            listed=1,
            reached_registry=True,
            stale=stale,
        ),
        SelectorOutcome(
            selector=pinned, decisions=tuple(decide_tags(pinned, ["1.0.0"])), listed=1, reached_registry=True
        ),
    ]
    moved = [
        MovedTag(1, f"m-{i}", f"docker.io/org/pinned-{i}:1.0.0", "sha256:" + "a" * 64, "sha512:" + "b" * 128)
        for i in range(MAX_LISTED)
    ]
    plan = plan_sync(outcomes, source_name="sample", existing_by_image={}, owned=0, max_models=10)
    status = build_status(
        outcomes=outcomes, plan=plan, created=2, generation=1, previous=None, now=NOW, moved=moved
    )
    assert status["status"] == "Degraded"
    assert status["selectors"][0]["stale"] is True
    assert len(status["selectors"][1]["moved"]) == MAX_LISTED
    stored, errors = admit(with_status(status), SOURCES_CRD)
    assert errors == []
    assert stored["status"] == status


def test_status_naming_the_mirror_that_served_a_selector_is_admitted_and_kept_whole() -> None:
    """`endpoint` (the registries file's mirror that served the listing) is declared and bounded."""
    from aimsource.domain.status.selectors import MAX_ENDPOINT_LENGTH

    spec = parse_source(source({"images": ["org/model"]})).spec
    [listed] = build_selectors(spec)
    mirror = "https://" + "m" * 200 + ".example:5000"
    outcome = SelectorOutcome(
        selector=listed,
        decisions=tuple(decide_tags(listed, ["1.0.0"])),
        listed=1,
        reached_registry=True,
        endpoint=mirror,
    )
    plan = plan_sync([outcome], source_name="sample", existing_by_image={}, owned=0, max_models=10)
    status = build_status(outcomes=[outcome], plan=plan, created=1, generation=1, previous=None, now=NOW)
    assert status["selectors"][0]["endpoint"] == mirror
    stored, errors = admit(with_status(status), SOURCES_CRD)
    assert errors == []
    assert stored["status"] == status
    too_long = with_status({**status, "selectors": [{**status["selectors"][0], "endpoint": "x" * 257}]})
    assert MAX_ENDPOINT_LENGTH == 256
    assert admit(too_long, SOURCES_CRD)[1] != []
