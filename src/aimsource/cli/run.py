"""`aimsource run`: the operator. Flags, each also readable from an `AIMSOURCE_*` variable.

A flag given on the command line wins over its variable, which wins over the default. Every flag is
declared once, on its settings field (`domain.options`): the parser, `--help`, docs/cli.md's table
and the chart's values come from those declarations (`cli.options`, `scripts/settings-tables`).
Bad values are one-line errors that name the flag (or variable) and the value.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Callable, Mapping

from aimsource.cli import CliError
from aimsource.cli.options import add_flags, build, reader
from aimsource.cli.registry_options import load_registries
from aimsource.domain.options.declared import Declared, declared_options
from aimsource.operator.settings import OperatorSettings

GROUPS = {
    "registry": "registries (every registry host)",
    "lease": "leader election",
    "schedule": "scheduling",
    "webhook": "push-event receiver: its connections",
    "pushes": "what pushes may cost a registry",
}
"""The `--help` sections of the nested settings; the operator's own options come first."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run",
        help="run the operator",
        description="Run the operator: watch AIMClusterModelSources and create AIMClusterModels. "
        "Every flag can also be set through the AIMSOURCE_* variable named in its help.",
    )
    declared = list(declared_options(OperatorSettings))
    add_flags(p, [d for d in declared if d.path[0] not in GROUPS], env=_every, typed=False)
    for name, title in GROUPS.items():
        group = p.add_argument_group(title)
        add_flags(group, [d for d in declared if d.path[0] == name], env=_every, typed=False)
    p.set_defaults(handler=run)


def settings_from_args(
    args: argparse.Namespace,
    env: Mapping[str, str],
    *,
    default_namespace: Callable[[], str] | None = None,
) -> OperatorSettings:
    """Flags, then `AIMSOURCE_*` variables, then defaults; raises CliError naming a bad value."""
    given = reader(args, env, use_env=_every)

    def value(item: Declared) -> object:
        found = given(item)
        if found is None and item.path == ("namespace",):  # a computed default: asked only if needed
            return default_namespace() if default_namespace is not None else _service_account_namespace()
        return found

    settings = build(OperatorSettings, value)
    if settings.registries_file:  # a bad file stops the start with one line, before anything runs
        settings = dataclasses.replace(settings, registries=load_registries(settings.registries_file))
    _check_webhook_port(settings)
    return settings


def _every(_: object) -> bool:
    return True


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args, os.environ)
    from aimsource.operator.main import OperatorStartError, run_operator

    try:
        return run_operator(settings)
    except OperatorStartError as exc:
        raise CliError(str(exc), code=1) from exc


def _service_account_namespace() -> str:
    from aimsource.kube import operator_namespace

    return operator_namespace()


def _check_webhook_port(settings: OperatorSettings) -> None:
    port = settings.webhook_port
    if port and port in (settings.metrics_port, settings.health_port):
        raise CliError(f"--webhook-port: {port} is also the metrics or health port; give it its own")
