"""The built image, run as deploy/'s Deployment runs it: runc, uid and gid from the pod's
securityContext, a read-only root filesystem, no capabilities, the Deployment's environment and
arguments, its memory limit and its volumes (tests/deploy/containers.py says what the bundle holds).

The CLI answers; Python starts from the bytecode compiled at build time; and `aimsource run` inside
the image, against the real control plane of scripts/kube-testbed, configured the way a pod is (the
ServiceAccount's token, CA and namespace in /var/run/secrets/kubernetes.io/serviceaccount and
KUBERNETES_SERVICE_HOST/PORT: in-cluster configuration, no kubeconfig), with deploy/ installed and
its RBAC enforced, creates the models of a source that names images of a local docker-registry, and
serves /readyz and /metrics.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.deploy import containers
from tests.deploy.manifests import OPERATOR_NAMESPACE, REPO, SERVICE_ACCOUNT, one, render
from tests.e2e.cluster import install_deploy
from tests.support.realkube import RealKube
from tests.support.realkube_fixtures import MODELS, SOURCES, TEST_LABEL
from tests.support.registry_server import RunningRegistry
from tests.support.serving import free_port

pytestmark = pytest.mark.registry  # a real docker-registry, which the image is pushed to
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
SOURCE_LABEL = "aim.eai.amd.com/model-source"
IMAGES = ("amdenterpriseai/aim-qwen-qwen3-32b:0.8.5", "amdenterpriseai/aim-deepseek-deepseek-r1:1.0.0")
PORT_VARIABLES = ("AIMSOURCE_METRICS_PORT", "AIMSOURCE_HEALTH_PORT", "AIMSOURCE_WEBHOOK_PORT")

# Run inside the image: who it runs as, whether / is read-only and /tmp writable, and whether every
# module that `aimsource run` imports came from valid bytecode made at build time (with a read-only
# root and PYTHONDONTWRITEBYTECODE, a missing or stale .pyc means compiling at every start).
PROBE = r"""
import importlib.util, json, os, struct, sys
import aimsource.cli, aimsource.cli.run, aimsource.operator
root = [line.split() for line in open("/proc/self/mountinfo") if line.split()[4] == "/"][-1]
with open("/tmp/probe", "w") as f:
    f.write("ok")
unusable = []
for name, module in sorted(sys.modules.items()):
    source = getattr(module, "__file__", None)
    if not source or not source.endswith(".py"):
        continue
    cached = importlib.util.cache_from_source(source)
    try:
        header = open(cached, "rb").read(16)
    except OSError:
        unusable.append(name + ": no " + cached)
        continue
    magic, flags, a, b = struct.unpack("<4sIII", header)
    stat = os.stat(source)
    if magic != importlib.util.MAGIC_NUMBER:
        unusable.append(name + ": bytecode of another Python")
    elif flags == 0 and (a, b) != (int(stat.st_mtime) & 0xFFFFFFFF, stat.st_size & 0xFFFFFFFF):
        unusable.append(name + ": stale timestamp pyc")
print(json.dumps({
    "ids": [os.getuid(), os.geteuid(), os.getgid(), os.getegid()],
    "root_options": root[5].split(","),
    "modules": sum(1 for m in sys.modules.values() if (getattr(m, "__file__", None) or "").endswith(".py")),
    "unusable": unusable,
    "python": sys.executable,
}))
"""


@pytest.fixture(scope="module")
def pod_container() -> dict[str, Any]:
    """The operator container of deploy/'s Deployment, with the pod spec under `pod` and every object
    deploy/ renders under `objects` (the ConfigMaps its volumes name)."""
    objects = render()
    deployment = one(objects, "Deployment", "aimsource")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    return {**container, "pod": pod, "objects": objects}


def deployment_env(container: dict[str, Any], namespace: str) -> dict[str, str]:
    """The container's environment as the kubelet resolves it for a pod in `namespace`."""
    env: dict[str, str] = {}
    for item in container["env"]:
        if "value" in item:
            env[item["name"]] = item["value"]
        elif item.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.namespace":
            env[item["name"]] = namespace
        else:
            raise AssertionError(f"the test does not resolve {item}: teach deployment_env")
    return env


def quantity(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)(Ki|Mi|Gi)?", value).groups()  # type: ignore[union-attr]
    return int(number) * {None: 1, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30}[unit]


