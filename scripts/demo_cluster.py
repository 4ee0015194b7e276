"""`make demo-cluster`: the operator reconciling a source on a real Kubernetes API, on this machine.

What it starts, all on 127.0.0.1 and all stopped again on Ctrl-C (or SIGTERM):

1. the real control plane of `scripts/kube-testbed` (etcd, kube-apiserver, kube-controller-manager;
   built from Go into ~/.cache/aimsource/ the first time, with a progress line every 30 s);
2. deploy/'s CRDs, namespace, ServiceAccount and RBAC, applied as a user would (the Deployment is
   left out: there is no kubelet to run it, the operator runs as a process here instead);
3. Debian's docker-registry with AIM-like images, sending its push notifications to the operator;
4. `aimsource run` out of cluster, authenticated with a token of deploy/'s ServiceAccount, so that
   it has exactly the rights it has in a cluster (docs/install.md, "Run it out of cluster");
5. examples/demo-source.yaml pointed at that registry.

It waits until the source is Ready, prints `kubectl get` and the status, pushes one new tag and
shows its model appear through the webhook, prints commands to try by hand, and waits for Ctrl-C.
`--no-wait` stops after the push (the test of this script uses it).

Exit status: 0 after a clean stop, 2 when something it needs is missing, 1 when a step failed.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `tests.support` holds the registry harness shared with the tests
sys.path.insert(0, str(ROOT / "scripts"))

from demo import IMAGES, write_source  # noqa: E402
from tests.support.registry_server import RunningRegistry, registry_binary, start_registry  # noqa: E402
from tests.support.serving import free_port  # noqa: E402

TESTBED = ROOT / "scripts" / "kube-testbed"
NAMESPACE = "aim-system"
SERVICE_ACCOUNT = "aimsource"
SOURCE = "demo-models"
INSTALLED_KINDS = {
    "CustomResourceDefinition",
    "Namespace",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ClusterRole",
    "ClusterRoleBinding",
}
"""What of deploy/ is applied: no Deployment (no kubelet here), no Services or budget for it."""
PUSHED = ("amdenterpriseai/aim-qwen-qwen3-32b", "0.8.6")
"""The tag pushed once the source is Ready; the source's ">=0.8.4" admits it."""
READY_TIMEOUT = 240.0


class DemoError(Exception):
    """A step failed; the message says which and what it printed."""


def say(text: str = "") -> None:
    print(text, flush=True)


def heading(text: str) -> None:
    say()
    say(f"== {text}")


class Stop(Exception):
    """Ctrl-C or SIGTERM."""


def _on_signal(signum: int, _frame: object) -> None:
    raise Stop(signal.Signals(signum).name)


def _pdeathsig() -> list[str]:
    """Children get SIGTERM if this process dies without stopping them (util-linux's setpriv)."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM"] if setpriv else []


def _stop(process: subprocess.Popen[Any], name: str, timeout: float = 40) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    say(f"  stopped {name} (pid {process.pid})")


# --- the control plane ---------------------------------------------------------------------------


def build_testbed() -> Path:
    """The testbed's binaries, built first when needed (its progress lines go to the terminal)."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(TESTBED), "--build"], stdout=subprocess.PIPE, text=True, check=False
    )
    if result.returncode != 0:
        raise DemoError("scripts/kube-testbed --build failed (its message is above)")
    took = time.monotonic() - started
    bin_dir = Path(result.stdout.strip().splitlines()[-1])
    say(f"  binaries in {bin_dir}" + (f" (built in {took:.0f}s)" if took > 5 else " (already built)"))
    return bin_dir


