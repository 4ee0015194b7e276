"""Just enough Markdown to test the user guide: tables, code blocks, links and heading anchors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.deploy.manifests import REPO

DOCS = REPO / "docs"
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
_CODE_SPAN = re.compile(r"`([^`]*)`")


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def column(self, name: str) -> int:
        return self.headers.index(name)


def user_guide() -> list[Path]:
    """The user guide's pages (docs/dev/ is for contributors, not users)."""
    return sorted(path for path in DOCS.glob("*.md"))


def _cells(line: str) -> tuple[str, ...]:
    # Split on pipes that are not escaped (`\|` stands for a literal pipe inside a cell).
    inner = line.strip().strip("|")
    return tuple(cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", inner))


def tables(text: str) -> list[Table]:
    found: list[Table] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines) - 1:
        if lines[i].startswith("|") and re.fullmatch(r"\|[\s|:-]+\|", lines[i + 1].strip()):
            headers = _cells(lines[i])
            rows = []
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            found.append(Table(headers, tuple(rows)))
        else:
            i += 1
    return found


def table_with(text: str, *headers: str) -> Table:
    """The first table whose header row starts with `headers`."""
    for table in tables(text):
        if table.headers[: len(headers)] == headers:
            return table
    raise AssertionError(f"no table with columns {headers}")


def code_spans(cell: str) -> list[str]:
    return _CODE_SPAN.findall(cell)


def code_blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of every fenced block, in order."""
    return re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def links(text: str) -> list[str]:
    # Links inside code blocks and code spans are examples (or regular expressions), not links.
    prose = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
    prose = re.sub(r"`[^`\n]*`", "", prose)
    return _LINK.findall(prose)


def anchors(text: str) -> set[str]:
    """GitHub's heading anchors: lower-case, punctuation dropped, spaces become dashes."""
    prose = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
    result = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*$", prose, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        result.add(slug)
    return result
