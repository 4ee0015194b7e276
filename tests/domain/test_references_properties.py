"""Properties of references and model names over generated input."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from aimsource.domain.errors import InvalidReferenceError
from aimsource.domain.naming import model_name
from aimsource.domain.references import ImageRef, canonical_image, model_image, parse_reference

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

# Text biased towards reference-like characters, so many samples get deep into the parser.
reference_like = st.text(alphabet=st.sampled_from("abcXYZ019._-/:@*  \n+é[]"), max_size=80)
components = st.from_regex(r"[a-z0-9]{1,12}(?:[._-][a-z0-9]{1,12}){0,3}", fullmatch=True)
tags = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", fullmatch=True)
registries = st.sampled_from(["docker.io", "ghcr.io", "localhost:5000", "registry.example.com:8443"])

# The machine is shared: a slow example is not a failure.
relaxed = settings(deadline=None)


@relaxed
@given(st.one_of(reference_like, st.text(max_size=300)), registries)
def test_parse_reference_raises_only_invalid_reference_error(text: str, default: str) -> None:
    try:
        ref = parse_reference(text, default_registry=default)
    except InvalidReferenceError:
        return
    # Whatever parses is normalised: parsing its own rendering gives it back.
    assert parse_reference(str(ref)) == ref
    assert canonical_image(model_image(ref.with_tag(ref.tag or "latest"))) == str(
        ref.with_tag(ref.tag or "latest")
    )


@relaxed
@given(st.lists(components, min_size=1, max_size=6), st.one_of(st.none(), tags), registries)
def test_valid_references_round_trip(parts: list[str], tag: str | None, registry: str) -> None:
    # "org/" first: a first component with a "." would be read as a registry host.
    text = "org/" + "/".join(parts) + (f":{tag}" if tag else "")
    ref = parse_reference(text, default_registry=registry)
    assert ref.tag == tag
    assert ref.registry == registry
    assert ref.repository == "org/" + "/".join(parts)
    assert parse_reference(str(ref)) == ref


@relaxed
@given(
    st.sampled_from(["docker.io", "ghcr.io", "localhost:5000", "x" * 60 + ".io"]),
    st.text(min_size=0, max_size=300),
    st.text(min_size=0, max_size=200),
)
def test_model_name_is_a_dns_label_and_deterministic(registry: str, repository: str, tag: str) -> None:
    ref = ImageRef(registry, repository, tag)
    name = model_name(ref)
    assert len(name) <= 63
    assert DNS_LABEL.match(name), name
    assert model_name(ImageRef(registry, repository, tag)) == name


@relaxed
@given(st.lists(components, min_size=1, max_size=8), tags)
def test_model_name_of_parsed_references_is_a_dns_label(parts: list[str], tag: str) -> None:
    name = model_name(ImageRef("ghcr.io", "/".join(parts), tag))
    assert len(name) <= 63
    assert DNS_LABEL.match(name), name
