"""Reading Kubernetes manifests from files for the CLI.

Files may hold several YAML documents and other kinds (the seed's private-registry example puts a
Secret beside the source). Every reading problem becomes a one-line `CliError` naming the file.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from aimsource.cli import CliError
from aimsource.domain.resources import SOURCE_KIND
from aimsource.stores.files import MAX_MANIFEST_BYTES, MiB, UnreadableFile, read_regular

STDIN = "-"

# libyaml's parser when PyYAML was built with it (its wheels are): the same documents at a tenth
# of the pure-Python parser's time (0.5 ms instead of 4.4 for a source of 50 filters).
_FAST_LOADER: type[yaml.SafeLoader] | None = getattr(yaml, "CSafeLoader", None)


@dataclass(frozen=True)
class Document:
    path: str
    """As shown to people: `<stdin>` for `-`."""
    index: int
    """1-based, as a person counts documents in a file."""
    body: Any

    @property
    def name(self) -> str | None:
        return self._metadata_text("name")

    @property
    def uid(self) -> str | None:
        return self._metadata_text("uid")

    def _metadata_text(self, key: str) -> str | None:
        """A metadata string, or None however malformed the document is (check reports that)."""
        metadata = self.body.get("metadata") if isinstance(self.body, Mapping) else None
        value = metadata.get(key) if isinstance(metadata, Mapping) else None
        return value if isinstance(value, str) and value else None

    @property
    def label(self) -> str:
        return f"document {self.index} ({self.name})" if self.name else f"document {self.index}"

    @property
    def where(self) -> str:
        return f"{self.path}: {self.label}"


def display(path: str) -> str:
    return "<stdin>" if path == STDIN else path


def read_text(path: str, *, limit: int = MAX_MANIFEST_BYTES) -> str:
    """The file's text, `-` meaning standard input; a regular file of at most `limit` bytes."""
    try:
        if path == STDIN:
            text = sys.stdin.read(limit + 1)  # characters: a bound all the same
            if len(text) > limit:
                raise UnreadableFile(f"larger than {limit // MiB} MiB")
            return text
        return read_regular(path, limit=limit).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CliError(f"{display(path)}: cannot read: not UTF-8 text") from exc
    except UnreadableFile as exc:
        raise CliError(f"{display(path)}: cannot read: {exc}") from exc
    except OSError as exc:
        raise CliError(f"{display(path)}: cannot read: {exc.strerror or exc}") from exc


def read_documents(path: str) -> list[Document]:
    """The documents of one file; empty documents (a trailing `---`) are dropped."""
    text = read_text(path)
    where = display(path)
    too_deep = f"{where}: not readable YAML: nested too deeply"
    try:
        bodies = list(yaml.load_all(text, Loader=_FAST_LOADER)) if _FAST_LOADER else None
    except yaml.YAMLError:
        # libyaml names less of what is wrong ("found undefined alias", without the alias): the
        # pure-Python parser reads the text again, for its message.
        bodies = None
    except RecursionError as exc:  # both parsers build nested collections recursively
        raise CliError(too_deep) from exc
    if bodies is None:
        try:
            bodies = list(yaml.safe_load_all(text))
        except RecursionError as exc:
            raise CliError(too_deep) from exc
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            why = exc.problem or exc.context or "malformed"
            raise CliError(f"{where}: not valid YAML{at}: {why}") from exc
        except yaml.YAMLError as exc:
            raise CliError(f"{where}: not valid YAML: {exc}") from exc
    return [Document(where, i, body) for i, body in enumerate(bodies, start=1) if body is not None]


def read_sources(paths: list[str]) -> list[Document]:
    """Every AIMClusterModelSource document in the files, in order; none at all is an error."""
    found = [
        doc
        for path in paths
        for doc in read_documents(path)
        if isinstance(doc.body, dict) and doc.body.get("kind") == SOURCE_KIND
    ]
    if not found:
        raise CliError(f"no {SOURCE_KIND} found in {', '.join(map(display, paths))}")
    return found
