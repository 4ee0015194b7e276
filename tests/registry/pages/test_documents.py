"""The JSON documents of distribution pages, read strictly: `registry/pages/documents.py`."""

from __future__ import annotations

import json

import pytest

from aimsource.registry.pages.documents import catalog_names, error_codes, shown_links, tag_names


def test_a_catalog_page_gives_its_names() -> None:
    assert catalog_names(b'{"repositories": ["a/b", "c"]}') == ["a/b", "c"]
    assert catalog_names(b'{"repositories": null}') == []


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"<html>", "not valid JSON"),
        (b"[]", "not a JSON object"),
        (b'{"repositories": ["a", 1]}', "not a list of strings"),
        (b'{"repositories": "a"}', "not a list of strings"),
        (b"[" * 100_000, "not valid JSON"),
    ],
    ids=["html", "array", "number-inside", "string", "deep"],
)
def test_a_bad_catalog_page_says_what_is_wrong(body: bytes, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        catalog_names(body)


def test_a_tags_page_gives_its_tags_and_refuses_other_shapes() -> None:
    assert tag_names(json.dumps({"name": "a", "tags": ["1", "2"]}).encode()) == ["1", "2"]
    assert tag_names(b'{"tags": null}') == []
    with pytest.raises(ValueError, match='"tags" is not a list of strings'):
        tag_names(b'{"tags": [1]}')


def test_error_codes_are_short_upper_case_words_only() -> None:
    body = json.dumps({"errors": [{"code": "NAME_UNKNOWN"}, {"code": "x" * 50}, {"code": "<script>"}]})
    assert error_codes(body.encode()) == ["NAME_UNKNOWN"]
    assert error_codes(b"not json") == []


def test_a_link_shown_in_a_message_is_printable_and_short() -> None:
    shown = shown_links(["<https://evil/\x1b[31m" + "a" * 500 + '>; rel="next"'])
    assert "\x1b" not in shown
    assert len(shown) <= 125
