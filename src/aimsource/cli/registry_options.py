"""Registry flags shared by `preview` and `sync`, the registry settings every command builds
from its flags (`run` too), and the tag lister `preview` and `sync` select.

`--tags-file` replaces the registries with a fixed listing; otherwise the real registry client is
used, with `--docker-config` standing in for the source's imagePullSecrets.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from aimsource.cli import CliError, values
from aimsource.cli.manifests import read_text
from aimsource.cli.values import flag_type
from aimsource.registry.auth.credentials import (
    EMPTY_CREDENTIALS,
    CredentialStore,
    InvalidDockerConfigError,
    parse_docker_config,
)
from aimsource.registry.observer import RegistryObserver
from aimsource.registry.settings import RegistrySettings
from aimsource.stores.files import MAX_TAGS_FILE_BYTES
from aimsource.sync.listing_budget import ListingBudget
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
        type=flag_type(values.positive_int),
        metavar="N",
        help="requests in flight at once to one registry host "
        f"(default {RegistrySettings.max_concurrency_per_host})",
    )
    parser.add_argument(
        "--registry-rate",
        type=flag_type(values.rate),
        metavar="R",
        help="request budget per registry host in requests/s, bursts of twice that; 0 for none "
        f"(default {RegistrySettings.requests_per_second:g})",
    )
    parser.add_argument(
        "--max-tags",
        type=flag_type(values.positive_int),
        metavar="N",
        help=f"tags kept per repository listing; past it the selector is truncated "
        f"(default ${MAX_TAGS_ENV}, else {RegistrySettings.max_tags})",
    )


MAX_TAGS_ENV = "AIMSOURCE_MAX_TAGS"


def registry_settings(
    *,
    insecure: Iterable[str] = (),
    ca_file: str | None = None,
    max_concurrency_per_host: int | None = None,
    rate: float | None = None,
    max_tags: int | None = None,
) -> RegistrySettings:
    """The registry client's settings from the registry flags of any command (`run` included);
    None keeps the default. The rate goes through `RegistrySettings.with_rate`, so the budget has
    the bursts of twice the rate that `--registry-rate` promises, whichever command sets it."""
    settings = RegistrySettings(insecure=values.hosts(insecure), ca_file=ca_file)
    if max_concurrency_per_host is not None:
        settings = replace(settings, max_concurrency_per_host=max_concurrency_per_host)
    if max_tags is not None:
        settings = replace(settings, max_tags=max_tags)
    return settings if rate is None else settings.with_rate(rate)


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


def registry_settings_from_args(args: argparse.Namespace, env: Mapping[str, str]) -> RegistrySettings:
    """The registry flags of `preview` and `sync`; `$AIMSOURCE_MAX_TAGS` when `--max-tags` is not given."""
    max_tags = args.max_tags
    if max_tags is None and env.get(MAX_TAGS_ENV):
        max_tags = values.read(values.positive_int, env[MAX_TAGS_ENV], f"${MAX_TAGS_ENV}")
    return registry_settings(
        insecure=args.insecure_registry,
        ca_file=args.ca_file,
        max_concurrency_per_host=args.max_concurrency_per_host,
        rate=args.registry_rate,
        max_tags=max_tags,
    )


def listing_budget(args: argparse.Namespace) -> ListingBudget:
    """One sync's bound on the tags its listings hold, from `--max-tags` (see `sync.listing_budget`)."""
    return ListingBudget(max_tags=registry_settings_from_args(args, os.environ).max_tags)


@asynccontextmanager
async def open_lister(
    args: argparse.Namespace, *, observer: RegistryObserver | None = None
) -> AsyncIterator[TagLister]:
    """The tag lister the flags ask for; `observer` watches the real registry client, if used."""
    if args.tags_file:
        text = read_text(args.tags_file, limit=MAX_TAGS_FILE_BYTES)
        try:
            listing = parse_tags_document(text, origin=args.tags_file)
        except InvalidTagsFileError as exc:
            raise CliError(str(exc)) from exc
        yield StaticTagLister(listing)
        return
    from aimsource.registry.client import RegistryClient
    from aimsource.registry.errors import RegistryError

    settings = registry_settings_from_args(args, os.environ)
    try:
        client = RegistryClient(settings, observer=observer)
    except RegistryError as exc:  # e.g. a --ca-file that is not a PEM bundle
        raise CliError(str(exc)) from exc
    async with client:
        yield client
