"""A pinned tag that moved: reported in the status and as one Warning, the model left unchanged.

Against the emulated API server, as in test_reconciler.py: the model is created with the digest of
the first HEAD, the registry double then serves another digest for the same tag.
"""

from __future__ import annotations

from aimsource.domain.naming import model_name
from aimsource.domain.references import ImageRef, parse_reference
from aimsource.registry.auth.credentials import Credential
from tests.operator.reconciler_harness import MODELS, REPO, SOURCES, Harness, new_source

FIRST = "sha256:" + "1" * 64
SECOND = "sha256:" + "2" * 64
THIRD = "sha256:" + "3" * 64


def serve_digest(h: Harness, digests: list[str]) -> None:
    """The registry double answers every HEAD with `digests[-1]`: append to move the tag."""

    async def manifest_digest(
        ref: ImageRef, *, credential: Credential | None, credentials: object = None
    ) -> str | None:
        h.lister.calls.append(("head", str(ref), credential))
        return digests[-1]

    h.lister.manifest_digest = manifest_digest  # type: ignore[method-assign]


async def test_a_moved_tag_is_one_warning_per_move_and_the_model_is_never_changed(harness: Harness) -> None:
    image = f"{REPO}:1.0.0"
    name = model_name(parse_reference(image))
    digests = [FIRST]
    serve_digest(harness, digests)
    new_source(harness.api, {"images": [image]})
    harness.watch()
    await harness.sync()
    model = harness.api.get(MODELS, name)
    assert model["metadata"]["annotations"]["aim.eai.amd.com/source-digest"] == FIRST

    digests.append(SECOND)
    for _ in range(3):  # the move stays: one Warning, not one per sync
        harness.watch()
        await harness.sync()
    status = harness.api.get(SOURCES, "src")["status"]
    assert status["status"] == "Ready"
    assert status["selectors"][0]["moved"] == [
        {"model": name, "image": image, "recordedDigest": FIRST, "currentDigest": SECOND}
    ]
    assert harness.events() == [("Normal", "ModelsCreated"), ("Warning", "TagMoved")]

    digests.append(THIRD)  # moved once more: a new move, a new Warning
    harness.watch()
    await harness.sync()
    assert harness.events() == [("Normal", "ModelsCreated"), ("Warning", "TagMoved"), ("Warning", "TagMoved")]

    digests.append(FIRST)  # moved back: nothing moved any more, nothing announced
    harness.watch()
    await harness.sync()
    assert "moved" not in harness.api.get(SOURCES, "src")["status"]["selectors"][0]
    assert len(harness.events()) == 3
    after = harness.api.get(MODELS, name)
    assert after["metadata"]["annotations"] == model["metadata"]["annotations"]
    assert after["spec"] == model["spec"]
    assert after["metadata"]["resourceVersion"] == model["metadata"]["resourceVersion"]
