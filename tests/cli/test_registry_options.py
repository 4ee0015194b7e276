"""The registry flags: `preview`/`sync` and `run` build the registry client's settings one way.

`--registry-rate R` promises a budget of R requests/s per host "with bursts of twice that", for
every command: the budget is checked on a real registry, through the client each command builds
(`open_lister` for preview and sync, `settings_from_args(...).registry` for the operator, which
hands that object to its `RegistryClient` unchanged).
"""

from __future__ import annotations

import argparse
import time

import pytest

from aimsource.cli import CliError, build_parser
from aimsource.cli.registry_options import open_lister, registry_settings_from_args
from aimsource.cli.run import settings_from_args
from aimsource.domain.references import ImageRef
from aimsource.registry.client import RegistryClient
from aimsource.registry.settings import RegistrySettings
from aimsource.sync.ports import TagLister
from tests.support.registry_server import RunningRegistry

QWEN = "amdenterpriseai/aim-qwen-qwen3-32b"
RATE = 2.0
CALLS = 6  # one request each: 2 * RATE at once, then the last two paced at 1 / RATE s


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def run_settings(*argv: str) -> RegistrySettings:
    return settings_from_args(parse("run", *argv), {}, default_namespace=lambda: "ops").registry


async def paced_seconds(lister: TagLister, registry: RunningRegistry) -> float:
    ref = ImageRef(registry.host, QWEN)
    started = time.monotonic()
    for _ in range(CALLS):
        await lister.list_tags(ref, credential=None)
    return time.monotonic() - started


@pytest.mark.parametrize("command", ["preview", "sync"])
def test_registry_rate_sets_a_burst_of_twice_the_rate_for_preview_and_sync(command: str) -> None:
    args = parse(
        command, "source.yaml", *(["--out", "models"] if command == "sync" else []), "--registry-rate", "3"
    )
    settings = registry_settings_from_args(args, {})
    assert (settings.requests_per_second, settings.request_burst) == (3.0, 6)


def test_registry_rate_sets_a_burst_of_twice_the_rate_for_the_operator() -> None:
    settings = run_settings("--registry-rate", "3")
    assert (settings.requests_per_second, settings.request_burst) == (3.0, 6)


def test_without_registry_flags_every_command_has_the_client_defaults() -> None:
    assert registry_settings_from_args(parse("preview", "source.yaml"), {}) == RegistrySettings()
    assert run_settings() == RegistrySettings()


@pytest.mark.registry
async def test_preview_paces_a_registry_after_a_burst_of_twice_the_rate(
    anonymous_registry: RunningRegistry,
) -> None:
    args = parse("preview", "source.yaml", "--registry-rate", f"{RATE:g}")
    async with open_lister(args) as lister:
        seconds = await paced_seconds(lister, anonymous_registry)
    # 4 requests at once, then 2 at 0.5 s each; with the client's default burst (40) there was no wait.
    assert seconds >= (CALLS - 2 * RATE) / RATE - 0.1


@pytest.mark.registry
async def test_the_operator_paces_a_registry_after_a_burst_of_twice_the_rate(
    anonymous_registry: RunningRegistry,
) -> None:
    async with RegistryClient(run_settings("--registry-rate", f"{RATE:g}")) as client:
        seconds = await paced_seconds(client, anonymous_registry)
    assert seconds >= (CALLS - 2 * RATE) / RATE - 0.1


def test_max_tags_variable_is_read_by_the_same_parser_as_the_operators() -> None:
    args = parse("preview", "source.yaml")
    assert registry_settings_from_args(args, {"AIMSOURCE_MAX_TAGS": "7"}).max_tags == 7
    with pytest.raises(CliError) as preview_error:
        registry_settings_from_args(args, {"AIMSOURCE_MAX_TAGS": "0"})
    with pytest.raises(CliError) as run_error:
        settings_from_args(parse("run"), {"AIMSOURCE_MAX_TAGS": "0"}, default_namespace=lambda: "ops")
    assert (
        str(preview_error.value) == str(run_error.value) == "$AIMSOURCE_MAX_TAGS: must be at least 1, got '0'"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--max-tags", "many"], "argument --max-tags: expected a whole number, got 'many'"),
        (
            ["--max-concurrency-per-host", "0"],
            "argument --max-concurrency-per-host: must be at least 1, got '0'",
        ),
        (["--registry-rate", "-1"], "argument --registry-rate: must not be negative, got '-1'"),
    ],
)
def test_a_bad_registry_flag_is_a_usage_error_naming_the_flag(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse("preview", "source.yaml", *argv)
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"aimsource preview: error: {message}"
