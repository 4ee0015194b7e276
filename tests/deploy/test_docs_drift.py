"""The figures, objects, commands and reasons the user guide quotes are what deploy/ and the code do.

Each of these drifted once without a test noticing (issue 22): a memory request, a Service missing
from install.md's table and from its removal commands, reasons the code never writes, a standby
takeover time, two definitions of one counter. Here each is read from the Markdown and compared
with the rendered manifests or the code's own defaults.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

import pytest

from aimsource.domain import resources
from aimsource.kube.errors import SecretError
from aimsource.kube.lease import STALL_TOLERANCE, LeaseSettings
from aimsource.operator import reporting
from aimsource.operator.scheduling import held
from aimsource.operator.scheduling.schedule import Policy
from aimsource.registry.errors import RegistryError
from tests.deploy.manifests import DEPLOY, render
from tests.deploy.markdown import DOCS, code_blocks, code_spans, table_with, user_guide

INSTALL = (DOCS / "install.md").read_text()
KINDS = {
    "CustomResourceDefinition": ["CustomResourceDefinition"],
    "Namespace": ["Namespace"],
    "ServiceAccount": ["ServiceAccount"],
    "ClusterRole + Binding": ["ClusterRole", "ClusterRoleBinding"],
    "Role + Binding": ["Role", "RoleBinding"],
    "Deployment": ["Deployment"],
    "Service": ["Service"],
    "PodDisruptionBudget": ["PodDisruptionBudget"],
    "ConfigMap": ["ConfigMap"],
}
"""The Object column's words and the kinds each stands for."""
KUBECTL_KINDS = {
    "deployment": "Deployment",
    "service": "Service",
    "poddisruptionbudget": "PodDisruptionBudget",
    "serviceaccount": "ServiceAccount",
    "role": "Role",
    "rolebinding": "RoleBinding",
    "clusterrole": "ClusterRole",
    "clusterrolebinding": "ClusterRoleBinding",
    "lease": "Lease",
    "configmap": "ConfigMap",
}
RUNTIME_OBJECTS = {("Lease", "aim-system/aimsource-leader")}
"""Made by the operator at run time, not by deploy/: removal commands may name them too."""


def _key(obj: dict[str, Any]) -> tuple[str, str]:
    meta = obj["metadata"]
    return obj["kind"], f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]


def _deployed() -> set[tuple[str, str]]:
    return {_key(obj) for obj in render(DEPLOY)}