def pod_volumes(container: dict[str, Any], workdir: Path) -> tuple[list[containers.Mount], dict[str, int]]:
    """The container's volumeMounts as the kubelet provides them: bind mounts and tmpfs sizes."""
    volumes = {volume["name"]: volume for volume in container["pod"].get("volumes", [])}
    binds: list[containers.Mount] = []
    tmpfs: dict[str, int] = {}
    for mounted in container.get("volumeMounts", []):
        volume = volumes[mounted["name"]]
        if "emptyDir" in volume:
            tmpfs[mounted["mountPath"]] = quantity(volume["emptyDir"].get("sizeLimit", "64Mi"))
        elif "configMap" in volume:  # a directory of its keys; the kubelet mounts it read-only
            config_map = one(container["objects"], "ConfigMap", volume["configMap"]["name"])
            directory = workdir / f"configmap-{mounted['name']}"
            directory.mkdir(exist_ok=True)
            for key, value in (config_map.get("data") or {}).items():
                (directory / key).write_text(value)
                (directory / key).chmod(volume["configMap"].get("defaultMode", 0o644))
            binds.append(containers.Mount(directory, mounted["mountPath"]))
        else:
            raise AssertionError(f"the test does not provide the volume {volume}: teach pod_volumes")
    return binds, tmpfs


def pod_spec(
    container: dict[str, Any],
    args: list[str],
    workdir: Path,
    *,
    mounts: Sequence[containers.Mount] = (),
    **kwargs: Any,
) -> containers.ContainerSpec:
    """A container of the image with the Deployment's user, read-only root, memory limit and volumes
    (and `mounts` besides)."""
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True  # what every bundle here does
    assert security["capabilities"]["drop"] == ["ALL"]
    assert security["allowPrivilegeEscalation"] is False
    user = (int(security["runAsUser"]), int(security["runAsGroup"]))
    limit = quantity(container["resources"]["limits"]["memory"])
    binds, tmpfs = pod_volumes(container, workdir)
    return containers.ContainerSpec(
        args=args, user=user, memory_limit=limit, mounts=[*binds, *mounts], tmpfs=tmpfs, **kwargs
    )


def test_the_cli_answers(
    image_rootfs: Path, image_config: dict[str, Any], pod_container: dict[str, Any], tmp_path: Path
) -> None:
    example = REPO / "examples" / "basic-example.yaml"
    mount = containers.Mount(example, "/work/source.yaml")
    entry = containers.entrypoint_args(image_config, [])
    status, output = containers.run(
        image_rootfs, image_config, pod_spec(pod_container, [*entry, "--help"], tmp_path), tmp_path
    )
    assert status == 0, output
    for command in ("check", "preview", "sync", "run"):
        assert re.search(rf"^\s+{command}\s", output, re.MULTILINE), output
    status, output = containers.run(
        image_rootfs,
        image_config,
        pod_spec(pod_container, [*entry, "check", "/work/source.yaml"], tmp_path, mounts=[mount]),
        tmp_path,
    )
    assert status == 0, output


def test_it_starts_as_the_pods_user_on_a_read_only_root_from_compiled_bytecode(
    image_rootfs: Path, image_config: dict[str, Any], pod_container: dict[str, Any], tmp_path: Path
) -> None:
    env = deployment_env(pod_container, OPERATOR_NAMESPACE)
    spec = pod_spec(pod_container, ["python", "-c", PROBE], tmp_path, env=env)
    status, output = containers.run(image_rootfs, image_config, spec, tmp_path)
    assert status == 0, output
    report = json.loads(output.strip().splitlines()[-1])
    assert report["ids"] == [containers.NON_ROOT] * 4
    assert "ro" in report["root_options"], report["root_options"]
    assert report["python"] == "/opt/aimsource/bin/python"
    assert report["modules"] > 100, report  # aimsource, kopf, aiohttp and the standard library
    assert not report["unusable"], "modules without valid bytecode:\n" + "\n".join(report["unusable"])


def write_service_account(directory: Path, kube: RealKube) -> Path:
    """What the kubelet projects into a pod of the ServiceAccount: token, CA bundle, namespace."""
    directory.mkdir()
    (directory / "token").write_text(kube.service_account_token(OPERATOR_NAMESPACE, SERVICE_ACCOUNT))
    shutil.copy(kube.directory / "pki" / "ca.crt", directory / "ca.crt")
    (directory / "namespace").write_text(OPERATOR_NAMESPACE)
    for path in directory.iterdir():
        path.chmod(0o644)  # the projected volume's defaultMode
    return directory


