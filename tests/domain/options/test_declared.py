"""A setting's declaration: the variable and chart key derived from the flag, defaults as people
write them, and the walk over nested settings in field order."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from aimsource.domain.options import values
from aimsource.domain.options.declared import Option, declared_options, option, show


@dataclass(frozen=True)
class Inner:
    rate: float = field(default=20.0, metadata=option("--registry-rate", "R", values.rate, "budget"))
    hidden: int = 3


@dataclass(frozen=True)
class Outer:
    wait: float = field(default=120.0, metadata=option("--crd-wait", "DURATION", values.duration, "wait"))
    inner: Inner = field(default_factory=Inner)
    name: str = field(
        default_factory=lambda: "computed",
        metadata=option("--identity", "NAME", values.text, "who", default_text="hostname-pid", chart=None),
    )


def test_the_variable_and_the_chart_key_come_from_the_flag() -> None:
    opt = Option("--max-syncs-per-host", "N", values.positive_int, "help")
    assert opt.env == "AIMSOURCE_MAX_SYNCS_PER_HOST"
    assert opt.chart_key == "operator.maxSyncsPerHost"


def test_a_chart_key_may_be_named_or_absent() -> None:
    assert Option(
        "--no-leader-election", None, values.boolean, "h", chart="operator.leaderElection"
    ).chart_key == ("operator.leaderElection")
    assert Option("--identity", "NAME", values.text, "h", chart=None).chart_key is None


def test_nested_settings_are_walked_in_field_order_with_their_paths() -> None:
    found = [(item.path, item.option.flag, item.default) for item in declared_options(Outer)]
    assert found == [
        (("wait",), "--crd-wait", 120.0),
        (("inner", "rate"), "--registry-rate", 20.0),
        (("name",), "--identity", "computed"),
    ]


def test_a_computed_default_reads_as_declared() -> None:
    (*_, name) = declared_options(Outer)
    assert name.default_text == "hostname-pid"


@pytest.mark.parametrize(
    ("parse", "value", "shown"),
    [
        (values.duration, 86400.0, "24h"),
        (values.positive_duration, 30.0, "30s"),
        (values.rate, 20.0, "20"),
        (values.rate, 2.5, "2.5"),
        (values.positive_int, 100_000, "100000"),
        (values.text, None, "none"),
        (values.text, frozenset(), "none"),
        (values.boolean, True, "true"),
    ],
    ids=["day", "seconds", "whole-rate", "fraction", "int", "unset", "empty-set", "bool"],
)
def test_defaults_read_as_a_person_writes_them(
    parse: values.Parser[object], value: object, shown: str
) -> None:
    assert show(Option("--x", "X", parse, "h"), value) == shown
