"""The operator image without a daemon: built by scripts/build-image (buildah), pushed to a local
docker-registry and pulled back with skopeo, and run with runc as a pod's container would run.

`podman run` does not work on these machines (nor crun: the kernel's hybrid cgroup v1/v2 layout), so a
container is a runc bundle written here: the image's root filesystem mounted by buildah, made
read-only; the image's entrypoint, working directory and environment; a user, arguments, environment,
memory limit and volumes as the test gives them (the Deployment's, in tests/deploy/test_image_run.py:
an emptyDir is a tmpfs of its size limit, a ConfigMap a read-only directory of its keys); no
capabilities and no new privileges. The container shares the machine's network namespace (as a pod
with hostNetwork would) so that it reaches the servers the tests start on 127.0.0.1. Not reproduced:
the RuntimeDefault seccomp profile (the container runtime's own; runc applies none unless given one).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tests.deploy.manifests import REPO
from tests.deploy.oci_layout import OciImage

BUILD_SCRIPT = REPO / "scripts" / "build-image"
TEST_TAG = "localhost/aimsource:test"
# Debian package of each program; .ci/run installs them.
TOOLS = {"buildah": "buildah", "mmdebstrap": "mmdebstrap", "skopeo": "skopeo", "runc": "runc"}
NON_ROOT = 65532


def missing_tools() -> list[str]:
    """`program (Debian package)` for each tool the image tests need that is not installed."""
    return [f"{tool} (Debian package {package})" for tool, package in TOOLS.items() if not shutil.which(tool)]


@dataclass(frozen=True)
class Build:
    image_id: str
    base: str  # the base image's name (localhost/aimsource-base:<key>)
    seconds: float
    log: str  # scripts/build-image's stderr


def build(progress: Callable[[str], None]) -> Build:
    """scripts/build-image on this tree; every line it prints goes to `progress` as it comes."""
    started = time.monotonic()
    lines: list[str] = []
    with subprocess.Popen(
        [sys.executable, str(BUILD_SCRIPT), "--tag", TEST_TAG],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    ) as process:
        assert process.stderr is not None
        assert process.stdout is not None
        for line in process.stderr:
            lines.append(line.rstrip("\n"))
            progress(line.rstrip("\n"))
        stdout = process.stdout.read()
        status = process.wait()
    log = "\n".join(lines)
    if status != 0:
        raise AssertionError(f"scripts/build-image failed ({status}):\n" + "\n".join(lines[-40:]))
    base = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--base-only"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return Build(stdout.strip().splitlines()[-1], base, time.monotonic() - started, log)


def skopeo(*args: str, timeout: float = 600) -> None:
    result = subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise AssertionError(f"skopeo {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")


def push(image_id: str, reference: str) -> None:
    """Pushes the local image `image_id` to `reference` (HOST:PORT/NAME:TAG, plain HTTP)."""
    skopeo(
        "copy",
        "--quiet",
        "--dest-tls-verify=false",
        f"containers-storage:{image_id}",
        f"docker://{reference}",
    )


def pull(reference: str, directory: Path) -> OciImage:
    """The image at `reference` as the registry serves it, into an OCI layout in `directory`."""
    skopeo("copy", "--quiet", "--src-tls-verify=false", f"docker://{reference}", f"oci:{directory}:image")
    return OciImage(directory)


def image_config(image: str) -> dict[str, Any]:
    """The OCI config of a local image (by ID or name)."""
    result = subprocess.run(
        ["skopeo", "inspect", "--config", f"containers-storage:{image}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    config: dict[str, Any] = json.loads(result.stdout)
    return config


@contextlib.contextmanager
def mounted_rootfs(image_id: str) -> Iterator[Path]:
    """The image's root filesystem, mounted by buildah from a working container of its own (removed
    after the block, so what a run writes into it goes too)."""
    name = f"aimsource-test-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["buildah", "from", "--pull=never", "--name", name, image_id], capture_output=True, check=True
    )
    try:
        path = subprocess.run(["buildah", "mount", name], capture_output=True, text=True, check=True).stdout
        yield Path(path.strip())
    finally:
        subprocess.run(["buildah", "umount", name], capture_output=True, check=False)
        subprocess.run(["buildah", "rm", name], capture_output=True, check=False)


@dataclass(frozen=True)
class Mount:
    source: Path
    destination: str
    read_only: bool = True


@dataclass
class ContainerSpec:
    """What differs between runs of the image: the rest of the bundle follows the Deployment."""

    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    user: tuple[int, int] = (NON_ROOT, NON_ROOT)
    mounts: list[Mount] = field(default_factory=list)
    tmpfs: dict[str, int] = field(default_factory=dict)  # destination -> bytes (a pod's emptyDirs)
    memory_limit: int | None = None  # bytes, like resources.limits.memory
    hostname: str = "aimsource-test"


def env_list(config: Mapping[str, Any], extra: Mapping[str, str]) -> list[str]:
    """The image's environment with `extra` on top (a container's env overrides the image's)."""
    env = dict(item.split("=", 1) for item in config.get("config", {}).get("Env", []))
    env.update(extra)
    return [f"{key}={value}" for key, value in env.items()]


def mount_of(destination: str, kind: str, *options: str) -> dict[str, Any]:
    return {"destination": destination, "type": kind, "source": kind, "options": list(options)}


