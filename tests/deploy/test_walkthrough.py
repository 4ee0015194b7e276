"""The guide's `aimsource` examples print what the guide says they print.

Every shown command whose output is shown too is run in-process (against examples/tags.json, no
network) in a scratch directory that looks like a checkout, and each output line the guide shows
must appear in what the command prints. Lines with "…" stand for elided output.
"""

from __future__ import annotations

import re
import shlex
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from aimsource.cli import main
from tests.deploy.manifests import REPO
from tests.deploy.markdown import DOCS, code_blocks

PAGES = ("first-source.md", "cli.md")

# The manifest that docs/cli.md's `check` example calls broken.yaml.
BROKEN = """\
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMClusterModelSource
metadata: {name: bad}
spec:
  images: ["a/*"]
  filters: [{image: x/y}]
  versions: ["~>1.2"]
  maxModels: 0
"""


@dataclass(frozen=True)
class Example:
    page: str
    command: str
    output: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.page}: {self.command}"


# A one-line `sh` block with an aimsource command, directly followed by a plain block (its output).
_SHOWN = re.compile(r"^```sh\n(aimsource [^\n]*)\n```\n\s*```\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _examples() -> list[Example]:
    found = []
    for page in PAGES:
        text = (DOCS / page).read_text()
        for command, output in _SHOWN.findall(text):
            found.append(Example(page, command, tuple(output.splitlines())))
        for lang, body in code_blocks(text):
            lines = body.splitlines()
            if lang == "" and lines and lines[0].startswith("$ aimsource "):
                found.append(Example(page, lines[0][2:], tuple(lines[1:])))
    return found


EXAMPLES = _examples()


def test_the_guide_has_examples_with_output() -> None:
    assert len(EXAMPLES) >= 4, [str(e) for e in EXAMPLES]


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_example_prints_what_the_guide_shows(
    example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "examples").symlink_to(REPO / "examples")
    (tmp_path / "broken.yaml").write_text(BROKEN)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
    # In a worker thread: the CLI calls asyncio.run(), and doing that on pytest's main thread makes
    # pytest-asyncio (1.5) leak its own event loop, a ResourceWarning that fails the session.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(main, shlex.split(example.command)[1:]).result(timeout=30)
    printed = {line.rstrip() for line in capsys.readouterr().out.splitlines()}
    shown = [line.rstrip() for line in example.output if line.strip() and "…" not in line]
    missing = [line for line in shown if line not in printed]
    assert not missing, "the guide shows lines the command does not print:\n" + "\n".join(missing)
