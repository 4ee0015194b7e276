"""The Helm chart (charts/aimsource) renders what deploy/ installs, valid, with every flag reachable.

deploy/ is the one hand-written truth of the objects; the chart's templates must render exactly
those objects with default values (Helm's bookkeeping labels aside, and without the Namespace:
`helm install --create-namespace` makes it). The CRDs are links to src/aimsource/crds, and the
monitoring objects are read from deploy/monitoring through links as well.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate  # a test extra: missing, the import fails the run
import pytest
import yaml

from tests.deploy.helm import CHART, REPO, helm, helm_template, key, without_helm_labels
from tests.deploy.manifests import CRDS, DEPLOY, crd_files, render

EVERY_VALUE: dict[str, Any] = {
    "operator.logFormat": "text",
    "operator.logLevel": "DEBUG",
    "operator.metricsPort": 9090,
    "operator.healthPort": 9091,
    "operator.listenHost": "0.0.0.0",
    "operator.maxConcurrencyPerHost": 2,
    "operator.registryRate": 7.5,
    "operator.maxTags": 250000,
    "operator.maxRepositories": 2000,
    "operator.syncListingTags": 300000,
    "operator.listingTags": 900000,
    "operator.staleListingMaxAge": "2h",
    "operator.minSyncInterval": "1m",
    "operator.retryBase": "45s",
    "operator.startupSpread": "20s",
    "operator.workers": 12,
    "operator.maxSyncsPerHost": 3,
    "operator.createsPerSource": 6,
    "operator.maxCreates": 24,
    "operator.insecureRegistries": ["registry.lab:5000", "mirror.lab"],
    "operator.leaseName": "aimsource-leader-2",
    "operator.leaseDuration": "30s",
    "operator.resyncInterval": "5m",
    "operator.crdWait": "30s",
    "operator.competingControllerWindow": "2h",
    "operator.contendWithOtherControllers": True,
    "webhook.port": 9443,
    "webhook.secret": "push-token",
    "webhook.headerTimeout": "5s",
    "webhook.bodyTimeout": "20s",
    "webhook.idleTimeout": "15s",
    "webhook.maxConnections": 128,
    "webhook.pushHeadsPerSource": 3,
    "webhook.pushHeadsPerRegistry": 12,
    "webhook.pushMissingFor": "30m",
    "registryCA.configMap": "corporate-ca",
    "registryCA.key": "bundle.pem",
}
EXPECTED_ENV = {
    "AIMSOURCE_LOG_FORMAT": "text",
    "AIMSOURCE_LOG_LEVEL": "DEBUG",
    "AIMSOURCE_METRICS_PORT": "9090",
    "AIMSOURCE_HEALTH_PORT": "9091",
    "AIMSOURCE_LISTEN_HOST": "0.0.0.0",
    "AIMSOURCE_MAX_CONCURRENCY_PER_HOST": "2",
    "AIMSOURCE_REGISTRY_RATE": "7.5",
    "AIMSOURCE_MAX_TAGS": "250000",
    "AIMSOURCE_MAX_REPOSITORIES": "2000",
    "AIMSOURCE_SYNC_LISTING_TAGS": "300000",
    "AIMSOURCE_LISTING_TAGS": "900000",
    "AIMSOURCE_STALE_LISTING_MAX_AGE": "2h",
    "AIMSOURCE_MIN_SYNC_INTERVAL": "1m",
    "AIMSOURCE_RETRY_BASE": "45s",
    "AIMSOURCE_STARTUP_SPREAD": "20s",
    "AIMSOURCE_WORKERS": "12",
    "AIMSOURCE_MAX_SYNCS_PER_HOST": "3",
    "AIMSOURCE_CREATES_PER_SOURCE": "6",
    "AIMSOURCE_MAX_CREATES": "24",
    "AIMSOURCE_INSECURE_REGISTRY": "registry.lab:5000,mirror.lab",
    "AIMSOURCE_LEASE_NAME": "aimsource-leader-2",
    "AIMSOURCE_LEASE_DURATION": "30s",
    "AIMSOURCE_RESYNC_INTERVAL": "5m",
    "AIMSOURCE_CRD_WAIT": "30s",
    "AIMSOURCE_COMPETING_CONTROLLER_WINDOW": "2h",
    "AIMSOURCE_CONTEND_WITH_OTHER_CONTROLLERS": "true",
    "AIMSOURCE_WEBHOOK_PORT": "9443",
    "AIMSOURCE_WEBHOOK_SECRET": "push-token",
    "AIMSOURCE_WEBHOOK_HEADER_TIMEOUT": "5s",
    "AIMSOURCE_WEBHOOK_BODY_TIMEOUT": "20s",
    "AIMSOURCE_WEBHOOK_IDLE_TIMEOUT": "15s",
    "AIMSOURCE_WEBHOOK_MAX_CONNECTIONS": "128",
    "AIMSOURCE_PUSH_HEADS_PER_SOURCE": "3",
    "AIMSOURCE_PUSH_HEADS_PER_REGISTRY": "12",
    "AIMSOURCE_PUSH_MISSING_FOR": "30m",
    "AIMSOURCE_CA_FILE": "/etc/aimsource/registry-ca/bundle.pem",
}
NOT_VALUES = {
    "AIMSOURCE_NAMESPACE": "always the pod's own namespace (fieldRef)",
    "AIMSOURCE_IDENTITY": "the pod's hostname-pid: unique per replica, which a value could not be",
    "AIMSOURCE_REGISTRIES": "passed as --registries: the file of the ConfigMap rendered from `registries`",
}


def deployment(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (found,) = [obj for obj in objects if obj["kind"] == "Deployment"]
    return found


def env_of(objects: list[dict[str, Any]]) -> dict[str, str]:
    (container,) = deployment(objects)["spec"]["template"]["spec"]["containers"]
    return {item["name"]: item.get("value", "<from>") for item in container["env"]}


def test_helm_lint_passes() -> None:
    result = helm("lint", "--strict", str(CHART))
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout
    result = helm(
        "lint",
        "--strict",
        str(CHART),
        "--set",
        "monitoring.serviceMonitor.enabled=true",
        "--set",
        "monitoring.prometheusRule.enabled=true",
        "--set",
        "monitoring.dashboard.enabled=true",
    )
    assert "0 chart(s) failed" in result.stdout


def test_default_values_render_exactly_the_objects_of_deploy() -> None:
    chart = {key(obj): without_helm_labels(obj) for obj in helm_template()}
    kustomized = {key(obj): obj for obj in render(DEPLOY / "operator") if obj["kind"] != "Namespace"}
    assert sorted(chart) == sorted(kustomized)
    for name, obj in kustomized.items():
        assert chart[name] == obj, f"{name}: the chart renders it differently from deploy/"


def test_the_comparison_sees_a_difference() -> None:
    # The check above must be able to fail: a value that changes an object shows up.
    chart = {key(obj): without_helm_labels(obj) for obj in helm_template({"replicaCount": 3})}
    kustomized = {key(obj): obj for obj in render(DEPLOY / "operator") if obj["kind"] != "Namespace"}
    changed = [name for name, obj in kustomized.items() if chart[name] != obj]
    assert changed == [("Deployment", "aim-system", "aimsource")]


def test_crds_are_links_to_the_one_copy_in_src() -> None:
    listed = yaml.safe_load((CRDS / "kustomization.yaml").read_text())["resources"]
    links = sorted((CHART / "crds").iterdir())
    assert [link.name for link in links] == sorted(listed)
    for link in links:
        assert link.is_symlink(), f"{link} must link to src/aimsource/crds, not be a second copy"
        assert link.resolve() == (CRDS / link.name).resolve()


def test_helm_install_would_send_the_crds_of_src() -> None:
    objects = helm_template(extra=["--include-crds"])
    crds = [obj for obj in objects if obj["kind"] == "CustomResourceDefinition"]
    assert sorted(crds, key=lambda o: o["metadata"]["name"]) == sorted(
        crd_files(), key=lambda o: o["metadata"]["name"]
    )


def test_helm_package_carries_the_crds_and_monitoring_files(tmp_path: Path) -> None:
    # A packaged chart (what a chart repository serves) holds the files the links point at.
    helm("package", str(CHART), "--destination", str(tmp_path))
    (archive,) = tmp_path.glob("aimsource-*.tgz")
    import tarfile

    with tarfile.open(archive) as tar:
        members = {m.name: m for m in tar.getmembers()}
        for name in (
            "crds/aim.eai.amd.com_aimclustermodelsources.yaml",
            "files/prometheusrule.yaml",
            "files/dashboard.json",
        ):
            member = members[f"aimsource/{name}"]
            assert member.isfile(), f"{name} is packaged as a link, not as content"
    objects = helm_template(extra=["--include-crds"])
    unpacked = helm(
        "template", "aimsource", str(archive), "--namespace", "aim-system", "--include-crds"
    ).stdout
    assert [doc for doc in yaml.safe_load_all(unpacked) if doc] == objects


def test_every_operator_flag_is_a_value() -> None:
    helptext = subprocess.run(
        [sys.executable, "-m", "aimsource", "run", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    variables = set(re.findall(r"\$(AIMSOURCE_[A-Z_]+)", helptext))
    env = env_of(helm_template(EVERY_VALUE))
    for name, value in EXPECTED_ENV.items():
        assert env.get(name) == value, name
    no_election = env_of(helm_template({"replicaCount": 1, "operator.leaderElection": False}))
    assert no_election["AIMSOURCE_NO_LEADER_ELECTION"] == "true"
    covered = set(env) | set(no_election) | set(NOT_VALUES)
    assert variables - covered == set(), "flags of `aimsource run` that no chart value sets"


def test_ca_bundle_from_a_configmap_or_a_secret() -> None:
    for source, volume_key in (("configMap", "configMap"), ("secret", "secret")):
        objects = helm_template({f"registryCA.{source}": "corp-ca"})
        pod = deployment(objects)["spec"]["template"]["spec"]
        (volume,) = [v for v in pod["volumes"] if v["name"] == "registry-ca"]
        assert volume_key in volume
        assert volume[volume_key].get("name", volume[volume_key].get("secretName")) == "corp-ca"
        (container,) = pod["containers"]
        assert {"name": "registry-ca", "mountPath": "/etc/aimsource/registry-ca", "readOnly": True} in (
            container["volumeMounts"]
        )
        assert env_of(objects)["AIMSOURCE_CA_FILE"] == "/etc/aimsource/registry-ca/ca.crt"
    refused = helm(
        "template",
        "x",
        str(CHART),
        "--set",
        "registryCA.configMap=a",
        "--set",
        "registryCA.secret=b",
        check=False,
    )
    assert refused.returncode != 0
    assert "set configMap or secret, not both" in refused.stderr


def test_webhook_can_be_turned_off() -> None:
    objects = helm_template({"webhook.enabled": False})
    assert ("Service", "aim-system", "aimsource-webhook") not in {key(obj) for obj in objects}
    (container,) = deployment(objects)["spec"]["template"]["spec"]["containers"]
    assert [port["name"] for port in container["ports"]] == ["metrics", "health"]
    assert "AIMSOURCE_WEBHOOK_PORT" not in env_of(objects)
    on = helm_template()
    (service,) = [obj for obj in on if key(obj) == ("Service", "aim-system", "aimsource-webhook")]
    assert service["spec"]["ports"] == [
        {"name": "webhook", "port": 8082, "targetPort": "webhook", "protocol": "TCP"}
    ]


def test_placement_pull_secrets_and_annotations() -> None:
    values = {
        "nodeSelector": {"node-role.kubernetes.io/infra": ""},
        "tolerations": [{"key": "infra", "operator": "Exists", "effect": "NoSchedule"}],
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}
                            ]
                        }
                    ]
                }
            }
        },
        "imagePullSecrets": ["my-registry"],
        "podAnnotations": {"example.com/scrape": "true"},
        "serviceAccount.annotations": {"iam.example.com/role": "aimsource"},
        "priorityClassName": "system-cluster-critical",
        "image.repository": "registry.example.com/aim/aimsource",
        "image.tag": "1.2.3",
        "resources": {"requests": {"cpu": "100m", "memory": "200Mi"}, "limits": None},  # null: no limits
    }
    objects = helm_template(values)
    pod = deployment(objects)["spec"]["template"]
    spec = pod["spec"]
    assert spec["nodeSelector"] == values["nodeSelector"]
    assert spec["tolerations"] == values["tolerations"]
    # Helm merges maps: the default anti-affinity stays unless set to null (docs/helm.md).
    assert spec["affinity"]["nodeAffinity"] == values["affinity"]["nodeAffinity"]
    assert "podAntiAffinity" in spec["affinity"]
    replaced = helm_template({"affinity": {"podAntiAffinity": None, **values["affinity"]}})
    assert deployment(replaced)["spec"]["template"]["spec"]["affinity"] == values["affinity"]
    assert spec["imagePullSecrets"] == [{"name": "my-registry"}]
    assert spec["priorityClassName"] == "system-cluster-critical"
    assert pod["metadata"]["annotations"] == {"example.com/scrape": "true"}
    assert spec["containers"][0]["image"] == "registry.example.com/aim/aimsource:1.2.3"
    assert spec["containers"][0]["resources"] == {"requests": {"cpu": "100m", "memory": "200Mi"}}
    (account,) = [obj for obj in objects if obj["kind"] == "ServiceAccount"]
    assert account["metadata"]["annotations"] == {"iam.example.com/role": "aimsource"}


def test_the_release_namespace_is_used_everywhere() -> None:
    objects = helm_template(namespace="platform")
    for obj in objects:
        namespace = obj["metadata"].get("namespace")
        if obj["kind"] in ("ClusterRole", "ClusterRoleBinding"):
            assert namespace is None
        elif key(obj)[2] == "aimsource-events":
            assert namespace == "default"  # events about cluster-scoped sources
        else:
            assert namespace == "platform", key(obj)
        for subject in obj.get("subjects", []):
            assert subject["namespace"] == "platform"


@pytest.mark.parametrize("values", [{}, EVERY_VALUE], ids=["defaults", "every-value"])
def test_rendered_objects_match_the_kubernetes_schemas(values: dict[str, Any]) -> None:
    problems = []
    for obj in helm_template(values):
        try:
            kubernetes_validate.validate(obj, "1.29.0", strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{key(obj)}: {exc.message} at {'.'.join(map(str, exc.path))}")
    assert not problems, "\n".join(problems)


def test_monitoring_values_render_the_objects_of_deploy_monitoring() -> None:
    objects = helm_template(
        {
            "monitoring.serviceMonitor.enabled": True,
            "monitoring.prometheusRule.enabled": True,
            "monitoring.dashboard.enabled": True,
        }
    )
    chart = {
        key(obj): without_helm_labels(obj)
        for obj in objects
        if obj["kind"] in ("ServiceMonitor", "PrometheusRule", "ConfigMap")
    }
    overlay = Path(__file__).with_name("monitoring_overlay")
    kustomized = {
        key(obj): obj
        for obj in render(overlay)
        if obj["kind"] in ("ServiceMonitor", "PrometheusRule", "ConfigMap")
    }
    assert sorted(chart) == sorted(kustomized)
    for name, obj in kustomized.items():
        assert chart[name] == obj, name
    assert not any(obj["kind"] in ("ServiceMonitor", "PrometheusRule") for obj in helm_template())


def test_values_files_of_the_repo_are_in_the_chart_only() -> None:
    # deploy/ must not grow a second, hand-kept copy of the CRDs or of the monitoring files.
    copies = [
        p
        for p in REPO.rglob("*.yaml")
        if p.name.startswith("aim.eai.amd.com_")
        and not p.is_symlink()
        and ".venv" not in p.parts
        and CRDS not in p.parents
    ]
    assert copies == []
