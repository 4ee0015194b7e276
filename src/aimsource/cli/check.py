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

from aimsource.cli import CliError
from aimsource.cli.manifests import Document, display, read_documents
from aimsource.domain.resources import SOURCE_KIND


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
            documents = read_documents(path)
        except CliError as exc:
            print(f"aimsource check: {exc}", file=sys.stderr)
            code = max(code, exc.code)
            continue
        lines, valid = _check_file(display(path), documents, quiet=args.quiet)
        for line in lines:
            print(line)
        if not valid:
            code = max(code, 1)
    return code


def _check_file(name: str, documents: list[Document], *, quiet: bool) -> tuple[list[str], bool]:
    """The lines to print for one file, and whether everything in it is valid."""
    from aimsource.domain.durations import format_duration
    from aimsource.domain.spec.source import check_source, parse_source

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
        if kind != SOURCE_KIND:
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
        lines.append(f"{name}: no {SOURCE_KIND} documents")
        valid = False
    return lines, valid
