"""Tags that moved: a pinned image's digest now differs from its model's source-digest annotation."""

from __future__ import annotations

from datetime import UTC, datetime

from aimsource.domain.selection.moved import find_moved, is_digest
from aimsource.domain.selection.planning import ExistingModel, plan_sync
from aimsource.domain.selection.selectors import SelectorError, SelectorOutcome, build_selectors, decide_tags
from aimsource.domain.spec.source import parse_source
from aimsource.domain.status.build import MAX_LISTED, build_status
from tests.crds.samples import source

OLD = "sha256:" + "a" * 64
NEW = "sha256:" + "b" * 64
NOW = datetime(2025, 1, 15, 10, 30, tzinfo=UTC)


def outcomes_for(*images: str) -> list[SelectorOutcome]:
    spec = parse_source(source({"images": list(images)})).spec
    return [
        SelectorOutcome(
            selector=s, decisions=tuple(decide_tags(s, [s.ref.tag or ""])), listed=1, reached_registry=True
        )
        for s in build_selectors(spec)
        if s.ref is not None
    ]


def model(image: str, digest: str | None, name: str = "m-1") -> ExistingModel:
    return ExistingModel(name=name, image=image, source="sample", digest=digest)


def test_a_pinned_tag_whose_digest_changed_is_moved() -> None:
    image = "docker.io/org/model:1.0.0"
    moved = find_moved(outcomes_for("org/model:1.0.0"), {image: NEW}, {image: model(image, OLD)})
    assert [(m.model, m.image, m.recorded, m.current) for m in moved] == [("m-1", image, OLD, NEW)]


def test_same_digest_missing_digest_or_no_model_is_not_moved() -> None:
    image = "docker.io/org/model:1.0.0"
    outcomes = outcomes_for("org/model:1.0.0")
    assert find_moved(outcomes, {image: OLD}, {image: model(image, OLD)}) == ()
    assert find_moved(outcomes, {image: None}, {image: model(image, OLD)}) == ()  # registry gave none
    assert find_moved(outcomes, {image: NEW}, {image: model(image, None)}) == ()  # older model
    assert find_moved(outcomes, {image: NEW}, {}) == ()  # no model yet: it is created, not moved


def test_garbage_on_either_side_is_never_compared() -> None:
    image = "docker.io/org/model:1.0.0"
    outcomes = outcomes_for("org/model:1.0.0")
    assert find_moved(outcomes, {image: "sha256:short"}, {image: model(image, OLD)}) == ()
    assert find_moved(outcomes, {image: NEW}, {image: model(image, "<script>")}) == ()
    assert not is_digest("sha256:" + "A" * 64)
    assert is_digest("sha512:" + "0" * 128)


def test_failed_and_unpinned_selectors_are_not_judged_and_an_image_counts_once() -> None:
    image = "docker.io/org/model:1.0.0"
    failed, twice, unpinned = outcomes_for("org/model:1.0.0", "docker.io/org/model:1.0.0", "org/other")
    failed = SelectorOutcome(selector=failed.selector, error=SelectorError("Unreachable", "down"))
    existing = {image: model(image, OLD)}
    moved = find_moved([failed, twice, unpinned], {image: NEW}, existing)
    assert [m.selector_index for m in moved] == [1]


def test_status_lists_moves_per_selector_bounded_and_stays_ready() -> None:
    images = [f"org/m{i}:1.0.0" for i in range(MAX_LISTED + 5)]
    outcomes = outcomes_for(*images)
    keys = [f"docker.io/{i}" for i in images]
    existing = {k: model(k, OLD, name=f"m-{n}") for n, k in enumerate(keys)}
    moved = find_moved(outcomes, dict.fromkeys(keys, NEW), existing)
    assert len(moved) == MAX_LISTED + 5
    plan = plan_sync(
        outcomes, source_name="sample", existing_by_image=existing, owned=len(keys), max_models=100
    )
    status = build_status(
        outcomes=outcomes, plan=plan, created=0, generation=1, previous=None, now=NOW, moved=moved
    )
    assert status["status"] == "Ready"  # the models exist and are left alone: nothing to fix here
    listed = [e for s in status["selectors"] for e in s.get("moved", [])]
    assert len(listed) == MAX_LISTED
    assert status["selectors"][0]["moved"] == [
        {"model": "m-0", "image": keys[0], "recordedDigest": OLD, "currentDigest": NEW}
    ]
    assert "moved" not in status["selectors"][-1]