@contextlib.contextmanager
def control_plane(directory: Path) -> Iterator[Path]:
    """Runs the testbed until the block ends; yields the admin kubeconfig."""
    process = subprocess.Popen(
        [*_pdeathsig(), sys.executable, str(TESTBED), str(directory)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # Ctrl-C reaches this script only: it stops everything in order
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + READY_TIMEOUT
        for line in process.stdout:  # its stderr (the progress, the "ready in" line) is ours
            if line.strip() == "ready":
                break
            if time.monotonic() > deadline:
                raise DemoError(f"the control plane was not ready within {READY_TIMEOUT:.0f}s")
        else:
            raise DemoError(
                f"scripts/kube-testbed exited with {process.wait()}; logs in {directory / 'logs'}"
            )
        yield directory / "kubeconfig"
    finally:
        _stop(process, "the control plane (etcd, kube-apiserver, kube-controller-manager)")


class Kubectl:
    def __init__(self, binary: Path, kubeconfig: Path) -> None:
        self.binary, self.kubeconfig = binary, kubeconfig

    def __call__(self, *args: str, input: str | None = None) -> str:
        result = subprocess.run(
            [str(self.binary), f"--kubeconfig={self.kubeconfig}", *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise DemoError(f"kubectl {' '.join(args)} failed:\n{result.stderr.strip()}")
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "-o", "json"))


def install_deploy(kubectl: Kubectl) -> None:
    rendered = kubectl("kustomize", str(ROOT / "deploy"))
    objects = [doc for doc in yaml.safe_load_all(rendered) if doc and doc["kind"] in INSTALLED_KINDS]
    kubectl("apply", "--server-side", "-f", "-", input=yaml.safe_dump_all(objects))
    for obj in objects:
        meta = obj["metadata"]
        where = f"{meta['namespace']}/" if meta.get("namespace") else ""
        say(f"  {obj['kind']} {where}{meta['name']}")
    kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")


def write_token_kubeconfig(admin: Path, path: Path, token: str) -> Path:
    """A kubeconfig for the same server that authenticates with the ServiceAccount's token only."""
    config = json.loads(admin.read_text())  # the testbed writes JSON
    config["users"] = [{"name": SERVICE_ACCOUNT, "user": {"token": token}}]
    config["contexts"] = [{"name": "testbed", "context": {"cluster": "testbed", "user": SERVICE_ACCOUNT}}]
    path.write_text(json.dumps(config, indent=2) + "\n")
    path.chmod(0o600)
    return path


# --- the operator --------------------------------------------------------------------------------


class Operator:
    def __init__(self, kubeconfig: Path, workdir: Path) -> None:
        self.metrics_port, self.health_port, self.webhook_port = free_port(), free_port(), free_port()
        self.log_path = workdir / "operator.log"
        self.args = [
            sys.executable, "-m", "aimsource", "run",
            "--namespace", NAMESPACE,
            "--listen-host", "127.0.0.1",
            "--metrics-port", str(self.metrics_port),
            "--health-port", str(self.health_port),
            "--webhook-port", str(self.webhook_port),
        ]  # fmt: skip
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AIMSOURCE_", "KUBERNETES_"))}
        self.env.update(KUBECONFIG=str(kubeconfig), PYTHONUNBUFFERED="1")
        self.process: subprocess.Popen[bytes] | None = None

    @contextlib.contextmanager
    def running(self) -> Iterator[Operator]:
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [*_pdeathsig(), *self.args],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_for(self.ready, "the operator's /readyz", 60, self.check)
            yield self
        finally:
            _stop(self.process, "aimsource run")

    def ready(self) -> bool:
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(f"http://127.0.0.1:{self.health_port}/readyz", timeout=1).status_code == 200
        return False

    def check(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            tail = "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])
            raise DemoError(f"aimsource run exited with {self.process.returncode}:\n{tail}")

    def metric(self, name: str) -> str:
        text = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text
        return "\n".join(line for line in text.splitlines() if line.startswith(name))


def wait_for(predicate: Callable[[], Any], what: str, timeout: float, check: Callable[[], None]) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        check()
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise DemoError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.3)


# --- the demo --------------------------------------------------------------------------------------


def models(kubectl: Kubectl) -> dict[str, str]:
    listed = kubectl.json("get", "aimclustermodels", "-l", f"aim.eai.amd.com/model-source={SOURCE}")
    return {item["metadata"]["name"]: item["spec"]["image"] for item in listed["items"]}


def push(registry: RunningRegistry, repository: str, tags: tuple[str, ...]) -> None:
    with registry.pusher() as pusher:
        image = pusher.push_image(repository, tags)
    say(f"  {registry.host}/{repository}: {', '.join(tags)}  ({image.digest[:19]}...)")


def run(work: Path, *, wait: bool) -> int:
    with contextlib.ExitStack() as stack:
        try:
            return _steps(stack, work, wait=wait)
        finally:
            # What was started stops now, in reverse order; a second Ctrl-C must not cut that short.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            heading("Stopping")


def _steps(stack: contextlib.ExitStack, work: Path, *, wait: bool) -> int:
    heading("Building (or finding) the Kubernetes testbed: scripts/kube-testbed --build")
    bin_dir = build_testbed()
    heading("Starting the control plane on 127.0.0.1 (etcd, kube-apiserver, kube-controller-manager)")
    admin = stack.enter_context(control_plane(work / "kube"))
    kubectl = Kubectl(bin_dir / "kubectl", admin)
    say(f"  admin kubeconfig: {admin}")

    heading("Installing deploy/'s CRDs, namespace, ServiceAccount and RBAC (kubectl apply --server-side)")
    install_deploy(kubectl)
    token = secrets.token_urlsafe(24)
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "aimsource-webhook", "namespace": NAMESPACE},
        "data": {"token": base64.b64encode(token.encode()).decode()},
    }
    kubectl("apply", "-f", "-", input=json.dumps(secret))
    say(f"  Secret {NAMESPACE}/aimsource-webhook (the push receiver's token)")
    sa_token = kubectl("create", "token", SERVICE_ACCOUNT, "-n", NAMESPACE, "--duration=24h").strip()
    operator_config = write_token_kubeconfig(admin, work / "operator.kubeconfig", sa_token)
    say(f"  kubeconfig of ServiceAccount {NAMESPACE}/{SERVICE_ACCOUNT}: {operator_config}")

    operator = Operator(operator_config, work)
    heading("Starting a local registry that notifies the operator of pushes (docker-registry)")
    notify = f"http://127.0.0.1:{operator.webhook_port}/hooks/distribution/{token}"
    registry = stack.enter_context(start_registry("anonymous", workdir=work / "registry", notify_url=notify))
    stack.callback(say, f"  stopped docker-registry (pid {registry.pid})")  # runs after it stopped
    say(f"  listening on {registry.base_url}; notifications to /hooks/distribution/<token>")
    for repository, tags in IMAGES.items():
        push(registry, repository, tags)

    heading("Running the operator out of cluster: aimsource run, as the ServiceAccount")
    say("  " + " ".join(operator.args[2:]))
    stack.enter_context(operator.running())
    say(f"  ready (/readyz on 127.0.0.1:{operator.health_port}); log: {operator.log_path}")

    source = write_source(registry, work)
    heading(f"Applying examples/demo-source.yaml with registry {registry.host}")
    kubectl("apply", "-f", str(source))
    started = time.monotonic()

    def ready() -> dict[str, Any] | None:
        status = kubectl.json("get", "aimclustermodelsource", SOURCE).get("status") or {}
        return status if status.get("status") == "Ready" else None

    status = wait_for(ready, "the source to be Ready", 90, operator.check)
    say(f"  Ready after {time.monotonic() - started:.1f}s")
    heading("kubectl get aimclustermodelsources,aimclustermodels")
    say(kubectl("get", "aimclustermodelsources,aimclustermodels").rstrip())
    heading(f"The status of {SOURCE}")
    say(yaml.safe_dump(status, sort_keys=False).rstrip())

    repository, tag = PUSHED
    heading(f"Pushing {repository}:{tag}: the registry notifies the operator")
    before = models(kubectl)
    pushed_at = time.monotonic()
    push(registry, repository, (tag,))
    wanted = f"{registry.host}/{repository}:{tag}"
    wait_for(lambda: wanted in models(kubectl).values(), f"the model of {wanted}", 30, operator.check)
    (new,) = set(models(kubectl)) - set(before)
    say(f"  AIMClusterModel {new} created {time.monotonic() - pushed_at:.1f}s after the push")
    say("  " + operator.metric("aimsource_push_syncs_total").replace("\n", "\n  "))
    say(kubectl("get", "aimclustermodel", new).rstrip())

    try_by_hand(bin_dir, admin, operator, registry)
    if wait:
        heading("Running until Ctrl-C")
        while True:
            operator.check()
            time.sleep(1)
    return 0