def _section(text: str, heading: str) -> str:
    match = re.search(rf"^(#+) {re.escape(heading)}\n(.*?)(?=^#{{1,2}} |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"no section {heading!r}"
    return match.group(2)


# --- install.md: what gets installed, and how it is removed ---------------------------------------


def test_install_table_lists_exactly_the_objects_deploy_renders() -> None:
    table = table_with(INSTALL, "Object", "Name", "Why")
    documented = set()
    for row in table.rows:
        name = code_spans(row[1])[0]
        for kind in KINDS[row[0]]:
            documented.add((kind, name))
    assert documented == _deployed()


def _deleted_by(block: str) -> set[tuple[str, str]]:
    """The objects the `kubectl ... delete` lines of a shell block delete (continuations joined)."""
    deleted = set()
    for line in block.replace("\\\n", " ").splitlines():
        words = shlex.split(line)
        if words[:1] != ["kubectl"] or "delete" not in words:
            continue
        namespace = words[words.index("-n") + 1] if "-n" in words else None
        for word in words[words.index("delete") + 1 :]:
            if "/" in word and not word.startswith("-"):
                kind, name = word.split("/", 1)
                deleted.add((KUBECTL_KINDS[kind], f"{namespace}/{name}" if namespace else name))
    return deleted


def _keep_crds_block(text: str) -> str:
    (block,) = [
        body for lang, body in code_blocks(text) if lang == "sh" and "delete deployment/aimsource" in body
    ]
    return block


def test_removing_the_operator_but_keeping_crds_removes_everything_else_deploy_made() -> None:
    deleted = _deleted_by(_keep_crds_block(_section(INSTALL, "Uninstalling")))
    kept = {key for key in _deployed() if key[0] in ("CustomResourceDefinition", "Namespace")}
    assert deleted - RUNTIME_OBJECTS == _deployed() - kept


def test_helm_md_switch_uses_install_md_s_removal_commands() -> None:
    switch = _section((DOCS / "helm.md").read_text(), "Switching from kustomize to Helm")
    assert _keep_crds_block(switch) == _keep_crds_block(_section(INSTALL, "Uninstalling"))


# --- figures: resources, ports, replicas ----------------------------------------------------------


def _deployment() -> dict[str, Any]:
    (deployment,) = [obj for obj in render(DEPLOY) if obj["kind"] == "Deployment"]
    return deployment


def test_install_table_quotes_the_deployment_s_replicas_and_resources() -> None:
    table = table_with(INSTALL, "Object", "Name", "Why")
    (row,) = [r for r in table.rows if r[0] == "Deployment"]
    deployment = _deployment()
    resources_ = deployment["spec"]["template"]["spec"]["containers"][0]["resources"]
    requests, limits = resources_["requests"], resources_["limits"]
    assert f"{deployment['spec']['replicas']} replicas" in row[2]
    assert f"requests {requests['cpu']}/{requests['memory']}" in row[2]
    assert f"limits {limits['cpu']}/{limits['memory']}" in row[2]


def test_every_memory_and_cpu_figure_in_the_guide_is_one_of_the_manifests() -> None:
    resources_ = _deployment()["spec"]["template"]["spec"]["containers"][0]["resources"]
    quoted = {value for kind in resources_.values() for value in kind.values()}
    for page in user_guide():
        prose = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.MULTILINE | re.DOTALL)
        for figure in re.findall(r"\b\d+(?:Mi|Gi|m)\b(?=/|,| |\))", prose):
            if figure.endswith("m") and not re.search(rf"\b{figure}/", prose):
                continue  # "10m" is a duration unless written as cpu/memory
            assert figure in quoted, f"{page.name} quotes {figure}; the Deployment has {sorted(quoted)}"


def test_service_ports_in_the_table_are_the_services() -> None:
    table = table_with(INSTALL, "Object", "Name", "Why")
    services = {_key(o)[1]: o for o in render(DEPLOY) if o["kind"] == "Service"}
    for row in table.rows:
        if row[0] != "Service":
            continue
        (port,) = services[code_spans(row[1])[0]]["spec"]["ports"]
        assert f"port `{port['name']}` ({port['port']})" in row[2]


# --- figures: timings -----------------------------------------------------------------------------


def _sentences(about: str) -> list[tuple[str, str]]:
    """(page, sentence) for every sentence of the guide's prose that mentions `about`."""
    found = []
    for page in user_guide():
        prose = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.MULTILINE | re.DOTALL)
        prose = re.sub(r"\s+", " ", prose)
        for sentence in re.split(r"(?<=[.;:|])\s", prose):
            if about in sentence:
                found.append((page.name, sentence))
    return found


def _seconds(sentence: str) -> set[float]:
    return {float(n) for n in re.findall(r"\b(\d+(?:\.\d+)?) ?s\b", sentence)}


def test_takeover_figures_are_the_lease_s() -> None:
    lease = LeaseSettings()
    jittered = round(lease.retry_period * 1.2, 1)  # kube/lease.py sleeps retry_period x [1, 1.2)
    allowed = {
        lease.lease_duration,
        lease.renew_deadline,
        lease.retry_period,
        jittered,
        round(lease.lease_duration + jittered, 1),
        STALL_TOLERANCE,  # how long the leader's loop may stall without losing the Lease
    }
    checked = 0
    for about in ("standby", "Lease"):
        for page, sentence in _sentences(about):
            figures = _seconds(sentence)
            checked += bool(figures)
            # Either a figure the lease's settings give, or a measured one (lifecycle.md quotes the
            # real control plane's) that the lease's own bound allows.
            over = {f for f in figures - allowed if f > max(allowed)}
            assert not over, f"{page}: {over} in {sentence!r}; the lease gives at most {max(allowed)}"
    # The figures are stated in one place (lifecycle.md, "Leader election"); other pages link it.
    assert checked >= 1


