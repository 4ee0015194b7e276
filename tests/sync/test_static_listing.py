"""The `--tags-file` listing (sync/static_listing.py): the document's shape, its keys normalised as
references are, and a lister that answers as a registry would for what the file holds.

What the CLI makes of these errors (one line, exit 2) is tested in tests/cli/test_preview.py.
"""

from __future__ import annotations

import pytest

from aimsource.domain.references import parse_reference
from aimsource.registry.auth.credentials import Credential
from aimsource.registry.errors import RepositoryNotFound, TagNotFound
from aimsource.sync.static_listing import InvalidTagsFileError, StaticTagLister, parse_tags_document

QWEN = "docker.io/amdenterpriseai/aim-qwen-qwen3-32b"
ORIGIN = "tags.json"

# -- the document --------------------------------------------------------------------------------


def test_a_document_maps_each_repository_to_its_tags_in_order() -> None:
    text = '{"ghcr.io/amd/llama": ["1.1.0", "1.0.0", "latest"], "quay.io/org/empty": []}'
    assert parse_tags_document(text, origin=ORIGIN) == {
        "ghcr.io/amd/llama": ("1.1.0", "1.0.0", "latest"),
        "quay.io/org/empty": (),
    }


@pytest.mark.parametrize(
    ("key", "normalised"),
    [
        pytest.param("index.docker.io/library/ubuntu", "docker.io/library/ubuntu", id="docker-hub-alias"),
        pytest.param("registry-1.docker.io/org/m", "docker.io/org/m", id="docker-hub-api-host"),
        pytest.param("GHCR.io/amd/llama", "ghcr.io/amd/llama", id="host-lower-cased"),
        pytest.param("localhost:5000/org/m", "localhost:5000/org/m", id="port-kept"),
        pytest.param("ghcr.io/AMD/Llama", "ghcr.io/AMD/Llama", id="repository-as-written"),
    ],
)
def test_the_registry_of_a_key_is_written_as_a_reference_writes_it(key: str, normalised: str) -> None:
    assert list(parse_tags_document(f'{{"{key}": ["1.0.0"]}}', origin=ORIGIN)) == [normalised]


def test_a_key_matches_the_reference_a_source_names() -> None:
    listing = parse_tags_document('{"index.docker.io/library/ubuntu": ["24.04"]}', origin=ORIGIN)
    assert parse_reference("ubuntu").key in listing  # Docker Hub, library/ added


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("{not json", "tags.json: not valid JSON (Expecting property name", id="bad-json"),
        pytest.param('{\n"a/b": [\n1,', "at line 3)", id="bad-json-names-the-line"),
        pytest.param('{"a/b": ' + "[" * 50_000 + "]" * 50_000 + "}", "nested too deeply", id="too-deep"),
        pytest.param(
            '["ghcr.io/x"]', 'tags.json: expected an object {"<registry>/<repository>"', id="a-list"
        ),
        pytest.param('"ghcr.io/x"', "tags.json: expected an object", id="a-string"),
        pytest.param('{"ubuntu": ["1"]}', 'key "ubuntu" must be "<registry>/<repository>"', id="no-registry"),
        pytest.param(
            '{"ghcr.io/x": "1.0.0"}', '"ghcr.io/x" must map to a list of tag strings', id="a-string-tag"
        ),
        pytest.param(
            '{"ghcr.io/x": ["1.0.0", 2]}', '"ghcr.io/x" must map to a list', id="a-number-in-the-list"
        ),
        pytest.param('{"ghcr.io/x": null}', '"ghcr.io/x" must map to a list', id="null"),
    ],
)
def test_a_bad_document_is_refused_naming_the_file_and_what_is_wrong(text: str, expected: str) -> None:
    with pytest.raises(InvalidTagsFileError) as caught:
        parse_tags_document(text, origin=ORIGIN)
    assert str(caught.value).startswith(f"{ORIGIN}: ")
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_bad_document_is_a_value_error() -> None:
    # The CLI's file checks report ValueErrors as bad input (exit 2), not as crashes.
    assert issubclass(InvalidTagsFileError, ValueError)


# -- the lister ----------------------------------------------------------------------------------


async def test_the_lister_answers_the_tags_of_a_known_repository() -> None:
    lister = StaticTagLister({QWEN: ["0.8.5", "0.9.0"], "ghcr.io/amd/llama": []})
    listing = await lister.list_tags(parse_reference("amdenterpriseai/aim-qwen-qwen3-32b"), credential=None)
    assert (listing.tags, listing.truncated, listing.stale) == (("0.8.5", "0.9.0"), False, None)
    empty = await lister.list_tags(parse_reference("ghcr.io/amd/llama"), credential=None)
    assert empty.tags == ()  # a repository without tags exists; it is not "not found"


async def test_a_repository_missing_from_the_file_is_not_found() -> None:
    lister = StaticTagLister({QWEN: ["0.8.5"]})
    with pytest.raises(RepositoryNotFound, match=r"ghcr\.io/amd/llama \(not in the tags file\)"):
        await lister.list_tags(parse_reference("ghcr.io/amd/llama"), credential=None)


async def test_credentials_change_nothing() -> None:
    lister = StaticTagLister({QWEN: ["0.8.5"]})
    ref = parse_reference(QWEN)
    with_credential = await lister.list_tags(ref, credential=Credential("robot", "s3cret"))
    assert with_credential == await lister.list_tags(ref, credential=None)


async def test_the_lister_keeps_its_own_copy_of_the_listing() -> None:
    tags = ["0.8.5"]
    lister = StaticTagLister({QWEN: tags})
    tags.append("0.9.0")
    assert (await lister.list_tags(parse_reference(QWEN), credential=None)).tags == ("0.8.5",)


async def test_a_pinned_tag_in_the_file_has_no_digest() -> None:
    # A tags file holds no digests: a pinned image is known to exist, not what it points at.
    lister = StaticTagLister({QWEN: ["0.8.5"]})
    assert await lister.manifest_digest(parse_reference(f"{QWEN}:0.8.5"), credential=None) is None


async def test_a_pinned_tag_missing_from_its_repository_is_tag_not_found() -> None:
    lister = StaticTagLister({QWEN: ["0.8.5"]})
    with pytest.raises(TagNotFound, match=r"aim-qwen-qwen3-32b:1\.0\.0 \(not in the tags file\)"):
        await lister.manifest_digest(parse_reference(f"{QWEN}:1.0.0"), credential=None)


async def test_a_pinned_tag_of_a_repository_missing_from_the_file_is_repository_not_found() -> None:
    lister = StaticTagLister({QWEN: ["0.8.5"]})
    with pytest.raises(RepositoryNotFound, match=r"ghcr\.io/amd/llama \(not in the tags file\)"):
        await lister.manifest_digest(parse_reference("ghcr.io/amd/llama:1.0.0"), credential=None)
