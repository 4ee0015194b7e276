"""Next-page links, taken exactly as the registry writes them."""

from __future__ import annotations

import pytest
from yarl import URL

from aimsource.registry.pages.links import next_page, parse_link_header

PAGE = URL("https://reg.example/v2/org/repo/tags/list?n=1000")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(
            '</v2/org/repo/tags/list?last=abc&n=100>; rel="next"',
            "https://reg.example/v2/org/repo/tags/list?last=abc&n=100",
            id="relative-bracketed",
        ),
        pytest.param(
            '<https://reg.example/v2/org/repo/tags/list?next_page=Zm9v>; rel="next"',
            "https://reg.example/v2/org/repo/tags/list?next_page=Zm9v",
            id="absolute-bracketed",
        ),
        pytest.param(
            '/v2/org/repo/tags/list?n=100&last=abc; rel="next"',
            "https://reg.example/v2/org/repo/tags/list?n=100&last=abc",
            id="relative-bare",
        ),
        pytest.param(
            "https://reg.example/v2/org/repo/tags/list?last=x; rel=next",
            "https://reg.example/v2/org/repo/tags/list?last=x",
            id="absolute-bare-unquoted-rel",
        ),
        pytest.param(
            '</v2/org/repo/tags/list?last=a%2Fb%3D%3D&n=100>; rel="next"',
            "https://reg.example/v2/org/repo/tags/list?last=a%2Fb%3D%3D&n=100",
            id="percent-encoding-kept",
        ),
        pytest.param(
            '<list?last=a,b>; rel="next"',
            "https://reg.example/v2/org/repo/tags/list?last=a,b",
            id="path-relative-with-comma",
        ),
        pytest.param(
            '</first>; rel="first", </v2/x?last=b>; rel="next"',
            "https://reg.example/v2/x?last=b",
            id="several-links",
        ),
        pytest.param(
            '</v2/x?last=b>; title="a; b, c"; rel="prev next"',
            "https://reg.example/v2/x?last=b",
            id="quoted-params-and-multiple-rels",
        ),
        pytest.param(
            '</v2/x?last=b>; REL="Next"', "https://reg.example/v2/x?last=b", id="case-insensitive-rel"
        ),
        pytest.param('</v2/x?last=b>; rel="prev"', None, id="no-next"),
        pytest.param("", None, id="empty"),
        pytest.param("<unterminated; rel=next", None, id="unterminated-bracket"),
    ],
)
def test_next_page_resolution(header: str, expected: str | None) -> None:
    found = next_page([header], current=PAGE)
    assert (str(found) if found else None) == expected


def test_next_link_may_be_in_a_later_header() -> None:
    found = next_page(['</a>; rel="prev"', '</b>; rel="next"'], current=PAGE)
    assert found == URL("https://reg.example/b")


def test_link_to_another_host_is_resolved_as_written_for_the_caller_to_refuse() -> None:
    found = next_page(['<https://evil.example/v2/x>; rel="next"'], current=PAGE)
    assert found is not None
    assert found.host == "evil.example"


def test_parse_link_header_keeps_every_link() -> None:
    links = parse_link_header('</a>; rel="first", </b>; rel="next"')
    assert [(link.target, sorted(link.rels)) for link in links] == [("/a", ["first"]), ("/b", ["next"])]
