"""Registry flags shared by `preview` and `sync` (declared on `RegistrySettings`'s fields, as
`run`'s are), the registry settings they build, and the tag lister `preview` and `sync` select.

`--tags-file` replaces the registries with a fixed listing; otherwise the real registry client is
used, with `--docker-config` standing in for the source's imagePullSecrets.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from aimsource.cli import CliError
from aimsource.cli.manifests import read_text
from aimsource.cli.options import add_flags, build, reader
from aimsource.domain.options.declared import Option, declared_options
from aimsource.domain.registries.entries import NO_REGISTRIES, REGISTRIES_HELP, Registries
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
    add_registries_flag(parser)
    add_flags(parser, declared_options(RegistrySettings), env=_every_command, typed=True)


REGISTRIES_ENV = "AIMSOURCE_REGISTRIES"


def add_registries_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--registries", metavar="FILE", help=f"{REGISTRIES_HELP} [${REGISTRIES_ENV}]")


def load_registries(path: str | None) -> Registries:
    """The registries file at `path` (None or empty: none); one-line CliError when unusable."""
    if not path:
        return NO_REGISTRIES
    from aimsource.domain.registries.parsing import InvalidRegistriesError
    from aimsource.operator.reloading import read_registries

    try:
        return read_registries(path)[1]
    except InvalidRegistriesError as exc:
        raise CliError(str(exc)) from exc


def registries_path(args: argparse.Namespace, env: Mapping[str, str]) -> str | None:
    """`--registries`, else `$AIMSOURCE_REGISTRIES` (empty: unset)."""
    return getattr(args, "registries", None) or env.get(REGISTRIES_ENV) or None


def _every_command(opt: Option) -> bool:
    return opt.every_command


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
    if not args.tags_file:
        load_registries(registries_path(args, os.environ))


def registry_settings_from_args(args: argparse.Namespace, env: Mapping[str, str]) -> RegistrySettings:
    """The registry flags of `preview` and `sync`, and the variables declared for every command
    (`$AIMSOURCE_MAX_TAGS`); `--registry-rate` sizes the burst too (`RegistrySettings.with_rate`)."""
    return build(RegistrySettings, reader(args, env, use_env=_every_command))


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
        settings = registry_settings_from_args(args, os.environ)
        yield StaticTagLister(listing, max_repositories=settings.max_repositories)
        return
    from aimsource.registry.client import RegistryClient
    from aimsource.registry.errors import RegistryError

    settings = registry_settings_from_args(args, os.environ)
    registries = load_registries(registries_path(args, os.environ))
    try:
        client = RegistryClient(settings, registries=registries, observer=observer)
    except RegistryError as exc:  # e.g. a --ca-file that is not a PEM bundle
        raise CliError(str(exc)) from exc
    async with client:
        yield client
