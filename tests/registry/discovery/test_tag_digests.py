"""Tag digests from Docker Hub's tags API and GitHub's package versions, through the client, against
a front that speaks both (`tests/support/tag_apis.py`): pages, the stop rule, hostile answers, and
no retry (a failure costs one request: the sync HEADs instead)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from aimsource.domain.references import ImageRef
from aimsource.domain.registries.parsing import parse_registries
from aimsource.registry.auth.credentials import Credential
from aimsource.registry.client import RegistryClient
from aimsource.registry.discovery.tag_digests import api_pages, worth_asking
from aimsource.registry.errors import (
    AuthenticationFailed,
    BadResponse,
    RateLimited,
    RepositoryNotFound,
    Unreachable,
)
from aimsource.registry.settings import RegistrySettings
from tests.support.images import numbered_tags
from tests.support.tag_apis import HUB_JWT, HUB_LOGIN, TOKEN, TagApiFront

TAGS = numbered_tags(250)
DIGESTS = {tag: f"sha256:{i % 7:064x}" for i, tag in enumerate(TAGS)}
TABLE = {"amdenterpriseai/aim-many": DIGESTS, "amd-enterprise-ai/tools/aim-nested": DIGESTS}
HUB = ImageRef("docker.io", "amdenterpriseai/aim-many")
GHCR = ImageRef("ghcr.io", "amd-enterprise-ai/tools/aim-nested")
GITHUB_TOKEN = Credential("someone", TOKEN)


@pytest.fixture
def front() -> Iterator[TagApiFront]:
    with TagApiFront(TABLE) as made:
        yield made


@pytest.fixture
async def client(front: TagApiFront) -> AsyncIterator[RegistryClient]:
    text = (
        f"registries:\n  docker.io:\n    discoveryURL: {front.url}\n"
        f"  ghcr.io:\n    discoveryURL: {front.url}\n"
    )
    registries = parse_registries(text, origin="test")
    async with RegistryClient(RegistrySettings(backoff_base=0.01), registries=registries) as made:
        yield made


@pytest.mark.parametrize(
    ("new", "listed", "asked"),
    [(1, 10, False), (2, 10, True), (2, 100, True), (2, 101, False), (30, 2000, True), (20, 2000, False)],
)
def test_the_api_is_asked_when_new_images_outnumber_its_pages(new: int, listed: int, asked: bool) -> None:
    assert worth_asking(new, listed) is asked
    assert [api_pages(n) for n in (0, 100, 101)] == [1, 1, 2]


async def test_docker_hub_gives_every_digest_in_a_page_per_hundred_tags(
    client: RegistryClient, front: TagApiFront
) -> None:
    pages: list[int] = []
    digests = await client.tag_digests(HUB, TAGS, credential=None, found=lambda page: pages.append(len(page)))
    assert digests == DIGESTS
    assert front.log.count() == 3 == api_pages(len(TAGS))
    assert pages == [100, 100, 50]  # each page handed on as soon as it is read
    assert all(r.authorization is None for r in front.log.requests)
    assert "page_size=100" in front.log.requests[0].query


async def test_the_walk_stops_once_every_wanted_digest_is_found(
    client: RegistryClient, front: TagApiFront
) -> None:
    newest = TAGS[-5:]  # Docker Hub lists the newest tags first
    assert await client.tag_digests(HUB, newest, credential=None) == {t: DIGESTS[t] for t in newest}
    assert front.log.count() == 1


async def test_a_walk_that_finds_nothing_stops_after_two_pages(
    client: RegistryClient, front: TagApiFront
) -> None:
    # Tags the API does not list (the registry has them, the API not yet): two pages, then HEADs.
    assert await client.tag_digests(HUB, ["9.9.1", "9.9.2", "9.9.3"], credential=None) == {}
    assert front.log.count() == 2


async def test_hostile_digests_and_names_never_come_out(client: RegistryClient, front: TagApiFront) -> None:
    front.bad.update(
        {TAGS[-1]: "sha256:" + "Z" * 64, TAGS[-2]: "md5:abc", TAGS[-3]: 12, TAGS[-4]: "sha256:" + "a" * 63}
    )
    digests = await client.tag_digests(HUB, [*TAGS, "not a tag"], credential=None)
    assert set(digests) == set(TAGS[:-4])
    assert all(digests[t] == DIGESTS[t] for t in digests)


async def test_only_tags_the_registry_listed_are_kept(client: RegistryClient) -> None:
    assert await client.tag_digests(HUB, TAGS[-3:-1], credential=None) == {t: DIGESTS[t] for t in TAGS[-3:-1]}


async def test_a_next_page_on_another_host_ends_the_walk_with_the_pages_read(
    client: RegistryClient, front: TagApiFront
) -> None:
    front.cross_host_next = True
    pages: list[dict[str, str]] = []
    with pytest.raises(BadResponse, match="next page leaves"):
        await client.tag_digests(HUB, TAGS, credential=None, found=pages.append)
    assert front.log.count() == 1
    [page] = pages
    assert all(DIGESTS[t] == d for t, d in page.items())


@pytest.mark.parametrize(("status", "error"), [(429, RateLimited), (500, Unreachable), (503, Unreachable)])
async def test_a_refusal_is_not_retried(
    client: RegistryClient, front: TagApiFront, status: int, error: type[Exception]
) -> None:
    front.fail.append(status)
    with pytest.raises(error):
        await client.tag_digests(HUB, TAGS, credential=None)
    assert front.log.count() == 1  # one request: the sync's HEADs are the cheaper way on


async def test_an_unknown_repository_is_repository_not_found(client: RegistryClient) -> None:
    with pytest.raises(RepositoryNotFound):
        await client.tag_digests(ImageRef("docker.io", "amdenterpriseai/nothing"), TAGS, credential=None)


async def test_github_versions_give_each_digest_with_all_its_tags(
    client: RegistryClient, front: TagApiFront
) -> None:
    front.untagged = 2  # each image's platform manifests: versions without tags
    digests = await client.tag_digests(GHCR, TAGS, credential=GITHUB_TOKEN)
    assert digests == DIGESTS
    assert front.log.count() == 1  # 7 digests x 3 versions: one page
    [seen] = front.log.requests
    assert seen.path == "/orgs/amd-enterprise-ai/packages/container/tools/aim-nested/versions"
    assert seen.authorization == f"Bearer {TOKEN}"


async def test_github_falls_back_to_the_user_of_that_name(client: RegistryClient, front: TagApiFront) -> None:
    front.users = frozenset({"amd-enterprise-ai"})
    assert await client.tag_digests(GHCR, TAGS[:3], credential=GITHUB_TOKEN) == {
        t: DIGESTS[t] for t in TAGS[:3]
    }
    assert [r.path.split("/")[1] for r in front.log.requests] == ["orgs", "users"]


async def test_github_without_a_token_is_not_asked(client: RegistryClient, front: TagApiFront) -> None:
    assert await client.tag_digests(GHCR, TAGS, credential=None) == {}
    assert await client.tag_digests(GHCR, TAGS, credential=Credential("someone", "")) == {}
    assert front.log.count() == 0


async def test_a_github_version_tag_sent_twice_keeps_its_first_digest(
    client: RegistryClient, front: TagApiFront
) -> None:
    front.twice[TAGS[0]] = "sha256:" + "f" * 64  # a second version claiming the tag, listed after it
    digests = await client.tag_digests(GHCR, TAGS, credential=GITHUB_TOKEN)
    assert digests[TAGS[0]] == DIGESTS[TAGS[0]]


async def test_registries_without_such_an_api_are_not_asked(front: TagApiFront) -> None:
    registries = parse_registries(
        f"registries:\n  docker.io:\n    repositoryDiscovery: catalog\n    discoveryURL: {front.url}\n",
        origin="test",
    )
    async with RegistryClient(RegistrySettings(), registries=registries) as client:
        assert await client.tag_digests(HUB, TAGS, credential=None) == {}
        assert await client.tag_digests(ImageRef("quay.io", "org/repo"), TAGS, credential=None) == {}
        deep = ImageRef("ghcr.io", "a/b/c")  # GHCR's API, but no credential
        assert await client.tag_digests(deep, TAGS, credential=None) == {}
    assert front.log.count() == 0


async def test_a_docker_hub_repository_deeper_than_two_segments_is_not_asked(
    client: RegistryClient, front: TagApiFront
) -> None:
    assert await client.tag_digests(ImageRef("docker.io", "a/b/c"), TAGS, credential=None) == {}
    assert front.log.count() == 0


async def test_with_a_docker_io_credential_docker_hub_is_logged_in_to_first(
    client: RegistryClient, front: TagApiFront
) -> None:
    credential = Credential(HUB_LOGIN["username"], HUB_LOGIN["password"])
    digests = await client.tag_digests(HUB, TAGS, credential=credential)
    assert digests == DIGESTS
    assert [r.method for r in front.log.requests] == ["POST", "GET", "GET", "GET"]
    assert all(r.authorization == f"Bearer {HUB_JWT}" for r in front.log.requests[1:])


async def test_a_refused_docker_hub_login_asks_no_page(client: RegistryClient, front: TagApiFront) -> None:
    with pytest.raises(AuthenticationFailed):
        await client.tag_digests(HUB, TAGS, credential=Credential("amduser", "wrong"))
    assert [r.method for r in front.log.requests] == ["POST"]
