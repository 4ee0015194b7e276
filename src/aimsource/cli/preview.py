"""`aimsource preview SOURCE.yaml`: what a source would create, and why each tag was or was not picked.

Nothing is written anywhere: the model store is empty, so the preview shows what a first sync on an
empty cluster would do. A source annotated `aim.eai.amd.com/reconciliation-paused: "true"` is
previewed all the same (to see what resuming it would do), with a note that the operator does not
sync it while paused.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

from aimsource.cli import CliError, few_collections
from aimsource.cli.aio import run_async
from aimsource.cli.manifests import read_sources
from aimsource.cli.progress import progress_printer
from aimsource.cli.ratelimits import RateLimitRecorder, cost_line
from aimsource.cli.registry_options import (
    add_registry_flags,
    check_files,
    docker_config_secrets,
    listing_budget,
    load_credentials,
    open_lister,
)
from aimsource.cli.render import write_preview
from aimsource.domain.resources import FAILED, PAUSED_ANNOTATION
from aimsource.domain.selection.planning import ExistingModel
from aimsource.domain.status.paused import is_paused


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "preview",
        help="show what a source would create and why",
        description="Evaluate one AIMClusterModelSource against the registries (or --tags-file) "
        "and show the models it would create, the decision on every tag, and the status.",
    )
    p.add_argument("file", metavar="SOURCE.yaml", help="manifest with the source ('-' for stdin)")
    p.add_argument("--source", metavar="NAME", help="which source, when the file holds several")
    p.add_argument("-o", "--output", choices=["table", "json", "yaml"], default="table")
    add_registry_flags(p)
    p.set_defaults(handler=run)


class _EmptyStore:
    """A cluster with no models yet: a preview writes nothing."""

    def existing(self) -> Mapping[str, ExistingModel]:
        return {}

    def owned_count(self, source_name: str) -> int:
        return 0

    async def create(self, body: dict[str, Any]) -> bool:
        return True


def run(args: argparse.Namespace) -> int:
    docs = read_sources([args.file])
    if args.source:
        docs = [d for d in docs if d.name == args.source]
        if not docs:
            raise CliError(f"{args.file}: no source named {args.source!r}")
    elif len(docs) > 1:
        names = ", ".join(d.name or d.label for d in docs)
        raise CliError(f"{args.file} holds {len(docs)} sources ({names}); choose one with --source")
    doc = docs[0]
    credentials = load_credentials(args)
    check_files(args)
    from aimsource.sync.engine import sync_source

    ratelimits = RateLimitRecorder()

    async def go() -> Any:
        async with open_lister(args, observer=ratelimits) as lister:
            return await sync_source(
                doc.body,
                lister=lister,
                store=_EmptyStore(),
                secrets=docker_config_secrets,
                now=None,
                previous=None,
                credentials=credentials,
                progress=progress_printer(args.output == "table"),
                explain=True,
                budget=listing_budget(args),
            )

    with few_collections():
        result = run_async(go())
    if is_paused(doc.body.get("metadata")):
        print(
            f"aimsource preview: note: {doc.name or doc.label} is paused ({PAUSED_ANNOTATION}): "
            "the operator will not sync it until the annotation is removed",
            file=sys.stderr,
        )
    # Written piece by piece: the decisions of a 100,000-tag listing are never one string.
    write_preview(
        sys.stdout,
        doc.name or doc.label,
        result,
        args.output,
        registries=ratelimits.document(),
        ratelimits=ratelimits.lines(),
        cost=cost_line(
            ratelimits.requests,
            len(result.plan.to_create) if result.plan is not None else 0,
            from_file=bool(args.tags_file),
        ),
    )
    # The preview itself succeeded either way; exit 1 only when the source could create nothing.
    return 1 if result.status.get("status") == FAILED else 0
