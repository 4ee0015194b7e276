"""A setting's flag, variable, help and value syntax, declared on its settings field.

    metrics_port: int = field(
        default=8080,
        metadata=option("--metrics-port", "PORT", values.port, "port of /metrics; 0 disables"),
    )

The field keeps its name, type and default; the metadata adds what a person types. The variable is
the flag's name upper-cased after `AIMSOURCE_` (`--metrics-port`: `AIMSOURCE_METRICS_PORT`), and the
chart value its camel case under `operator:` (`operator.metricsPort`), unless told otherwise: one spelling
everywhere, so neither has to be written down twice.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from aimsource.domain.durations import format_duration
from aimsource.domain.options import values
from aimsource.domain.options.values import Parser

KEY = "aimsource.option"
"""The metadata key of a field's `Option`."""

ENV_PREFIX = "AIMSOURCE_"


@dataclass(frozen=True)
class Option:
    flag: str
    """The long flag, `--metrics-port`."""

    metavar: str | None
    """What the flag takes, as `--help` names it (`PORT`); None for a switch, which takes nothing."""

    parse: Parser[Any]
    """The value syntax of the flag's and the variable's text (`domain.options.values`)."""

    help: str
    """One line for `--help`, the docs' table and the chart's values; the default is added."""

    detail: str = ""
    """More for the docs' table only (consequences, links), after the help."""

    default_text: str | None = None
    """How the default reads when the field's default is computed (`hostname-pid`)."""

    via: str | None = None
    """A method of the settings class that applies the value, when the field alone would not
    (`with_rate` also sizes the burst; `lasting` scales the other lease timings)."""

    switch: bool = False
    """A flag without a value (`store_true`); its variable is read as true or false."""

    inverts: bool = False
    """The switch turns the field off (`--no-leader-election` sets `leader_election` false)."""

    repeatable: bool = False
    """The flag may be given again; flags and the comma-separated variable add up."""

    chart: str | None = ""
    """The chart value's path (`webhook.headerTimeout`); "" derives `operator.<camelCase flag>`,
    None: the chart has no value for it."""

    every_command: bool = False
    """`preview` and `sync` read the variable too, not only `aimsource run`."""

    chart_help: str = ""
    """The chart value's meaning when it is not the flag's: an inverting switch's value is the
    field itself (`leaderElection: true` where the flag is `--no-leader-election`)."""

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.flag.removeprefix("--").upper().replace("-", "_")

    @property
    def chart_key(self) -> str | None:
        if self.chart is None:
            return None
        if self.chart:
            return self.chart
        head, *rest = self.flag.removeprefix("--").split("-")
        return "operator." + head + "".join(word.capitalize() for word in rest)


def option(flag: str, metavar: str | None, parse: Parser[Any], help: str, **more: Any) -> dict[str, Option]:
    """The metadata of a settings field a person may set (see the module docstring)."""
    return {KEY: Option(flag, metavar, parse, help, **more)}


@dataclass(frozen=True)
class Declared:
    """One option found on a settings class, with where its field is and its default."""

    path: tuple[str, ...]
    """Field names from the outer settings class down to the field (`registry`, `max_tags`)."""

    option: Option
    default: object
    """The field's default value (a factory's, called once)."""

    @property
    def default_text(self) -> str:
        """The default as the help and the docs show it."""
        if self.option.default_text is not None:
            return self.option.default_text
        return show(self.option, self.default)


def show(opt: Option, value: object) -> str:
    """A value as a person writes it: durations as `30s`, rates as `20`, no value as `none`."""
    if value is None or value == frozenset():
        return "none"
    if opt.parse in (values.duration, values.positive_duration) and isinstance(value, int | float):
        return format_duration(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def nested_settings(cls: type) -> Mapping[str, type]:
    """The fields of `cls` that hold settings classes of their own, by name."""
    hints = typing.get_type_hints(cls)
    return {
        f.name: hints[f.name]
        for f in dataclasses.fields(cls)
        if isinstance(hints[f.name], type) and dataclasses.is_dataclass(hints[f.name])
    }


def declared_options(cls: type, *, path: tuple[str, ...] = ()) -> Iterator[Declared]:
    """Every option of `cls` and of its nested settings, in the order of the fields."""
    nested = nested_settings(cls)
    for f in dataclasses.fields(cls):
        if f.name in nested:
            yield from declared_options(nested[f.name], path=(*path, f.name))
        elif KEY in f.metadata:
            default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
            yield Declared((*path, f.name), f.metadata[KEY], default)
