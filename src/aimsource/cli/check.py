"""`aimsource check FILE...`: validate AIMClusterModelSource manifests offline.

The rules are the domain's `check_source`, which mirrors the CRD's schema and CEL rule and adds what
only the operator would find later (references and version constraints that do not parse), so a
manifest that passes here is admitted by the API server and syncs without an InvalidSpec status.

Files are multi-document YAML, as people keep them: documents of other kinds (the Secret next to a
private source) are skipped, every AIMClusterModelSource is checked. Output is for people and for
CI: one "ok" line per valid source, one line per problem naming the file, the document and the
field. Exit 0 when all are valid, 1 when a manifest has problems, 2 when a file cannot be read or
is not YAML (reported on stderr, one line each, after checking the files that can be read).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aimsource.cli import CliError

KIND = "AIMClusterModelSource"
STDIN = "-"


@dataclass(frozen=True)
class _Document:
    index: int  # 1-based, as a person counts documents in a file
    body: Any

    @property
    def label(self) -> str:
        name = self.body.get("metadata", {}) if isinstance(self.body, Mapping) else None
        name = name.get("name") if isinstance(name, Mapping) else None
        named = isinstance(name, str) and name
        return f"document {self.index} ({name})" if named else f"document {self.index}"


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "check",
        help="validate AIMClusterModelSource manifests offline",
        description=(
            "Validate AIMClusterModelSource manifests with the same rules as the CRD and the operator. "
            "Documents of other kinds are skipped. Exit 0 when every source is valid, 1 when one has "
            "problems, 2 when a file cannot be read."
        ),
    )
    p.add_argument(
        "files", nargs="+", metavar="FILE", help="YAML file with one or more documents; - reads stdin"
    )
    p.add_argument(
        "-q", "--quiet", action="store_true", help="print problems only, no line for valid sources"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    code = 0
    for path in args.files:
        try:
            documents = _load(path)
        except CliError as exc:
            print(f"aimsource check: {exc}", file=sys.stderr)
            code = max(code, exc.code)
            continue
        lines, valid = _check_file(_display(path), documents, quiet=args.quiet)
        for line in lines:
            print(line)
        if not valid:
            code = max(code, 1)
    return code


def _check_file(name: str, documents: list[_Document], *, quiet: bool) -> tuple[list[str], bool]:
    """The lines to print for one file, and whether everything in it is valid."""
    from aimsource.domain.durations import format_duration
    from aimsource.domain.spec import check_source, parse_source

    lines: list[str] = []
    valid = True
    sources = 0
    for doc in documents:
        where = f"{name}: {doc.label}"
        if not isinstance(doc.body, Mapping):
            lines.append(f"{where}: not a Kubernetes object (a mapping with apiVersion and kind)")
            valid = False
            continue
        kind = doc.body.get("kind")
        if kind is None:
            lines.append(f"{where}: kind: required")
            valid = False
            continue
        if kind != KIND:
            continue  # another kind of object, e.g. the Secret next to a private source
        sources += 1
        problems = check_source(doc.body)
        if problems:
            valid = False
            lines += [f"{where}: {p.field}: {p.reason}" for p in problems]
        elif not quiet:
            spec = parse_source(doc.body).spec
            count = (
                f"{len(spec.images)} image{'s' if len(spec.images) != 1 else ''}"
                if spec.images
                else f"{len(spec.filters)} filter{'s' if len(spec.filters) != 1 else ''}"
            )
            lines.append(
                f"{where}: ok ({count}, registry {spec.registry}, "
                f"sync every {format_duration(spec.sync_interval)}, maxModels {spec.max_models})"
            )
    if sources == 0 and valid:
        lines.append(f"{name}: no {KIND} documents")
        valid = False
    return lines, valid


def _load(path: str) -> list[_Document]:
    """The documents of one file; empty documents (a trailing `---`) are dropped. Raises CliError."""
    import yaml

    where = _display(path)
    try:
        if path == STDIN:
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as stream:
                text = stream.read()
    except UnicodeDecodeError:
        raise CliError(f"{where}: cannot read: not UTF-8 text") from None
    except OSError as exc:
        raise CliError(f"{where}: cannot read: {exc.strerror or exc}") from None
    try:
        bodies = list(yaml.safe_load_all(text))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        why = exc.problem or exc.context or "malformed"
        raise CliError(f"{where}: not valid YAML{at}: {why}") from None
    except yaml.YAMLError as exc:
        raise CliError(f"{where}: not valid YAML: {exc}") from None
    return [_Document(i, body) for i, body in enumerate(bodies, start=1) if body is not None]


def _display(path: str) -> str:
    return "<stdin>" if path == STDIN else path
