"""scripts/install-deps on a machine where the Debian packages were never installed.

The packages cannot be removed from a shared machine, so the script runs with a PATH of its own: a
directory holding only what it needs (`env`, `date`, `dirname`, python3) plus fakes of `apt-get`,
`sudo` and `id` that record their calls. The fake `apt-get install` "installs" a package by putting
the commands Debian's package ships into a second directory on that PATH, so the script's own
check after the install sees them as the real one would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy.manifests import REPO

SCRIPT = REPO / "scripts" / "install-deps"
SHIPS = {
    "docker-registry": ["docker-registry"],
    "kubernetes-client": ["kubectl"],
    "apache2-utils": ["htpasswd"],
    "openssl": ["openssl"],
    "prometheus": ["promtool", "prometheus"],
    "make": ["make"],
    "skopeo": ["skopeo"],
    "buildah": ["buildah"],
    "mmdebstrap": ["mmdebstrap"],
    "runc": ["runc"],
}
"""The commands each Debian package puts on PATH (what the script looks for)."""
TEST_COMMANDS = [
    *("docker-registry", "kubectl", "htpasswd", "openssl", "promtool", "prometheus", "make"),
    *("buildah", "mmdebstrap", "skopeo", "runc"),  # the operator image
]


@dataclass
class Machine:
    bin: Path
    installed: Path
    log: Path
    cache: Path

    def has(self, *commands: str) -> None:
        for command in commands:
            _fake(self.installed / command, "exit 0")

    def run(
        self, *sets: str, uid: int = 0, sudo: str | None = None, go_install_path: str = "/usr/local/go/bin/go"
    ) -> subprocess.CompletedProcess[str]:
        _fake(self.bin / "id", f'[ "$1" = -u ] && echo {uid}')
        if sudo == "passwordless":
            _fake(
                self.bin / "sudo",
                f'echo "sudo $*" >> {self.log}\n[ "$1" = -n ] && shift && [ "$1" = true ] '
                '&& exit 0\nexec "$@"',
            )
        elif sudo == "password":
            _fake(
                self.bin / "sudo", f'echo "sudo $*" >> {self.log}\necho "a password is required" >&2; exit 1'
            )
        else:
            (self.bin / "sudo").unlink(missing_ok=True)
        env = {
            "PATH": f"{self.bin}:{self.installed}",
            "XDG_CACHE_HOME": str(self.cache),  # no testbed built there: Go is needed
            "HOME": str(self.cache),
            "GO_INSTALL_PATH": go_install_path,
        }
        return subprocess.run(
            ["/bin/bash", str(SCRIPT), *sets],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


def _fake(path: Path, body: str) -> None:
    path.unlink(missing_ok=True)  # never write through a symlink to a real program
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    """A PATH with none of the packages; python3 with venv, and Go (so only Debian's part is tried)."""
    bin_dir, installed, cache = tmp_path / "bin", tmp_path / "installed", tmp_path / "cache"
    for directory in (bin_dir, installed, cache):
        directory.mkdir()
    for tool in ("env", "date", "dirname"):
        path = shutil.which(tool)
        assert path is not None
        (bin_dir / tool).symlink_to(path)
    (bin_dir / "python3").symlink_to(os.path.realpath(sys.executable))
    log = tmp_path / "calls.log"
    machine = Machine(bin_dir, installed, log, cache)
    installs = " ".join(
        f"{p}) for c in {' '.join(cs)}; do "
        f'printf "#!/bin/sh\\n" > {installed}/$c; /bin/chmod +x {installed}/$c; done;;'
        for p, cs in SHIPS.items()
    )
    _fake(
        bin_dir / "apt-get",
        f'echo "apt-get $*" >> {log}\n[ "$1" = install ] || exit 0\n'
        f'for p in "$@"; do case "$p" in {installs} esac; done',
    )
    machine.has("go")
    return machine


def test_nothing_missing_means_nothing_run_and_nothing_printed(machine: Machine) -> None:
    machine.has(*TEST_COMMANDS, "skopeo")
    result = machine.run("test", "bench", uid=1000)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert machine.calls() == []


def test_root_installs_what_the_tests_lack_and_says_what(machine: Machine) -> None:
    machine.has("make", "openssl", "promtool", "buildah", "mmdebstrap", "skopeo", "runc")
    # prometheus itself missing: the package still comes
    result = machine.run("test")
    assert result.returncode == 0, result.stderr
    wanted = ["docker-registry", "kubernetes-client", "apache2-utils", "prometheus"]
    assert machine.calls() == ["apt-get update -qq", f"apt-get install -y -qq {' '.join(wanted)}"]
    assert f"apt-get install -y {' '.join(wanted)}" in result.stdout
    assert "kubernetes-client (kubectl" in result.stdout
    assert "installed docker-registry kubernetes-client apache2-utils prometheus in" in result.stdout


def test_the_demo_needs_only_the_registry(machine: Machine) -> None:
    result = machine.run("demo")
    assert result.returncode == 0, result.stderr
    assert machine.calls() == ["apt-get update -qq", "apt-get install -y -qq docker-registry"]


def test_not_root_uses_sudo_when_it_needs_no_password(machine: Machine) -> None:
    result = machine.run("demo", uid=1000, sudo="passwordless")
    assert result.returncode == 0, result.stderr
    assert "using sudo" in result.stdout
    assert "sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry" in machine.calls()
    assert "apt-get install -y -qq docker-registry" in machine.calls()


@pytest.mark.parametrize("sudo", ["password", None], ids=["sudo-asks-a-password", "no-sudo"])
def test_not_root_without_usable_sudo_stops_with_the_exact_line(machine: Machine, sudo: str | None) -> None:
    machine.has("make", "openssl", "promtool", "prometheus", "htpasswd")
    result = machine.run("test", uid=1000, sudo=sudo)
    assert result.returncode == 1
    assert "sudo apt-get update && sudo apt-get install -y docker-registry kubernetes-client" in result.stderr
    assert not [call for call in machine.calls() if "apt-get" in call]


def test_a_package_that_does_not_bring_its_command_is_an_error(machine: Machine) -> None:
    _fake(machine.bin / "apt-get", "exit 0")  # "succeeds" and installs nothing
    result = machine.run("demo")
    assert result.returncode == 1
    assert "still missing after apt-get install: docker-registry" in result.stderr


def test_python_without_venv_gets_python3_venv(machine: Machine) -> None:
    _fake(machine.bin / "python3", "exit 1")  # Debian's python3 without python3-venv: no ensurepip
    machine.has("docker-registry")
    result = machine.run("demo")
    assert "python3-venv" in result.stdout
    assert "apt-get install -y -qq python3-venv" in machine.calls()


def test_missing_go_is_named_when_the_testbed_is_not_built(machine: Machine) -> None:
    machine.has(*TEST_COMMANDS)
    (machine.installed / "go").unlink()
    result = machine.run("test", go_install_path=str(machine.cache / "no-go"))
    assert result.returncode == 1
    assert "Go 1.26 is missing" in result.stderr
    assert "https://go.dev/dl/" in result.stderr