def bundle_config(rootfs: Path, image: Mapping[str, Any], spec: ContainerSpec) -> dict[str, Any]:
    """An OCI runtime config for runc: see the module docstring for what it holds and why."""
    config = image.get("config", {})
    mounts: list[dict[str, Any]] = [
        mount_of("/proc", "proc"),
        mount_of("/dev", "tmpfs", "nosuid", "mode=755", "size=65536k"),
        mount_of("/dev/pts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"),
        mount_of("/dev/shm", "tmpfs", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k"),
        mount_of("/dev/mqueue", "mqueue", "nosuid", "noexec", "nodev"),
        mount_of("/sys", "sysfs", "nosuid", "noexec", "nodev", "ro"),
    ]
    for destination, size in spec.tmpfs.items():  # writable, whoever the user is, like an emptyDir
        mounts.append(mount_of(destination, "tmpfs", "nosuid", "nodev", "mode=1777", f"size={size}"))
    for mount in spec.mounts:
        options = ["rbind", "ro" if mount.read_only else "rw"]
        mounts.append(
            {
                "destination": mount.destination,
                "type": "bind",
                "source": str(mount.source),
                "options": options,
            }
        )
    linux: dict[str, Any] = {
        # No network namespace: the machine's, as with hostNetwork, to reach servers on 127.0.0.1.
        "namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount")],
        "maskedPaths": [
            "/proc/kcore",
            "/proc/keys",
            "/proc/timer_list",
            "/proc/sched_debug",
            "/sys/firmware",
        ],
        "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    }
    if spec.memory_limit is not None:
        linux["resources"] = {"memory": {"limit": spec.memory_limit}}
    return {
        "ociVersion": "1.0.2",
        "root": {"path": str(rootfs), "readonly": True},  # readOnlyRootFilesystem: true
        "hostname": spec.hostname,
        "process": {
            "terminal": False,
            "user": {"uid": spec.user[0], "gid": spec.user[1]},
            "args": spec.args,
            "env": env_list(image, spec.env),
            "cwd": config.get("WorkingDir") or "/",
            # capabilities: drop ["ALL"]; allowPrivilegeEscalation: false
            "capabilities": {
                "bounding": [],
                "effective": [],
                "inheritable": [],
                "permitted": [],
                "ambient": [],
            },
            "noNewPrivileges": True,
            # No rlimits: the container keeps runc's own (this sandbox refuses raising them).
        },
        "mounts": mounts,
        "linux": linux,
    }


def entrypoint_args(image: Mapping[str, Any], args: Sequence[str] | None = None) -> list[str]:
    """What a container runs: the image's Entrypoint, then `args` (a pod's `args`) or the image's Cmd."""
    config = image.get("config", {})
    return [*(config.get("Entrypoint") or []), *(config.get("Cmd") or [] if args is None else args)]


class Container:
    """One `runc run` of a bundle, in the foreground of a child process: runc passes the signals it
    gets on to the container's first process and exits with its status."""

    def __init__(self, rootfs: Path, image: Mapping[str, Any], spec: ContainerSpec, workdir: Path) -> None:
        self.id = f"aimsource-test-{uuid.uuid4().hex[:10]}"
        self.bundle = Path(tempfile.mkdtemp(prefix="bundle-", dir=workdir))
        self.state = Path(tempfile.mkdtemp(prefix="runc-", dir=workdir))
        (self.bundle / "config.json").write_text(json.dumps(bundle_config(rootfs, image, spec), indent=1))
        self.output_path = workdir / f"{self.id}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None

    def start(self) -> Container:
        self._output = self.output_path.open("wb")
        self.process = subprocess.Popen(
            ["runc", "--root", str(self.state), "run", "--bundle", str(self.bundle), self.id],
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
        )
        return self

    def output(self) -> str:
        return self.output_path.read_text(errors="replace") if self.output_path.exists() else ""

    def pid(self) -> int | None:
        """The host's pid of the container's first process, while it runs."""
        result = subprocess.run(
            ["runc", "--root", str(self.state), "state", self.id], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            return None
        pid: int = json.loads(result.stdout).get("pid") or 0
        return pid or None

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        status = self.process.wait(timeout)
        self._close()
        return status

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, as the kubelet sends; SIGKILL after `timeout` (the pod's grace period)."""
        if self.process is None:
            return None
        status: int | None = None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                status = self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                subprocess.run(["runc", "--root", str(self.state), "kill", self.id, "KILL"], check=False)
                self.process.wait(10)
        else:
            status = self.process.returncode
        subprocess.run(
            ["runc", "--root", str(self.state), "delete", "--force", self.id],
            capture_output=True,
            check=False,
        )
        self._close()
        return status

    def _close(self) -> None:
        if self._output is not None:
            self._output.close()
            self._output = None


def run(
    rootfs: Path, image: Mapping[str, Any], spec: ContainerSpec, workdir: Path, timeout: float = 60
) -> tuple[int, str]:
    """Runs a container to its end; its exit status and output (stdout and stderr together)."""
    container = Container(rootfs, image, spec, workdir).start()
    try:
        status = container.wait(timeout)
    finally:
        container.stop()
    return status, container.output()


def is_root() -> bool:
    return os.geteuid() == 0
