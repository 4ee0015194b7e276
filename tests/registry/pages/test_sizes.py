"""The page size asked of each host, and the answers that refuse it: `registry/pages/sizes.py`.

The client asking again with a smaller page, against a real registry, is in `test_client_quirks.py`."""

from __future__ import annotations

import pytest

from aimsource.registry.pages.sizes import MAX_HOSTS, PageSizes, refuses_page_size


def test_quay_starts_at_100_others_at_the_default() -> None:
    sizes = PageSizes(1000)
    assert sizes.for_host("quay.io") == 100
    assert sizes.for_host("registry-1.docker.io") == 1000
    assert PageSizes(50).for_host("quay.io") == 50


def test_the_learnt_host_table_is_bounded() -> None:
    sizes = PageSizes(1000, max_hosts=MAX_HOSTS)
    for i in range(MAX_HOSTS + 10):
        assert sizes.smaller(f"host-{i}.example", 1000) == 100
    assert len(sizes) == MAX_HOSTS
    assert sizes.for_host("host-0.example") == 1000  # the oldest was dropped: one refusal again
    assert sizes.for_host(f"host-{MAX_HOSTS + 9}.example") == 100
    assert sizes.smaller("x.example", 100) is None


@pytest.mark.parametrize(
    ("status", "body", "refused"),
    [
        (413, b"", True),
        (400, b'{"errors":[{"code":"TOO_MANY_TAGS_REQUESTED","message":"too many"}]}', True),
        (400, b'{"errors":[{"code":"PAGINATION_NUMBER_INVALID","message":"bad"}]}', True),
        (400, b'{"errors":[{"code":"UNSUPPORTED","message":"invalid n parameter"}]}', True),
        (400, b'{"errors":[{"code":"UNSUPPORTED","message":"pagination limit exceeded"}]}', True),
        (400, b'{"errors":[{"code":"NAME_INVALID","message":"invalid repository name"}]}', False),
        (400, b"not json", False),
        (401, b'{"errors":[{"code":"TOO_MANY_TAGS_REQUESTED"}]}', False),
        (404, b'{"errors":[{"code":"NAME_UNKNOWN","message":"n"}]}', False),
        (429, b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down, n"}]}', False),
        (200, b"", False),
    ],
)
def test_which_answers_refuse_the_page_size(status: int, body: bytes, refused: bool) -> None:
    assert refuses_page_size(status, body) is refused
