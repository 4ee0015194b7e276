"""Model names: the reference implementation's algorithm, checked against hand-derived vectors.

The first vector is product.md's. The others exercise one rule each; their hashes are checked
separately against explicitly written preimages, so a vector is not just our output copied back.
"""

from __future__ import annotations

import hashlib

import pytest

from aimsource.domain.naming import model_name, name_hash
from aimsource.domain.references import ImageRef, parse_reference

VECTORS = [
    # product.md's example.
    (
        "product-example",
        ImageRef("docker.io", "amdenterpriseai/aim-qwen-qwen3-32b", "0.8.5"),
        "amdenterpriseai-aim-qwen-qwen3-32b-0-8-5-72f726",
    ),
    (
        "ghcr-prerelease",
        ImageRef("ghcr.io", "silogen/aim-google-gemma-3-1b-it", "0.8.1-rc1"),
        "silogen-aim-google-gemma-3-1b-it-0-8-1-rc1-3b1d6d",
    ),
    # Official images keep library/ in the name (the repository is library/ubuntu).
    ("official-image", ImageRef("docker.io", "library/ubuntu", "22.04"), "library-ubuntu-22-04-7a45e5"),
    # Dots, underscores and upper case become "-", one per character (no collapsing, as in Go).
    (
        "dots-underscores-upper",
        ImageRef("docker.io", "my_org/model.v2", "V1.0_RC"),
        "my-org-model-v2-v1-0-rc-1ebaef",
    ),
    ("no-dash-collapsing", ImageRef("docker.io", "org/a__b", "1.0"), "org-a--b-1-0-b2a846"),
    ("build-metadata", ImageRef("ghcr.io", "org/x", "v1.0.0+build"), "org-x-v1-0-0-build-0a4205"),
    # A tag that sanitises to nothing becomes "part".
    ("empty-tag-becomes-part", ImageRef("docker.io", "org/x", "__"), "org-x-part-3cf254"),
    # Long repository: only the longest part is cut, to 63 - len("-1-0-0-861c53") = 50 chars.
    (
        "long-repository",
        ImageRef("docker.io", "org/" + "a" * 80, "1.0.0"),
        "org-" + "a" * 46 + "-1-0-0-861c53",
    ),
    # Long tag: cut to 63 first (MakeRFC1123Compliant), then down to 50.
    ("long-upper-tag", ImageRef("docker.io", "org/x", "T" * 128), "org-x-" + "t" * 50 + "-5bfd61"),
    # Equal lengths (30/30): the repository is cut first on every tie, so it ends one shorter.
    (
        "tie-cuts-repository",
        ImageRef("docker.io", "org/" + "a" * 26, "b" * 30),
        "org-" + "a" * 23 + "-" + "b" * 28 + "-6b102b",
    ),
    (
        "both-huge",
        ImageRef("docker.io", "org/" + "a" * 300, "T" * 128),
        "org-" + "a" * 23 + "-" + "t" * 28 + "-67eda6",
    ),
    # Cutting "b" exposes a run of "-", which is trimmed at once: the name gets shorter than 63.
    ("trim-after-cut", ImageRef("docker.io", "org/a" + "-" * 56 + "b", "1"), "org-a-1-d8b91c"),
]


@pytest.mark.parametrize(("ref", "name"), [v[1:] for v in VECTORS], ids=[v[0] for v in VECTORS])
def test_model_name_vectors(ref: ImageRef, name: str) -> None:
    assert model_name(ref) == name


PREIMAGES = [
    (
        '"docker.io"|"amdenterpriseai/aim-qwen-qwen3-32b"|"0.8.5"',
        ("docker.io", "amdenterpriseai/aim-qwen-qwen3-32b", "0.8.5"),
    ),
    (
        '"ghcr.io"|"silogen/aim-google-gemma-3-1b-it"|"0.8.1-rc1"',
        ("ghcr.io", "silogen/aim-google-gemma-3-1b-it", "0.8.1-rc1"),
    ),
    ('"docker.io"|"library/ubuntu"|"22.04"', ("docker.io", "library/ubuntu", "22.04")),
    ('"docker.io"|"org/x"|"__"', ("docker.io", "org/x", "__")),
    ('"docker.io"|"org/' + "a" * 26 + '"|"' + "b" * 30 + '"', ("docker.io", "org/" + "a" * 26, "b" * 30)),
    # Go's json.Marshal escapes HTML characters and keeps non-ASCII as UTF-8.
    ('"a\\u003cb\\u003ec\\u0026d"|"é"', ("a<b>c&d", "é")),
    ('"quote\\"back\\\\slash"', ('quote"back\\slash',)),
]


@pytest.mark.parametrize(
    ("preimage", "inputs"),
    PREIMAGES,
    ids=["product-example", "ghcr", "official", "part", "tie", "go-html-escaping", "quotes"],
)
def test_hash_is_sha256_of_json_quoted_parts_joined_by_bar(preimage: str, inputs: tuple[str, ...]) -> None:
    assert name_hash(*inputs) == hashlib.sha256(preimage.encode()).hexdigest()[:6]


def test_hash_uses_the_normalised_registry() -> None:
    # Every spelling of Docker Hub gives the name of product.md's example.
    for text in [
        "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5",
        "docker.io/amdenterpriseai/aim-qwen-qwen3-32b:0.8.5",
        "index.docker.io/amdenterpriseai/aim-qwen-qwen3-32b:0.8.5",
    ]:
        assert model_name(parse_reference(text)) == "amdenterpriseai-aim-qwen-qwen3-32b-0-8-5-72f726"


def test_same_repository_and_tag_on_another_registry_gets_another_name() -> None:
    hub = model_name(ImageRef("docker.io", "org/x", "1.0"))
    ghcr = model_name(ImageRef("ghcr.io", "org/x", "1.0"))
    assert hub[:-6] == ghcr[:-6]
    assert hub != ghcr


def test_model_name_needs_a_tag() -> None:
    with pytest.raises(ValueError, match="pinned"):
        model_name(ImageRef("docker.io", "org/x"))