def memory_limit(pid: int) -> int:
    """The memory limit of the cgroup (v1) that the process `pid` is in, in bytes."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return int(Path(f"/sys/fs/cgroup/memory{path}/memory.limit_in_bytes").read_text())
    raise AssertionError(f"process {pid} is in no memory cgroup")


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""
    except OSError:
        return 0, ""


def sample(metrics: str, name: str, **labels: str) -> float | None:
    """The value of the first sample of `name` that has `labels`, None when there is none."""
    for line in metrics.splitlines():
        head, _, value = line.rpartition(" ")
        if head.split("{")[0] == name and all(f'{k}="{v}"' in head for k, v in labels.items()):
            return float(value)
    return None


@pytest.mark.real_kube
@pytest.mark.timeout(600)  # the control plane may still be starting; then a sync, in real time
def test_aimsource_run_in_the_image_creates_the_models_of_a_source_in_cluster(
    image_rootfs: Path,
    image_config: dict[str, Any],
    pod_container: dict[str, Any],
    real_kube_crds: RealKube,
    model_registry: RunningRegistry,
    run_id: str,
    cleanup_cluster_objects: str,
    tmp_path: Path,
) -> None:
    kube = real_kube_crds
    install_deploy(kube)  # namespace, ServiceAccount, RBAC: the operator has what deploy/ grants, no more
    service_account = write_service_account(tmp_path / "serviceaccount", kube)
    host, port = kube.server.removeprefix("https://").rsplit(":", 1)
    env = deployment_env(pod_container, OPERATOR_NAMESPACE)
    # The container shares the machine's network, where other tests' servers may hold 8080-8082.
    assert set(PORT_VARIABLES) <= set(env), "the Deployment no longer sets the ports by environment"
    ports = {name: free_port() for name in PORT_VARIABLES}
    env.update({name: str(number) for name, number in ports.items()})
    env.update(KUBERNETES_SERVICE_HOST=host, KUBERNETES_SERVICE_PORT=port)
    name = f"image-{run_id}"
    images = [f"{model_registry.host}/{image}" for image in IMAGES]
    kube.ok(
        "POST",
        SOURCES,
        {
            "apiVersion": "aim.eai.amd.com/v1alpha1",
            "kind": "AIMClusterModelSource",
            "metadata": {"name": name, "labels": {TEST_LABEL: run_id}},
            "spec": {"images": images, "syncInterval": "1h"},
        },
    )
    args = containers.entrypoint_args(image_config, pod_container["args"])
    spec = pod_spec(
        pod_container,
        args,
        tmp_path,
        env=env,
        mounts=[containers.Mount(service_account, SERVICE_ACCOUNT_DIR)],
        hostname=f"aimsource-{run_id}",
    )
    container = containers.Container(image_rootfs, image_config, spec, tmp_path).start()
    health = f"http://127.0.0.1:{ports['AIMSOURCE_HEALTH_PORT']}"
    metrics_url = f"http://127.0.0.1:{ports['AIMSOURCE_METRICS_PORT']}/metrics"

    def wait(predicate: Any, what: str, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            assert container.process is not None
            if container.process.poll() is not None:
                raise AssertionError(
                    f"the container exited ({container.process.returncode}):\n{container.output()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout:.0f}s waiting for {what}:\n{container.output()[-6000:]}"
                )
            time.sleep(0.5)

    try:
        wait(lambda: get(f"{health}/readyz")[0] == 200, "/readyz to answer 200", 90)
        pid = container.pid()
        assert pid is not None
        status = dict(
            line.split(":\t", 1)
            for line in Path(f"/proc/{pid}/status").read_text().splitlines()
            if ":\t" in line
        )
        assert status["Uid"].split() == [str(containers.NON_ROOT)] * 4
        assert int(status["CapEff"], 16) == 0
        assert status["NoNewPrivs"].strip() == "1"
        assert memory_limit(pid) == spec.memory_limit  # the Deployment's limit, held by the kernel

        def models() -> dict[str, str]:
            found = kube.ok("GET", f"{MODELS}?labelSelector={SOURCE_LABEL}%3D{name}")["items"]
            return {m["metadata"]["name"]: m["spec"]["image"] for m in found}

        # The Lease first (up to its duration, when an earlier operator of the session left it held),
        # then the startup spread (up to 10 s), then the sync.
        created = wait(lambda: len(models()) == len(images) and models(), "the source's models", 120)
        assert sorted(created.values()) == sorted(images)
        source = wait(
            lambda: (
                (kube.ok("GET", f"{SOURCES}/{name}").get("status") or {}).get("status") == "Ready"
                and kube.ok("GET", f"{SOURCES}/{name}")
            ),
            "the source's status Ready",
            30,
        )
        assert source["status"]["observedGeneration"] == source["metadata"]["generation"]

        code, metrics = get(metrics_url)
        assert code == 200
        assert sample(metrics, "aimsource_leader") == 1.0
        assert (sample(metrics, "aimsource_models_created_total") or 0) >= len(images)
        assert sample(metrics, "aimsource_source_status", source=name, status="Ready") == 1.0
        assert get(f"{health}/healthz")[0] == 200
    finally:
        exit_status = container.stop()
    log = container.output()
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert records, f"no JSON log lines (AIMSOURCE_LOG_FORMAT=json):\n{log[-3000:]}"
    assert "Traceback" not in log, log[-6000:]
    assert exit_status == 0, f"exit status {exit_status} after SIGTERM:\n{log[-3000:]}"
