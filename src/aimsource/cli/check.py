"""`aimsource check FILE...`: validate AIMClusterModelSource manifests offline.

The rules are the domain's `check_source`, which mirrors the CRD's schema and CEL rule and adds what
only the operator would find later (references and version constraints that do not parse), so a
manifest that passes here is admitted by the API server and syncs without an InvalidSpec status.

Files are multi-document YAML, as people keep them: documents of other kinds (the Secret next to a
private source) are skipped, every AIMClusterModelSource is checked. Output is for people and for
CI: one "ok" line per valid source (saying when the pause annotation pauses it), one line per
problem naming the file, the document and the field, and a warning line (not a problem) for a
pause annotation whose value does not pause (`"True"`: only `"true"` does). Exit 0 when all are
valid, 1 when a manifest has problems, 2 when a file cannot be read or is not YAML (reported on
stderr, one line each, after checking the files that can be read).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping

from aimsource.cli import CliError
from aimsource.cli.manifests import Document, display, read_documents
from aimsource.domain.resources import PAUSED_ANNOTATION, SOURCE_KIND


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
        "files", nargs="*", metavar="FILE", help="YAML file with one or more documents; - reads stdin"
    )
    p.add_argument(
        "--registries",
        metavar="FILE",
        help="also check this registries file (as `aimsource run --registries` reads it): every key, "
        "URL and CA file, one line per problem naming the key and line",
    )
    p.add_argument(
        "-q", "--quiet", action="store_true", help="print problems only, no line for valid sources"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not args.files and not args.registries:
        raise CliError("name the manifests to check (FILE...), or --registries FILE")
    code = _check_registries(args.registries, quiet=args.quiet) if args.registries else 0
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


def _check_registries(path: str, *, quiet: bool) -> int:
    """Exit code 0 when the registries file is valid, 1 when it is not (its one-line error printed)."""
    from aimsource.domain.registries.entries import WILDCARD
    from aimsource.domain.registries.parsing import InvalidRegistriesError
    from aimsource.operator.reloading import read_registries

    try:
        _, registries = read_registries(path)
    except InvalidRegistriesError as exc:
        print(exc)
        return 1
    if not quiet:
        described = []
        for key, entry in registries.entries.items():
            notes = []
            if entry.mirrors:
                notes.append(f"{len(entry.mirrors)} mirror" + ("s" if len(entry.mirrors) != 1 else ""))
                if entry.fallback is False:
                    notes.append("no fallback")
            if key != WILDCARD:
                notes.append(f"discovery {registries.discovery(key)}")
            described.append(f"{key} ({', '.join(notes)})" if notes else key)
        listing = "; ".join(described) if described else "no entries: the flags apply to every registry"
        print(f"{path}: ok (registries file: {listing})")
    return 0


def _check_file(name: str, documents: list[Document], *, quiet: bool) -> tuple[list[str], bool]:
    """The lines to print for one file, and whether everything in it is valid."""
    from aimsource.domain.durations import format_duration
    from aimsource.domain.spec.source import check_source, parse_source
    from aimsource.domain.status.paused import ignored_pause_message, ignored_pause_value, is_paused

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
        metadata = doc.body.get("metadata")
        if (value := ignored_pause_value(metadata)) is not None and not problems:
            lines.append(f"{where}: warning: {ignored_pause_message(value)}")  # valid, but not paused
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
                f"sync every {format_duration(spec.sync_interval)}, maxModels {spec.max_models}"
                + (
                    f"; paused by {PAUSED_ANNOTATION}: not synced until it is removed"
                    if is_paused(metadata)
                    else ""
                )
                + ")"
            )
    if sources == 0 and valid:
        lines.append(f"{name}: no {SOURCE_KIND} documents")
        valid = False
    return lines, valid
