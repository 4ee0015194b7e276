"""docs/from-amd.md: each of AMD's documented examples, as the page writes it for aimsource, is a
source `aimsource check` accepts.

Wildcard filters (`amdenterpriseai/aim-*`) are the page's subject as product.md defines them, and
are being implemented on their own branch ("Wildcard discovery"); until that lands, `check` refuses
them. Their cases are strict xfails: the day wildcards work they pass, the run fails on the XPASS,
and the mark must go.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from aimsource.cli import main
from tests.deploy.markdown import DOCS, code_blocks

PAGE = DOCS / "from-amd.md"
REFUSED = "Wildcard syntax (*) is unsupported"
"""What `check` says of a `*` until wildcard discovery is merged."""


class WildcardRefused(Exception):
    """`check` refused the source for its wildcards and for nothing else."""


def _sources() -> list[dict]:
    found = []
    for lang, body in code_blocks(PAGE.read_text()):
        if lang == "yaml":
            doc = yaml.safe_load(body)
            assert doc["kind"] == "AIMClusterModelSource", body
            found.append(doc)
    return found


def _wildcard(source: dict) -> bool:
    return any("*" in f["image"] for f in source["spec"].get("filters") or ())


def _cases() -> list:
    cases = []
    for source in _sources():
        marks = []
        if _wildcard(source):
            marks.append(
                pytest.mark.xfail(
                    strict=True, raises=WildcardRefused, reason="wildcard discovery is not merged yet"
                )
            )
        cases.append(pytest.param(source, id=source["metadata"]["name"], marks=marks))
    return cases


def test_the_page_has_an_example_for_each_of_amd_s() -> None:
    # AMD's page has nine source examples (basic, GHCR pattern, constraints, exclusions, several
    # registries, private registry, specific versions, the cap; plus our exact-version variant).
    assert len(_sources()) == 9
    assert len({s["metadata"]["name"] for s in _sources()}) == 9


@pytest.mark.parametrize("source", _cases())
def test_aimsource_check_accepts_it(source: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "source.yaml"
    path.write_text(yaml.safe_dump(source))
    code = main(["check", str(path)])
    out = capsys.readouterr()
    problems = [line for line in (out.out + out.err).splitlines() if ": spec." in line]
    if code != 0 and problems and all(REFUSED in line for line in problems):
        raise WildcardRefused("\n".join(problems))  # expected, and only this, while wildcards are refused
    assert code == 0, out.out + out.err
