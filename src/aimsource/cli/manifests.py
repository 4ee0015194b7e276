"""Reading AIMClusterModelSource manifests from files for the CLI.

Files may hold several YAML documents and other kinds (the seed's private-registry example puts a
Secret beside the source); only sources are returned, each with where it came from.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from aimsource.cli import CliError

SOURCE_KIND = "AIMClusterModelSource"


@dataclass(frozen=True)
class Document:
    path: str
    index: int
    """Position of the document in its file, from 0."""
    body: Any

    @property
    def where(self) -> str:
        name = self.body.get("metadata", {}).get("name") if isinstance(self.body, dict) else None
        named = f" ({name})" if isinstance(name, str) else ""
        return f"{self.path}: document {self.index + 1}{named}"


def read_text(path: str) -> str:
    """The file's text, `-` meaning standard input; errors become one-line CliErrors."""
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CliError(f"{path}: is a directory") from None
    except UnicodeDecodeError:
        raise CliError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise CliError(f"{path}: cannot read ({exc.strerror})") from None


def read_documents(path: str) -> list[Document]:
    text = read_text(path)
    try:
        bodies = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "syntax error"
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise CliError(f"{path}: invalid YAML: {problem}{where}") from None
    return [Document(path, i, body) for i, body in enumerate(bodies) if body is not None]


def read_sources(paths: list[str]) -> list[Document]:
    """Every AIMClusterModelSource document in the files, in order; none at all is an error."""
    found = [
        doc
        for path in paths
        for doc in read_documents(path)
        if isinstance(doc.body, dict) and doc.body.get("kind") == SOURCE_KIND
    ]
    if not found:
        raise CliError(f"no {SOURCE_KIND} found in {', '.join(paths)}")
    return found