def try_by_hand(bin_dir: Path, admin: Path, operator: Operator, registry: RunningRegistry) -> None:
    heading("Try it by hand (in another shell)")
    say(f"""  export PATH={bin_dir}:$PATH KUBECONFIG={admin}
  kubectl get aimclustermodelsources,aimclustermodels
  kubectl describe aimclustermodelsource {SOURCE}            # conditions and events
  # a sync request within 30 s of the last listing: Progressing, and when the listing runs
  kubectl annotate aimclustermodelsource {SOURCE} --overwrite \\
    aim.eai.amd.com/sync-requested-at="$(date -u +%FT%TZ)"
  kubectl get aimclustermodelsource {SOURCE} -o jsonpath='{{.status.conditions}}'
  # a spec change syncs at once; observedGeneration follows when it is done
  kubectl patch aimclustermodelsource {SOURCE} --type=merge -p '{{"spec":{{"versions":[">=0.8.5"]}}}}'
  curl -s http://127.0.0.1:{operator.metrics_port}/metrics | grep ^aimsource_source
  curl -s http://127.0.0.1:{operator.health_port}/readyz
  curl -s {registry.base_url}/v2/_catalog
  tail -f {operator.log_path}""")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="demo_cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-wait", action="store_true", help="stop after the push instead of at Ctrl-C")
    args = parser.parse_args(argv)
    needs = (("docker-registry", registry_binary()), ("openssl", shutil.which("openssl")))
    missing = [what for what, there in needs if not there]
    if missing:
        say(f"demo-cluster: {', '.join(missing)} missing: scripts/install-deps test installs them")
        return 2
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _on_signal)
    with tempfile.TemporaryDirectory(prefix="aimsource-demo-cluster-") as tmp:
        try:
            code = run(Path(tmp), wait=not args.no_wait)
        except Stop:  # Ctrl-C or SIGTERM: everything was stopped on the way out of `run`
            code = 0
        except DemoError as exc:
            say(f"demo-cluster: {exc}")
            code = 1
    say(f"Nothing left running; {tmp} removed")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
