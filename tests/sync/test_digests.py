"""New images' digests from the registry's web API (`sync/digests.py`): a first sync of N tags costs
ceil(N/100) API pages and no HEAD; whatever the API answers, no model gets a digest the registry
does not give; a second sync costs what it did before; a mirror's listing is never paired with the
upstream's API. A real `docker-registry` (behind a counting front) and a front of Docker Hub's tags
API serving the digests that registry computed; the rule's edges over the ports' doubles."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from aimsource.domain.registries.parsing import parse_registries
from aimsource.domain.resources import DIGEST_ANNOTATION
from aimsource.registry.client import RegistryClient
from aimsource.registry.settings import RegistrySettings
from aimsource.sync.engine import sync_source
from tests.support.faults import FaultFront
from tests.support.fronts import PaginatingFront
from tests.support.images import aim_labels, numbered_tags
from tests.support.registry_server import RunningRegistry
from tests.support.tag_apis import TagApiFront
from tests.sync.doubles import DictSecrets, MemoryStore, RecordingLister, source

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
REPOSITORY = "digests/aim-many"
TAGS = numbered_tags(250)
FAST = RegistrySettings(max_attempts=2, backoff_base=0.01, backoff_cap=0.05, requests_per_second=0)


@pytest.fixture(scope="module")
def pushed(anonymous_registry: RunningRegistry) -> dict[str, str]:
    """250 tags over 5 images (5 digests), as the registry computed them: tag -> digest."""
    digests: dict[str, str] = {}
    with anonymous_registry.pusher() as pusher:
        pusher.concurrency = 16
        for group in range(5):
            tags = TAGS[group::5]
            labels = {**aim_labels(REPOSITORY), "group": str(group)}
            digests.update(dict.fromkeys(tags, pusher.push_image(REPOSITORY, tags, labels=labels).digest))
    return {tag: digests[tag] for tag in TAGS}  # in push order: the API front lists the last first


@pytest.fixture
def registry_front(
    anonymous_registry: RunningRegistry,
    make_fault_front: Callable[[RunningRegistry | PaginatingFront], FaultFront],
) -> FaultFront:
    return make_fault_front(anonymous_registry)


@pytest.fixture
def api(pushed: dict[str, str]) -> Iterator[TagApiFront]:
    with TagApiFront({REPOSITORY: pushed}) as front:
        yield front


def registries_for(host: str, api: TagApiFront, *, mirror: str | None = None) -> Any:
    text = f"registries:\n  {host}:\n    repositoryDiscovery: dockerhub\n    discoveryURL: {api.url}\n"
    if mirror is not None:
        text += f"    mirrors: [{mirror}]\n    fallback: false\n"
    return parse_registries(text, origin="registries.yaml")


async def sync(host: str, registries: Any, store: MemoryStore) -> None:
    spec = {"registry": host, "filters": [{"image": REPOSITORY}], "maxModels": 1000}
    async with RegistryClient(FAST, registries=registries) as client:
        result = await sync_source(
            source(spec), lister=client, store=store, secrets=DictSecrets(), now=NOW, previous=None
        )
    assert result.status["status"] == "Ready", result.status


def digests_of(store: MemoryStore) -> dict[str, str]:
    return {
        body["spec"]["image"].rsplit(":", 1)[1]: body["metadata"]["annotations"].get(DIGEST_ANNOTATION)
        for body in store.models.values()
    }


@pytest.mark.registry
async def test_a_first_sync_takes_its_digests_from_the_api_and_heads_nothing(
    registry_front: FaultFront, api: TagApiFront, pushed: dict[str, str]
) -> None:
    store = MemoryStore()
    await sync(registry_front.host, registries_for(registry_front.host, api), store)
    assert digests_of(store) == pushed  # 250 models, each with the digest the registry computed
    assert api.log.count() == 3  # ceil(250 / 100) pages
    assert registry_front.log.count(path="/manifests/") == 0
    assert registry_front.log.count(path="/tags/list") == 1

    # The second sync: every image has its model; no digest is asked for, of the API or by HEAD.
    api.log.reset()
    registry_front.log.reset()
    await sync(registry_front.host, registries_for(registry_front.host, api), store)
    assert api.log.count() == 0
    assert registry_front.log.count(path="/manifests/") == 0
    assert registry_front.log.count(path="/tags/list") == 1


HOSTILE: dict[str, Callable[[TagApiFront], None]] = {
    "bad digests": lambda f: f.bad.update({TAGS[-1]: "sha256:" + "0" * 63 + "Z", TAGS[-2]: {"x": 1}}),
    "a next page on another host": lambda f: setattr(f, "cross_host_next", True),
    "429": lambda f: f.fail.append(429),
    "500": lambda f: f.fail.append(500),
}


@pytest.mark.registry
@pytest.mark.parametrize("hostile", sorted(HOSTILE))
async def test_whatever_the_api_answers_every_model_gets_the_registry_s_digest(
    registry_front: FaultFront, api: TagApiFront, pushed: dict[str, str], hostile: str
) -> None:
    HOSTILE[hostile](api)
    store = MemoryStore()
    await sync(registry_front.host, registries_for(registry_front.host, api), store)
    assert digests_of(store) == pushed
    heads = registry_front.log.count(path="/manifests/", method="HEAD")
    expected_heads = {"bad digests": 2, "a next page on another host": 150, "429": 250, "500": 250}
    assert heads == expected_heads[hostile]  # what the API did not give, and only that, was HEADed
    assert api.log.count() <= 3


@pytest.mark.registry
async def test_a_listing_read_at_a_mirror_is_not_paired_with_the_upstream_s_api(
    anonymous_registry: RunningRegistry, registry_front: FaultFront, api: TagApiFront, pushed: dict[str, str]
) -> None:
    store = MemoryStore()
    upstream = "upstream.invalid"  # never reached: fallback false
    registries = registries_for(upstream, api, mirror=registry_front.base_url)
    await sync(upstream, registries, store)
    assert digests_of(store) == pushed
    assert api.log.count() == 0
    assert registry_front.log.count(path="/manifests/", method="HEAD") == 250


# -- the rule's edges, over the ports' doubles ----------------------------------------------------

REPO = "docker.io/amdenterpriseai/aim-qwen-qwen3-32b"
DIGEST = "sha256:" + "d" * 64


async def sync_double(lister: RecordingLister, store: MemoryStore, spec: dict[str, Any]) -> None:
    result = await sync_source(
        source({**spec, "maxModels": 1000}),
        lister=lister,
        store=store,
        secrets=DictSecrets(),
        now=NOW,
        previous=None,
    )
    assert result.status["status"] == "Ready", result.status


async def test_one_new_image_is_headed_not_asked_of_the_api() -> None:
    lister = RecordingLister(tags={REPO: ["1.0.0"]}, api={REPO: {"1.0.0": DIGEST}})
    await sync_double(lister, MemoryStore(), {"images": [REPO]})
    assert (lister.count("api"), lister.count("head")) == (0, 1)


async def test_images_the_api_does_not_give_are_headed() -> None:
    tags = [f"1.{i}.0" for i in range(10)]
    lister = RecordingLister(tags={REPO: tags}, api={REPO: {t: DIGEST for t in tags[:7]}})
    store = MemoryStore()
    await sync_double(lister, store, {"images": [REPO]})
    assert (lister.count("api"), lister.count("head")) == (1, 3)
    annotations = [b["metadata"]["annotations"][DIGEST_ANNOTATION] for b in store.models.values()]
    assert annotations.count(DIGEST) == 7


async def test_pinned_and_named_images_keep_their_heads() -> None:
    # Their HEAD proves they exist (and tells a moved tag): the API is for listed repositories.
    tags = [f"1.{i}.0" for i in range(10)]
    lister = RecordingLister(tags={REPO: tags}, api={REPO: {t: DIGEST for t in tags}})
    await sync_double(lister, MemoryStore(), {"images": [REPO], "versions": tags[:5]})
    assert (lister.count("api"), lister.count("head")) == (0, 5)


async def test_a_repository_with_more_api_pages_than_new_images_is_headed() -> None:
    tags = [f"1.{i}.0" for i in range(450)]  # 5 API pages
    existing = MemoryStore()
    lister = RecordingLister(tags={REPO: tags[:446]}, api={REPO: {t: DIGEST for t in tags}})
    await sync_double(lister, existing, {"images": [REPO]})
    assert lister.count("api") == 1
    lister.calls.clear()
    lister.tags[REPO] = tags  # four new tags: four HEADs beat five pages
    await sync_double(lister, existing, {"images": [REPO]})
    assert (lister.count("api"), lister.count("head")) == (0, 4)