def test_the_time_a_standby_takes_over_is_the_lease_duration_or_a_retry_period() -> None:
    """Not the renew deadline (15 s), which docs once gave as the takeover time (measured: 20.4 s)."""
    lease = LeaseSettings()
    jittered = round(lease.retry_period * 1.2, 1)
    takeover = {lease.lease_duration, round(lease.lease_duration + jittered, 1), lease.retry_period, jittered}
    checked = 0
    for page, sentence in _sentences("Lease") + _sentences("standby"):
        for clause in re.split(r", and |; |: ", sentence):
            if re.search(r"\btakes? (?:over|it|the)|\breplaced\b", clause) and (figures := _seconds(clause)):
                checked += 1
                assert figures <= takeover, f"{page}: {clause!r}; a standby takes over after {takeover}"
    assert checked >= 1  # lifecycle.md's "Leader election"; the other pages link it


def test_minimum_interval_figures_are_the_policy_s() -> None:
    policy = Policy()
    allowed = {policy.min_interval, policy.spec_change_floor}
    checked = 0
    for about in ("minimum interval", "floor"):
        for page, sentence in _sentences(about):
            figures = _seconds(sentence) - {policy.retry_base}  # "backoff 30 s" may share a sentence
            checked += bool(figures)
            assert figures <= allowed, f"{page}: {figures - allowed} in {sentence!r}"
    assert checked >= 3


def test_lifecycle_table_quotes_the_schedule_defaults() -> None:
    policy = Policy()
    table = table_with((DOCS / "lifecycle.md").read_text(), "Trigger", "When")
    text = " ".join(" ".join(row) for row in table.rows)
    base = policy.retry_base
    assert f"{base:g} s, then {2 * base:g} s, {4 * base:g} s" in text
    assert f"({policy.startup_spread:g} s)" in text
    assert (
        f"{policy.jitter_share:.0%} of the interval, at most {policy.jitter_cap:g} s".replace("%", " %")
        in text
    )
    assert f"only by a {policy.spec_change_floor:g} s floor" in text


# --- reasons ----------------------------------------------------------------------------------------


def _written_reasons() -> set[str]:
    """Every reason the code can write into a status, a condition or an event."""
    registry = {cls.reason for cls in RegistryError.__subclasses__()}
    names = {value for name, value in vars(resources).items() if name.endswith("_REASON")}
    events = set(reporting.BAD_STATES.values()) | {"ModelsCreated", reporting.MOVED_REASON}
    from aimsource.domain.selection.selectors import INVALID_REFERENCE, INVALID_VERSION_CONSTRAINT

    return (
        registry
        | names
        | events
        | {SecretError.reason, INVALID_REFERENCE, INVALID_VERSION_CONSTRAINT, held.HELD_REASON}
    )


REASON_LIKE = re.compile(r"[A-Z][a-z]+(?:[A-Z][a-z]+)+|Unauthorized|NotFound|Forbidden")


REASON_PAGES = (
    "monitoring.md",
    "troubleshooting.md",
    "reference.md",
    "lifecycle.md",
    "from-amd.md",
    "metrics.md",
)


