"""docs/from-amd.md: each of AMD's documented examples, as the page writes it for aimsource, is a
source `aimsource check` accepts (wildcard filters included)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from aimsource.cli import main
from tests.deploy.markdown import DOCS, code_blocks

PAGE = DOCS / "from-amd.md"


def _sources() -> list[dict[str, Any]]:
    found = []
    for lang, body in code_blocks(PAGE.read_text()):
        if lang == "yaml":
            doc = yaml.safe_load(body)
            assert doc["kind"] == "AIMClusterModelSource", body
            found.append(doc)
    return found


def test_the_page_has_an_example_for_each_of_amd_s() -> None:
    # AMD's page has eight kinds of source example (basic, a pattern on GHCR, constraints,
    # exclusions, several registries, a private registry, specific versions, the cap); the page
    # adds the exact-version form of "specific versions".
    names = [s["metadata"]["name"] for s in _sources()]
    assert len(names) == len(set(names)) == 9
    assert sum(any("*" in f["image"] for f in s["spec"].get("filters") or ()) for s in _sources()) == 7


@pytest.mark.parametrize("source", _sources(), ids=lambda s: s["metadata"]["name"])
def test_aimsource_check_accepts_it(
    source: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "source.yaml"
    path.write_text(yaml.safe_dump(source))
    code = main(["check", str(path)])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
