"""Flags made from declarations, and settings built back from flags and variables: `cli/options.py`.

The full table of `aimsource run` is exercised in tests/cli/test_run.py; these are the mechanics
every declared option goes through (precedence, `via` methods, switches, repeatable flags)."""

from __future__ import annotations

import argparse

import pytest

from aimsource.cli import CliError
from aimsource.cli.options import add_flags, build, reader
from aimsource.domain.options.declared import Option, declared_options
from aimsource.kube.lease import LeaseSettings
from aimsource.operator.settings import OperatorSettings
from aimsource.registry.settings import RegistrySettings


def parsed(cls: type, argv: list[str], *, typed: bool = False) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_flags(parser, declared_options(cls), env=lambda _: True, typed=typed)
    return parser.parse_args(argv)


def every(_: Option) -> bool:
    return True


def test_a_flag_wins_over_its_variable_which_wins_over_the_default() -> None:
    env = {"AIMSOURCE_MAX_TAGS": "7", "AIMSOURCE_MAX_CONCURRENCY_PER_HOST": "2"}
    built = build(RegistrySettings, reader(parsed(RegistrySettings, ["--max-tags", "9"]), env, use_env=every))
    assert (built.max_tags, built.max_concurrency_per_host, built.page_size) == (
        9,
        2,
        RegistrySettings.page_size,
    )


def test_a_via_method_applies_the_value() -> None:
    built = build(
        RegistrySettings, reader(parsed(RegistrySettings, ["--registry-rate", "5"]), {}, use_env=every)
    )
    assert (built.requests_per_second, built.request_burst) == (5.0, 10)
    lease = build(
        LeaseSettings, reader(parsed(LeaseSettings, ["--lease-duration", "30s"]), {}, use_env=every)
    )
    assert (lease.lease_duration, lease.renew_deadline, lease.retry_period) == (30.0, 20.0, 4.0)


def test_an_inverting_switch_turns_its_field_off_from_the_flag_or_the_variable() -> None:
    def election(argv: list[str], env: dict[str, str]) -> bool:
        args = parsed(OperatorSettings, argv)
        return build(OperatorSettings, reader(args, env, use_env=every)).leader_election

    assert election([], {}) is True
    assert election(["--no-leader-election"], {}) is False
    assert election([], {"AIMSOURCE_NO_LEADER_ELECTION": "true"}) is False


def test_a_repeatable_flag_adds_up_with_its_comma_separated_variable() -> None:
    args = parsed(RegistrySettings, ["--insecure-registry", "A.example:5000", "--insecure-registry", "b"])
    env = {"AIMSOURCE_INSECURE_REGISTRY": "c.example, ,d"}
    built = build(RegistrySettings, reader(args, env, use_env=every))
    assert built.insecure == {"a.example:5000", "b", "c.example", "d"}


def test_variables_are_read_only_where_the_command_reads_them() -> None:
    env = {"AIMSOURCE_MAX_TAGS": "7", "AIMSOURCE_REGISTRY_RATE": "1"}
    built = build(
        RegistrySettings,
        reader(parsed(RegistrySettings, [], typed=True), env, use_env=lambda o: o.every_command),
    )
    assert (built.max_tags, built.requests_per_second) == (7, RegistrySettings.requests_per_second)


def test_a_bad_variable_is_a_cli_error_naming_it() -> None:
    with pytest.raises(CliError, match=r"^\$AIMSOURCE_MAX_TAGS: must be at least 1"):
        build(
            RegistrySettings, reader(parsed(RegistrySettings, []), {"AIMSOURCE_MAX_TAGS": "0"}, use_env=every)
        )


def test_typed_flags_are_refused_by_argparse_naming_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parsed(RegistrySettings, ["--max-tags", "many"], typed=True)
    assert "argument --max-tags: expected a whole number, got 'many'" in capsys.readouterr().err
