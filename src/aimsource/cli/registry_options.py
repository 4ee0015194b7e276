"""Registry flags shared by `preview` and `sync`, and the tag lister they select.

`--tags-file` replaces the registries with a fixed listing; otherwise the real registry client is
used, with `--docker-config` standing in for the source's imagePullSecrets.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from aimsource.cli import CliError
from aimsource.cli.manifests import read_text
from aimsource.registry.credentials import (
    EMPTY_CREDENTIALS,
    CredentialStore,
    InvalidDockerConfigError,
    parse_docker_config,
)
from aimsource.registry.observer import RegistryObserver
from aimsource.sync.ports import TagLister
from aimsource.sync.static_listing import InvalidTagsFileError, StaticTagLister, parse_tags_document


def add_registry_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tags-file",
        metavar="TAGS.json",
        help='use this listing instead of the registries: {"<registry>/<repository>": ["tag", ...]}',
    )
    parser.add_argument(
        "--docker-config",
        metavar="PATH",
        help="credentials standing in for imagePullSecrets "
        "(default: $DOCKER_CONFIG/config.json, else ~/.docker/config.json)",
    )
    parser.add_argument(
        "--insecure-registry",
        metavar="HOST[:PORT]",
        action="append",
        default=[],
        help="reach this registry over plain HTTP (loopback registries always may); repeatable",
    )
    parser.add_argument("--ca-file", metavar="PATH", help="extra CA bundle for private registries")
    parser.add_argument(
        "--max-concurrency-per-host",
        type=_positive_int,
        metavar="N",
        help="requests in flight at once to one registry host (default 4)",
    )
    parser.add_argument(
        "--registry-rate",
        type=_non_negative_float,
        metavar="R",
        help="request budget per registry host in requests/s, bursts of twice that; 0 for none (default 20)",
    )
    parser.add_argument(
        "--max-tags",
        type=_positive_int,
        metavar="N",
        help=f"tags kept per repository listing; past it the selector is truncated "
        f"(default ${MAX_TAGS_ENV}, else 100000)",
    )


MAX_TAGS_ENV = "AIMSOURCE_MAX_TAGS"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must not be negative, not {text}")
    return value


def load_credentials(args: argparse.Namespace) -> CredentialStore:
    """Credentials from the docker config; a missing default file simply means none."""
    if args.tags_file:
        return EMPTY_CREDENTIALS
    explicit = args.docker_config
    if explicit:
        path = Path(explicit)
    else:
        base = os.environ.get("DOCKER_CONFIG")
        path = Path(base) / "config.json" if base else Path.home() / ".docker" / "config.json"
        if not path.is_file():
            return EMPTY_CREDENTIALS
    text = read_text(str(path))
    try:
        return parse_docker_config(text, origin=str(path))
    except InvalidDockerConfigError as exc:
        raise CliError(str(exc)) from exc


class _DockerConfigSecrets:
    """Every pull secret named by a source resolves to the local docker config.

    On a cluster a source names its secrets; without one, the user's own docker config is the
    natural stand-in, and `load_credentials` already merged it, so each name yields an empty config.
    """

    async def read(self, name: str, *, source: str) -> bytes:
        return b'{"auths": {}}'


docker_config_secrets = _DockerConfigSecrets()


def check_files(args: argparse.Namespace) -> None:
    """Fails early, before any event loop, on a flag naming a file that is not there."""
    if args.ca_file and not Path(args.ca_file).is_file():
        raise CliError(f"--ca-file {args.ca_file}: no such file")


@asynccontextmanager
async def open_lister(
    args: argparse.Namespace, *, observer: RegistryObserver | None = None
) -> AsyncIterator[TagLister]:
    """The tag lister the flags ask for; `observer` watches the real registry client, if used."""
    if args.tags_file:
        text = read_text(args.tags_file)
        try:
            listing = parse_tags_document(text, origin=args.tags_file)
        except InvalidTagsFileError as exc:
            raise CliError(str(exc)) from exc
        yield StaticTagLister(listing)
        return
    from aimsource.registry.client import RegistryClient
    from aimsource.registry.errors import RegistryError
    from aimsource.registry.settings import RegistrySettings

    settings = RegistrySettings(insecure=frozenset(args.insecure_registry), ca_file=args.ca_file)
    if args.max_concurrency_per_host is not None:
        settings = replace(settings, max_concurrency_per_host=args.max_concurrency_per_host)
    if args.registry_rate is not None:
        settings = replace(settings, requests_per_second=args.registry_rate)
    max_tags = args.max_tags
    if max_tags is None and os.environ.get(MAX_TAGS_ENV):
        try:
            max_tags = _positive_int(os.environ[MAX_TAGS_ENV])
        except argparse.ArgumentTypeError as exc:
            raise CliError(f"${MAX_TAGS_ENV}: {exc}") from exc
    if max_tags is not None:
        settings = replace(settings, max_tags=max_tags)
    try:
        client = RegistryClient(settings, observer=observer)
    except RegistryError as exc:  # e.g. a --ca-file that is not a PEM bundle
        raise CliError(str(exc)) from exc
    async with client:
        yield client