@pytest.mark.parametrize("page", [DOCS / name for name in REASON_PAGES], ids=lambda p: p.name)
def test_every_reason_the_docs_name_is_one_the_code_writes(page: Any) -> None:
    """In sentences and table rows about reasons, each CamelCase code span is a reason we write
    (or one of the known words of the API: kinds, condition types, status values)."""
    known = _written_reasons() | {
        resources.SOURCE_KIND,
        resources.MODEL_KIND,
        *resources.SOURCE_STATUSES,
        resources.READY_CONDITION,
        resources.DEGRADED_CONDITION,
        resources.LIMIT_CONDITION,
        held.PROGRESSING_CONDITION,
        "CompetingController",  # the contest event (operator/contests.py)
    }
    prose = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.MULTILINE | re.DOTALL)
    unknown = set()
    for block in re.split(r"\n\s*\n|\n(?=\|)", prose):
        if "reason" not in block.lower() or "the API's reason" in block:
            continue  # status.selectors[].refused copies the API's own reasons, whatever they are
        for span in code_spans(block):
            if span.startswith("Aimsource"):
                continue  # alert names
            if REASON_LIKE.fullmatch(span) and span not in known:
                unknown.add(span)
    assert not unknown, f"{page.name} names reasons the code never writes: {sorted(unknown)}"


def test_the_reason_check_catches_the_reasons_that_once_drifted() -> None:
    assert {"Unauthorized", "NotFound"}.isdisjoint(_written_reasons())
    assert {"AuthenticationFailed", "RepositoryNotFound", "TagNotFound"} <= _written_reasons()


# --- counters: one definition -------------------------------------------------------------------


def test_each_counter_is_defined_alike_in_lifecycle_and_reference() -> None:
    lifecycle = _section((DOCS / "lifecycle.md").read_text(), "Counters")
    reference = table_with((DOCS / "reference.md").read_text(), "Field", "Type", "Meaning")
    meanings = {code_spans(row[0])[0]: re.sub(r"\s+", " ", row[2]) for row in reference.rows}
    items = re.findall(r"^- `(\w+)`: (.*?)(?=^- |\Z)", lifecycle, re.MULTILINE | re.DOTALL)
    assert {name for name, _ in items} == {"availableModels", "discoveredModels", "modelsLimitReached"}
    for name, definition in items:
        first = re.sub(r"\s+", " ", definition).strip().split(". ")[0].rstrip(".")
        if name == "discoveredModels":  # the one that drifted: the same words in both
            assert meanings[name].lower().startswith(first.lower()), (name, first, meanings[name])


# --- cli.md: the operator's settings table --------------------------------------------------------


def _run_flags() -> dict[str, str]:
    """Each `aimsource run` option and its help text, as `--help` prints it (defaults expanded)."""
    import argparse

    from aimsource.cli import build_parser

    parser = build_parser("run")
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    run = sub.choices["run"]
    formatter = run._get_formatter()
    return {
        action.option_strings[0]: formatter._expand_help(action)
        for action in run._actions
        if action.option_strings and action.help and action.option_strings[0] != "-h"
    }


def test_cli_md_run_defaults_and_variables_are_the_parser_s() -> None:
    table = table_with((DOCS / "cli.md").read_text(), "Flag", "Environment", "Default", "Meaning")
    flags = _run_flags()
    checked = 0
    for row in table.rows:
        flag = code_spans(row[0])[0].split()[0]
        help_text = " ".join(flags[flag].split())
        variable = re.search(r"\[\$(AIMSOURCE_\w+)\]", help_text)
        if variable:
            assert variable.group(1) in row[1], (
                f"{flag}: the parser reads {variable.group(1)}, cli.md says {row[1]}"
            )
        default = re.search(r"\(default: ([^)]+)\)", help_text)
        if default is None:
            continue
        documented, value = row[2].replace("`", ""), default.group(1)
        if re.fullmatch(r"[\d.]+[a-z]*", value):  # a figure: 8, 30s, 0.0.0.0
            assert documented.split()[0] == value, f"{flag}: default {value}, cli.md {row[2]}"
            checked += 1
        elif code_spans(row[2]):  # a quoted word or phrase: `INFO`, `aimsource-leader`
            assert documented == value, f"{flag}: default {value}, cli.md {row[2]}"
            checked += 1
    assert checked >= 15
