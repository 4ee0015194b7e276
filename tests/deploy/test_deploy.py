"""What `kubectl apply -k deploy/` installs: the CRDs the code ships, the namespace, the operator.

RBAC has its own module (test_rbac.py); this one checks the rest of the rendered tree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.manifests import DEPLOY, OPERATOR_NAMESPACE, crd_files, of_kind, one, render
from tests.deploy.markdown import DOCS, code_blocks

CLUSTER_SCOPED = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"}


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return render()


@pytest.fixture(scope="module")
def pod(objects: list[dict[str, Any]]) -> Mapping[str, Any]:
    spec: Mapping[str, Any] = one(objects, "Deployment", "aimsource")["spec"]["template"]["spec"]
    return spec


@pytest.fixture(scope="module")
def container(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    (operator,) = pod["containers"]
    return operator


def _path(obj: Mapping[str, Any], dotted: str) -> Any:
    value: Any = obj
    for key in dotted.split("."):
        value = value[int(key)] if isinstance(value, list) else value.get(key)
        if value is None:
            return None
    return value


# --- CRDs -----------------------------------------------------------------------------------------


def test_crds_are_installed_exactly_as_the_code_ships_them(objects: list[dict[str, Any]]) -> None:
    shipped = {crd["metadata"]["name"]: crd for crd in crd_files()}
    rendered = {crd["metadata"]["name"]: crd for crd in of_kind(objects, "CustomResourceDefinition")}
    assert rendered.keys() == shipped.keys()
    for name, crd in shipped.items():
        assert rendered[name] == crd, f"{name} differs from src/aimsource/crds"


@pytest.mark.parametrize(
    "crd", ["aimclustermodelsources.aim.eai.amd.com", "aimclustermodels.aim.eai.amd.com"]
)
def test_both_crds_are_installed(crd: str, objects: list[dict[str, Any]]) -> None:
    one(objects, "CustomResourceDefinition", crd)


def test_with_aim_overlay_is_the_install_without_the_model_crd(objects: list[dict[str, Any]]) -> None:
    # On a cluster that already runs AIM, AIM's AIMClusterModel CRD must not be replaced by ours.
    models_crd = ("CustomResourceDefinition", "aimclustermodels.aim.eai.amd.com")

    def keyed(objs: list[dict[str, Any]]) -> dict[tuple[str, str, str | None], dict[str, Any]]:
        return {(o["kind"], o["metadata"]["name"], o["metadata"].get("namespace")): o for o in objs}

    full = keyed(objects)
    with_aim = keyed(render(DEPLOY / "with-aim"))
    assert (*models_crd, None) in full
    assert with_aim == {key: obj for key, obj in full.items() if key[:2] != models_crd}


# --- namespace and placement ----------------------------------------------------------------------


def test_namespace_enforces_the_restricted_pod_security_level(objects: list[dict[str, Any]]) -> None:
    labels = one(objects, "Namespace", OPERATOR_NAMESPACE)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_every_namespaced_object_lives_in_the_operator_namespace(objects: list[dict[str, Any]]) -> None:
    # Except the Role that lets the operator post events about cluster-scoped sources to "default".
    misplaced = [
        f"{obj['kind']}/{obj['metadata']['name']}"
        for obj in objects
        if obj["kind"] not in CLUSTER_SCOPED
        and obj["metadata"].get("namespace") != OPERATOR_NAMESPACE
        and obj["metadata"]["name"] != "aimsource-events"
    ]
    assert not misplaced


def test_only_events_are_granted_outside_the_operator_namespace(objects: list[dict[str, Any]]) -> None:
    outside = [obj for obj in of_kind(objects, "Role") if obj["metadata"]["namespace"] != OPERATOR_NAMESPACE]
    assert [rule["resources"] for role in outside for rule in role["rules"]] == [["events"]]


def test_deployment_uses_the_service_account_that_rbac_binds(
    objects: list[dict[str, Any]], pod: Mapping[str, Any]
) -> None:
    one(objects, "ServiceAccount", pod["serviceAccountName"])
    assert pod["serviceAccountName"] == "aimsource"


# --- the operator Deployment ----------------------------------------------------------------------


def test_two_replicas_for_leader_election(objects: list[dict[str, Any]]) -> None:
    assert one(objects, "Deployment", "aimsource")["spec"]["replicas"] == 2


def test_container_runs_the_operator(container: Mapping[str, Any]) -> None:
    assert container["args"][0] == "run"
    assert container["image"]
    assert not container["image"].endswith(":latest")


def test_operator_namespace_comes_from_the_pod(container: Mapping[str, Any]) -> None:
    env = {item["name"]: item for item in container["env"]}
    assert env["AIMSOURCE_NAMESPACE"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    assert "--no-leader-election" not in container.get("args", [])
    assert "AIMSOURCE_NO_LEADER_ELECTION" not in env


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("runAsNonRoot", True),
        ("runAsUser", 65532),
        ("readOnlyRootFilesystem", True),
        ("allowPrivilegeEscalation", False),
        ("capabilities.drop", ["ALL"]),
        ("seccompProfile.type", "RuntimeDefault"),
    ],
)
def test_container_security_context(field: str, expected: Any, container: Mapping[str, Any]) -> None:
    assert _path(container["securityContext"], field) == expected


def test_container_adds_no_capabilities(container: Mapping[str, Any]) -> None:
    assert not _path(container["securityContext"], "capabilities.add")
    assert not container["securityContext"].get("privileged", False)


@pytest.mark.parametrize(
    ("field", "expected"),
    [("runAsNonRoot", True), ("runAsUser", 65532), ("seccompProfile.type", "RuntimeDefault")],
)
def test_pod_security_context(field: str, expected: Any, pod: Mapping[str, Any]) -> None:
    assert _path(pod["securityContext"], field) == expected


@pytest.mark.parametrize("field", ["hostNetwork", "hostPID", "hostIPC"])
def test_pod_shares_nothing_with_the_host(field: str, pod: Mapping[str, Any]) -> None:
    assert not pod.get(field, False)


@pytest.mark.parametrize(("probe", "path"), [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")])
def test_probes_hit_the_health_port(probe: str, path: str, container: Mapping[str, Any]) -> None:
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    env = {item["name"]: item.get("value") for item in container["env"]}
    get = container[probe]["httpGet"]
    assert get["path"] == path
    assert get["port"] == "health"
    assert str(ports["health"]) == env["AIMSOURCE_HEALTH_PORT"]


def test_metrics_port_is_named_and_matches_the_operator_setting(container: Mapping[str, Any]) -> None:
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert str(ports["metrics"]) == env["AIMSOURCE_METRICS_PORT"]


def test_metrics_service_targets_the_operator_pods(objects: list[dict[str, Any]]) -> None:
    service = one(objects, "Service", "aimsource-metrics")
    deployment = one(objects, "Deployment", "aimsource")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["metrics"]


def test_webhook_service_port_is_named_webhook_and_targets_the_operator(
    objects: list[dict[str, Any]],
) -> None:
    service = one(objects, "Service", "aimsource-webhook")
    deployment = one(objects, "Deployment", "aimsource")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert [(p["name"], p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [
        ("webhook", 8082, "webhook")
    ]


@pytest.mark.parametrize(
    "field",
    ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"],
)
def test_resources_are_bounded(field: str, container: Mapping[str, Any]) -> None:
    assert _path(container["resources"], field)


def test_writable_scratch_space_is_an_empty_dir(pod: Mapping[str, Any], container: Mapping[str, Any]) -> None:
    volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        if mount.get("readOnly"):
            continue  # configuration (the registries file), not scratch space
        assert "emptyDir" in volumes[mount["name"]], f"{mount['mountPath']} is not an emptyDir"


def registries_path(container: Mapping[str, Any]) -> str:
    args = list(container["args"])
    return str(args[args.index("--registries") + 1])


def test_the_registries_configmap_is_mounted_where_the_operator_reads_it(
    objects: list[dict[str, Any]], pod: Mapping[str, Any], container: Mapping[str, Any]
) -> None:
    from aimsource.domain.registries.parsing import parse_registries

    path = Path(registries_path(container))
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "registries"]
    # A directory mount, never subPath: a subPath mount does not see the ConfigMap's updates.
    assert "subPath" not in mount
    assert mount["readOnly"] is True
    assert path.parent == Path(mount["mountPath"])
    (volume,) = [v for v in pod["volumes"] if v["name"] == "registries"]
    configmap = one(objects, "ConfigMap", volume["configMap"]["name"])
    assert configmap["metadata"]["name"] == "aimsource-registries"
    assert configmap["metadata"]["namespace"] == OPERATOR_NAMESPACE
    shipped = parse_registries(configmap["data"][path.name], origin=path.name)
    assert not shipped.entries  # empty: every registry reached directly until you add entries


def test_the_install_guide_s_overlay_points_the_deployment_at_your_image(tmp_path: Path) -> None:
    # docs/install.md tells users to put this overlay next to deploy/; it must render and win.
    (block,) = [
        body
        for lang, body in code_blocks((DOCS / "install.md").read_text())
        if lang == "yaml" and body.startswith("# my-aimsource/kustomization.yaml")
    ]
    (tmp_path / "deploy").symlink_to(DEPLOY)
    (tmp_path / "my-aimsource").mkdir()
    (tmp_path / "my-aimsource" / "kustomization.yaml").write_text(block)
    objects = render(tmp_path / "my-aimsource")
    (container,) = one(objects, "Deployment", "aimsource")["spec"]["template"]["spec"]["containers"]
    wanted = yaml.safe_load(block)["images"][0]
    assert container["image"] == f"{wanted['newName']}:{wanted['newTag']}"


def test_operator_reads_the_deployment_s_environment_as_intended(
    container: Mapping[str, Any], tmp_path: Path
) -> None:
    # The pod passes configuration as AIMSOURCE_* variables only; each must be one `aimsource run`
    # reads, with the value the manifest means (a misspelt variable would be ignored silently).
    from aimsource.cli import build_parser
    from aimsource.cli.run import settings_from_args

    env = {item["name"]: item.get("value", "aim-system") for item in container["env"]}  # fieldRef
    # The registries file is the ConfigMap's, read here from a copy (its mount exists only in a pod).
    (configmap,) = [
        o
        for o in render(DEPLOY)
        if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "aimsource-registries"
    ]
    copy = tmp_path / "registries.yaml"
    copy.write_text(configmap["data"]["registries.yaml"])
    args = [str(copy) if a == registries_path(container) else a for a in container["args"]]
    settings = settings_from_args(build_parser().parse_args(args), env)
    assert settings.registries_file == str(copy)
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert settings.namespace == OPERATOR_NAMESPACE
    assert (settings.metrics_port, settings.health_port) == (ports["metrics"], ports["health"])
    assert settings.webhook_port == ports["webhook"] == 8082
    assert settings.webhook_secret == "aimsource-webhook"
    assert settings.log_format == "json"
    assert settings.leader_election
    run_parser = build_parser()._subparsers._group_actions[0].choices["run"]  # type: ignore[union-attr]
    helps = " ".join(action.help or "" for action in run_parser._actions)
    read = set(re.findall(r"\$(AIMSOURCE_\w+)", helps))  # each flag's help names its variable
    assert "AIMSOURCE_NAMESPACE" in read
    assert {name for name in env if name.startswith("AIMSOURCE_")} <= read
