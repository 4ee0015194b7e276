"""The user guide says what the code does: its tables are checked against the code and the CRDs.

Each table a user relies on to predict behaviour — constraint examples, model names, spec fields
and limits, metric names, error reasons, CLI options — is read from the Markdown and compared with
the implementation, so that a change in either shows up here instead of in a user's cluster.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from aimsource.cli import build_parser
from aimsource.domain.errors import InvalidConstraintError
from aimsource.domain.naming import model_name
from aimsource.domain.references import WILDCARD_MESSAGE, model_image, parse_reference
from aimsource.domain.selection.selectors import INVALID_REFERENCE, INVALID_VERSION_CONSTRAINT
from aimsource.domain.versions.constraints import parse_constraint
from aimsource.domain.versions.semver import parse_version
from aimsource.kube.errors import SecretError
from aimsource.operator.metrics import Metrics, SourceFacts
from aimsource.registry.errors import RegistryError
from tests.deploy.manifests import CRDS, REPO
from tests.deploy.markdown import DOCS, anchors, code_spans, links, table_with, user_guide

VERSIONS = (DOCS / "versions.md").read_text()
REFERENCE = (DOCS / "reference.md").read_text()
TROUBLESHOOTING = (DOCS / "troubleshooting.md").read_text()
CLI = (DOCS / "cli.md").read_text()

CONSTRAINT_EXAMPLES = table_with(VERSIONS, "Constraint", "Tag", "Selected", "Why")
REJECTED = table_with(VERSIONS, "Constraint", "Message")
NAMES = table_with(REFERENCE, "Reference in the spec", "`spec.image`", "`metadata.name`")
SPEC_FIELDS = table_with(REFERENCE, "Field", "Type", "Default", "Rules and limits", "Meaning")
STATUS_FIELDS = table_with(REFERENCE, "Field", "Type", "Meaning")
SELECTOR_FIELDS = table_with(REFERENCE, "Field", "Meaning")
CONDITIONS = table_with(REFERENCE, "Type", "Status", "Reason", "Message")
REASONS = table_with(TROUBLESHOOTING, "Reason", "Message (start)", "What to do")


def _crd(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((CRDS / f"aim.eai.amd.com_{name}.yaml").read_text())
    return doc


SOURCE_SCHEMA = _crd("aimclustermodelsources")["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def _only_span(cell: str) -> str:
    spans = code_spans(cell)
    assert len(spans) == 1, f"expected one `code` span in {cell!r}"
    return spans[0]


# --- links ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", user_guide(), ids=lambda p: p.name)
def test_relative_links_and_anchors_resolve(page: Path) -> None:
    broken = []
    for target in links(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        missing_anchor = anchor and (dest.suffix != ".md" or anchor not in anchors(dest.read_text()))
        if not dest.exists() or missing_anchor:
            broken.append(target)
    assert not broken, f"{page.name}: broken links {broken}"


def test_every_page_is_reachable_from_the_index() -> None:
    linked = {target.partition("#")[0] for target in links((DOCS / "index.md").read_text())}
    pages = {page.name for page in user_guide()} - {"index.md"}
    assert pages <= linked, f"not linked from docs/index.md: {sorted(pages - linked)}"


# --- versions.md ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "row", CONSTRAINT_EXAMPLES.rows, ids=lambda r: f"{_only_span(r[0])} on {_only_span(r[1])}"
)
def test_constraint_example_holds(row: tuple[str, ...]) -> None:
    constraint, tag, expected = _only_span(row[0]), _only_span(row[1]), row[2]
    version = parse_version(tag)
    if expected == "skipped":
        assert version is None, f"{tag} is a version, the table says it is skipped"
        return
    assert expected in {"yes", "no"}
    assert version is not None
    assert parse_constraint(constraint).admits(version) is (expected == "yes")


@pytest.mark.parametrize("row", REJECTED.rows, ids=lambda r: _only_span(r[0]))
def test_rejected_constraint_message_is_the_one_users_see(row: tuple[str, ...]) -> None:
    with pytest.raises(InvalidConstraintError) as caught:
        parse_constraint(_only_span(row[0]))
    assert str(caught.value) == _only_span(row[1])


# --- reference.md ---------------------------------------------------------------------------------


@pytest.mark.parametrize("row", NAMES.rows, ids=lambda r: _only_span(r[0]))
def test_model_name_example_holds(row: tuple[str, ...]) -> None:
    ref = parse_reference(_only_span(row[0]))
    assert model_image(ref) == _only_span(row[1])
    assert model_name(ref) == _only_span(row[2])


def _spec_paths() -> dict[str, dict[str, Any]]:
    spec = SOURCE_SCHEMA["properties"]["spec"]["properties"]
    paths = dict(spec)
    for name, schema in spec["filters"]["items"]["properties"].items():
        paths[f"filters[].{name}"] = schema
    return paths


def _documented_spec_fields() -> dict[str, tuple[str, ...]]:
    return {_only_span(row[0]): row for row in SPEC_FIELDS.rows}


def test_every_spec_field_is_documented_and_nothing_else() -> None:
    assert set(_documented_spec_fields()) == set(_spec_paths())


@pytest.mark.parametrize("path", sorted(_spec_paths()))
def test_spec_field_default_and_limits_match_the_crd(path: str) -> None:
    schema = _spec_paths()[path]
    row = _documented_spec_fields()[path]
    if "default" in schema:
        assert code_spans(row[2]) == [str(schema["default"])]
    else:
        assert not code_spans(row[2]), f"{path} has no default in the CRD"
    item = schema.get("items", {})
    limits = [schema.get(k) for k in ("minItems", "maxItems", "minLength", "maxLength", "minimum", "maximum")]
    limits += [item.get(k) for k in ("minLength", "maxLength")]
    numbers = set(re.findall(r"\d+", row[3]))
    missing = [n for n in limits if n is not None and str(n) not in numbers]
    assert not missing, f"{path}: limits {missing} from the CRD are not in {row[3]!r}"
    if "pattern" in schema:
        assert schema["pattern"] in row[3].replace("\\|", "|")


def test_every_status_field_is_documented() -> None:
    documented = {_only_span(row[0]) for row in STATUS_FIELDS.rows}
    assert documented == set(SOURCE_SCHEMA["properties"]["status"]["properties"])


def test_every_selector_status_field_is_documented() -> None:
    selector = SOURCE_SCHEMA["properties"]["status"]["properties"]["selectors"]["items"]["properties"]
    expected = {name for name in selector if name != "error"}
    expected |= {f"error.{name}" for name in selector["error"]["properties"]}
    documented = {span for row in SELECTOR_FIELDS.rows for span in code_spans(row[0])}
    assert documented == expected


@pytest.mark.parametrize("row", CONDITIONS.rows, ids=lambda r: f"{_only_span(r[0])}={_only_span(r[1])}")
def test_condition_reasons_are_the_ones_the_code_writes(row: tuple[str, ...]) -> None:
    domain = REPO / "src" / "aimsource" / "domain"
    # The reasons are named in domain/resources.py and written by the status modules; the operator
    # writes the Progressing condition of a held sync itself (operator/scheduling/held.py).
    held = REPO / "src" / "aimsource" / "operator" / "scheduling" / "held.py"
    parts = [domain / "resources.py", *sorted((domain / "status").glob("*.py")), held]
    assert len(parts) > 3, parts
    source = "".join(p.read_text() for p in parts)
    for reason in code_spans(row[2]):
        where = [str(p.relative_to(REPO)) for p in parts]
        assert f'"{reason}"' in source, f"reason {reason} is not in {where}"


def test_limit_condition_message_is_the_seed_documentation_s() -> None:
    (row,) = [r for r in CONDITIONS.rows if code_spans(r[2]) == ["LimitReached"]]
    assert _only_span(row[3]) == (
        "Model creation limit reached (N models created). M available images not created as models."
    )


# --- metrics.md -----------------------------------------------------------------------------------


def _exposed_metrics() -> dict[str, tuple[str, frozenset[str]]]:
    metrics = Metrics()
    metrics.request("registry-1.docker.io", 200)
    metrics.retry("ghcr.io")
    metrics.ratelimit_remaining("registry-1.docker.io", 99)
    metrics.ratelimit_limit("registry-1.docker.io", 100)
    metrics.stale_listing_served("registry-1.docker.io")
    metrics.unchanged_listing_served("registry-1.docker.io")
    metrics.sync_finished("Ready", 0.2, created=1)
    metrics.webhook_request("distribution", "accepted")
    metrics.webhook_connection_closed("header_timeout")
    metrics.push_synced("created", created=1)
    metrics.ratelimit_wait("registry-1.docker.io", 1.0)
    metrics.mirror_call("docker.io", "https://mirror.corp.example", "served")
    metrics.registries_reloaded("applied")
    metrics.set_source_facts({"s": SourceFacts(status="Ready", last_success=1.0, interval=60.0)})
    metrics.set_sync_progress("s", {"total": 2000, "checked": 10, "created": 9, "refused": 0})
    text, _ = metrics.render()
    families = list(text_string_to_metric_families(text.decode()))
    names = {family.name for family in families}
    exposed = {}
    for family in families:
        if family.name.endswith("_created") and family.name.removesuffix("_created") in names:
            continue  # prometheus_client's creation timestamps of counters and histograms
        labels = {k for sample in family.samples for k in sample.labels if k != "le"}
        name = family.name + ("_total" if family.type == "counter" else "")
        exposed[name] = (family.type, frozenset(labels))
    return exposed


def test_metrics_table_lists_exactly_what_the_operator_exports() -> None:
    table = table_with((DOCS / "metrics.md").read_text(), "Metric", "Type", "Labels", "Meaning")
    documented = {_only_span(row[0]): (row[1], frozenset(code_spans(row[2]))) for row in table.rows}
    assert documented == _exposed_metrics()


# --- troubleshooting.md ---------------------------------------------------------------------------


def _known_reasons() -> set[str]:
    registry = {cls.reason for cls in RegistryError.__subclasses__()}
    return registry | {SecretError.reason, INVALID_REFERENCE, INVALID_VERSION_CONSTRAINT}


def test_every_selector_error_reason_is_explained() -> None:
    documented = {_only_span(row[0]) for row in REASONS.rows}
    assert documented == _known_reasons()


def test_wildcard_message_is_quoted_verbatim() -> None:
    assert WILDCARD_MESSAGE in TROUBLESHOOTING
    assert WILDCARD_MESSAGE in REFERENCE


# --- cli.md ---------------------------------------------------------------------------------------


def _section(text: str, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, flags=re.MULTILINE | re.DOTALL)
    assert match, f"no section '## {heading}'"
    return match.group(1)


def _subcommands() -> dict[str, Any]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return dict(sub.choices)


@pytest.mark.parametrize("command", ["check", "preview", "sync", "run"])
def test_cli_section_documents_every_option_and_no_other(command: str) -> None:
    parser = _subcommands()[command]
    options = {s for a in parser._actions for s in a.option_strings if s.startswith("--")} - {"--help"}
    section = _section(CLI, f"aimsource {command}")
    mentioned = set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", section))
    assert options <= mentioned, f"undocumented: {sorted(options - mentioned)}"
    assert mentioned <= options, f"documented but not accepted: {sorted(mentioned - options)}"
