"""Flags and settings from the settings' own declarations (`domain.options`): nothing is spelled twice.

`add_flags` puts the declared options of a settings class on a parser, with `--help` texts made of
the declaration's help, its default and its variable; `build` makes the settings object back from
what was given, keeping each default where a flag and its variable are absent. `aimsource run`
reads every variable; `preview` and `sync` only those declared `every_command`.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from aimsource.cli.values import flag_type, read
from aimsource.domain.options import values
from aimsource.domain.options.declared import KEY, Declared, Option, nested_settings

S = TypeVar("S")

Reader = Callable[[Declared], object]
"""The value given for an option (flag, else variable), or None: keep the default."""


def dest(declared: Declared) -> str:
    """The argparse destination of an option: its field path, so nested names cannot collide."""
    return "_".join(declared.path)


def help_text(declared: Declared, *, with_env: bool) -> str:
    opt = declared.option
    text = opt.help if opt.switch else f"{opt.help} (default: {declared.default_text})"
    if not with_env:
        return text
    if opt.switch:
        return f"{text} [${opt.env}=true]"
    return f"{text} [${opt.env}{', comma-separated' if opt.repeatable else ''}]"


def add_flags(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    declared: Iterable[Declared],
    *,
    env: Callable[[Option], bool],
    typed: bool,
) -> None:
    """One flag per declared option. `typed`: argparse parses the values (and names the flag in its
    error); otherwise they stay text for `build_from_args` to parse, flag or variable alike."""
    for item in declared:
        opt = item.option
        shown = help_text(item, with_env=env(opt))
        if opt.switch:
            parser.add_argument(opt.flag, dest=dest(item), action="store_true", default=None, help=shown)
        elif opt.repeatable:
            parser.add_argument(
                opt.flag, dest=dest(item), metavar=opt.metavar, action="append", default=[], help=shown
            )
        else:
            added = parser.add_argument(opt.flag, dest=dest(item), metavar=opt.metavar, help=shown)
            if typed:
                added.type = flag_type(opt.parse)


def reader(args: argparse.Namespace, env: Mapping[str, str], *, use_env: Callable[[Option], bool]) -> Reader:
    """Flag, then variable (an empty variable is unset); bad text is a CliError naming its origin."""

    def value(item: Declared) -> object:
        opt = item.option
        given = getattr(args, dest(item), None)
        text = env.get(opt.env, "") if use_env(opt) else ""
        if opt.switch:
            on = bool(given) or read(values.boolean, text, f"${opt.env}")
            return (not on if opt.inverts else on) if on else None
        if opt.repeatable:
            items = [*(given or ()), *values.comma_list(text)]
            return frozenset(read(opt.parse, i, opt.flag) for i in items) if items else None
        if given is not None:
            return given if not isinstance(given, str) else read(opt.parse, given, opt.flag)
        return read(opt.parse, text, f"${opt.env}") if text else None

    return value


def build(cls: type[S], value: Reader, *, path: tuple[str, ...] = ()) -> S:
    """`cls` with every given option applied (through its `via` method where it has one); nested
    settings are built the same way. Fields without an option keep their defaults."""
    nested = nested_settings(cls)
    fields: dict[str, Any] = {}
    later: list[tuple[str, object]] = []
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]  # settings classes are dataclasses
        if f.name in nested:
            fields[f.name] = build(nested[f.name], value, path=(*path, f.name))
        elif KEY in f.metadata:
            opt: Option = f.metadata[KEY]
            given = value(Declared((*path, f.name), opt, None))
            if given is None:
                continue
            if opt.via:
                later.append((opt.via, given))
            else:
                fields[f.name] = given
    built = cls(**fields)
    for method, given in later:
        built = getattr(built, method)(given)
    return built
