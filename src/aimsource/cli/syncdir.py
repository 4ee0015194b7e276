"""`aimsource sync SOURCE.yaml… --out DIR`: the operator's sync without a cluster (GitOps).

Models are written as manifests into DIR, exactly the objects the operator would create. Manifests
already there count as existing models, and nothing in DIR is ever deleted or rewritten. A source
annotated `aim.eai.amd.com/reconciliation-paused: "true"` is skipped, as the operator skips it: its
status says it is paused, and it does not make the exit code 1.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from aimsource.cli import CliError, few_collections
from aimsource.cli.aio import run_async
from aimsource.cli.manifests import read_sources
from aimsource.cli.progress import progress_printer
from aimsource.cli.registry_options import (
    add_registry_flags,
    check_files,
    docker_config_secrets,
    listing_budget,
    load_credentials,
    open_lister,
)
from aimsource.cli.render import dump, status_lines
from aimsource.domain.resources import PAUSED_ANNOTATION, READY, SourceStatus
from aimsource.domain.status.paused import is_paused, paused_status, shows_paused


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "sync",
        help="run the sync without a cluster, writing models into a directory",
        description="Sync AIMClusterModelSources with a directory as the model store: new models "
        "are written as YAML manifests into --out; existing manifests there count as existing "
        "models and are never changed. Sources annotated aim.eai.amd.com/reconciliation-paused: "
        '"true" are skipped. Exit 0 when every source is Ready (or paused), 1 otherwise.',
    )
    p.add_argument("files", nargs="+", metavar="SOURCE.yaml", help="manifests with sources")
    p.add_argument("--out", required=True, metavar="DIR", help="directory of model manifests")
    p.add_argument("-o", "--output", choices=["text", "json", "yaml"], default="text")
    add_registry_flags(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from aimsource.stores.directory import DirectoryModelStore, StoreError
    from aimsource.sync.engine import sync_source

    docs = read_sources(args.files)
    names = [d.name or d.where for d in docs]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise CliError(f"source names must be unique; repeated: {', '.join(duplicated)}")
    credentials = load_credentials(args)
    check_files(args)
    try:
        store = DirectoryModelStore.open(Path(args.out))
    except StoreError as exc:
        raise CliError(str(exc)) from exc
    progress = progress_printer(args.output == "text")
    budget = listing_budget(args)

    async def go() -> dict[str, SourceStatus]:
        statuses: dict[str, SourceStatus] = {}
        async with open_lister(args) as lister:
            # Sources run one after another so that a later source sees the models an earlier
            # one wrote, as two sources on one cluster would.
            for doc, name in zip(docs, names, strict=True):
                if is_paused(doc.body.get("metadata")):
                    # As the operator does: a paused source is not synced, and says so.
                    print(
                        f"aimsource sync: {name}: paused ({PAUSED_ANNOTATION}): not synced", file=sys.stderr
                    )
                    generation = doc.body["metadata"].get("generation")
                    statuses[name] = cast(
                        SourceStatus,
                        paused_status(
                            None,
                            name=name,
                            settled=None,
                            generation=generation if isinstance(generation, int) else 1,
                            now=datetime.now(UTC),
                        ),
                    )
                    continue
                result = await sync_source(
                    doc.body,
                    lister=lister,
                    store=store,
                    secrets=docker_config_secrets,
                    now=datetime.now(UTC),
                    previous=None,
                    credentials=credentials,
                    progress=progress,
                    budget=budget,
                )
                statuses[name] = result.status
                if result.created and not doc.uid:
                    # The GitOps path (no source in the cluster): Git owns the models. Say so, in
                    # case the source does live in a cluster and should own them.
                    print(
                        f"aimsource sync: note: source {name} has no metadata.uid, so its models are "
                        "written without an owner reference (deleting a source will not delete "
                        "them); for a source that lives in a cluster, set metadata.uid from "
                        f"`kubectl get aimclsrc {name} -o jsonpath={{.metadata.uid}}` first",
                        file=sys.stderr,
                    )
        return statuses

    try:
        with few_collections():
            statuses = run_async(go())
    except StoreError as exc:
        raise CliError(str(exc)) from exc
    if args.output == "text":
        for name, status in statuses.items():
            print("\n".join(status_lines(name, status)))
        for path in store.written:
            print(f"wrote {path}")
    else:
        print(dump(statuses, args.output))
    return 0 if all(s.get("status") == READY or shows_paused(s) for s in statuses.values()) else 1
